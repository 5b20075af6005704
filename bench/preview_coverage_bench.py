"""Held-out check of a preview's "range in this office": does reality fall inside it?

For each held-out world (the default scenario at ``--rate`` arrivals a day, world seeds from
``--first-seed``, seeds no test uses) and each kind of change, it

1. runs the world to tick ``--at`` (headless),
2. previews the change there: ``--futures`` paired futures of ``--horizon`` ticks (fixed, not
   sequential: the range must rest on the same number of futures in every world),
3. really applies it at that tick through the normal command path (``Engine.submit`` with the
   ``script`` actor, then stepping, exactly as ``simulate --commands`` does) on a copy of the
   live world, and runs the horizon with and without it on the world's own random streams,
4. checks whether the realized throughput effect (deployments with minus without) falls inside
   the preview's stated range (``range_in_this_office``: the order-statistics prediction
   interval, ``range_coverage`` its stated coverage, 94% for 30 futures), and, for comparison,
   inside the futures' own 5th-95th percentiles (``range_in_this_office_p5_p95``, 0.1.0's
   range) and the 95% CI of the expected effect (which is not a statement about one office).

Target: the realized effect inside the stated range in at least 80% of worlds, per kind.

    python bench/preview_coverage_bench.py                    # 20 worlds x 3 changes
    python bench/preview_coverage_bench.py --worlds 4 --futures 12 --horizon 200   # a smoke run

The full run (20 worlds, 30 futures, 400 ticks) takes about 2 minutes of one idle core on the
compiled build; ``--json`` writes the per-world rows.
"""

from __future__ import annotations

import argparse
import json
import pickle  # nosec B403 - our own engine, copied in this process
import sys
import time
from typing import Any

from miniature_office.runio import read_scenario
from miniature_office.service.previews import run_preview
from miniature_office.sim.engine import Engine
from miniature_office.sim.errors import CommandRejected
from miniature_office.sim.scenario import with_overrides

#: Kinds of change, each a list of commands (a priority directive: a new top-priority one).
CHANGES: dict[str, list[dict[str, Any]]] = {
    "hire": [{"kind": "hire_agent", "payload": {"floor": "python", "role": "verifier"}}],
    "lockdown": [{"kind": "lockdown", "payload": {"scope": "python", "reason": "held-out check"}}],
    "directive": [
        {
            "kind": "create_directive",
            "payload": {"title": "Urgent export", "floor": "python", "priority": 5},
        }
    ],
}
TARGET = 0.80


def world(seed: int, rate: float, at: int) -> Engine:
    """A held-out world at tick ``at``."""
    scenario = with_overrides(read_scenario(None), {"arrivals.rate_per_day": rate})
    engine = Engine(scenario, seed, headless=True)
    engine.run(at)
    return engine


def realized(engine: Engine, commands: list[dict[str, Any]], horizon: int) -> float:
    """Deployments over ``horizon`` ticks with the change applied now, minus without it."""
    deployed = []
    for apply in (False, True):
        copy: Engine = pickle.loads(pickle.dumps(engine))  # nosec B301 - made just above
        before = copy.world.totals["directives_deployed"]
        if apply:
            for command in commands:
                copy.submit(command["kind"], command.get("payload") or {}, "script")
        copy.run(horizon)
        deployed.append(copy.world.totals["directives_deployed"] - before)
    return float(deployed[1] - deployed[0])


def check(args: argparse.Namespace) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    for offset in range(args.worlds):
        seed = args.first_seed + offset
        live = world(seed, args.rate, args.at)
        for kind in args.changes:
            commands = CHANGES[kind]
            try:
                report = run_preview(
                    live,
                    commands,
                    futures=args.futures,
                    ticks=args.horizon,
                    seed=seed,
                    workers=args.workers,
                    sequential=False,
                )
            except CommandRejected as exc:
                rows.append({"seed": seed, "change": kind, "refused": exc.reason})
                continue
            diff = report["difference"]["throughput"]
            low, high = diff["range_in_this_office"]
            p5, p95 = diff["range_in_this_office_p5_p95"]
            ci_low, ci_high = diff["expected_effect_ci95"]
            effect = realized(live, commands, args.horizon)
            rows.append(
                {
                    "seed": seed,
                    "change": kind,
                    "realized": effect,
                    "range": [low, high],
                    "range_coverage": diff["range_coverage"],
                    "range_p5_p95": [p5, p95],
                    "ci95": [ci_low, ci_high],
                    "in_range": low <= effect <= high,
                    "in_p5_p95": p5 <= effect <= p95,
                    "in_ci": ci_low <= effect <= ci_high,
                }
            )
            print(
                f"seed {seed} {kind:9} realized {effect:+.0f}  range [{low:+.0f}, {high:+.0f}]"
                f"  p5-p95 [{p5:+.0f}, {p95:+.0f}]  ci [{ci_low:+.2f}, {ci_high:+.2f}]  "
                f"{'in' if rows[-1]['in_range'] else 'OUT'}",
                file=sys.stderr,
            )
    summary = {}
    for kind in args.changes:
        mine = [r for r in rows if r["change"] == kind and "realized" in r]
        inside = sum(1 for r in mine if r["in_range"])
        summary[kind] = {
            "worlds": len(mine),
            "stated_coverage": mine[0]["range_coverage"] if mine else None,
            "inside_range": inside,
            "coverage": round(inside / max(1, len(mine)), 3),
            "inside_p5_p95": sum(1 for r in mine if r["in_p5_p95"]),
            "inside_ci95_of_mean": sum(1 for r in mine if r["in_ci"]),
            "meets_target": len(mine) > 0 and inside / len(mine) >= TARGET,
        }
    return {
        "settings": {
            k: getattr(args, k)
            for k in ("worlds", "first_seed", "rate", "at", "futures", "horizon", "workers")
        },
        "seconds": round(time.perf_counter() - started, 1),
        "summary": summary,
        "rows": rows,
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--worlds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=9001, help="held out: no test uses it")
    parser.add_argument("--rate", type=float, default=1.3, help="arrivals a day")
    parser.add_argument("--at", type=int, default=400, help="the tick the change is made at")
    parser.add_argument("--futures", type=int, default=30)
    parser.add_argument("--horizon", type=int, default=400)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--changes", nargs="+", default=list(CHANGES), choices=list(CHANGES))
    parser.add_argument("--json", metavar="FILE", help="write every row here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    result = check(args)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(result, out, indent=2)
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=2))
    return 0 if all(s["meets_target"] for s in result["summary"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
