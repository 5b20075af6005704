"""Small statistics for sweeps and forecasts: percentiles and paired differences.

Pure Python and deterministic: the bootstrap draws from its own seeded generator, so the same
inputs always give the same interval (a sweep run twice prints the same table).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Sequence

#: Confidence level of every interval reported here.
CONFIDENCE = 0.95
#: The futures' own spread: the 5th to the 95th percentile of the paired differences (90% of
#: these futures fall inside it). Kept as 0.1.0's ``range_in_this_office_p5_p95``; it is not a
#: prediction interval: of 30 futures its ends are the 2nd smallest and 2nd largest, which a
#: new future falls between with probability 27/31 = 87%, not 90%.
RANGE_PERCENTILES = (5, 95)
RANGE_SHARE = 0.90
#: The range in this office: a distribution-free prediction interval for ONE more future (the
#: office's own), aiming at this coverage. The CI of the mean is about the average over many
#: offices like this one; this range is about the one office there is.
PREDICTION_TARGET = 0.90
#: Bootstrap resamples: enough that the 2.5% and 97.5% points move by well under the interval's
#: width between generator seeds, few enough that a sweep of 20 seeds spends milliseconds.
RESAMPLES = 2000
BOOTSTRAP_SEED = 12


def quantile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank ``q``-th percentile (0 < q <= 100): the smallest value with at least q% of
    the samples at or below it. None when there are no values.

    Nearest rank never interpolates, so "85% of futures finished by p85" holds on the samples
    themselves (at least 85% are <= it) and "85% chance of at least p15" likewise holds (at
    least 85% are >= it).
    """
    if not values:
        return None
    ordered = sorted(values)
    # The small tolerance keeps 0.85 * 20 = 17 (not 17.000000000000004 -> 18).
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered) - 1e-9)))
    return float(ordered[rank - 1])


def at_least(values: Sequence[float], confidence: float = 0.85) -> float | None:
    """The value a share ``confidence`` of the samples reach or exceed (the lower percentile).

    "85% chance of at least X" is the 15th percentile: an upper percentile read as confidence
    would be optimistic.
    """
    if not values:
        return None
    ordered = sorted(values, reverse=True)
    rank = max(1, min(len(ordered), math.ceil(confidence * len(ordered) - 1e-9)))
    return float(ordered[rank - 1])


def prediction_rank(n: int, target: float = PREDICTION_TARGET) -> int:
    """The ``k`` of the narrowest order-statistics prediction interval that still reaches
    ``target``: the largest ``k >= 1`` with ``(n + 1 - 2k) / (n + 1) >= target``, or 1 when
    even the sample's extremes fall short (fewer than 19 futures for 90%)."""
    # (n + 1 - 2k) / (n + 1) >= target  <=>  k <= (1 - target) (n + 1) / 2
    return max(1, math.floor((1 - target) * (n + 1) / 2 + 1e-9))


