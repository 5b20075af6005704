"""``sweep``: compare parameter values on the same seeds (paired differences).

miniature-office sweep --scenario FILE --seeds 1..50 --set roles.verifier=1,2,3 --ticks T
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any, Sequence

from ..sim.errors import ScenarioError
from .common import (
    CliError,
    Progress,
    default_workers,
    flow_csv,
    load_scenario,
    parse_seeds,
    parse_sets,
    parse_value,
    positive,
    scheduler,
    scheduler_option,
)

#: How the sweep names its per-seed figures in text (summary key -> label).
SWEEP_LABELS = {
    "throughput_per_day": "throughput (directives/day)",
    "lead_time_median": "lead time median (ticks)",
    "lead_time_p85": "lead time p85 (ticks)",
    "lead_time_p95": "lead time p95 (ticks)",
    "flow_efficiency": "flow efficiency",
}
HIGHER_IS_BETTER = ("throughput_per_day", "flow_efficiency")


def parse_baseline(items: Sequence[str] | None, grid: dict[str, list[Any]]) -> dict[str, Any]:
    """``--baseline 2`` (one --set) or ``--baseline roles.verifier=2`` (any grid)."""
    chosen: dict[str, Any] = {}
    for item in items or []:
        path, sep, value = item.partition("=")
        if not sep:
            if len(grid) != 1:
                raise CliError("--baseline: with several --set, name the field: PATH=VALUE")
            path, value = next(iter(grid)), item
        if path.strip() not in grid:
            raise CliError(f"--baseline: {path.strip()!r} is not a swept field")
        chosen[path.strip()] = parse_value(value.strip())
    return chosen


def _number(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits else str(round(value))


def render_sweep(result: Any) -> str:
    """Variant by variant: spread over seeds and the paired difference to the baseline."""
    seeds = result.seeds
    span = f"{seeds[0]}..{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else ""
    lines = [
        f"{len(result.variants)} variant(s) x {len(seeds)} seeds ({span or 'as listed'}), "
        f"{result.ticks} ticks each; baseline {result.baseline.label}",
        "differences: variant minus baseline on the same seed, mean [95% CI, paired bootstrap]",
        "'at least' / 'at most': what 85% of seeds reach (the 15th / 85th percentile)",
        f"bottleneck: {result.bottleneck_method}",
    ]
    for variant in result.variants:
        lines.append("")
        lines.append(variant.label + ("  (baseline)" if variant.baseline else ""))
        differences = {d.metric: d for d in variant.differences}
        for key, text in SWEEP_LABELS.items():
            spread = variant.spread(key)
            if not spread["seeds"]:
                lines.append(f"  {text:<28} not reported")
                continue
            bound = "at least", spread["p15"]
            if key not in HIGHER_IS_BETTER:
                bound = "at most", spread["p85"]
            lines.append(
                f"  {text:<28} median {_number(spread['median'])}, "
                f"{bound[0]} {_number(bound[1])}"
            )
            if key in differences:
                lines.append(f"  {'':<28} vs baseline {differences[key].describe()}")
        lines.append(f"  {'bottleneck':<28} {variant.bottlenecks}")
    return "\n".join(lines)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run every variant of the grid on every seed and print the paired comparison."""
    from ..service.experiments import run_sweep

    scenario = load_scenario(args.scenario)
    seeds = parse_seeds(args.seeds)
    grid = parse_sets(args.set or [])
    baseline = parse_baseline(args.baseline, grid)
    runs = len(seeds) * max(1, math.prod(len(v) for v in grid.values()))
    progress = Progress(runs, args.progress or sys.stderr.isatty(), unit="run")
    try:
        result = run_sweep(
            scenario,
            seeds,
            grid,
            args.ticks,
            baseline=baseline,
            workers=args.workers or default_workers(),
            progress=lambda done, total: progress(done),
            scheduler=scheduler(args),
        )
    except ScenarioError as exc:
        raise CliError(f"--set: {exc}") from None
    except KeyboardInterrupt:
        progress.interrupted()
        raise CliError(f"interrupted after {max(progress.last, 0)}% of the runs") from None
    if args.csv:
        with open(args.csv, "w", encoding="utf-8") as out:
            out.write(flow_csv(result.rows))
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print(render_sweep(result))
    return 0


def register(sub: Any) -> None:
    """Add ``sweep`` to the top-level subparsers."""
    sw = sub.add_parser(
        "sweep", help="compare parameter values on the same seeds (paired differences)"
    )
    sw.add_argument("--scenario")
    sw.add_argument("--seeds", default="1..20", help="1..50 or 1,2,3")
    sw.add_argument(
        "--set",
        action="append",
        metavar="PATH=V1,V2",
        help="any scenario field, e.g. roles.verifier=1,2,3 or settings.walk_speed=8,16; "
        "several --set form a grid",
    )
    sw.add_argument(
        "--baseline",
        action="append",
        metavar="VALUE|PATH=VALUE",
        help="the variant the others are compared with (default: the first values)",
    )
    sw.add_argument("--ticks", type=positive, default=400)
    sw.add_argument("--workers", type=positive, help="parallel processes (default: CPU count)")
    sw.add_argument("--csv", metavar="PATH", help="write one row per variant and seed")
    sw.add_argument("--json", action="store_true", help="print variants and per-seed rows")
    sw.add_argument("--progress", action="store_true", help="always show the progress bar")
    scheduler_option(sw)
    sw.set_defaults(func=cmd_sweep)
