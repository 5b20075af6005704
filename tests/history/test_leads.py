"""The lead-time mixture: fitted back from known mixtures, continued given an item's age."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from miniature_office.sim.history.describe import quantile
from miniature_office.sim.history.fit import ks_distance
from miniature_office.sim.history.items import parse_csv
from miniature_office.sim.history.leads import LeadMix, fit_lead_mix

DATA = Path(__file__).parent / "data"
KNOWN = LeadMix(0.7, math.log(0.02), 1.0, math.log(10.0), 1.2)


def test_em_recovers_a_known_mixture() -> None:
    rng = random.Random(1)
    leads = [KNOWN.draw(rng)[1] for _ in range(4000)]
    fit = fit_lead_mix(leads)
    assert fit.fast_share == pytest.approx(0.7, abs=0.03)
    assert fit.fast_mu == pytest.approx(math.log(0.02), abs=0.1)
    assert fit.slow_mu == pytest.approx(math.log(10.0), abs=0.15)
    assert fit.fast_sigma == pytest.approx(1.0, abs=0.08)
    assert fit.slow_sigma == pytest.approx(1.2, abs=0.1)


def test_mixture_quantiles_agree_with_its_draws() -> None:
    rng = random.Random(2)
    draws = sorted(KNOWN.draw(rng)[1] for _ in range(20000))
    for q in (0.15, 0.5, 0.85, 0.95):
        assert KNOWN.quantile(q) == pytest.approx(quantile(draws, q), rel=0.08)


def test_an_open_item_is_continued_like_the_survivors_of_its_age() -> None:
    """Drawing given the age agrees with rejection sampling: draw new items, keep those
    still open at that age (a second computation of the same conditional law)."""
    rng = random.Random(3)
    for age in (0.05, 3.0, 40.0):
        survivors = []
        while len(survivors) < 3000:
            slow, lead = KNOWN.draw(rng)
            if lead > age:
                survivors.append((slow, lead))
        given = [KNOWN.draw_given_age(age, rng) for _ in range(3000)]
        assert all(lead >= age for _, lead in given)
        share = sum(s for s, _ in survivors) / len(survivors)
        assert sum(s for s, _ in given) / len(given) == pytest.approx(share, abs=0.04)
        assert ks_distance([v for _, v in survivors], [v for _, v in given]) < 0.05


def test_an_item_older_than_any_seen_still_ends() -> None:
    lead = KNOWN.draw_given_age(1e6, random.Random(4))[1]
    assert 1e6 <= lead < math.inf


def test_the_fixtures_lead_times_are_two_populations() -> None:
    """Real pull requests: a fast cluster under an hour and a slow one of days or more, and
    the mixture reproduces the whole distribution (one lognormal could not)."""
    history = parse_csv((DATA / "flask.csv").read_text())
    leads = [i.lead_days for i in history.items if i.lead_days is not None]
    fit = fit_lead_mix(leads)
    assert math.exp(fit.fast_mu) < 1 / 24 and math.exp(fit.slow_mu) > 1
    rng = random.Random(5)
    assert ks_distance(leads, [fit.draw(rng)[1] for _ in range(5000)]) < 0.06
    single = fit_lead_mix(leads[:10])  # too few items: one lognormal
    assert single.fast_share == 0.0
