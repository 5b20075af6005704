"""Group-sequential stopping for previews and forecasts: run futures in looks, stop early.

Futures run in looks of doubling size (8, 16, 32, 64, ... up to a cap). After each look the
answer so far is shown, and the run stops when one of these holds:

- **sign decided**: the paired t statistic of the mean difference crosses the look's boundary.
  The boundaries spend a two-sided ``alpha`` (5%) over the planned looks with the
  Lan-DeMets O'Brien-Fleming-type function ``alpha(t) = 2 - 2 Phi(z_{1-alpha/2} / sqrt(t))``,
  ``t`` the share of the cap run so far. Each look may spend only its increment
  ``alpha(t_k) - alpha(t_{k-1})``; its nominal boundary is that increment's two-sided normal
  point, widened to Student's t with ``n - 1`` degrees of freedom. By the union bound the chance
  of deciding a sign when the change does nothing is at most ``alpha`` over all looks (the exact
  recursive boundaries would be a little narrower; these are conservative).
- **precise enough**: the 95% half-width of the mean difference is within the stated
  tolerance, or within :data:`RANGE_FRACTION` of the half-width of the range in this office
  (5th to 95th percentile of the differences): the average is then known far more finely than
  the spread of what may happen here, which more futures would not narrow (at least
  :data:`MIN_FOR_PRECISION` futures ran, so the range has a basis).
- **no difference**: every future so far shows exactly no difference (at least
  :data:`MIN_FOR_PRECISION` of them): common random numbers make a change that does nothing
  give zero in every future.
- **cap**: the planned maximum ran.

Every look also says whether the precision rule holds (``precise``) and whether every future so
far shows no difference (``identical``), whether or not they stopped the run: with
``precision_stops=False`` (the false-sign check of ``bench/preview_sequential.py``) only a sign
or the cap stops, so the sign test meets every look, and the look records still tell at which
look the full rule would have stopped.

Pure and deterministic (standard library only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Sequence

from .stats import quantile

#: Two-sided error spent over all looks on deciding a sign.
ALPHA = 0.05
#: The first look's size; each next look doubles it until the cap.
FIRST_LOOK = 8
#: Fewest futures a precision or no-difference stop may rest on.
MIN_FOR_PRECISION = 16
#: "Precise enough" relative to the range in this office: the mean's 95% half-width within
#: this share of the range's half-width (about 24 futures for a normal spread: 1.22 / sqrt(n)).
RANGE_FRACTION = 0.25

SIGN_DECIDED, PRECISE, NO_DIFFERENCE, CAP, DEADLINE = (
    "sign decided",
    "precise enough",
    "no difference in any future",
    "cap reached",
    "deadline",
)
_NORMAL = NormalDist()


def looks(cap: int, first: int = FIRST_LOOK) -> list[int]:
    """The planned look sizes: ``first``, doubling, ending exactly at ``cap``."""
    if cap < 1:
        raise ValueError("cap must be at least 1")
    sizes = []
    size = min(first, cap)
    while size < cap:
        sizes.append(size)
        size *= 2
    sizes.append(cap)
    return sizes


def spent(fraction: float, alpha: float = ALPHA) -> float:
    """Lan-DeMets O'Brien-Fleming-type alpha spent by information ``fraction`` (0..1]."""
    if fraction <= 0:
        return 0.0
    z = _NORMAL.inv_cdf(1 - alpha / 2)
    return min(alpha, 2 - 2 * _NORMAL.cdf(z / math.sqrt(min(1.0, fraction))))


def t_quantile(p: float, dof: int) -> float:
    """Student's t quantile by the Cornish-Fisher expansion around the normal (Hill 1970),
    within 1% of the exact value from 5 degrees of freedom up (enough for a boundary)."""
    z = _NORMAL.inv_cdf(p)
    if dof <= 0:
        return math.inf
    v = float(dof)
    return (
        z
        + (z**3 + z) / (4 * v)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
    )


def boundary(n: int, previous: int, cap: int, alpha: float = ALPHA) -> float:
    """The |t| a look at ``n`` futures (the last look was at ``previous``) must reach."""
    increment = spent(n / cap, alpha) - spent(previous / cap, alpha)
    if increment <= 0:
        return math.inf
    return t_quantile(1 - increment / 2, max(1, n - 1))


