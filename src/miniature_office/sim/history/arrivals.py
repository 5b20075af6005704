"""An arrival process fitted to weekly counts: over-dispersed, trending, seasonal.

Weekly counts are negative binomial (a gamma-mixed Poisson) around a level. The level is the
mean of the recent year, times a multiplier drawn once per future from what history says
about how far the next half-year strays from the year before it (log ratios of block means):
regime shifts and trends widen the range, and a habit of reverting moves its middle.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from typing import Any, Sequence

from mypy_extensions import mypyc_attr

from ..directives import poisson
from ..frozen import frozen_state, restore_frozen

#: Weeks of the recent window whose mean is the level.
RECENT_WEEKS = 52
#: Weeks ahead whose mean the level multiplier describes.
AHEAD_WEEKS = 26
#: Fewest past (year, next half-year) pairs needed to learn the multiplier; below it a wide
#: default spread is used (sigma 0.6: a factor of 1.8 either way at one sigma).
MIN_PAIRS = 4
DEFAULT_SIGMA = 0.6


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(frozen=True, slots=True)
class ArrivalFit:
    """The fitted process: ``level`` items per week, ``dispersion`` = variance / mean of weekly
    counts within a quarter, the level multiplier's log mean and sigma, and a month index."""

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
    recent = weekly[-RECENT_WEEKS:]
    # half an item per window (as in the ratios below): a quiet year is slow, not stopped
    level = (sum(recent) + 0.5) / max(len(recent), 1)
    ratios = []
    for end in range(RECENT_WEEKS, n - AHEAD_WEEKS + 1, 13):
        before = sum(weekly[end - RECENT_WEEKS : end]) / RECENT_WEEKS
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
    """One future's weekly counts for weeks in calendar ``months`` (one draw of the level;
    ``typical`` takes the median level instead, for an office to run what-ifs on)."""
    spread = 0.0 if typical else fit.log_sigma * rng.gauss(0.0, 1.0)
    level = fit.level * math.exp(fit.log_shift + spread)
    counts = []
    excess = fit.dispersion - 1.0
    for month in months:
        mean = max(level * fit.season[month - 1], 0.0)
        if mean <= 0:
            counts.append(0)
            continue
        if excess > 1e-9:
            # gamma(shape r, scale excess) has mean r x excess = mean, and mixing Poisson over it
            # gives variance mean x (1 + excess) = mean x dispersion
            mean = rng.gammavariate(mean / excess, excess)
        counts.append(poisson(mean, rng.random()))
    return counts
