"""Group-sequential stopping: the looks, the alpha spending and the error it promises."""

from __future__ import annotations

import random

import pytest

from miniature_office.sim.sequential import (
    CAP,
    NO_DIFFERENCE,
    PRECISE,
    SIGN_DECIDED,
    judge,
    looks,
    spent,
    t_quantile,
)


def _run(
    draw, cap: int, tolerance: float = 0.0, range_fraction: float = 0.0, alpha: float = 0.05
) -> tuple[str | None, int]:
    diffs: list[float] = []
    previous = 0
    verdict = None
    for size in looks(cap):
        diffs += [draw() for _ in range(size - previous)]
        verdict = judge(
            diffs,
            previous=previous,
            cap=cap,
            tolerance=tolerance,
            range_fraction=range_fraction,
            alpha=alpha,
        )
        previous = size
        if verdict.stop:
            return verdict.stop, size
    return verdict.stop if verdict else None, previous


def test_looks_double_from_eight_and_end_at_the_cap() -> None:
    assert looks(200) == [8, 16, 32, 64, 128, 200]
    assert looks(64) == [8, 16, 32, 64]
    assert looks(6) == [6]


def test_obrien_fleming_spending_saves_almost_all_alpha_for_the_end() -> None:
    assert spent(1.0) == pytest.approx(0.05)
    assert spent(0.04) < 1e-9  # 8 of 200 futures: practically nothing spent
    assert spent(0.16) < 1e-5 < spent(0.32) < spent(0.64) < 0.05
    assert spent(0) == 0.0


def test_the_t_quantile_matches_the_table() -> None:
    # Student's t, two-sided 95%: 2.228 at 10 degrees of freedom, 2.042 at 30, 1.984 at 100.
    assert t_quantile(0.975, 10) == pytest.approx(2.228, abs=0.005)
    assert t_quantile(0.975, 30) == pytest.approx(2.042, abs=0.002)
    assert t_quantile(0.975, 100) == pytest.approx(1.984, abs=0.002)


def test_a_change_that_does_nothing_decides_a_sign_at_most_five_percent_of_the_time() -> None:
    rng = random.Random(24)
    trials = 2000
    outcomes = [_run(lambda: rng.gauss(0, 1), cap=200)[0] for _ in range(trials)]
    false_signs = sum(1 for o in outcomes if o == SIGN_DECIDED)
    # the union bound promises <= 5%; with 2000 trials a true 5% would show 100 +/- 20
    assert false_signs / trials <= 0.05
    assert all(o in (SIGN_DECIDED, CAP) for o in outcomes)  # tolerance 0: no precision stop


def _false_sign_rate(draw, trials: int, **options) -> float:
    outcomes = [_run(draw, cap=200, **options)[0] for _ in range(trials)]
    return sum(1 for o in outcomes if o == SIGN_DECIDED) / trials


def test_an_a_a_null_of_whole_directives_is_falsely_signed_at_most_five_percent_of_the_time() -> (
    None
):
    """The preview's own null, synthetically: the throughput difference of two independent runs
    of the same office (whole directives, symmetric about 0, a heavy tail of losses and gains)
    under the rule as previews use it (a one-directive tolerance, the range fraction)."""
    rng = random.Random(2024)

    def aa() -> float:
        one, two = (round(rng.gauss(60, 6)) - (12 if rng.random() < 0.1 else 0) for _ in "ab")
        return float(two - one)

    rate = _false_sign_rate(aa, 2000, tolerance=1.0, range_fraction=0.25)
    # a true 5% shows 100 +/- 10 false signs in 2000: the bound holds with room
    assert rate <= 0.05


def test_the_false_sign_check_fails_for_a_rule_that_spends_too_much_alpha() -> None:
    """The same null with alpha 0.5: the check would catch a rule this loose."""
    rng = random.Random(24)
    assert _false_sign_rate(lambda: rng.gauss(0, 1), 1000, alpha=0.5) > 0.05


def test_a_clear_effect_is_decided_long_before_the_cap() -> None:
    rng = random.Random(7)
    stops = [_run(lambda: rng.gauss(1.0, 1.0), cap=200) for _ in range(200)]
    assert all(stop == SIGN_DECIDED for stop, _ in stops)
    assert sorted(n for _, n in stops)[len(stops) // 2] <= 64  # a third of the cap


def test_identical_futures_stop_as_no_difference_once_sixteen_ran() -> None:
    assert judge([0.0] * 8, previous=0, cap=200, tolerance=1.0).stop is None
    assert judge([0.0] * 16, previous=8, cap=200, tolerance=1.0).stop == NO_DIFFERENCE


def test_precision_stops_when_the_half_width_is_within_the_tolerance() -> None:
    rng = random.Random(3)
    diffs = [rng.gauss(0, 1) for _ in range(64)]
    loose = judge(diffs, previous=32, cap=200, tolerance=1.0, range_fraction=0)
    tight = judge(diffs, previous=32, cap=200, tolerance=0.01, range_fraction=0)
    assert loose.stop == PRECISE and loose.half_width is not None and loose.half_width <= 1.0
    assert tight.stop is None
    assert judge(diffs[:8], previous=0, cap=8, tolerance=0.0).stop == CAP


def test_precision_relative_to_the_range_stops_most_runs_at_32_futures() -> None:
    # the mean's 95% half-width (about 2 / sqrt(n) of the spread) within a quarter of the
    # range's half-width (about 1.645 of it) from n = 24 on: the look at 32 futures
    rng = random.Random(11)
    stops = [_run(lambda: rng.gauss(0.1, 1), cap=200, range_fraction=0.25) for _ in range(200)]
    at = sorted(n for _, n in stops)
    assert at[len(at) // 2] == 32 and at[-1] <= 64
    assert sum(1 for stop, _ in stops if stop == PRECISE) >= 190


def test_with_precision_stops_off_only_a_sign_or_the_cap_stops_yet_each_look_says_what_held() -> (
    None
):
    """The false-sign check's mode (bench/preview_sequential.py): the sign test meets every
    look, and the look still tells where the full rule would have stopped."""
    rng = random.Random(11)
    diffs = [rng.gauss(0.1, 1) for _ in range(32)]
    shipped = judge(diffs, previous=16, cap=200, tolerance=1.0)
    sign_only = judge(diffs, previous=16, cap=200, tolerance=1.0, precision_stops=False)
    assert shipped.stop == PRECISE and shipped.precise
    assert sign_only.stop is None and sign_only.precise
    assert sign_only.to_dict()["precise"] is True
    same = judge([0.0] * 16, previous=8, cap=200, tolerance=1.0, precision_stops=False)
    assert same.stop is None and same.identical
    assert judge(diffs, previous=16, cap=32, tolerance=1.0, precision_stops=False).stop == CAP
    outcomes = {_run_sign_only(lambda: rng.gauss(0, 1), cap=200) for _ in range(200)}
    assert outcomes <= {SIGN_DECIDED, CAP}


def _run_sign_only(draw, cap: int) -> str | None:
    diffs: list[float] = []
    previous = 0
    verdict = None
    for size in looks(cap):
        diffs += [draw() for _ in range(size - previous)]
        verdict = judge(
            diffs,
            previous=previous,
            cap=cap,
            tolerance=1.0,
            range_fraction=0.25,
            precision_stops=False,
        )
        previous = size
        if verdict.stop:
            break
    return verdict.stop if verdict else None
