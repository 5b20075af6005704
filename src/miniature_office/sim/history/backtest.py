"""Backtest two forecasts at past cut dates, each from only the history before the cut.

Questions: (a) how many items are done in the next 4 weeks, (b) how many days until the next
30 are done. Methods: throughput resampling (the Kanban-tool method: days drawn with
replacement from the previous 12 weeks' daily throughput) and the calibrated office: the work
in progress at the cut (the items started and not done, each continued by the lead-time
mixture given its age) plus new work (arrivals from :mod:`.arrivals` fitted to the weekly
throughput before the cut, lead times from the mixture), its slow items worked by the office.
The report gives each method's coverage of its p15, p50 and p85 and the mean error of its p50
on the same cut dates.
"""

from __future__ import annotations

import bisect
import random
from typing import Any, Sequence

from .arrivals import draw_future, fit_arrivals
from .describe import DAY, quantile, week_of, week_start, weekly_counts, wip_at
from .fit import months_of
from .items import History, Item
from .leads import LeadMix, fit_lead_mix
from .office import OfficeShape, infer_staff, office_delay_days, office_scenario, run_office

HORIZON_DAYS = 28
NEXT_ITEMS = 30
RESAMPLE_DAYS = 84
#: History needed before a cut (two years: a year for the level, a year to learn its drift).
MIN_HISTORY_WEEKS = 104
#: Both forecasts run at most this many weeks ahead (beyond: "not within the horizon", scored
#: as this many). Five years: on the fixtures the 30th item after a cut took up to 993 days,
#: and a capped forecast could not have covered it.
MAX_WEEKS = 260
#: Ticks per day of the office in a backtest (3 hours a tick: the office's own work is a day
#: or two of the slow items' lead times; finer ticks only cost time).
BACKTEST_SCALE = 8
#: Weeks before the cut whose completed items the lead-time mixture and staff are fitted on.
LEAD_WEEKS = 104
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


def censor(history: History, cut: float) -> History:
    """What was known at ``cut``: the items started before it, those done after it open."""
    return History(
        tuple(
            i if i.done is None or i.done < cut else Item(i.id, i.start, None, i.type, i.assignee)
            for i in history.items
            if i.start < cut
        ),
        history.columns,
        history.dropped,
    )


def office_forecast(
    history: History, cut_week: int, futures: int, seed: int, *, office: bool = True
) -> tuple[list[int], list[float], dict[str, Any]]:
    """The calibrated office's forecast at ``cut_week`` from what was known at the cut.

    Each future: the work in progress at the cut, each item's lead time drawn from the
    mixture given its age; new items drawn from the arrival process (fitted to weekly
    throughput, as starts of items that will be done are not all known at the cut) with
    lead times from the mixture. Fast items are done at their lead time; slow ones wait and
    enter the office its own work time before their lead time ends, and are done when the
    office deploys them. ``office=False`` is the office-free check: slow items are done at
    their drawn lead time too (no queueing in the office; a few seconds instead of minutes,
    for trying changes to the arrival process or the lead-time mixture)."""
    cut = week_start(cut_week)
    seen = censor(history, cut)
    first = week_of(history.items[0].start)
    done = [i for i in seen.items if i.done is not None]
    weekly = weekly_counts([i.done for i in done if i.done is not None], first, cut_week - 1)
    fit = fit_arrivals(weekly, months_of(first, len(weekly)))
    since = cut - LEAD_WEEKS * 7 * DAY
    # items done in the window have the lead times of items started in it (steady flow), and
    # unlike those started in it they are not cut short by the cut
    mix = fit_lead_mix(
        [(i.done - i.start) / DAY for i in done if i.done is not None and i.done >= since]
    )
    moments = [since + k * 7 * DAY for k in range(1, LEAD_WEEKS + 1)]
    wip = sorted(wip_at(seen.items, moments))
    shape = OfficeShape(BACKTEST_SCALE, infer_staff(quantile(wip, 0.85)))
    delay = office_delay_days(shape, seed) if office else 0.0
    ages = [(cut - i.start) / DAY for i in seen.items if i.done is None]
    months = months_of(cut_week, MAX_WEEKS)
    counts, days = [], []
    for k in range(futures):
        rng = random.Random(f"office:{seed}:{cut_week}:{k}")
        fast, slow = _future_work(fit, mix, ages, months, rng)
        if office:
            counts_k, days_k = _run_future(shape, fast, slow, delay, k)
        else:
            counts_k, days_k = _answers(sorted(fast + slow))
        counts.append(counts_k)
        days.append(days_k)
    return (
        counts,
        days,
        {
            "arrivals": fit.to_dict(),
            "leads": mix.to_dict(),
            "shape": shape.to_dict(),
            "wip": len(ages),
        },
    )


