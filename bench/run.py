"""Run every benchmark under bench/ in turn (``make bench``)."""

from __future__ import annotations

import subprocess  # nosec B404 - runs our own benchmark scripts
import sys
from pathlib import Path

HERE = Path(__file__).parent
ORDER = ["sim_bench.py", "web_bench.py", "store_bench.py", "load_bench.py"]


def main() -> int:
    failed = 0
    for name in ORDER:
        script = HERE / name
        if not script.exists():
            continue
        print(f"\n## {name}\n", flush=True)
        failed |= subprocess.call([sys.executable, str(script), *sys.argv[1:]])  # nosec B603
    return failed


if __name__ == "__main__":
    sys.exit(main())
