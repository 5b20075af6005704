"""Lead times as a mixture of fast and slow items, each lognormal, fitted to a history.

Real pull requests are two populations: most are merged within the hour they are opened
(a maintainer's own work), a minority wait days to months for someone's attention. One
lognormal cannot hold both; a two-component mixture of lognormals (a Gaussian mixture on
log lead time, fitted by expectation-maximisation) can. The calibrated office uses it so:
a fast item is done at its drawn lead time without entering the office (it needs no office
work: self-merged), a slow item waits for attention and then enters the office, which does
the work (:mod:`.office`). Open items at a cut are continued by drawing their lead time from
the mixture *given* their age so far (:meth:`LeadMix.draw_given_age`).
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any, Sequence

#: Lead times below a minute count as a minute (identical timestamps have no log).
FLOOR_DAYS = 1 / 1440
#: Expectation-maximisation rounds (it settles well within them on real histories).
EM_ROUNDS = 200
#: Fewest lead times for a two-component fit; fewer get one lognormal (``fast_share`` 0).
MIN_ITEMS = 12
#: No component narrower than this (log days): a tight cluster of identical leads would
#: otherwise collapse to a spike.
MIN_SIGMA = 0.25
_STD = NormalDist()


@dataclass(frozen=True, slots=True)
class LeadMix:
    """``fast_share`` of items have lead times lognormal(``fast_mu``, ``fast_sigma``) days
    (log scale), the rest lognormal(``slow_mu``, ``slow_sigma``)."""

    fast_share: float
    fast_mu: float
    fast_sigma: float
    slow_mu: float
    slow_sigma: float

    def to_dict(self) -> dict[str, Any]:
        return {k: round(v, 4) for k, v in asdict(self).items()}

    def quantile(self, q: float) -> float:
        """The mixture's ``q`` quantile in days (bisection on the CDF)."""
        low, high = math.log(FLOOR_DAYS) - 10, 15.0
        for _ in range(80):
            mid = (low + high) / 2
            if self._cdf_log(mid) < q:
                low = mid
            else:
                high = mid
        return math.exp((low + high) / 2)

    def _cdf_log(self, x: float) -> float:
        return self.fast_share * _STD.cdf((x - self.fast_mu) / self.fast_sigma) + (
            1 - self.fast_share
        ) * _STD.cdf((x - self.slow_mu) / self.slow_sigma)

    def draw(self, rng: random.Random) -> tuple[bool, float]:
        """(slow?, lead days) of a new item."""
        slow = rng.random() >= self.fast_share
        mu, sigma = (self.slow_mu, self.slow_sigma) if slow else (self.fast_mu, self.fast_sigma)
        return slow, math.exp(mu + sigma * _STD.inv_cdf(_open(rng.random())))

    def draw_given_age(self, age_days: float, rng: random.Random) -> tuple[bool, float]:
        """(slow?, total lead days) of an item still open ``age_days`` after it started: the
        component is drawn by its share of the survivors at that age, the lead time from
        that lognormal truncated below at the age (inverse CDF on the remaining mass)."""
        x = math.log(max(age_days, FLOOR_DAYS))
        z_fast = (x - self.fast_mu) / self.fast_sigma
        z_slow = (x - self.slow_mu) / self.slow_sigma
        # survival in each component, as log to keep far tails finite
        s_fast = self.fast_share * _STD.cdf(-z_fast)
        s_slow = (1 - self.fast_share) * _STD.cdf(-z_slow)
        if s_fast + s_slow <= 0:  # older than both components: the slower one's far tail
            slow = self.slow_mu + self.slow_sigma * z_slow >= self.fast_mu
        else:
            slow = rng.random() * (s_fast + s_slow) >= s_fast
        mu, sigma, z = (
            (self.slow_mu, self.slow_sigma, z_slow)
            if slow
            else (self.fast_mu, self.fast_sigma, z_fast)
        )
        start = _STD.cdf(z)
        u = start + (1 - start) * rng.random()
        if u >= 1 - 1e-12:  # beyond the float range of the CDF: a little past the age
            return slow, age_days * (1 + rng.random())
        return slow, max(age_days, math.exp(mu + sigma * _STD.inv_cdf(_open(u))))


def _open(u: float) -> float:
    return min(max(u, 1e-12), 1 - 1e-12)


def fit_lead_mix(lead_days: Sequence[float]) -> LeadMix:
    """Fit the mixture to lead times (days) by EM on their logs; deterministic (starts from
    the lower and upper thirds)."""
    xs = sorted(math.log(max(v, FLOOR_DAYS)) for v in lead_days)
    n = len(xs)
    if n == 0:
        return LeadMix(0.5, math.log(0.05), 1.0, math.log(5.0), 1.5)
    if n < MIN_ITEMS:
        mu, sigma = _moments(xs, [1.0] * n)
        return LeadMix(0.0, mu, sigma, mu, sigma)
    third = n // 3
    share = 0.5
    fast = _moments(xs[:third], [1.0] * third)
    slow = _moments(xs[-third:], [1.0] * third)
    for _ in range(EM_ROUNDS):
        weights = []
        for x in xs:
            pf = share * _pdf(x, *fast)
            ps = (1 - share) * _pdf(x, *slow)
            weights.append(pf / (pf + ps) if pf + ps > 0 else (1.0 if x < slow[0] else 0.0))
        total = sum(weights)
        if total < 1 or total > n - 1:  # one component emptied: a single lognormal fits
            mu, sigma = _moments(xs, [1.0] * n)
            return LeadMix(0.0, mu, sigma, mu, sigma)
        new_share = total / n
        new_fast = _moments(xs, weights)
        new_slow = _moments(xs, [1 - w for w in weights])
        settled = abs(new_share - share) < 1e-7
        share, fast, slow = new_share, new_fast, new_slow
        if settled:
            break
    if fast[0] > slow[0]:  # name the faster component fast
        share, fast, slow = 1 - share, slow, fast
    return LeadMix(share, fast[0], fast[1], slow[0], slow[1])


def _moments(xs: Sequence[float], weights: Sequence[float]) -> tuple[float, float]:
    total = sum(weights)
    mu = sum(w * x for w, x in zip(weights, xs)) / total
    var = sum(w * (x - mu) ** 2 for w, x in zip(weights, xs)) / total
    return mu, max(MIN_SIGMA, math.sqrt(var))


def _pdf(x: float, mu: float, sigma: float) -> float:
    z = (x - mu) / sigma
    return math.exp(-0.5 * z * z) / sigma
