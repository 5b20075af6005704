"""An arrival process fitted to weekly counts: over-dispersed, trending, seasonal.

Weekly counts are negative binomial (a gamma-mixed Poisson) around a local level. The level at
the cut is an exponentially weighted mean of the past weeks (half-life ``LEVEL_HALF_LIFE``
weeks: recent weeks count most). Ahead of the cut the log level follows a random walk with a
drift, for ``AHEAD_WEEKS`` weeks and then holds; its step size and drift are learned from how
far, in the history before, the next half-year's mean strayed from the level of its day (log
ratios at every quarter): regime shifts and trends widen the range, a habit of reverting after
busy or quiet spells moves its middle.
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


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(frozen=True, slots=True)
class ArrivalFit:
    """The fitted process: ``level`` items per week at the cut, ``dispersion`` = variance /
    mean of weekly counts within a quarter, the log mean and sigma of the next half-year's
    mean over the level (what the random walk reproduces), and a month index."""

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
        shift = sum(ratios) / len(ratios)
        sigma = math.sqrt(sum((r - shift) ** 2 for r in ratios) / (len(ratios) - 1))
    else:
        shift, sigma = 0.0, DEFAULT_SIGMA
    return ArrivalFit(
        level=level,
        dispersion=_within_quarter_dispersion(weekly[-4 * RECENT_WEEKS :]),
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


def _within_quarter_dispersion(weekly: Sequence[int]) -> float:
    values = []
    for k in range(0, len(weekly) - 12, 13):
        block = weekly[k : k + 13]
        mean = sum(block) / 13
        if mean > 0:
            values.append(sum((c - mean) ** 2 for c in block) / 12 / mean)
    values.sort()
    return max(1.0, values[len(values) // 2]) if values else 1.0


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
    holds. The learned ratios are logs of half-year *means*, so the walk is set up for those:
    the mean of its first h positions has variance step^2 (h + 1)(2h + 1) / 6h, which is made
    sigma^2; the positions themselves average a variance 3h sigma^2 / (2h + 1), and the log of
    the mean of exp(position) exceeds the mean position by half the difference (second order:
    (h - 1) sigma^2 / (2 (2h + 1))), which the drift takes off, so that the logs of half-year
    means come out with the learned shift and sigma."""
    h = AHEAD_WEEKS
    step = fit.log_sigma * math.sqrt(6 * h / ((h + 1) * (2 * h + 1)))
    jensen = (h - 1) * fit.log_sigma**2 / (2 * (2 * h + 1))
    drift = 2 * (fit.log_shift - jensen) / (h + 1)
    log_level = 0.0
    counts = []
    excess = fit.dispersion - 1.0
    for week, month in enumerate(months):
        if week < AHEAD_WEEKS:
            log_level += drift + (0.0 if typical else step * rng.gauss(0.0, 1.0))
        mean = max(fit.level * math.exp(log_level) * fit.season[month - 1], 0.0)
        if mean <= 0:
            counts.append(0)
            continue
        if excess > 1e-9:
            # gamma(shape r, scale excess) has mean r x excess = mean, and mixing Poisson over it
            # gives variance mean x (1 + excess) = mean x dispersion
            mean = rng.gammavariate(mean / excess, excess)
        counts.append(poisson(mean, rng.random()))
    return counts
