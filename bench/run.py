"""Run every benchmark under bench/ in turn (``make bench``); ``--quick`` for a smoke run."""

from __future__ import annotations

import subprocess  # nosec B404 - runs our own benchmark scripts
import sys
from pathlib import Path

HERE = Path(__file__).parent

#: (script, arguments for a full run, arguments for a quick run)
RUNS = [
    ("sim_bench.py", [], ["--quick"]),
    ("native_bench.py", [], ["--rounds", "1", "--skip-10k"]),
    ("forecast_bench.py", [], ["--quick"]),
    ("mechanics_bench.py", [], ["--quick"]),
    ("quality_bench.py", [], ["--quick"]),
    ("store_bench.py", [], ["--quick"]),
    ("web_bench.py", ["http"], ["http", "--seconds", "2", "--rounds", "2"]),
    ("web_bench.py", ["fanout"], ["fanout", "--clients", "50", "--seconds", "10"]),
    ("load_bench.py", [], ["--duration", "20", "--rate", "50", "--sockets", "10"]),
    ("ui_bench.py", [], ["--quick"]),
    ("history_bench.py", [], ["--quick"]),
    # a preview's 90% range against reality on 20 held-out worlds (~8.5 min of one core)
    (
        "preview_coverage_bench.py",
        [],
        ["--worlds", "3", "--futures", "10", "--horizon", "200", "--at", "200"],
    ),
    ("abuse_bench.py", [], ["--seconds", "3"]),
]


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    failed = 0
    for script, full, short in RUNS:
        args = short if quick else full
        print(f"\n## {script} {' '.join(args)}\n", flush=True)
        command = [sys.executable, str(HERE / script), *args]
        failed |= subprocess.call(command)  # nosec B603 - our own scripts, fixed arguments
    return failed


if __name__ == "__main__":
    sys.exit(main())
