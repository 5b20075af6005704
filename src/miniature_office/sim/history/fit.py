"""Fit an office to a history and state how well it reproduces it.

Lead times are fitted as a mixture of fast and slow items (:mod:`.leads`, on the items done in
the last ``FIT_WEEKS`` weeks). The history's own arrivals of those weeks (and the year before,
so that the office is busy when the window opens) are replayed: each item draws its class and
lead time from the mixture; a fast one is done then, a slow one waits and enters the office its
own work time before its lead time ends. The fit picks the calendar-to-tick scale whose
simulated lead times come closest to the real ones (quantile error on a log scale). The verdict
compares simulated and real weekly throughput and lead times by Kolmogorov-Smirnov distance
and quantile errors, against thresholds stated up front: a fit that misses them is called
poor, whatever else it gets right.
"""

from __future__ import annotations

import bisect
import math
import random
from datetime import datetime, timezone
from typing import Any, Sequence

from .arrivals import fit_arrivals
from .describe import DAY, quantile, week_of, week_start, weekly_counts, wip_at
from .items import History
from .leads import LeadMix, fit_lead_mix
from .office import (
    OfficeShape,
    deployed_ticks,
    infer_staff,
    office_delay_days,
    office_scenario,
)

#: Weeks of history the office is fitted to (the recent past; older years are another team).
FIT_WEEKS = 104
#: Weeks before the window whose arrivals are replayed too (work in progress when it opens).
LEAD_IN_WEEKS = 52
#: Calendar-to-tick scales tried (ticks per day).
TICKS_PER_DAY = (1, 2, 4, 8, 24)
#: A good fit has weekly throughput within this KS distance of the history's...
GOOD_THROUGHPUT_KS = 0.15
#: ...lead times within this KS distance...
GOOD_LEAD_KS = 0.2
#: ...lead-time p50 and p85 within this factor of the history's...
GOOD_QUANTILE_FACTOR = 1.5
#: ...and the tail's p95 within this one (the tail is what the lead-time mixture is for; a
#: p95 rests on few items, hence the wider factor).
GOOD_TAIL_FACTOR = 2.0
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
    the lead-time mixture, the arrival process, simulated vs real figures and the verdict."""
    done_times = [i.done for i in history.items if i.done is not None]
    end = max(done_times, default=history.items[-1].start)
    last = week_of(end)
    first = max(week_of(history.items[0].start), last - weeks + 1)
    if len(history.items) > MAX_FIT_ITEMS:  # a large team: fewer weeks, as many items
        first = max(first, min(last - 3, week_of(history.items[-MAX_FIT_ITEMS].start)))
    origin = week_start(first)
    lead_in = week_start(first - LEAD_IN_WEEKS)
    finished = [i for i in history.items if i.done is not None and i.done >= origin]
    real_leads = sorted(i.lead_days for i in finished if i.lead_days is not None)
    real_weekly = weekly_counts([i.done for i in finished if i.done is not None], first, last)
    mix = fit_lead_mix(real_leads)
    replay = [(i.start - origin) / DAY for i in history.items if i.start >= lead_in]
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
        sim_done = _replay(shape, mix, replay, span_weeks * 7, seed)
        sim_weekly = [0] * span_weeks
        for start, lead in sim_done:
            week = int((start + lead) // 7)
            if 0 <= week < span_weeks:
                sim_weekly[week] += 1
        sim_leads = sorted(lead for start, lead in sim_done if 0 <= start + lead)
        score = _quantile_error(real_leads, sim_leads)
        candidate = {
            "shape": shape.to_dict(),
            "score": score,
            "sim_leads": sim_leads,
            "sim_weekly": sim_weekly,
            "office_work_days": round(office_delay_days(shape, seed), 3),
        }
        if best is None or score < best["score"]:
            best = candidate
    assert best is not None  # noqa: S101 - scales is never empty
    report = _verdict(real_weekly, real_leads, best)
    report["leads"] = {
        **mix.to_dict(),
        "office_work_days": best["office_work_days"],
        "fast_median_days": round(math.exp(mix.fast_mu), 4),
        "slow_median_days": round(math.exp(mix.slow_mu), 3),
    }
    report["arrivals"] = fit_arrivals(
        arrivals, months_of(week_of(history.items[0].start), len(arrivals))
    ).to_dict()
    report["window"] = {
        "from_week": week_start(first),
        "weeks": span_weeks,
        "items": len(finished),
    }
    return report


def _replay(
    shape: OfficeShape, mix: LeadMix, starts: Sequence[float], span_days: float, seed: int
) -> list[tuple[float, float]]:
    """(start, lead) in days of every replayed item done by the window's end: fast ones at
    their drawn lead, slow ones when the office deploys them (a slow item whose office entry
    falls after the window is outside it in any case and is left out)."""
    rng = random.Random(f"fit:{seed}")
    scale = shape.ticks_per_day
    delay = office_delay_days(shape, seed)
    shift = -min(starts, default=0.0)  # the office's clock starts at the first replayed item
    out: list[tuple[float, float]] = []
    entries: list[int] = []
    slow_starts: list[float] = []
    for start in starts:
        slow, lead = mix.draw(rng)
        if not slow:
            if start + lead < span_days:
                out.append((start, lead))
            continue
        enter = max(start, start + lead - delay)
        if enter < span_days:
            entries.append(int((enter + shift) * scale))
            slow_starts.append(start)
    # office_scenario numbers directives in entry order: map them back to their starts
    order = sorted(range(len(entries)), key=lambda k: entries[k])
    done = deployed_ticks(
        office_scenario(shape, [entries[k] for k in order], seed),
        seed,
        int((span_days + shift) * scale) + 1,
    )
    for index, deployed in done.items():
        start = slow_starts[order[index]]
        out.append((start, deployed / scale - shift - start))
    return out


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
        if row["q"] == 95 and not 1 / GOOD_TAIL_FACTOR <= row["factor"] <= GOOD_TAIL_FACTOR:
            misses.append(f"lead-time p95 off by a factor of {row['factor']}")
    return {
        "shape": best["shape"],
        "score": round(best["score"], 4),
        "throughput": {
            "real_mean": round(sum(real_weekly) / max(len(real_weekly), 1), 3),
            "sim_mean": round(sum(sim_weekly) / max(len(sim_weekly), 1), 3),
            "ks": round(ks_weekly, 3),
        },
        "lead_time": {"quantiles": lead_rows, "ks": round(ks_lead, 3)},
        "thresholds": {
            "throughput_ks": GOOD_THROUGHPUT_KS,
            "lead_ks": GOOD_LEAD_KS,
            "quantile_factor": GOOD_QUANTILE_FACTOR,
            "tail_factor": GOOD_TAIL_FACTOR,
        },
        "good": not misses,
        "verdict": "good fit" if not misses else "poor fit: " + "; ".join(misses),
        "sim_lead_histogram_days": [
            round(x, 3) for x in sim_leads[:: max(1, len(sim_leads) // 200)]
        ],
    }