def prediction_interval(
    values: Sequence[float], target: float = PREDICTION_TARGET
) -> tuple[float | None, float | None, float]:
    """A distribution-free prediction interval for one more draw from what ``values`` came from.

    For ``n`` exchangeable draws and one more, the new one is below the ``k``-th smallest with
    probability ``k / (n + 1)`` and above the ``k``-th largest with the same probability (ties
    only help: the interval is closed), so ``[x_(k), x_(n+1-k)]`` covers it with probability at
    least ``(n + 1 - 2k) / (n + 1)``. ``k`` is :func:`prediction_rank`. Returns the two ends and
    that coverage (which falls short of ``target`` for small ``n``: it is stated, never
    rounded up). ``(None, None, 0.0)`` for no values.
    """
    n = len(values)
    if n == 0:
        return None, None, 0.0
    ordered = sorted(values)
    k = min(prediction_rank(n, target), (n + 1) // 2)
    coverage = (n + 1 - 2 * k) / (n + 1)
    return float(ordered[k - 1]), float(ordered[n - k]), round(coverage, 4)


def prediction_method(n: int, target: float = PREDICTION_TARGET) -> str:
    """How the range was made, for reports: the order statistics and the coverage they give."""
    k = min(prediction_rank(n, target), max(1, (n + 1) // 2))
    coverage = (n + 1 - 2 * k) / (n + 1)
    ends = "smallest to largest" if k == 1 else f"{k}-th smallest to {k}-th largest"
    return (
        f"prediction interval for this office: the {ends} of {n} paired futures covers one more "
        f"future with probability (n+1-2k)/(n+1) = {coverage:.1%} (k={k}, order statistics, "
        "no distribution assumed); not a confidence interval of the mean"
    )


@dataclass(frozen=True, slots=True)
class PairedDifference:
    """Variant minus baseline over the same seeds.

    ``better`` counts seeds where the variant is strictly better (in the metric's direction),
    ``worse`` strictly worse; the rest are ties. ``n`` counts seeds where both runs had a value.
    """

    metric: str
    n: int
    mean: float | None
    low: float | None
    high: float | None
    better: int
    worse: int
    higher_is_better: bool
    method: str = "paired bootstrap"
    #: Per-future percentiles of the difference: the median, and the 5th to 95th (the range).
    median: float | None = None
    range_low: float | None = None
    range_high: float | None = None
    #: The prediction interval for this office (:func:`prediction_interval`) and its coverage.
    prediction_low: float | None = None
    prediction_high: float | None = None
    prediction_coverage: float = 0.0

    @property
    def ties(self) -> int:
        return self.n - self.better - self.worse

    @property
    def significant(self) -> bool:
        """True when the 95% interval excludes zero."""
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "n": self.n,
            "mean_difference": self.mean,
            "ci95_low": self.low,
            "ci95_high": self.high,
            "better_in": self.better,
            "worse_in": self.worse,
            "ties": self.ties,
            "higher_is_better": self.higher_is_better,
            "method": self.method,
            # Two answers under names that cannot be confused (the two above are 0.1.0's):
            "expected_effect_ci95": [self.low, self.high],
            "likely_effect_here": self.median,
            # The range in this office: a prediction interval for one more future (the
            # office's own), with the coverage it has for that one.
            "range_in_this_office": [self.prediction_low, self.prediction_high],
            "range_coverage": self.prediction_coverage,
            "range_method": prediction_method(self.n) if self.n else None,
            # 0.1.0's names: the futures' own 5th-95th percentiles (90% of these futures).
            "range_in_this_office_p5_p95": [self.range_low, self.range_high],
            "range_share": RANGE_SHARE,
        }

    def describe(self, digits: int = 3) -> str:
        """``+0.047 [+0.012, +0.081], better in 16 of 20 seeds``."""
        if self.mean is None or self.low is None or self.high is None:
            return "no paired values"
        fmt = f"{{:+.{digits}f}}"
        return (
            f"{fmt.format(self.mean)} [{fmt.format(self.low)}, {fmt.format(self.high)}], "
            f"better in {self.better} of {self.n} seeds"
        )


def paired_difference(
    metric: str,
    baseline: Sequence[float | None],
    variant: Sequence[float | None],
    *,
    higher_is_better: bool = True,
    resamples: int = RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> PairedDifference:
    """Mean of ``variant[i] - baseline[i]`` with a 95% percentile-bootstrap interval.

    Position ``i`` of both sequences is the same seed. Pairs where either side is None (no
    deployment in that run, so no lead time) are left out and ``n`` says how many remain. The
    bootstrap resamples whole pairs, so what the seed shares between the two runs (the same
    arrivals, the same people) cancels out.
    """
    if len(baseline) != len(variant):
        raise ValueError("paired samples need the same seeds on both sides")
    diffs = [v - b for b, v in zip(baseline, variant) if b is not None and v is not None]
    n = len(diffs)
    sign = 1 if higher_is_better else -1
    better = sum(1 for d in diffs if d * sign > 0)
    worse = sum(1 for d in diffs if d * sign < 0)
    if not diffs:
        return PairedDifference(metric, 0, None, None, None, 0, 0, higher_is_better)
    mean = sum(diffs) / n
    low, high = _bootstrap_interval(diffs, resamples, seed)
    predict_low, predict_high, coverage = prediction_interval(diffs)
    return PairedDifference(
        metric,
        n,
        round(mean, 6),
        round(low, 6),
        round(high, 6),
        better,
        worse,
        higher_is_better,
        median=quantile(diffs, 50),
        range_low=quantile(diffs, RANGE_PERCENTILES[0]),
        range_high=quantile(diffs, RANGE_PERCENTILES[1]),
        prediction_low=predict_low,
        prediction_high=predict_high,
        prediction_coverage=coverage,
    )


def _bootstrap_interval(diffs: list[float], resamples: int, seed: int) -> tuple[float, float]:
    n = len(diffs)
    if min(diffs) == max(diffs):  # one pair, or every pair the same: nothing to resample
        return diffs[0], diffs[0]
    rng = random.Random(seed)  # nosec B311 - resampling, not security
    choose = rng.choices
    means = sorted(sum(choose(diffs, k=n)) / n for _ in range(resamples))
    tail = (1 - CONFIDENCE) / 2
    low = means[int(tail * resamples)]
    high = means[min(resamples - 1, int((1 - tail) * resamples))]
    return low, high


def distribution(labels: Sequence[str | None]) -> list[tuple[str, int]]:
    """Counts of each label, most common first (ties by name); None reads as "none"."""
    counts: dict[str, int] = {}
    for label in labels:
        key = label if label is not None else "none"
        counts[key] = counts.get(key, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def describe_distribution(labels: Sequence[str | None]) -> str:
    """``verifier 17/20, security 3/20``."""
    total = len(labels)
    return ", ".join(f"{name} {count}/{total}" for name, count in distribution(labels))


__all__ = [
    "CONFIDENCE",
    "PREDICTION_TARGET",
    "RANGE_PERCENTILES",
    "RANGE_SHARE",
    "PairedDifference",
    "at_least",
    "describe_distribution",
    "distribution",
    "paired_difference",
    "prediction_interval",
    "prediction_method",
    "prediction_rank",
    "quantile",
]
