"""Describe a history: weekly throughput and arrivals, lead times, WIP, dispersion, seasons."""

from __future__ import annotations

import bisect
import math
from datetime import datetime, timezone
from typing import Any, Sequence

from .items import DAY, History

WEEK = 7 * DAY
#: Monday 1970-01-05 00:00 UTC: weeks start on Mondays.
WEEK_ORIGIN = 4 * DAY
PERCENTILES = (15, 50, 85, 95)


def week_of(t: float) -> int:
    """The number of the Monday-to-Sunday week holding time ``t``."""
    return int((t - WEEK_ORIGIN) // WEEK)


def week_start(week: int) -> float:
    return WEEK_ORIGIN + week * WEEK


def weekly_counts(times: Sequence[float], first: int, last: int) -> list[int]:
    """How many of ``times`` fall in each week ``first..last`` (inclusive)."""
    counts = [0] * (last - first + 1)
    for t in times:
        w = week_of(t) - first
        if 0 <= w < len(counts):
            counts[w] += 1
    return counts


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of sorted values, linear between order statistics."""
    if not sorted_values:
        return math.nan
    pos = q * (len(sorted_values) - 1)
    low = int(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def dispersion(counts: Sequence[int]) -> float:
    """Variance over mean of counts (1 for a Poisson stream; above 1 is over-dispersed)."""
    if len(counts) < 2:
        return math.nan
    mean = sum(counts) / len(counts)
    if mean == 0:
        return math.nan
    var = sum((c - mean) ** 2 for c in counts) / (len(counts) - 1)
    return var / mean


def describe(history: History) -> dict[str, Any]:
    """Every figure of the history's description, JSON-ready (days for durations)."""
    items = history.items
    starts = [i.start for i in items]
    dones = sorted(i.done for i in items if i.done is not None)
    first = week_of(starts[0])
    last = week_of(max(dones[-1] if dones else starts[-1], starts[-1]))
    throughput = weekly_counts(dones, first, last)
    arrivals = weekly_counts(starts, first, last)
    leads = sorted(i.lead_days for i in items if i.lead_days is not None)
    weeks = [week_start(first + k) for k in range(last - first + 1)]
    quarters = [arrivals[k : k + 13] for k in range(0, len(arrivals) - 12, 13)]
    within = sorted(d for d in (dispersion(q) for q in quarters) if not math.isnan(d))
    return {
        "items": len(items),
        "done": len(dones),
        "open": len(items) - len(dones),
        "dropped": history.dropped,
        "columns": history.columns,
        "from": _iso(starts[0]),
        "to": _iso(week_start(last + 1)),
        "weeks": weeks,
        "throughput": throughput,
        "arrivals": arrivals,
        "wip": wip_at(items, [w + WEEK for w in weeks]),
        "throughput_per_week": _summary(throughput),
        "zero_weeks_share": round(sum(1 for c in throughput if c == 0) / len(throughput), 3),
        "lead_time_days": {
            **{f"p{q}": _round(quantile(leads, q / 100)) for q in PERCENTILES},
            "mean": _round(sum(leads) / len(leads)) if leads else None,
            "n": len(leads),
        },
        "lead_time_histogram": log_histogram(leads),
        "arrival_dispersion": {
            "overall": _round(dispersion(arrivals)),
            "within_quarter_median": _round(quantile(within, 0.5)) if within else None,
        },
        "seasonality": seasonality(starts),
    }


def wip_at(items: Sequence[Any], moments: Sequence[float]) -> list[int]:
    """Items started and not done at each moment (open items stay in progress)."""
    starts = sorted(i.start for i in items)
    ends = sorted(i.done for i in items if i.done is not None)
    return [bisect.bisect_right(starts, t) - bisect.bisect_right(ends, t) for t in moments]


def seasonality(starts: Sequence[float]) -> list[dict[str, Any]]:
    """Arrivals per calendar month as an index (1 = the average month), January first."""
    per_month = [0] * 12
    months_seen: list[set[int]] = [set() for _ in range(12)]
    for t in starts:
        moment = datetime.fromtimestamp(t, tz=timezone.utc)
        per_month[moment.month - 1] += 1
        months_seen[moment.month - 1].add(moment.year)
    first = datetime.fromtimestamp(starts[0], tz=timezone.utc)
    last = datetime.fromtimestamp(starts[-1], tz=timezone.utc)
    span = (last.year - first.year) * 12 + last.month - first.month + 1
    # Every calendar month between the first and last arrival counts, with or without arrivals.
    occurrences = [0] * 12
    year, month = first.year, first.month
    for _ in range(span):
        occurrences[month - 1] += 1
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    rates = [per_month[m] / occurrences[m] if occurrences[m] else 0.0 for m in range(12)]
    mean = sum(rates) / 12 or 1.0
    return [
        {"month": m + 1, "arrivals": per_month[m], "index": round(rates[m] / mean, 3)}
        for m in range(12)
    ]


def log_histogram(days: Sequence[float]) -> list[dict[str, Any]]:
    """Lead-time counts in bins doubling from an hour up (heavy tails need a log scale)."""
    edges = [1 / 24 * 2**k for k in range(0, 17)]  # 1 hour .. ~7.5 years
    counts = [0] * (len(edges) + 1)
    for d in days:
        counts[bisect.bisect_right(edges, d)] += 1
    bins = []
    low = 0.0
    for edge, count in zip(edges + [math.inf], counts):
        bins.append({"from_days": round(low, 4), "to_days": _round(edge), "count": count})
        low = edge
    return bins


def _summary(counts: Sequence[int]) -> dict[str, Any]:
    ordered = sorted(counts)
    return {
        "mean": _round(sum(counts) / len(counts)),
        "p50": quantile(ordered, 0.5),
        "p85": quantile(ordered, 0.85),
        "max": ordered[-1],
        "dispersion": _round(dispersion(counts)),
    }


def _round(value: float) -> float | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else round(value, 3)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def report_text(report: dict[str, Any]) -> str:
    """The description for a terminal."""
    lt = report["lead_time_days"]
    tp = report["throughput_per_week"]
    disp = report["arrival_dispersion"]
    peak = max(report["seasonality"], key=lambda m: m["index"])
    low = min(report["seasonality"], key=lambda m: m["index"])
    return "\n".join(
        [
            f"{report['items']} items ({report['done']} done, {report['open']} open, "
            f"{report['dropped']} dropped) from {report['from'][:10]} to {report['to'][:10]} "
            f"({len(report['weeks'])} weeks)",
            f"throughput per week: mean {tp['mean']}, p50 {tp['p50']}, p85 {tp['p85']}, "
            f"max {tp['max']}; weeks with nothing done: {report['zero_weeks_share']:.0%}",
            f"lead time (days): p15 {lt['p15']}, p50 {lt['p50']}, p85 {lt['p85']}, "
            f"p95 {lt['p95']} (n={lt['n']})",
            f"arrival dispersion (variance/mean of weekly arrivals; Poisson is 1): overall "
            f"{disp['overall']}, within a quarter (median) {disp['within_quarter_median']}",
            f"WIP now: {report['wip'][-1]}, highest: {max(report['wip'])}",
            f"seasonality (arrivals, 1 = average month): peak month {peak['month']} "
            f"({peak['index']}x), lowest month {low['month']} ({low['index']}x)",
        ]
    )
