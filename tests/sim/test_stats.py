"""Percentiles that never overstate confidence, and paired differences over shared seeds."""

from __future__ import annotations

import math
import random

from miniature_office.sim.stats import (
    at_least,
    describe_distribution,
    paired_difference,
    prediction_interval,
    prediction_rank,
    quantile,
)


def test_p85_has_at_least_85_percent_of_the_samples_at_or_below_it() -> None:
    values = list(range(1, 21))  # 20 samples: 17 of them are <= the 17th value
    assert quantile(values, 85) == 17
    assert quantile(values, 50) == 10
    assert quantile(values, 100) == 20
    assert quantile([], 85) is None


def test_at_least_is_the_lower_percentile_not_the_upper_one() -> None:
    """ "85% chance of at least X": 85% of the samples reach X; the old p85 was optimistic."""
    values = list(range(1, 21))
    x = at_least(values, 0.85)
    assert x == 4  # 17 of the 20 samples (4..20) are >= 4
    assert sum(1 for v in values if v >= x) / len(values) >= 0.85
    assert quantile(values, 85) > x


def test_infinite_samples_stay_in_the_percentiles() -> None:
    """Futures not finished by the horizon are +inf: a percentile on them reads as > horizon."""
    values = [10.0] * 8 + [math.inf] * 2
    assert quantile(values, 50) == 10.0
    assert math.isinf(quantile(values, 85))


def test_paired_difference_counts_better_seeds_and_brackets_the_mean() -> None:
    baseline = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    variant = [b + d for b, d in zip(baseline, [0.5, 0.4, 0.6, -0.1, 0.5, 0.3, 0.7, 0.4])]
    diff = paired_difference("throughput", baseline, variant)
    assert diff.n == 8 and diff.better == 7 and diff.worse == 1
    assert math.isclose(diff.mean, 0.4125)
    assert diff.low < diff.mean < diff.high
    assert diff.significant
    assert "better in 7 of 8 seeds" in diff.describe()


def test_pairing_removes_what_the_seeds_share() -> None:
    """Seeds that differ wildly but move together give a tight interval around the shift."""
    baseline = [1.0, 50.0, 3.0, 90.0, 12.0, 7.0]
    variant = [b + 1.0 + 0.01 * i for i, b in enumerate(baseline)]
    diff = paired_difference("throughput", baseline, variant)
    assert 0.99 < diff.low <= diff.high < 1.06


def test_lower_is_better_metrics_count_decreases_as_better() -> None:
    diff = paired_difference("lead", [10, 20, 30], [8, 21, 25], higher_is_better=False)
    assert (diff.better, diff.worse) == (2, 1)


def test_no_difference_is_not_significant_and_missing_pairs_are_left_out() -> None:
    diff = paired_difference("lead", [10, None, 30, 40], [11, 5, 29, None], higher_is_better=False)
    assert diff.n == 2 and not diff.significant
    assert paired_difference("lead", [None], [None]).describe() == "no paired values"


def test_the_bootstrap_is_deterministic() -> None:
    a = paired_difference("x", [1, 2, 3, 4, 5], [2, 2, 5, 4, 7])
    b = paired_difference("x", [1, 2, 3, 4, 5], [2, 2, 5, 4, 7])
    assert a == b


def test_bottleneck_distribution_reads_as_counts_over_seeds() -> None:
    labels = ["verifier"] * 17 + ["security"] * 2 + [None]
    assert describe_distribution(labels) == "verifier 17/20, security 2/20, none 1/20"


def test_the_prediction_interval_uses_the_ranks_that_reach_its_stated_coverage() -> None:
    """(n + 1 - 2k) / (n + 1): of 30 futures only the extremes reach 90% (29/31); of 200 the
    10th from each end (181/201); under 19 futures even the extremes fall short and say so."""
    assert prediction_rank(30) == 1 and prediction_rank(64) == 3 and prediction_rank(200) == 10
    assert prediction_interval(list(range(30))) == (0.0, 29.0, round(29 / 31, 4))
    assert prediction_interval(list(range(200))) == (9.0, 190.0, round(181 / 201, 4))
    low, high, coverage = prediction_interval([3.0, 1.0, 2.0, 5.0, 4.0, 9.0, 0.0, 7.0])
    assert (low, high, coverage) == (0.0, 9.0, round(7 / 9, 4))
    assert prediction_interval([]) == (None, None, 0.0)


def test_one_more_draw_falls_inside_the_prediction_interval_as_often_as_it_states() -> None:
    """Checked against fresh draws from a heavy-tailed law (the office's tail losses), where the
    futures' own 5th-95th percentiles undercover: 30 draws, then one more, 4,000 times."""
    rng = random.Random(24)

    def draw() -> float:
        return rng.gauss(0, 1) if rng.random() < 0.9 else rng.gauss(-8, 4)

    inside = inside_p5_p95 = 0
    trials = 4000
    for _ in range(trials):
        futures = [draw() for _ in range(30)]
        new = draw()
        low, high, coverage = prediction_interval(futures)
        inside += low <= new <= high
        inside_p5_p95 += quantile(futures, 5) <= new <= quantile(futures, 95)
    assert coverage == round(29 / 31, 4)
    # binomial sd at 4,000 trials: 0.4 points; allow 1.5
    assert abs(inside / trials - 29 / 31) < 0.015
    assert abs(inside_p5_p95 / trials - 27 / 31) < 0.015  # 87%: short of the 90% it was read as


def test_a_paired_difference_carries_both_ranges_under_names_apart() -> None:
    baseline = [0.0] * 30
    variant = [float(i - 10) for i in range(30)]
    answer = paired_difference("throughput", baseline, variant).to_dict()
    assert answer["range_in_this_office"] == [-10.0, 19.0]  # smallest to largest
    assert answer["range_coverage"] == round(29 / 31, 4)
    assert "not a confidence interval of the mean" in answer["range_method"]
    assert answer["range_in_this_office_p5_p95"] == [-9.0, 18.0]  # 0.1.0's: 2nd from each end
    assert answer["range_share"] == 0.9
