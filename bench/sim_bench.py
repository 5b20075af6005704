"""Simulation benchmarks: tick cost by world size and headless ticks per second.

Run with ``make bench`` (or ``python bench/sim_bench.py``). Prints a Markdown table and writes
JSON to bench/results/ (git-ignored). Targets (issue 3): per-agent cost at 10,000 agents no more
than 1.5x that at 100; a 10,000-agent tick under 50 ms median; the default scenario at 2,000
ticks per second or more.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

from miniature_office.runio import read_scenario
from miniature_office.sim.engine import Engine
from miniature_office.sim.scenario import parse_scenario

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


def tick_cost(agents: int, warmup: int, samples: int, seed: int = 1) -> dict[str, Any]:
    engine = Engine(scaled_scenario(agents), seed, audit_window=5000, flow_history=100)
    engine.run(warmup)
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        engine.step()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    population = len(engine.world.agents)
    return {
        "agents": population,
        "median_ms": round(median * 1000, 3),
        "p95_ms": round(sorted(times)[int(0.95 * len(times)) - 1] * 1000, 3),
        "per_agent_us": round(median / population * 1e6, 3),
        "live_tasks": len(engine.world.tasks),
    }


def headless_rate(ticks: int, seed: int = 42) -> dict[str, Any]:
    engine = Engine(read_scenario(None), seed, audit_window=10_000)
    start = time.perf_counter()
    engine.run(ticks)
    elapsed = time.perf_counter() - start
    return {
        "ticks": ticks,
        "seconds": round(elapsed, 3),
        "ticks_per_second": round(ticks / elapsed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (smoke run)")
    args = parser.parse_args()
    samples = 30 if args.quick else 200
    sizes = [(10, 200), (100, 200), (1_000, 150), (10_000, 100)]
    rows = [tick_cost(n, warm, samples if n < 10_000 else samples // 2) for n, warm in sizes]
    base = next(r for r in rows if r["agents"] >= 100)
    for row in rows:
        row["per_agent_vs_100"] = round(row["per_agent_us"] / base["per_agent_us"], 2)
    rate = headless_rate(2_000 if args.quick else 10_000)
    result = {
        "machine": f"{platform.machine()} python {platform.python_version()}",
        "tick_cost": rows,
        "default_scenario": rate,
    }
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "sim.json").write_text(json.dumps(result, indent=2))
    print("| agents | median tick (ms) | p95 (ms) | per agent (µs) | vs 100 agents | live tasks |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['agents']} | {r['median_ms']} | {r['p95_ms']} | {r['per_agent_us']} "
            f"| {r['per_agent_vs_100']}x | {r['live_tasks']} |"
        )
    print(f"\ndefault scenario: {rate['ticks_per_second']} ticks/s ({rate['ticks']} ticks)")


if __name__ == "__main__":
    main()
