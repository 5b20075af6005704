"""Backtest two forecasts at past cut dates, each from only the history before the cut.

Questions: (a) how many items are done in the next 4 weeks, (b) how many days until the next
30 are done. Methods: throughput resampling (the Kanban-tool method: days drawn with
replacement from the previous 12 weeks' daily throughput) and the calibrated office (arrivals
from :mod:`.arrivals` fitted to the weekly throughput before the cut, run through the office
fitted to that history). The report gives each method's coverage of its p15, p50 and p85 and
the mean error of its p50 on the same cut dates.
"""

from __future__ import annotations

import bisect
import random
from typing import Any, Sequence

from .arrivals import draw_future, fit_arrivals
from .describe import DAY, quantile, week_of, week_start, weekly_counts
from .fit import fit_office, months_of
from .items import History
from .office import OfficeShape, office_scenario, run_office

HORIZON_DAYS = 28
NEXT_ITEMS = 30
RESAMPLE_DAYS = 84
#: History needed before a cut (two years: a year for the level, a year to learn its drift).
MIN_HISTORY_WEEKS = 104
WARMUP_WEEKS = 4
#: The office forecast runs at most this many weeks ahead (beyond: "not within the horizon").
MAX_WEEKS = 104
#: Ticks per day the office may use in a backtest (the lead-time scale matters little to
#: counts over weeks; more ticks per day only cost time).
BACKTEST_SCALES = (1, 2)
QS = (15, 50, 85)
#: The busiest history (items a week over a year) the office backtest takes.
MAX_WEEKLY = 40


def cut_weeks(history: History, cuts: int) -> list[int]:
    """``cuts`` evenly spaced week numbers with two years before and 30 items done after."""
    dones = sorted(i.done for i in history.items if i.done is not None)
    first = week_of(history.items[0].start) + MIN_HISTORY_WEEKS
    if len(dones) <= NEXT_ITEMS:
        return []
    last = week_of(dones[-NEXT_ITEMS]) - 1
    if last < first:
        return []
    span = last - first
    count = min(cuts, span + 1)
    return sorted({first + round(k * span / max(count - 1, 1)) for k in range(count)})


def actuals(dones: Sequence[float], cut: float) -> tuple[int, float]:
    """What happened: items done in the 4 weeks after ``cut``, days until the 30th."""
    start = bisect.bisect_left(dones, cut)
    count = bisect.bisect_left(dones, cut + HORIZON_DAYS * DAY) - start
    return count, (dones[start + NEXT_ITEMS - 1] - cut) / DAY


