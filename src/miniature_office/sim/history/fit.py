"""Fit an office to a history and state how well it reproduces it.

The office is given the history's own arrivals (the last ``FIT_WEEKS`` weeks) and the fit picks
the calendar-to-tick scale whose simulated lead times come closest to the real ones (quantile
error on a log scale). The verdict compares simulated and real weekly throughput and lead times
by Kolmogorov-Smirnov distance and quantile errors, against thresholds stated up front: a fit
that misses them is called poor, whatever else it gets right.
"""

from __future__ import annotations

import bisect
import math
from datetime import datetime, timezone
from typing import Any, Sequence

from .arrivals import fit_arrivals
from .describe import DAY, quantile, week_of, week_start, weekly_counts, wip_at
from .items import History
from .office import OfficeShape, infer_staff, office_scenario, run_office

#: Weeks of history the office replays (the recent past; older years are another team).
FIT_WEEKS = 104
#: Calendar-to-tick scales tried (ticks per day).
TICKS_PER_DAY = (1, 2, 4, 8, 24)
#: A good fit has weekly throughput within this KS distance of the history's...
GOOD_THROUGHPUT_KS = 0.15
#: ...lead times within this KS distance...
GOOD_LEAD_KS = 0.2
#: ...and lead-time p50 and p85 within this factor of the history's.
GOOD_QUANTILE_FACTOR = 1.5
QUANTILES = (15, 50, 85, 95)
#: The office replays at most about this many items (the most recent weeks that hold them), so
#: a fit takes seconds whatever the size of the history.
MAX_FIT_ITEMS = 1500


def ks_distance(a: Sequence[float], b: Sequence[float]) -> float:
    """The two-sample Kolmogorov-Smirnov distance: the largest gap between the two CDFs."""
    if not a or not b:
        return 1.0
    xs, ys = sorted(a), sorted(b)
    gap = 0.0
    for value in set(xs) | set(ys):
        fa = bisect.bisect_right(xs, value) / len(xs)
        fb = bisect.bisect_right(ys, value) / len(ys)
        gap = max(gap, abs(fa - fb))
    return gap


def months_of(first_week: int, count: int) -> list[int]:
    """The calendar month of the middle of each week."""
    return [
        datetime.fromtimestamp(week_start(first_week + k) + 3.5 * DAY, tz=timezone.utc).month
        for k in range(count)
    ]


def fit_office(
    history: History,
    *,
    staff: dict[str, int] | None = None,
    seed: int = 1,
    scales: Sequence[int] = TICKS_PER_DAY,
    weeks: int = FIT_WEEKS,
) -> dict[str, Any]:
    """Fit the office to the last ``weeks`` weeks of ``history``; the report holds the shape,
    the arrival process, simulated vs real figures and the verdict."""
    done_times = [i.done for i in history.items if i.done is not None]
    end = max(done_times, default=history.items[-1].start)
    last = week_of(end)
    first = max(week_of(history.items[0].start), last - weeks + 1)
    if len(history.items) > MAX_FIT_ITEMS:  # a large team: fewer weeks, as many items
        first = max(first, min(last - 3, week_of(history.items[-MAX_FIT_ITEMS].start)))
    origin = week_start(first)
    window = [i for i in history.items if i.start >= origin]
    real_leads = sorted(i.lead_days for i in window if i.lead_days is not None)
    real_weekly = weekly_counts([i.done for i in window if i.done is not None], first, last)
    arrivals = weekly_counts(
        [i.start for i in history.items], week_of(history.items[0].start), last
    )
    moments = [week_start(first + k + 1) for k in range(last - first + 1)]
    wip = sorted(wip_at(history.items, moments))
    chosen_staff = dict(staff) if staff else infer_staff(quantile(wip, 0.85))
    span_weeks = last - first + 1
    best: dict[str, Any] | None = None
    for scale in scales:
        shape = OfficeShape(scale, chosen_staff)
        ticks = [int((i.start - origin) / DAY * scale) for i in window]
        pairs = run_office(office_scenario(shape, ticks, seed), seed, span_weeks * 7 * scale)
        sim_leads = sorted((d - c) / scale for c, d in pairs)
        sim_weekly = [0] * span_weeks
        for _, deployed in pairs:
            sim_weekly[min(span_weeks - 1, int(deployed / (7 * scale)))] += 1
        score = _quantile_error(real_leads, sim_leads)
        candidate = {
            "shape": shape.to_dict(),
            "score": score,
            "sim_leads": sim_leads,
            "sim_weekly": sim_weekly,
            "unfinished": len(window) - len(pairs),
        }
        if best is None or score < best["score"]:
            best = candidate
    assert best is not None  # noqa: S101 - scales is never empty
    report = _verdict(real_weekly, real_leads, best)
    report["arrivals"] = fit_arrivals(
        arrivals, months_of(week_of(history.items[0].start), len(arrivals))
    ).to_dict()
    report["window"] = {"from_week": week_start(first), "weeks": span_weeks, "items": len(window)}
    return report


