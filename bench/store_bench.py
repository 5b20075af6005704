"""Persistence benchmarks (issue 6): speed with the store on versus off, restart-to-ready time
after a long run, and resident memory over a long run.

Targets: persisted ticks at least 70% of in-memory speed on the default scenario; ready again
in under 5 s after 100,000 ticks; memory flat after warm-up.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from miniature_office.runio import read_scenario
from miniature_office.sim.engine import Engine
from miniature_office.store import Store
from miniature_office.store.persistence import Persistence, recover

WINDOW = 5000


def rss_mb() -> float:
    """Current resident set size in MiB (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def persisted_vs_memory(ticks: int, folder: Path) -> dict:
    scenario = read_scenario(None)
    memory = Engine(scenario, 42, audit_window=WINDOW)
    start = time.perf_counter()
    memory.run(ticks)
    in_memory = ticks / (time.perf_counter() - start)
    keeper = Persistence(Store(f"sqlite:///{folder / 'speed.db'}"))
    engine = keeper.open(scenario, 42, audit_window=WINDOW)
    start = time.perf_counter()
    for _ in range(ticks):
        keeper.tick(engine.step())
    keeper.flush()
    persisted = ticks / (time.perf_counter() - start)
    return {
        "ticks": ticks,
        "in_memory_tps": round(in_memory),
        "persisted_tps": round(persisted),
        "ratio": round(persisted / in_memory, 3),
    }


def long_run(ticks: int, folder: Path) -> dict:
    url = f"sqlite:///{folder / 'long.db'}"
    keeper = Persistence(Store(url))
    engine = keeper.open(read_scenario(None), 42, audit_window=WINDOW)
    samples = []
    for tick in range(1, ticks + 1):
        keeper.tick(engine.step())
        if tick % (ticks // 10) == 0:
            samples.append((tick, round(rss_mb(), 1)))
    keeper.flush()
    head = engine.head_hash
    keeper.store.close()
    start = time.perf_counter()
    again = recover(Store(url), audit_window=WINDOW)
    ready = time.perf_counter() - start
    assert again.head_hash == head, "recovered head differs"
    return {
        "ticks": ticks,
        "restart_to_ready_s": round(ready, 3),
        "rss_mb_by_tick": samples,
        "rss_growth_after_warmup_mb": round(samples[-1][1] - samples[1][1], 1),
        "db_mb": round((folder / "long.db").stat().st_size / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        speed = persisted_vs_memory(2000 if args.quick else 10_000, folder)
        soak = long_run(10_000 if args.quick else 100_000, folder)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "store.json").write_text(json.dumps({"speed": speed, "long_run": soak}, indent=2))
    print(
        f"in memory {speed['in_memory_tps']} ticks/s, persisted {speed['persisted_tps']} "
        f"ticks/s: ratio {speed['ratio']} (target >= 0.70)"
    )
    print(
        f"restart to ready after {soak['ticks']} ticks: {soak['restart_to_ready_s']} s "
        "(target < 5 s)"
    )
    print(
        f"RSS by tick (MiB): {soak['rss_mb_by_tick']}; growth after warm-up "
        f"{soak['rss_growth_after_warmup_mb']} MiB; database {soak['db_mb']} MiB"
    )


if __name__ == "__main__":
    main()