def resample_forecast(
    dones: Sequence[float], cut: float, futures: int, rng: random.Random
) -> tuple[list[int], list[float]]:
    """Throughput resampling: each future day's count is a random day of the last 12 weeks."""
    start = cut - RESAMPLE_DAYS * DAY
    daily = [0] * RESAMPLE_DAYS
    for t in dones[bisect.bisect_left(dones, start) : bisect.bisect_left(dones, cut)]:
        daily[int((t - start) // DAY)] += 1
    counts, days = [], []
    limit = MAX_WEEKS * 7
    for _ in range(futures):
        counts.append(sum(rng.choice(daily) for _ in range(HORIZON_DAYS)))
        total, day = 0, 0
        while total < NEXT_ITEMS and day < limit:
            total += rng.choice(daily)
            day += 1
        days.append(float(day) if total >= NEXT_ITEMS else float(limit))
    return counts, days


def office_forecast(
    history: History, cut_week: int, futures: int, seed: int
) -> tuple[list[int], list[float], dict[str, Any]]:
    """The calibrated office's forecast at ``cut_week`` from the history before it."""
    cut = week_start(cut_week)
    before = History(
        tuple(i for i in history.items if i.done is not None and i.done < cut), history.columns
    )
    first = week_of(history.items[0].start)
    weekly = weekly_counts(
        [i.done for i in before.items if i.done is not None], first, cut_week - 1
    )
    fit = fit_arrivals(weekly, months_of(first, len(weekly)))
    shape_fit = fit_office(before, scales=BACKTEST_SCALES, seed=seed)
    shape = OfficeShape(shape_fit["shape"]["ticks_per_day"], shape_fit["shape"]["staff"])
    scale = shape.ticks_per_day
    weeks = WARMUP_WEEKS + MAX_WEEKS
    months = months_of(cut_week - WARMUP_WEEKS, weeks)
    cut_tick = WARMUP_WEEKS * 7 * scale
    counts, days = [], []
    for k in range(futures):
        rng = random.Random(f"office:{seed}:{cut_week}:{k}")
        per_week = draw_future(fit, months, rng)
        ticks = _bounded(
            sorted(
                int((w + rng.random()) * 7 * scale)
                for w, n in enumerate(per_week)
                for _ in range(n)
            ),
            cut_tick + HORIZON_DAYS * scale,
        )
        pairs = run_office(
            office_scenario(shape, ticks, seed=k),
            k + 1,
            weeks * 7 * scale,
            stop_after=sum(1 for t in ticks if t < cut_tick) + 3 * NEXT_ITEMS,
        )
        after = sorted(d for _, d in pairs if d >= cut_tick)
        horizon = cut_tick + HORIZON_DAYS * scale
        counts.append(bisect.bisect_left(after, horizon))
        if len(after) >= NEXT_ITEMS:
            days.append((after[NEXT_ITEMS - 1] - cut_tick) / scale)
        else:
            days.append(float(MAX_WEEKS * 7))
    return counts, days, {"arrivals": fit.to_dict(), "shape": shape.to_dict()}


def _bounded(ticks: list[int], horizon: int) -> list[int]:
    """Every arrival up to the 4-week horizon and the next 30 after it: later ones cannot
    change either answer (work is done in arrival order or later), and the office stays small."""
    keep = bisect.bisect_left(ticks, horizon) + NEXT_ITEMS
    return ticks[:keep]


def too_busy(history: History) -> str | None:
    """Why the office backtest is refused for this history (a sentence), or None: above
    ``MAX_WEEKLY`` items a week at any 52-week stretch the office runs get too large."""
    dones = sorted(i.done for i in history.items if i.done is not None)
    for k in range(len(dones) - 52 * MAX_WEEKLY):
        if dones[k + 52 * MAX_WEEKLY] - dones[k] < 52 * 7 * DAY:
            return (
                f"more than {MAX_WEEKLY} items a week over a year: too busy for the office "
                "backtest (each future would run thousands of directives)"
            )
    return None


def backtest(
    history: History, *, cuts: int = 48, futures: int = 100, seed: int = 1
) -> dict[str, Any]:
    """Forecast at ``cuts`` past dates with both methods and score them against the truth.

    Raises ValueError for a history :func:`too_busy` refuses."""
    refusal = too_busy(history)
    if refusal:
        raise ValueError(refusal)
    dones = sorted(i.done for i in history.items if i.done is not None)
    rows = []
    for cut_week in cut_weeks(history, cuts):
        cut = week_start(cut_week)
        actual_count, actual_days = actuals(dones, cut)
        rng = random.Random(f"resample:{seed}:{cut_week}")
        methods = {
            "resampling": resample_forecast(dones, cut, futures, rng),
            "office": office_forecast(history, cut_week, futures, seed)[:2],
        }
        row: dict[str, Any] = {"cut": cut, "actual": {"count": actual_count, "days": actual_days}}
        for name, (counts, days) in methods.items():
            sc, sd = sorted(counts), sorted(days)
            row[name] = {
                "count": {f"p{q}": quantile(sc, q / 100) for q in QS},
                "days": {f"p{q}": quantile(sd, q / 100) for q in QS},
            }
        rows.append(row)
    return {"cuts": rows, "summary": score(rows), "futures": futures, "seed": seed}


def score(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Coverage and p50 error of each method: for the count, the share of cuts whose actual
    is at or above each percentile (p15's is the "at least" promise, 85% expected); for the
    days, the share at or below (p85's is the "by then" promise, 85% expected)."""
    out: dict[str, Any] = {"cuts": len(rows)}
    if not rows:
        return out
    for method in ("resampling", "office"):
        count_cov = {
            f"p{q}": _share(r["actual"]["count"] >= r[method]["count"][f"p{q}"] for r in rows)
            for q in QS
        }
        days_cov = {
            f"p{q}": _share(r["actual"]["days"] <= r[method]["days"][f"p{q}"] for r in rows)
            for q in QS
        }
        out[method] = {
            "count": {
                "at_or_above": count_cov,
                "p50_error_items": round(
                    sum(abs(r["actual"]["count"] - r[method]["count"]["p50"]) for r in rows)
                    / len(rows),
                    2,
                ),
            },
            "days": {
                "at_or_below": days_cov,
                "p50_error_days": round(
                    sum(abs(r["actual"]["days"] - r[method]["days"]["p50"]) for r in rows)
                    / len(rows),
                    1,
                ),
            },
        }
    return out


def _share(flags: Any) -> float:
    values = list(flags)
    return round(100 * sum(values) / len(values), 1)