def _future_work(
    fit: Any, mix: LeadMix, ages: Sequence[float], months: Sequence[int], rng: random.Random
) -> tuple[list[float], list[float]]:
    """One future's work, in days after the cut: when each fast item is done, and when each
    slow item's lead time ends (the office turns that into its done time)."""
    fast: list[float] = []
    slow: list[float] = []
    for age in ages:
        is_slow, lead = mix.draw_given_age(age, rng)
        (slow if is_slow else fast).append(lead - age)
    for week, n in enumerate(draw_future(fit, months, rng)):
        for _ in range(n):
            start = (week + rng.random()) * 7
            is_slow, lead = mix.draw(rng)
            (slow if is_slow else fast).append(start + lead)
    return sorted(fast), sorted(slow)


def _run_future(
    shape: OfficeShape, fast: list[float], slow: list[float], delay: float, seed: int
) -> tuple[int, float]:
    """Run the office on the slow items of one future until both answers are known: items
    done in the first 4 weeks, days until the 30th is done."""
    scale = shape.ticks_per_day
    limit = MAX_WEEKS * 7
    # a slow item cannot be done before its lead time ends: those ending after the 30th fast
    # item (or the horizon) cannot change either answer
    bound = max(HORIZON_DAYS, fast[NEXT_ITEMS - 1] if len(fast) >= NEXT_ITEMS else limit)
    entries = [max(0, int((t - delay) * scale)) for t in slow if t <= bound + delay]
    horizon = HORIZON_DAYS * scale

    def settled(tick: int, deployed: int) -> bool:
        if tick < horizon:
            return False
        return bisect.bisect_right(fast, tick / scale) + deployed >= NEXT_ITEMS

    pairs = run_office(
        office_scenario(shape, entries, seed=seed), seed + 1, limit * scale, stop=settled
    )
    return _answers(sorted(fast + [d / scale for _, d in pairs]))


def _answers(finished: Sequence[float]) -> tuple[int, float]:
    """Both answers from sorted done times (days after the cut): items done in the first 4
    weeks, days until the 30th is done (at most the horizon)."""
    limit = float(MAX_WEEKS * 7)
    count = bisect.bisect_left(finished, float(HORIZON_DAYS))
    days = finished[NEXT_ITEMS - 1] if len(finished) >= NEXT_ITEMS else limit
    return count, min(days, limit)


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
    history: History, *, cuts: int = 48, futures: int = 100, seed: int = 1, office: bool = True
) -> dict[str, Any]:
    """Forecast at ``cuts`` past dates with both methods and score them against the truth
    (``office=False``: the office-free check of :func:`office_forecast`).

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
            "office": office_forecast(history, cut_week, futures, seed, office=office)[:2],
        }
        row: dict[str, Any] = {"cut": cut, "actual": {"count": actual_count, "days": actual_days}}
        for name, (counts, days) in methods.items():
            sc, sd = sorted(counts), sorted(days)
            row[name] = {
                "count": {f"p{q}": quantile(sc, q / 100) for q in QS},
                "days": {f"p{q}": quantile(sd, q / 100) for q in QS},
            }
        rows.append(row)
    return {
        "cuts": rows,
        "summary": score(rows),
        "futures": futures,
        "seed": seed,
        "office_free": not office,
    }


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
