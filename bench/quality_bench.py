"""Quality benchmark: how often the quality mechanics fire, and what they cost (MODEL.md, 7).

Run with ``python bench/quality_bench.py`` (about a minute of one core; ``--quick`` for a smoke
run). Two tables, printed as Markdown:

- the mechanics' rates in the default world (seeds 1-3 x 3,000 ticks): documentation reviews
  failed, votes failed, sensitive-tool checkouts refused and escalated, breaking releases and
  adaptations, counted from the audit events;
- their cost (seeds 1-5 x 3,000 ticks): throughput, escaped defects, failed votes and reworks per
  run with the mechanics and with them neutralised (every weight in ``NEUTRAL`` 0), in the
  default office and in one offered 3 directives a day with ``max_open`` 40 (capacity bound).
"""

from __future__ import annotations

import argparse
from collections import Counter
from statistics import mean
from typing import Any

from miniature_office.runio import read_scenario
from miniature_office.sim.engine import Engine
from miniature_office.sim.scenario import Scenario, with_overrides

#: The settings that switch the quality mechanics off when 0.
NEUTRAL = {
    f"settings.{name}": 0
    for name in (
        "doc_gap_rate",
        "justification_missing_chance",
        "ambiguity_defect_weight",
        "compiler_trust_defect_weight",
        "tool_trust_detect_weight",
        "security_rating_detect_weight",
        "breaking_release_chance",
        "vote_risk_weight",
        "vote_findings_weight",
        "vote_rework_weight",
    )
}
BOUND = {"arrivals.rate_per_day": 3, "arrivals.max_open": 40}


def rates(seeds: list[int], ticks: int) -> Counter[str]:
    """Event counts over ``seeds`` in the default world."""
    counts: Counter[str] = Counter()
    for seed in seeds:
        engine = Engine(read_scenario(None), seed)
        engine.run(ticks)
        for event in engine.world.audit:
            kind, data = event.kind, event.data
            if kind == "review.completed" and data.get("review") == "documentation":
                counts["doc reviews"] += 1
                counts["doc reviews failed"] += not data["passed"]
            elif kind == "vote.closed":
                counts["votes"] += 1
                counts["votes failed"] += data["outcome"] == "failed"
            elif kind in ("tool.checked_out", "tool.checkout_refused"):
                counts[kind] += 1
            elif kind == "tool.justification_escalated":
                counts[kind] += 1
            elif kind == "contract.published":
                counts["releases"] += 1
                counts["breaking releases"] += bool(data.get("breaking"))
            elif kind == "contract.adapted":
                counts[kind] += 1
    return counts


def cost(scenario: Scenario, seeds: list[int], ticks: int) -> dict[str, float]:
    """Means per run: throughput, escaped defects, failed votes, reworks."""
    rows = []
    for seed in seeds:
        engine = Engine(scenario, seed)
        engine.run(ticks)
        summary = engine.summary()
        failed = sum(
            1
            for e in engine.world.audit
            if e.kind == "vote.closed" and e.data["outcome"] == "failed"
        )
        rows.append(
            (
                summary["throughput_per_day"],
                summary["escaped_defects"],
                failed,
                engine.world.totals["reworks"],
            )
        )
    names = ("throughput_per_day", "escaped_defects", "failed_votes", "reworks")
    return {name: round(mean(column), 3) for name, column in zip(names, zip(*rows))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds x 600 ticks")
    args = parser.parse_args()
    ticks = 600 if args.quick else 3000
    rate_seeds = [1, 2] if args.quick else [1, 2, 3]
    cost_seeds = [1, 2] if args.quick else [1, 2, 3, 4, 5]
    c = rates(rate_seeds, ticks)
    print(f"Default world, seeds {rate_seeds[0]}-{rate_seeds[-1]} x {ticks} ticks\n")
    print("| Mechanic | Measured |\n| --- | --- |")
    print(f"| documentation reviews failed | {c['doc reviews failed']} of {c['doc reviews']} |")
    print(f"| votes failed | {c['votes failed']} of {c['votes']} |")
    print(
        f"| sensitive checkouts refused / escalated | {c['tool.checkout_refused']} / "
        f"{c['tool.justification_escalated']} in {c['tool.checked_out']} checkouts |"
    )
    print(
        f"| breaking releases / adapted to | {c['breaking releases']} of {c['releases']} / "
        f"{c['contract.adapted']} |"
    )
    default = read_scenario(None)
    bound = with_overrides(default, dict(BOUND))
    offices: list[tuple[str, Any]] = [
        ("default, with them", default),
        ("default, neutralised", with_overrides(default, dict(NEUTRAL))),
        ("capacity bound, with them", bound),
        ("capacity bound, neutralised", with_overrides(bound, dict(NEUTRAL))),
    ]
    print(f"\nSeeds {cost_seeds[0]}-{cost_seeds[-1]} x {ticks} ticks, means per run\n")
    print("| Office | Throughput/day | Escaped defects | Failed votes | Reworks |")
    print("| --- | --- | --- | --- | --- |")
    for label, scenario in offices:
        m = cost(scenario, cost_seeds, ticks)
        print(
            f"| {label} | {m['throughput_per_day']} | {m['escaped_defects']} | "
            f"{m['failed_votes']} | {m['reworks']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
