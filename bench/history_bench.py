"""History backtest benchmark: the calibrated office vs throughput resampling on the fixtures.

Run with ``make bench`` (or ``nice python bench/history_bench.py``; ``--quick`` for 4 cuts). For
each fixture in tests/history/data (real pull-request histories, README there) it backtests at
48 past cut dates with 40 futures per method and cut, and prints and writes the coverage of
p15 / p50 / p85 and the p50 errors of both methods (MODEL.md, "Real history", quotes them).
Writes bench/results/history.json (history-NAME.json with ``--fixture NAME``). ``--cuts 41``
and ``--cuts 45`` are the second grid and the held-out one of MODEL.md; ``--office-free`` is
the quick check the method was tuned with (slow items done at their drawn lead time).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from miniature_office.cli.history import backtest_text
from miniature_office.sim.history.backtest import backtest
from miniature_office.sim.history.items import parse_csv

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "history" / "data"
OUT = ROOT / "bench" / "results" / "history.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 cut dates, 10 futures")
    parser.add_argument("--cuts", type=int, default=48)
    parser.add_argument("--futures", type=int, default=40)
    parser.add_argument(
        "--office-free",
        action="store_true",
        help="slow items done at their drawn lead time, no office (seconds, not minutes)",
    )
    parser.add_argument("--fixture", help="only this fixture (flask, requests)")
    args = parser.parse_args()
    cuts, futures = (4, 10) if args.quick else (args.cuts, args.futures)
    results = {}
    for path in sorted(DATA.glob(f"{args.fixture or '*'}.csv")):
        began = time.process_time()
        report = backtest(
            parse_csv(path.read_text()),
            cuts=cuts,
            futures=futures,
            office=not args.office_free,
        )
        cpu = time.process_time() - began
        print(f"\n{path.name} (CPU {cpu:.0f} s, load {os.getloadavg()[0]:.1f})")
        print(backtest_text(report))
        results[path.name] = {"summary": report["summary"], "cpu_seconds": round(cpu, 1)}
    OUT.parent.mkdir(exist_ok=True)
    out = OUT.with_name(f"history-{args.fixture}.json") if args.fixture else OUT
    out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
