"""Mechanics benchmark: what each mechanic does to throughput (and escaped defects) where
capacity binds.

Run with ``python bench/mechanics_bench.py`` (``--quick`` for a smoke run). The office is the
default scenario offered 3 directives a day with ``max_open`` 40, so the stations, not demand or
the intake limit, set throughput (MODEL.md, Validation 5). Each mechanic is neutralised on its
own and compared, seed by seed, with the baseline on the same seeds (common random numbers: the
same arrivals and people), as ``sweep`` does:

- votes: ``settings.vote_yes_floor`` 0.97 (every ballot yes with at least the clean-work chance:
  votes still cost attention but almost never fail);
- meetings and ambiguity: ``settings.ambiguity_threshold`` 1.0 (no task needs a meeting; its
  ambiguity stays and raises defects and doubt);
- tool trust: ``settings.tool_trust_detect_weight`` and ``compiler_trust_defect_weight`` 0;
- security rating: ``settings.security_rating_detect_weight`` 0.

Prints a Markdown table (mean paired effect, 95% paired-bootstrap interval, seeds better / worse)
and writes bench/results/mechanics.json. The interval is of the mean effect over the seeds, not
the range of what one office will see.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from miniature_office.runio import read_scenario
from miniature_office.service.experiments import run_sweep
from miniature_office.sim.scenario import with_overrides
from miniature_office.sim.stats import paired_difference

RESULTS = Path(__file__).parent / "results"
DEMAND = {"arrivals.rate_per_day": 3, "arrivals.max_open": 40}
#: mechanic -> the settings that neutralise it (baseline: the scenario's values)
MECHANICS: dict[str, dict[str, float]] = {
    "votes": {"settings.vote_yes_floor": 0.97},
    "meetings / ambiguity threshold": {"settings.ambiguity_threshold": 1.0},
    "tool trust": {
        "settings.tool_trust_detect_weight": 0.0,
        "settings.compiler_trust_defect_weight": 0.0,
    },
    "security rating": {"settings.security_rating_detect_weight": 0.0},
}


def measure(
    seeds: list[int], ticks: int, workers: int, mechanics: tuple[str, ...] = tuple(MECHANICS)
) -> list[dict[str, Any]]:
    """One paired comparison per mechanic: neutralised minus baseline, per seed."""
    base = with_overrides(read_scenario(None), dict(DEMAND))
    on = _summaries(base, seeds, ticks, workers)
    results = []
    for name in mechanics:
        off = MECHANICS[name]
        neutral = _summaries(with_overrides(base, dict(off)), seeds, ticks, workers)
        rows = {}
        for metric, up in (("throughput_per_day", True), ("escaped_defects", False)):
            diff = paired_difference(
                metric, [s[metric] for s in on], [s[metric] for s in neutral], higher_is_better=up
            )
            rows[metric] = {**diff.to_dict(), "text": diff.describe()}
        setting = " ".join(f"--set {k}={v}" for k, v in off.items())
        results.append({"mechanic": name, "neutralised": off, "command": setting, **rows})
    return results


def _summaries(scenario: Any, seeds: list[int], ticks: int, workers: int) -> list[dict]:
    """Per-seed sweep rows of ``scenario`` (one variant), in seed order."""
    sweep = run_sweep(scenario, seeds, {"arrivals.max_open": [40]}, ticks, workers=workers)
    by_seed = {row["seed"]: row for row in sweep.rows}
    return [by_seed[seed] for seed in seeds]


def table(results: list[dict[str, Any]], seeds: list[int], ticks: int) -> str:
    lines = [
        f"Default scenario, 3 arrivals/day, max_open 40, seeds {seeds[0]}-{seeds[-1]} x {ticks} "
        "ticks; effect = mechanic neutralised minus baseline (paired, 95% CI of the mean; "
        "'better' means more throughput, fewer escaped defects).",
        "",
        "| Mechanic neutralised | Throughput (directives/day) | Escaped defects per run |",
        "| --- | --- | --- |",
    ]
    for row in results:
        cells = [_cell(row[m]) for m in ("throughput_per_day", "escaped_defects")]
        lines.append(f"| {row['mechanic']} (`{row['command']}`) | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def _cell(diff: dict[str, Any]) -> str:
    return str(diff["text"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds x 600 ticks")
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--ticks", type=int, default=1600)
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    args = parser.parse_args()
    seeds = list(range(1, (3 if args.quick else args.seeds) + 1))
    ticks = 600 if args.quick else args.ticks
    results = measure(seeds, ticks, args.workers)
    print(table(results, seeds, ticks))
    RESULTS.mkdir(exist_ok=True)
    out = {"seeds": seeds, "ticks": ticks, "demand": DEMAND, "mechanics": results}
    (RESULTS / "mechanics.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
