"""Sequential previews against fixed ones, in the same run (``preview_bench.py --sequential``).

Five questions (kinds of change) on each of ``worlds`` worlds (the default scenario at 1.3
arrivals a day, world seeds from 7001, after 400 ticks), each previewed twice on 2 workers:
sequentially (looks of 8, 16, 32, ... up to the cap) and fixed at the cap. Then the null: an
A/A comparison on ``null_worlds`` worlds (seeds from 8001, after 200 ticks), both arms the
unchanged world but on independent random streams (``run_preview(..., independent_arms=True)``,
not common random numbers, so every future's difference is noise of the full size), run by the
same sequential rule: any decided sign is false. (A no-op change under common random numbers is
no null: both arms are the same future, every difference is 0, nothing can be signed.)
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from miniature_office.runio import read_scenario
from miniature_office.service.previews import run_preview
from miniature_office.sim.engine import Engine
from miniature_office.sim.scenario import with_overrides
from miniature_office.sim.sequential import SIGN_DECIDED

WORKERS = 2
QUESTIONS: dict[str, list[dict[str, Any]]] = {
    "hire verifier": [{"kind": "hire_agent", "payload": {"floor": "python", "role": "verifier"}}],
    "hire builder": [{"kind": "hire_agent", "payload": {"floor": "python", "role": "builder"}}],
    "lockdown": [{"kind": "lockdown", "payload": {"scope": "python", "reason": "bench run"}}],
    "priority directive": [
        {
            "kind": "create_directive",
            "payload": {"title": "Urgent", "floor": "python", "priority": 5},
        }
    ],
    "raise max_open": [
        {"kind": "set_setting", "payload": {"path": "arrivals.max_open", "value": 60}}
    ],
}


def _world(seed: int, at: int = 400) -> Engine:
    scenario = with_overrides(read_scenario(None), {"arrivals.rate_per_day": 1.3})
    engine = Engine(scenario, seed, headless=True)
    engine.run(at)
    return engine


def _timed(engine: Engine, commands: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    """One preview, timed: to the first look's answer and to the final one."""
    start = time.perf_counter()
    first: list[float] = []
    report = run_preview(
        engine,
        commands,
        workers=WORKERS,
        on_look=lambda _r: first.append(time.perf_counter() - start),
        **options,
    )
    run = report["sequential"]
    diff = report["difference"][run["metric"]]
    decided = run["stopped_because"] == SIGN_DECIDED
    mean = diff["mean_difference"] or 0
    return {
        "seconds": time.perf_counter() - start,
        "first_answer": first[0] if first else None,
        "futures": run["futures_run"],
        "stopped_because": run["stopped_because"],
        # a decided sign is the mean's; otherwise the side of zero the 95% CI is on, if any
        "sign": (1 if mean > 0 else -1) if decided else _sign(diff),
        "decided": decided,
        "any_difference": diff["ties"] < diff["n"],
    }


def _sign(diff: dict[str, Any]) -> int:
    low, high = diff["expected_effect_ci95"]
    if low is None or high is None:
        return 0
    return 1 if low > 0 else -1 if high < 0 else 0


def compare(worlds: int, null_worlds: int, cap: int, ticks: int) -> dict[str, Any]:
    """The figures of the targets, with the rows they come from."""
    rows = []
    for offset in range(worlds):
        engine = _world(7001 + offset)
        for name, commands in QUESTIONS.items():
            options = {"futures": cap, "ticks": ticks, "seed": offset + 1}
            seq = _timed(engine, commands, **options)
            fixed = _timed(engine, commands, sequential=False, **options)
            rows.append({"world": 7001 + offset, "question": name, "seq": seq, "fixed": fixed})
    nulls = []
    for offset in range(null_worlds):
        engine = _world(8001 + offset, at=200)
        nulls.append(
            _timed(engine, [], futures=cap, ticks=ticks, seed=offset + 1, independent_arms=True)
        )
    false_signs = sum(1 for n in nulls if n["decided"])
    seq_final = [r["seq"]["seconds"] for r in rows]
    fixed_final = [r["fixed"]["seconds"] for r in rows]
    firsts = [r["seq"]["first_answer"] for r in rows if r["seq"]["first_answer"] is not None]
    decided = [r for r in rows if r["seq"]["decided"]]
    median_seq = statistics.median(seq_final) if seq_final else None
    median_fixed = statistics.median(fixed_final) if fixed_final else None
    return {
        "questions": len(QUESTIONS),
        "worlds": worlds,
        "cap": cap,
        "ticks": ticks,
        "first_answer_s_max": round(max(firsts), 2) if firsts else None,
        "first_answer_s_median": round(statistics.median(firsts), 2) if firsts else None,
        "final_s_median_sequential": None if median_seq is None else round(median_seq, 2),
        "final_s_median_fixed": None if median_fixed is None else round(median_fixed, 2),
        "median_ratio": (
            None if not median_seq or not median_fixed else round(median_seq / median_fixed, 3)
        ),
        "futures_median_sequential": (
            statistics.median(r["seq"]["futures"] for r in rows) if rows else None
        ),
        "stopped_because": {
            reason: sum(1 for r in rows if r["seq"]["stopped_because"] == reason)
            for reason in sorted({r["seq"]["stopped_because"] for r in rows})
        },
        "decided_sign_agrees_with_fixed": (
            f"{sum(1 for r in decided if r['seq']['sign'] == r['fixed']['sign'])}/{len(decided)}"
        ),
        "null_worlds": null_worlds,
        "null": "A/A: the unchanged world in both arms, on independent streams",
        "false_signs": false_signs,
        "false_sign_rate": round(false_signs / max(1, null_worlds), 4),
        "null_stopped_because": {
            reason: sum(1 for n in nulls if n["stopped_because"] == reason)
            for reason in sorted({n["stopped_because"] for n in nulls})
        },
        "null_futures_median": statistics.median(n["futures"] for n in nulls) if nulls else None,
        "null_differences_nonzero": sum(1 for n in nulls if n["any_difference"]),
        "targets": {"first_answer_s": 2.0, "median_ratio": 0.2, "false_sign_rate": 0.05},
        "rows": rows,
    }