def _quantile_error(real: Sequence[float], sim: Sequence[float]) -> float:
    """Mean absolute log ratio of lead-time quantiles (0 = identical); unfinished work in the
    simulation shows as missing mass and a worse score through the KS check, not here."""
    if not real or not sim:
        return math.inf
    floor = 1 / 24  # an hour: quantiles below it count as an hour
    return sum(
        abs(math.log(max(quantile(sim, q / 100), floor) / max(quantile(real, q / 100), floor)))
        for q in QUANTILES
    ) / len(QUANTILES)


def _verdict(
    real_weekly: Sequence[int], real_leads: Sequence[float], best: dict[str, Any]
) -> dict[str, Any]:
    sim_leads, sim_weekly = best["sim_leads"], best["sim_weekly"]
    lead_rows = []
    for q in QUANTILES:
        real_q, sim_q = quantile(real_leads, q / 100), quantile(sim_leads, q / 100)
        lead_rows.append(
            {
                "q": q,
                "real_days": round(real_q, 3),
                "sim_days": round(sim_q, 3),
                "factor": round(max(sim_q, 1e-3) / max(real_q, 1e-3), 2),
            }
        )
    ks_weekly = ks_distance(real_weekly, sim_weekly)
    ks_lead = ks_distance(real_leads, sim_leads)
    misses = []
    if ks_weekly > GOOD_THROUGHPUT_KS:
        misses.append(f"weekly throughput KS {ks_weekly:.2f} > {GOOD_THROUGHPUT_KS}")
    if ks_lead > GOOD_LEAD_KS:
        misses.append(f"lead-time KS {ks_lead:.2f} > {GOOD_LEAD_KS}")
    for row in lead_rows:
        if row["q"] in (50, 85) and not (
            1 / GOOD_QUANTILE_FACTOR <= row["factor"] <= GOOD_QUANTILE_FACTOR
        ):
            misses.append(f"lead-time p{row['q']} off by a factor of {row['factor']}")
    return {
        "shape": best["shape"],
        "throughput": {
            "real_mean": round(sum(real_weekly) / max(len(real_weekly), 1), 3),
            "sim_mean": round(sum(sim_weekly) / max(len(sim_weekly), 1), 3),
            "ks": round(ks_weekly, 3),
        },
        "lead_time": {"quantiles": lead_rows, "ks": round(ks_lead, 3)},
        "unfinished": best["unfinished"],
        "thresholds": {
            "throughput_ks": GOOD_THROUGHPUT_KS,
            "lead_ks": GOOD_LEAD_KS,
            "quantile_factor": GOOD_QUANTILE_FACTOR,
        },
        "good": not misses,
        "verdict": "good fit" if not misses else "poor fit: " + "; ".join(misses),
        "sim_lead_histogram_days": [
            round(x, 3) for x in sim_leads[:: max(1, len(sim_leads) // 200)]
        ],
    }