@dataclass(frozen=True, slots=True)
class Look:
    """One look's verdict on a sample of paired differences."""

    futures: int
    mean: float | None
    half_width: float | None  # the 95% half-width of the mean (Student's t)
    t: float | None
    boundary: float
    stop: str | None  # why to stop now, or None to run the next look
    precise: bool = False  # the precision rule holds (it stops the run unless switched off)
    identical: bool = False  # every future so far shows exactly no difference (likewise)

    def to_dict(self) -> dict[str, Any]:
        return {
            "futures": self.futures,
            "mean": None if self.mean is None else round(self.mean, 6),
            "ci95_half_width": None if self.half_width is None else round(self.half_width, 6),
            "t": None if self.t is None or math.isinf(self.t) else round(self.t, 4),
            "boundary": None if math.isinf(self.boundary) else round(self.boundary, 4),
            "stop": self.stop,
            "precise": self.precise,
            "identical": self.identical,
        }


def judge(
    diffs: Sequence[float],
    *,
    previous: int,
    cap: int,
    tolerance: float,
    alpha: float = ALPHA,
    range_fraction: float = RANGE_FRACTION,
    precision_stops: bool = True,
) -> Look:
    """Whether to stop after a look whose paired differences are ``diffs``.

    ``precision_stops=False`` lets only a decided sign or the cap stop (the look still says
    whether it is ``precise`` or ``identical``): the sign test alone, for its false-sign check.
    """
    n = len(diffs)
    bound = boundary(n, previous, cap, alpha)
    if n == 0:
        return Look(0, None, None, None, bound, CAP if n >= cap else None)
    mean = sum(diffs) / n
    if n < 2:
        return Look(n, mean, None, None, bound, CAP if n >= cap else None)
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
    half = t_quantile(0.975, n - 1) * sd / math.sqrt(n)
    if sd == 0:
        t = 0.0 if mean == 0 else math.copysign(math.inf, mean)
    else:
        t = mean / (sd / math.sqrt(n))
    low, high = quantile(diffs, 5), quantile(diffs, 95)
    spread = ((high or 0.0) - (low or 0.0)) / 2
    identical = n >= MIN_FOR_PRECISION and sd == 0 and mean == 0
    precise = n >= MIN_FOR_PRECISION and (half <= tolerance or half <= range_fraction * spread)
    stop: str | None = None
    if abs(t) >= bound and mean != 0:
        stop = SIGN_DECIDED
    elif identical and precision_stops:
        stop = NO_DIFFERENCE
    elif precise and precision_stops:
        stop = PRECISE
    elif n >= cap:
        stop = CAP
    return Look(n, mean, half, t, bound, stop, precise, identical)


def quantile_interval(
    values: Sequence[float], q: float = 0.85, confidence: float = 0.95
) -> tuple[float, float]:
    """A distribution-free ``confidence`` interval for the ``q`` quantile of what ``values``
    were drawn from: two order statistics whose ranks bracket ``n q`` by the binomial's normal
    approximation (``n q -/+ z sqrt(n q (1 - q))``). Ends may be +inf (futures past the
    horizon); an end beyond the sample is -inf or +inf."""
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return -math.inf, math.inf
    z = _NORMAL.inv_cdf(1 - (1 - confidence) / 2)
    spread = z * math.sqrt(n * q * (1 - q))
    low_rank = math.floor(n * q - spread)  # 1-based ranks
    high_rank = math.ceil(n * q + spread) + 1
    low = ordered[low_rank - 1] if low_rank >= 1 else -math.inf
    high = ordered[high_rank - 1] if high_rank <= n else math.inf
    return float(low), float(high)


def rule_text(alpha: float = ALPHA) -> str:
    """The rule in one sentence, for reports."""
    return (
        f"looks of {FIRST_LOOK}, doubling to the cap; stop when the sign is decided "
        f"(O'Brien-Fleming-type Lan-DeMets spending of a two-sided {alpha:g} over the looks), "
        f"when the 95% half-width is within the tolerance or within {RANGE_FRACTION:g} of the "
        f"range's half-width (from {MIN_FOR_PRECISION} futures), or at the cap"
    )


__all__ = [
    "ALPHA",
    "CAP",
    "DEADLINE",
    "FIRST_LOOK",
    "Look",
    "MIN_FOR_PRECISION",
    "NO_DIFFERENCE",
    "PRECISE",
    "RANGE_FRACTION",
    "SIGN_DECIDED",
    "boundary",
    "judge",
    "looks",
    "quantile_interval",
    "rule_text",
    "spent",
    "t_quantile",
]
