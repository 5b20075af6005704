"""The simulation compiled with mypyc, side by side with the same source as Python and with the
commit before issue 17: the measurement behind the open decision on a compiled core.

Run with ``python bench/native_bench.py`` (``make bench`` runs it too). It copies this tree's
``src/`` to ``/tmp/mo-native``, compiles the simulation's modules there with mypyc (the same
source, unchanged; ``make lint`` keeps it mypy-clean), and in alternating rounds measures in
fresh processes, by CPU time (``resource`` rusage of the child):

- whole ``miniature-office simulate --ticks 10000`` processes (seed 42, imports and summary
  included), headless as run by default and with ``--audit-head`` (chain hashed);
- the 10,000-agent tick of ``sim_bench.py`` (full engine, median of 50 ticks after 100).

``--tests`` also runs ``tests/sim`` against the compiled build and prints pytest's tally.

Each compiled run must print what the Python run prints (summary and audit head) or the bench
fails. Modules that define pydantic models (``scenario.py``, ``commands.py``) stay Python:
pydantic builds its models from Python classes. Writes JSON to bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess  # nosec B404 - runs this interpreter with fixed arguments
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from sim_bench import (  # noqa: E402
    PRE_REV,
    PRE_TREE,
    PROCESS_TICKS,
    SIMULATE,
    ensure_base,
    run_child,
)

NATIVE_TREE = Path("/tmp/mo-native")
#: Modules left as Python: they define pydantic models, which pydantic builds from classes.
PYTHON_ONLY = {"__init__.py", "scenario.py", "commands.py"}

COMPILE = """
import glob, sys
from setuptools import setup
from mypyc.build import mypycify
skip = set(sys.argv[1].split(","))
modules = sorted(
    m for m in glob.glob("miniature_office/sim/*.py") if m.rsplit("/", 1)[1] not in skip
)
sys.argv = sys.argv[:1] + ["build_ext", "--inplace"]
setup(name="mo-native-trial", ext_modules=mypycify(modules, opt_level="3"))
"""

TICK_COST = """
import json, sys
sys.path.insert(0, {bench!r})
from sim_bench import tick_cost
print(json.dumps(tick_cost(10_000, 100, 50)))
"""


def build_native() -> Path:
    """A copy of this tree's ``src`` with the simulation compiled by mypyc (about a minute)."""
    if NATIVE_TREE.exists():
        shutil.rmtree(NATIVE_TREE)
    src = NATIVE_TREE / "src"
    shutil.copytree(
        REPO / "src", src, ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.egg-info")
    )
    build = subprocess.run(  # nosec B603 - this interpreter, fixed arguments
        [sys.executable, "-c", COMPILE, ",".join(sorted(PYTHON_ONLY))],
        cwd=src,
        capture_output=True,
        text=True,
    )
    if build.returncode:
        raise SystemExit(f"mypyc could not compile the simulation:\n{build.stdout[-3000:]}")
    compiled = sorted(p.name for p in (src / "miniature_office" / "sim").glob("*.so"))
    print(f"compiled {len(compiled)} simulation modules with mypyc in {src}", flush=True)
    return src


def simulate(src: Path, *extra: str) -> tuple[str, float]:
    """What ``simulate --ticks 10000`` prints, and its CPU seconds, with ``src``'s package."""
    return run_child(src, SIMULATE, "simulate", "--ticks", str(PROCESS_TICKS), *extra)


def tick_10k(src: Path) -> float:
    """The median 10,000-agent tick (ms) with ``src``'s package."""
    out, _ = run_child(src, TICK_COST.format(bench=str(HERE)))
    return float(json.loads(out)["median_ms"])


def sim_tests(src: Path) -> str:
    """pytest's last line for ``tests/sim`` run against ``src`` (e.g. "27 failed, 238 passed")."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    run = subprocess.run(  # nosec B603 - this interpreter's pytest, fixed arguments
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/sim"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    lines = [line for line in run.stdout.splitlines() if line.strip()]
    return lines[-1].strip("= ") if lines else f"no output (exit {run.returncode})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--skip-10k", action="store_true", help="whole processes only")
    parser.add_argument(
        "--tests", action="store_true", help="also run tests/sim against the compiled build"
    )
    args = parser.parse_args()
    trees = {
        "pre": ensure_base(PRE_REV, PRE_TREE) / "src",
        "python": REPO / "src",
        "native": build_native(),
    }
    if args.tests:
        print(f"tests/sim on the compiled build: {sim_tests(trees['native'])}", flush=True)
    runs: dict[str, list[float]] = {}
    outputs: dict[str, set[str]] = {}
    for _ in range(args.rounds):
        for name, src in trees.items():
            for mode, extra in (("headless", ()), ("hashed", ("--audit-head",))):
                if name == "pre" and mode == "hashed":
                    continue  # that commit always hashes (and has no --audit-head)
                out, cpu = simulate(src, *extra)
                runs.setdefault(f"{name} {mode}", []).append(cpu)
                if name != "pre":
                    outputs.setdefault(mode, set()).add(out)
            if not args.skip_10k:
                runs.setdefault(f"{name} 10k tick ms", []).append(tick_10k(src))
    for mode, seen in outputs.items():
        if len(seen) != 1:
            print(f"FAIL: the compiled simulation printed something else ({mode})")
            return 1
    medians = {key: statistics.median(values) for key, values in runs.items()}
    pre = medians["pre headless"]
    print(
        f"\nCPU seconds, median of {args.rounds} alternating rounds; the same summary and audit "
        "head from Python and compiled runs\n"
    )
    print("| run | Python | mypyc | mypyc vs Python | Python vs 0aca65a | mypyc vs 0aca65a |")
    print("|---|---:|---:|---:|---:|---:|")
    for mode, label in (("headless", "simulate (default)"), ("hashed", "simulate --audit-head")):
        py, native = medians[f"python {mode}"], medians[f"native {mode}"]
        print(
            f"| {label} | {py:.2f} | {native:.2f} | {py / native:.2f}x | {pre / py:.2f}x "
            f"| {pre / native:.2f}x |"
        )
    if not args.skip_10k:
        big_pre = medians["pre 10k tick ms"]
        py, native = medians["python 10k tick ms"], medians["native 10k tick ms"]
        print(
            f"| 10,000-agent tick (ms) | {py:.1f} | {native:.1f} | {py / native:.2f}x "
            f"| {big_pre / py:.2f}x | {big_pre / native:.2f}x |"
        )
    print(f"\n0aca65a: simulate {pre:.2f} s (always hashed)", end="")
    print("" if args.skip_10k else f", 10,000-agent tick {medians['pre 10k tick ms']:.1f} ms")
    result = {
        "machine": f"{platform.machine()} python {platform.python_version()}",
        "rounds": args.rounds,
        "medians": medians,
        "raw": runs,
    }
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "native.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
