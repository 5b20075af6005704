"""Issue 28's targets for the build a user gets, side by side with 0aca65a in the same run.

The tree measured is this checkout's ``src`` as ``make run`` leaves it: compiled in place with
mypyc (``make native``; ``make bench`` builds it first). The bench prints which build ran
(``miniature_office.native.build_label`` in the child) and refuses to call a pure run compiled.
0aca65a (the commit before issue 17's speed-ups) is unpacked once with ``git archive`` into
/tmp/mo-0aca65a. In each of ``--rounds`` rounds, in fresh processes, alternating the trees:

- whole ``simulate --ticks 10000`` processes (seed 42, imports included), CPU seconds;
- the 10,000-agent tick of ``sim_bench.py`` (median of ``--samples`` ticks after ``--warmup``);
- this tree only: a fixed 200-future, 400-tick preview ("hire one more verifier on python"
  after 200 ticks) on 2 workers, wall seconds of the whole ``miniature-office preview``;

then ``web_bench.py``'s HTTP comparison (``--http-rounds`` interleaved wrk rounds) for /health
and /api/world/state against bare Flask. Medians, ranges and the target verdicts print as
Markdown; JSON goes to bench/results/compiled_bench.json (git-ignored), with the host's load
before and after: on a shared host, figures taken under load are labelled so.

    python bench/compiled_bench.py                   # 5 rounds: the record
    python bench/compiled_bench.py --rounds 3 --samples 10 --http-seconds 2   # a short run
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess  # nosec B404 - git and this interpreter, fixed arguments
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from sim_bench import SIMULATE, run_child  # noqa: E402

PRE_REV = "0aca65a"
PRE_TREE = Path("/tmp/mo-0aca65a")
TICKS = 10_000
HIRE = '{"kind": "hire_agent", "payload": {"floor": "python", "role": "verifier"}}'
PREVIEW = ["preview", "--ticks", "200", "--command", HIRE, "--fixed", "--futures", "200",
           "--horizon", "400", "--workers", "2"]  # fmt: skip
TICK_COST = (
    "import json, sys; sys.path.insert(0, {bench!r}); from sim_bench import tick_cost; "
    "print(json.dumps(tick_cost(10_000, {warmup}, {samples})))"
)
BUILD = "from miniature_office.native import build_label; print(build_label())"
#: target: (what, how it is judged)
TARGETS = {
    "simulate": "`simulate --ticks 10000` at least 4x faster than 0aca65a",
    "tick": "10,000-agent tick at least 2.5x faster than 0aca65a",
    "preview": "fixed 200-future, 400-tick preview on 2 workers within 8 s",
    "health": "/health at least 0.95 of bare Flask",
    "state": "/api/world/state at least 0.90 of bare Flask",
}


def pre_tree() -> Path:
    """0aca65a's ``src``, unpacked once (no git worktree: the repository is left as it is)."""
    src = PRE_TREE / "src"
    if not src.exists():
        with tempfile.TemporaryFile() as archive:
            subprocess.run(  # nosec B603 B607 - git with fixed arguments
                ["git", "-C", str(REPO), "archive", "--format=tar", PRE_REV, "src"],
                stdout=archive,
                check=True,
            )
            archive.seek(0)
            with tarfile.open(fileobj=archive) as tar:
                tar.extractall(PRE_TREE, filter="data")
    return src


