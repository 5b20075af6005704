"""An arrival process fitted to weekly counts: over-dispersed, trending, seasonal.

Counts are a gamma-mixed Poisson (negative binomial) around a local level, the mixing drawn
per fortnight (``BURST_WEEKS``): real bursts span more than one week, so a fortnight's total
is more dispersed than its weeks would be if they were independent. The level at the cut is
an exponentially weighted mean of the past weeks (half-life ``LEVEL_HALF_LIFE`` weeks: recent
weeks count most). Ahead of the cut the log level follows a random walk with a drift for
``AHEAD_WEEKS`` weeks, then holds at that half-year's mean; its step size and drift are learned
from how far, in the history before, the next half-year's mean strayed from the level of its
day (log ratios at every quarter, summarised by their median and median absolute deviation, so
that a near-empty spell's ratios of 50 to 1 do not set the spread for every later forecast):
regime shifts and trends widen the range, a habit of reverting after busy or quiet spells moves
its middle.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from typing import Any, Sequence

from mypy_extensions import mypyc_attr

from ..directives import poisson
from ..frozen import frozen_state, restore_frozen

#: Weeks before the first learned ratio (a year for the level to settle), and the window of
#: the within-quarter dispersion (four of them).
RECENT_WEEKS = 52
#: Half-life, in weeks, of the weights of the exponentially weighted level.
LEVEL_HALF_LIFE = 8
#: Weeks ahead whose mean the level multiplier describes.
AHEAD_WEEKS = 26
#: Fewest past (year, next half-year) pairs needed to learn the multiplier; below it a wide
#: default spread is used (sigma 0.6: a factor of 1.8 either way at one sigma).
MIN_PAIRS = 4
DEFAULT_SIGMA = 0.6
#: Weeks that share one draw of the gamma mixing (a burst's length), and the stretch within
#: which their totals' dispersion is measured (a half-year: long enough for 13 totals, short
#: enough that a change of level is not taken for dispersion).
BURST_WEEKS = 2
BURST_WINDOW = 26
#: Median absolute deviation over sigma for a normal distribution.
MAD_TO_SIGMA = 1.4826


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(frozen=True, slots=True)
class ArrivalFit:
    """The fitted process: ``level`` items per week at the cut, ``dispersion`` = variance /
    mean of fortnightly counts within a half-year, the log shift (median) and sigma (from the
    median absolute deviation) of the next half-year's mean over the level (what the random
    walk reproduces), and a month index."""

    level: float
    dispersion: float
    log_shift: float
    log_sigma: float
    season: tuple[float, ...]
    pairs: int

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["season"] = list(self.season)
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in data.items()}

    def __getstate__(self) -> dict[str, Any]:
        return frozen_state(self)  # sim/frozen.py: the same pickle in both builds

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_frozen(self, state)


def fit_arrivals(weekly: Sequence[int], months: Sequence[int]) -> ArrivalFit:
    """Fit to weekly counts (oldest first) and the calendar month (1..12) of each week."""
    n = len(weekly)
    levels = local_levels(weekly)
    # half an item a year (as in the ratios below): a quiet spell is slow, not stopped
    level = (levels[-1] if levels else 0.0) + 0.5 / RECENT_WEEKS
    ratios = []
    for end in range(RECENT_WEEKS, n - AHEAD_WEEKS + 1, 13):
        before = levels[end - 1]
        after = sum(weekly[end : end + AHEAD_WEEKS]) / AHEAD_WEEKS
        # half an item per window keeps empty windows finite
        ratios.append(math.log((after + 0.5 / AHEAD_WEEKS) / (before + 0.5 / RECENT_WEEKS)))
    if len(ratios) >= MIN_PAIRS:
        # median and MAD, not mean and standard deviation: after a near-empty spell a level of
        # 0.01 a week gives log ratios of +-4, and one of them would make every later forecast
        # expect the level to move by factors of ten
        shift = _median(ratios)
        sigma = MAD_TO_SIGMA * _median([abs(r - shift) for r in ratios])
    else:
        shift, sigma = 0.0, DEFAULT_SIGMA
    return ArrivalFit(
        level=level,
        dispersion=burst_dispersion(weekly[-4 * RECENT_WEEKS :]),
        log_shift=shift,
        log_sigma=sigma,
        season=_season(weekly, months),
        pairs=len(ratios),
    )


def local_levels(weekly: Sequence[int]) -> list[float]:
    """The exponentially weighted mean after each week (started at the first quarter's mean)."""
    if not weekly:
        return []
    gain = 1 - 0.5 ** (1 / LEVEL_HALF_LIFE)
    level = sum(weekly[:13]) / len(weekly[:13])
    out = []
    for count in weekly:
        level += gain * (count - level)
        out.append(level)
    return out


def burst_dispersion(weekly: Sequence[int]) -> float:
    """Variance over mean of ``BURST_WEEKS``-week totals within each ``BURST_WINDOW``-week
    stretch, the median over the stretches (at least 1: Poisson)."""
    values = []
    per = BURST_WINDOW // BURST_WEEKS
    for k in range(0, len(weekly) - BURST_WINDOW + 1, BURST_WINDOW):
        totals = [sum(weekly[k + j * BURST_WEEKS : k + (j + 1) * BURST_WEEKS]) for j in range(per)]
        mean = sum(totals) / per
        if mean > 0:
            values.append(sum((c - mean) ** 2 for c in totals) / (per - 1) / mean)
    return max(1.0, _median(values)) if values else 1.0


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _season(weekly: Sequence[int], months: Sequence[int]) -> tuple[float, ...]:
    """Mean weekly count per calendar month over the overall mean, shrunk halfway to 1 (a few
    years of data make month means noisy)."""
    total = [0.0] * 12
    seen = [0] * 12
    for count, month in zip(weekly, months):
        total[month - 1] += count
        seen[month - 1] += 1
    mean = sum(weekly) / max(len(weekly), 1)
    if mean == 0:
        return (1.0,) * 12
    raw = [(total[m] / seen[m]) / mean if seen[m] else 1.0 for m in range(12)]
    return tuple(0.5 + 0.5 * r for r in raw)


def draw_future(
    fit: ArrivalFit, months: Sequence[int], rng: random.Random, *, typical: bool = False
) -> list[int]:
    """One future's weekly counts for weeks in calendar ``months`` (``typical`` holds the
    level at its median path instead of walking, for an office to run what-ifs on).

    The log level walks for ``AHEAD_WEEKS`` (h) weeks with steps N(drift, step^2) and then
    holds at the mean of those weeks' levels. The learned ratios are logs of half-year *means*,
    so the walk is set up for those: the mean of its first h positions has variance step^2
    (h + 1)(2h + 1) / 6h, which is made sigma^2; the positions themselves average a variance
    3h sigma^2 / (2h + 1), and the log of the mean of exp(position) exceeds the mean position
    by half the difference (second order: (h - 1) sigma^2 / (2 (2h + 1))), which the drift
    takes off, so that the logs of half-year means come out with the learned shift and sigma.
    Holding that mean, not the walk's last position, is what keeps the years after it honest:
    the last position has about 1.7 times the spread and twice the shift of the half-year
    mean the ratios measured, and held for years it made the late forecasts far too wide.

    Each ``BURST_WEEKS`` weeks share one gamma draw of their total (shape total / excess,
    scale excess: variance total x excess on top of the Poisson's), split over the weeks in
    proportion to their means, so that fortnight totals have the fitted dispersion."""
    h = AHEAD_WEEKS
    step = fit.log_sigma * math.sqrt(6 * h / ((h + 1) * (2 * h + 1)))
    jensen = (h - 1) * fit.log_sigma**2 / (2 * (2 * h + 1))
    drift = 2 * (fit.log_shift - jensen) / (h + 1)
    log_level = 0.0
    walked = 0.0
    means = []
    for week, month in enumerate(months):
        if week < h:
            log_level += drift + (0.0 if typical else step * rng.gauss(0.0, 1.0))
            multiplier = math.exp(log_level)
            walked += multiplier
        else:
            multiplier = walked / h
        means.append(max(fit.level * multiplier * fit.season[month - 1], 0.0))
    excess = fit.dispersion - 1.0
    counts: list[int] = []
    for first in range(0, len(means), BURST_WEEKS):
        block = means[first : first + BURST_WEEKS]
        total = sum(block)
        factor = 1.0
        if excess > 1e-9 and total > 0:
            # gamma(shape r, scale excess) has mean r x excess = total, and mixing Poisson
            # over it gives variance total x (1 + excess) = total x dispersion
            factor = rng.gammavariate(total / excess, excess) / total
        counts.extend(poisson(mean * factor, rng.random()) if mean > 0 else 0 for mean in block)
    return counts
