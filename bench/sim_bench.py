"""Simulation benchmarks, side by side with an earlier commit: tick cost by world size and the
default scenario's ticks per second.

Run with ``make bench`` (or ``python bench/sim_bench.py``). Each round measures this tree and
the baseline tree (``--base``, default: the commit before issue 12's work, checked out once as
a git worktree under /tmp) in fresh subprocesses, alternating, so both see the same machine
load; the result is the ratio of medians (this tree / baseline; above 1 is slower). Times are
the process's CPU time (``time.process_time``), not wall time: on a shared host with more
runnable processes than cores, wall time measures the neighbours. Prints a Markdown table and
writes JSON to bench/results/ (git-ignored).

It also runs the commit before issue 17's speed-ups (``--pre``, worktree /tmp/mo-pre17) in the
same rounds, and times whole ``simulate --ticks 10000`` processes of all three trees.

Targets: the simulation does not get slower than the baseline (ratio <= 1.05, the noise of
this shared host); issue 3's per-agent cost at 10,000 agents no more than 1.5x that at 100;
issue 17: whole-process ``simulate --ticks 10000`` 4x faster than ``--pre``, the 10,000-agent
tick 3x.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess  # nosec B404 - runs this script and git with fixed arguments
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
#: The last commit before issue 12 (controlled experiments, forecasts) changed the simulation.
BASE_REV = "e8958de"
BASE_TREE = Path("/tmp/mo-base")
#: The commit before issue 17's simulation speed-ups (its targets are ratios against this one).
PRE_REV = "0aca65a"
PRE_TREE = Path("/tmp/mo-pre17")
TOLERANCE = 1.05
#: Issue 17: whole-process ``simulate --ticks 10000`` 4x faster, the 10,000-agent tick 3x.
PROCESS_TICKS = 10_000
SIMULATE = "import sys; from miniature_office.cli import main; sys.exit(main(sys.argv[1:]))"

STAFF = {"manager": 1, "architect": 1, "builder": 4, "verifier": 1, "security": 1, "doc_agent": 2}
TOOLS = [
    {"name": "cc", "kind": "compiler", "capabilities": ["build"], "slots": 8},
    {"name": "t", "kind": "test_framework", "capabilities": ["test"], "slots": 4},
    {
        "name": "s",
        "kind": "security_scanner",
        "capabilities": ["scan"],
        "slots": 4,
        "sensitive": True,
    },
    {"name": "d", "kind": "doc_generator", "capabilities": ["docs"], "slots": 4},
]
OFFICES_PER_FLOOR = 20


def scaled_scenario(agents: int) -> Any:
    """A world of ``agents`` people in offices of ten, with work arriving in proportion."""
    from miniature_office.sim.scenario import parse_scenario

    offices = max(1, agents // sum(STAFF.values()))
    floors = []
    for f in range(0, offices, OFFICES_PER_FLOOR):
        count = min(OFFICES_PER_FLOOR, offices - f)
        floors.append(
            {
                "language": f"lang{len(floors)}",
                "offices": [{"name": f"o{i}", "staff": STAFF} for i in range(count)],
                "tools": [{**t, "slots": t["slots"] * count} for t in TOOLS],
            }
        )
    return parse_scenario(
        {
            "name": f"scaled-{agents}",
            "floors": floors,
            "arrivals": {"rate_per_day": 1.2 * offices, "max_open": 3 * offices},
            "settings": {"retention_ticks": 40},
        }
    )


# ---- measurements (run inside a subprocess, against whichever tree is on PYTHONPATH) ----------


def tick_cost(agents: int, warmup: int, samples: int, seed: int = 1) -> dict[str, Any]:
    from miniature_office.sim.engine import Engine

    engine = Engine(scaled_scenario(agents), seed, audit_window=5000, flow_history=100)
    engine.run(warmup)
    times = []
    clock = time.process_time
    events = engine.world.audit.count
    for _ in range(samples):
        start = clock()
        engine.step()
        times.append(clock() - start)
    events = engine.world.audit.count - events
    median = statistics.median(times)
    # 0aca65a (the baseline) kept agents and tasks on the World itself, not on its parts
    building = getattr(engine.world, "building", engine.world)
    board = getattr(engine.world, "board", engine.world)
    population = len(building.agents)
    return {
        "agents": population,
        "median_ms": round(median * 1000, 3),
        "p95_ms": round(sorted(times)[int(0.95 * len(times)) - 1] * 1000, 3),
        "per_agent_us": round(median / population * 1e6, 3),
        "live_tasks": len(board.tasks),
        # Work done per tick (audit events: transitions, reviews, checkouts, ...): a model that
        # gets more done per tick costs more per tick; the cost per event stays comparable.
        "events_per_tick": round(events / samples, 2),
        "us_per_event": round(sum(times) / max(events, 1) * 1e6, 2),
    }


def default_rate(ticks: int, seed: int = 42, **engine_kwargs: Any) -> dict[str, Any]:
    """The packaged scenario, full engine (audit chain hashed), as the server runs it."""
    from miniature_office.runio import read_scenario
    from miniature_office.sim.engine import Engine

    engine = Engine(read_scenario(None), seed, audit_window=10_000, **engine_kwargs)
    start, wall = time.process_time(), time.perf_counter()
    engine.run(ticks)
    elapsed, wall = time.process_time() - start, time.perf_counter() - wall
    return {
        "ticks": ticks,
        "events": engine.world.audit.count,
        "directives_deployed": engine.world.totals["directives_deployed"],
        "us_per_event": round(elapsed / engine.world.audit.count * 1e6, 2),
        "cpu_seconds": round(elapsed, 3),
        "wall_seconds": round(wall, 3),
        "ticks_per_second": round(ticks / elapsed),
    }


def measure(quick: bool) -> dict[str, Any]:
    """One round in this process: tick costs and the default scenario's rate."""
    from miniature_office.sim.engine import Engine

    samples = 30 if quick else 150
    sizes = [(10, 200), (100, 200), (1_000, 150)] + ([] if quick else [(10_000, 100)])
    rows = [tick_cost(n, warm, samples if n < 10_000 else samples // 2) for n, warm in sizes]
    result: dict[str, Any] = {"tick_cost": rows, "default": default_rate(2_000 if quick else 6_000)}
    if "headless" in Engine.__init__.__code__.co_varnames:  # trees from issue 12 on
        result["default_headless"] = default_rate(2_000 if quick else 6_000, headless=True)
    return result


# ---- side by side -----------------------------------------------------------------------------


def ensure_base(rev: str, tree: Path = BASE_TREE) -> Path:
    """Check ``rev`` out as a worktree under /tmp once (reused while it is at that commit)."""
    wanted = _git("rev-parse", f"{rev}^{{commit}}").strip()
    if tree.exists():
        have = _git("-C", str(tree), "rev-parse", "HEAD").strip()
        if have == wanted:
            return tree
        raise SystemExit(f"{tree} holds {have[:10]}, not {rev}: remove it (git worktree)")
    _git("worktree", "add", "--detach", str(tree), wanted)
    return tree


def process_cpu(src: Path, *args: str) -> float:
    """CPU seconds (user + system) of a whole ``miniature-office simulate`` process, imports,
    scenario parsing and summary included, as a user runs it."""
    return run_child(src, SIMULATE, "simulate", "--ticks", str(PROCESS_TICKS), *args)[1]


def run_child(src: Path, code: str, *args: str) -> tuple[str, float]:
    """Run ``code`` in a fresh interpreter with ``src`` first on the path: its stdout and the
    CPU seconds (user + system) it used."""
    import resource

    env = {**os.environ, "PYTHONPATH": str(src)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(  # nosec B603 - this interpreter, fixed arguments
        [sys.executable, "-c", code, *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd="/tmp",
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return out, round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 3)


def _git(*args: str) -> str:
    return subprocess.run(  # nosec B603 B607 - git with fixed arguments
        ["git", "-C", str(REPO), *args], check=True, capture_output=True, text=True
    ).stdout


def run_tree(src: Path, quick: bool) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, str(Path(__file__).resolve()), "--measure"]
    if quick:
        command.append("--quick")
    out = subprocess.run(  # nosec B603 - this script, fixed arguments
        command, env=env, check=True, capture_output=True, text=True, cwd="/tmp"
    ).stdout
    return json.loads(out)


def _median(rounds: list[dict[str, Any]], pick: Any) -> float:
    return statistics.median(pick(r) for r in rounds)


def _median_rows(rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for i, first in enumerate(rounds[0]["tick_cost"]):
        row = {"agents": first["agents"], "live_tasks": first["live_tasks"]}
        for key in ("median_ms", "per_agent_us", "events_per_tick", "us_per_event"):
            row[key] = _median(rounds, lambda r: r["tick_cost"][i][key])
        rows.append(row)
    return rows


def _default(rounds: list[dict[str, Any]], key: str) -> dict[str, float] | None:
    if key not in rounds[0]:
        return None
    return {
        "ticks_per_second": _median(rounds, lambda r: r[key]["ticks_per_second"]),
        "us_per_event": _median(rounds, lambda r: r[key]["us_per_event"]),
        "events_per_tick": _median(rounds, lambda r: r[key]["events"] / r[key]["ticks"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (smoke run)")
    parser.add_argument("--rounds", type=int, help="alternating rounds (default 3, quick 1)")
    parser.add_argument("--base", default=BASE_REV, help="commit to compare with (issue 12)")
    parser.add_argument("--pre", default=PRE_REV, help="commit before issue 17's speed-ups")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.quick)))
        return
    trees = {
        "now": REPO / "src",
        "pre": ensure_base(args.pre, PRE_TREE) / "src",
        "base": ensure_base(args.base) / "src",
    }
    rounds = args.rounds or (1 if args.quick else 3)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    process: dict[str, list[float]] = {"now": [], "now_hashed": [], "pre": [], "base": []}
    for _ in range(rounds):
        for name in ("base", "pre", "now"):
            runs[name].append(run_tree(trees[name], args.quick))
        for name in ("base", "pre", "now"):
            process[name].append(process_cpu(trees[name]))
        process["now_hashed"].append(process_cpu(trees["now"], "--audit-head"))
    result = report(args, rounds, runs, {k: statistics.median(v) for k, v in process.items()})
    result["raw"] = {"runs": runs, "process": process}
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "sim.json").write_text(json.dumps(result, indent=2))


def report(
    args: argparse.Namespace,
    rounds: int,
    runs: dict[str, list[dict[str, Any]]],
    process: dict[str, float],
) -> dict[str, Any]:
    """Print the side-by-side tables and return them as a dict."""
    rows = {name: _median_rows(r) for name, r in runs.items()}
    ref = next(r for r in rows["now"] if r["agents"] >= 100)
    table = []
    for now, pre, old in zip(rows["now"], rows["pre"], rows["base"]):
        table.append(
            {
                **now,
                "pre": pre,
                "base": old,
                "speedup_vs_pre": round(pre["median_ms"] / now["median_ms"], 2),
                "tick_ratio": round(now["median_ms"] / old["median_ms"], 3),
                "event_ratio": round(now["us_per_event"] / old["us_per_event"], 3),
                "per_agent_vs_100": round(now["per_agent_us"] / ref["per_agent_us"], 2),
            }
        )
    default = {name: _default(r, "default") for name, r in runs.items()}
    headless = _default(runs["now"], "default_headless")
    result = {
        "machine": f"{platform.machine()} python {platform.python_version()}",
        "base": args.base,
        "pre": args.pre,
        "rounds": rounds,
        "tick_cost": table,
        "default": default,
        "default_headless": headless,
        "process_cpu_seconds": process,
    }
    print(
        f"side by side: now, {args.pre} (before issue 17) and {args.base} (before issue 12); "
        f"CPU time, median of {rounds} alternating round(s)\n"
    )
    print(
        "| agents | tick now (ms) | pre-17 (ms) | base (ms) | speed-up vs pre-17 | now / base "
        "| events/tick now, base | µs/event now, base | per event vs base | per agent vs 100 |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in table:
        pre, old = r["pre"], r["base"]
        print(
            f"| {r['agents']} | {r['median_ms']} | {pre['median_ms']} | {old['median_ms']} "
            f"| {r['speedup_vs_pre']}x | {r['tick_ratio']}x "
            f"| {r['events_per_tick']}, {old['events_per_tick']} "
            f"| {r['us_per_event']}, {old['us_per_event']} | {r['event_ratio']}x "
            f"| {r['per_agent_vs_100']}x |"
        )
    now, pre, old = default["now"], default["pre"], default["base"]
    assert now and pre and old  # nosec B101 - every round measures the default world
    print(
        f"\ndefault scenario in-process, hashed chain (ticks per CPU second): now "
        f"{now['ticks_per_second']}, pre-17 {pre['ticks_per_second']}, base "
        f"{old['ticks_per_second']}; headless now "
        f"{headless['ticks_per_second'] if headless else '-'}"
    )
    print(
        f"\nwhole process `simulate --ticks {PROCESS_TICKS}` (CPU s): now {process['now']} "
        f"(headless, the default), now --audit-head {process['now_hashed']} (hashed), "
        f"pre-17 {process['pre']}, base {process['base']}"
    )
    print(
        f"speed-up vs pre-17: {process['pre'] / process['now']:.2f}x as run "
        f"({process['pre'] / process['now_hashed']:.2f}x hashed; target 4x)"
    )
    big = table[-1]
    print(f"{big['agents']}-agent tick vs pre-17: {big['speedup_vs_pre']}x (target 3x)")
    worst = max(
        [r["tick_ratio"] for r in table] + [old["ticks_per_second"] / now["ticks_per_second"]]
    )
    verdict = "met" if worst <= TOLERANCE else "NOT met"
    print(
        f"not slower than {args.base} per tick (ratio <= {TOLERANCE}): {verdict} "
        f"(worst {worst:.2f}x)"
    )
    return result


if __name__ == "__main__":
    main()