def load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _spread(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def preview_wall(src: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(src)}
    start = time.perf_counter()
    subprocess.run(  # nosec B603 - this interpreter, fixed arguments
        [sys.executable, "-c", SIMULATE, *PREVIEW],
        env=env,
        check=True,
        capture_output=True,
        cwd="/tmp",
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (at least 5)")
    parser.add_argument("--warmup", type=int, default=100, help="10k-agent ticks before timing")
    parser.add_argument("--samples", type=int, default=50, help="10k-agent ticks timed")
    parser.add_argument("--http-seconds", type=float, default=5)
    parser.add_argument("--http-rounds", type=int, default=5)
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()

    now, pre = REPO / "src", pre_tree()
    build = run_child(now, BUILD)[0].strip()
    print(f"this tree runs the {build} build; baseline {PRE_REV} in {pre}", flush=True)
    started, load_before = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), load()
    runs: dict[str, list[float]] = {k: [] for k in ("sim_now", "sim_pre", "tick_now", "tick_pre")}
    runs["preview"] = []
    heads: set[str] = set()
    code = TICK_COST.format(bench=str(HERE), warmup=args.warmup, samples=args.samples)
    for number in range(args.rounds):
        order = [(now, "now"), (pre, "pre")] if number % 2 == 0 else [(pre, "pre"), (now, "now")]
        for src, name in order:
            out, cpu = run_child(src, SIMULATE, "simulate", "--ticks", str(TICKS))
            runs[f"sim_{name}"].append(cpu)
            if name == "now":
                heads.add(out)
            runs[f"tick_{name}"].append(json.loads(run_child(src, code)[0])["median_ms"])
        runs["preview"].append(preview_wall(now))
        print(f"round {number + 1}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in runs.items()),
              flush=True)  # fmt: skip
    if len(heads) != 1:
        raise SystemExit("simulate printed different summaries in different rounds")

    result: dict[str, Any] = {
        "started": started,
        "build": build,
        "baseline": PRE_REV,
        "rounds": args.rounds,
        "load_before": load_before,
        "spread": {k: _spread(v) for k, v in runs.items()},
        "runs": runs,
    }
    sim = statistics.median(runs["sim_pre"]) / statistics.median(runs["sim_now"])
    tick = statistics.median(runs["tick_pre"]) / statistics.median(runs["tick_now"])
    ratios = [p / n for p, n in zip(runs["sim_pre"], runs["sim_now"])]
    tick_ratios = [p / n for p, n in zip(runs["tick_pre"], runs["tick_now"])]
    verdict = {
        "simulate": (sim, sim >= 4, f"{sim:.2f}x (rounds {min(ratios):.2f}-{max(ratios):.2f})"),
        "tick": (tick, tick >= 2.5,
                 f"{tick:.2f}x (rounds {min(tick_ratios):.2f}-{max(tick_ratios):.2f})"),
        "preview": (statistics.median(runs["preview"]), statistics.median(runs["preview"]) <= 8,
                    f"{statistics.median(runs['preview']):.1f} s (range "
                    f"{min(runs['preview']):.1f}-{max(runs['preview']):.1f})"),
    }  # fmt: skip
    if not args.skip_http:
        from web_bench import bench_http

        http = bench_http(args.http_seconds, args.http_rounds)
        result["http"] = http
        health, state = http["ratio_to_bare"]["health"], http["ratio_to_bare"]["world_state"]
        verdict["health"] = (health, health >= 0.95, f"{health:.3f} of bare Flask")
        verdict["state"] = (state, state >= 0.90, f"{state:.3f} of bare Flask")
    result["load_after"] = load()
    result["verdict"] = {k: {"figure": v[2], "met": v[1]} for k, v in verdict.items()}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "compiled_bench.json").write_text(json.dumps(result, indent=2))

    print(f"\n{started}, {build} build, {args.rounds} interleaved rounds against {PRE_REV}, "
          f"load {load_before} before, {result['load_after']} after\n")  # fmt: skip
    print("| run | this tree (median, range) | 0aca65a (median, range) |")
    print("|---|---:|---:|")
    for label, key in (
        ("`simulate --ticks 10000` CPU (s)", "sim"),
        ("10k-agent tick (ms)", "tick"),
    ):
        a, b = result["spread"][f"{key}_now"], result["spread"][f"{key}_pre"]
        print(f"| {label} | {a['median']} ({a['min']}-{a['max']}) "
              f"| {b['median']} ({b['min']}-{b['max']}) |")  # fmt: skip
    p = result["spread"]["preview"]
    print(f"| fixed 200 x 400 preview, 2 workers, wall (s) | {p['median']} "
          f"({p['min']}-{p['max']}) | - |\n")  # fmt: skip
    print("| target | figure | status |")
    print("|---|---|---|")
    for key, (_, met, figure) in verdict.items():
        print(f"| {TARGETS[key]} | {figure} | {'**met**' if met else '**not met**'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
