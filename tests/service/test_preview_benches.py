"""Smoke runs of the preview benches (the real runs are `make bench`; see BENCHMARKS.md)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_coverage_check_compares_reality_with_the_stated_range() -> None:
    bench = _load("preview_coverage_bench")
    args = bench.parse(
        [
            "--worlds",
            "1",
            "--futures",
            "4",
            "--horizon",
            "40",
            "--at",
            "40",
            "--changes",
            "lockdown",
        ]
    )
    result = bench.check(args)
    (row,) = result["rows"]
    low, high = row["range"]
    assert row["in_range"] == (low <= row["realized"] <= high)
    p5, p95 = row["range_p5_p95"]
    assert row["in_p5_p95"] == (p5 <= row["realized"] <= p95)
    assert low <= p5 and p95 <= high  # the prediction interval is the wider one
    assert row["range_coverage"] == 0.6  # 4 futures: min to max, (4 + 1 - 2) / (4 + 1)
    assert result["summary"]["lockdown"]["worlds"] == 1
    # the realized effect is the command applied through the ordinary path on a copy
    live = bench.world(args.first_seed, args.rate, args.at)
    assert bench.realized(live, bench.CHANGES["lockdown"], 40) == row["realized"]
    assert live.tick == 40  # the live world itself is not run on


def test_the_sequential_comparison_reports_every_target() -> None:
    bench = _load("preview_sequential")
    result = bench.compare(worlds=1, null_worlds=2, cap=8, ticks=20)
    assert len(result["rows"]) == len(bench.QUESTIONS)
    assert set(result["targets"]) == {"first_answer_s", "median_ratio", "false_sign_rate"}
    # the null is A/A on independent streams: its futures differ, so a sign could be decided
    assert result["null_differences_nonzero"] == 2
    assert result["false_sign_rate"] == result["false_signs"] / 2
    assert all(r["seq"]["futures"] == 8 for r in result["rows"])  # cap 8: one look
    # every null world is counted by why it stopped, under the sign test alone (precision
    # stops off: only a sign or the cap) and under the full rule on the same futures
    assert sum(result["null_stopped_because"].values()) == 2
    assert set(result["null_stopped_because"]) <= {"sign decided", "cap reached"}
    assert sum(result["full_rule_stopped_because"].values()) == 2
    lines = "\n".join(bench.verdict_lines(result, "python bench/preview_bench.py --x"))
    assert "Reproduce: `python bench/preview_bench.py --x`" in lines
    for figure in ("first answer within 2 s", "a fifth of fixed-8", "false-sign rate"):
        assert figure in lines


def test_the_false_sign_check_reads_the_full_rule_off_the_looks_and_can_fail() -> None:
    """On the looks of a sign-only run: where the full rule would stop, and what a rule
    without alpha spending would decide (the check's teeth)."""
    bench = _load("preview_sequential")

    def look(n: int, t: float, stop=None, precise=False) -> dict:
        return {"futures": n, "t": t, "stop": stop, "precise": precise, "identical": False}

    looks = [
        look(8, 2.5),
        look(16, 0.4),
        look(32, 1.1, precise=True),
        look(64, 4.6, "sign decided"),
    ]
    assert bench.full_rule(looks, 64) == ("precise enough", 32)
    assert bench.full_rule(looks[:2], 16) == ("cap reached", 16)
    assert bench.naive_sign(looks[:2])  # |t| 2.5 at 8 futures passes 2.36 without spending
    assert not bench.naive_sign([look(8, 2.0), look(16, 1.5)])
