"""Sequential previews against fixed ones, in the same run (``preview_bench.py --sequential``).

Five questions (kinds of change) on each of ``worlds`` worlds (the default scenario at 1.3
arrivals a day, world seeds from 7001, after 400 ticks), each previewed twice on 2 workers:
sequentially (looks of 8, 16, 32, ... up to the cap) and fixed at the cap. Then the null: an
A/A comparison on ``null_worlds`` worlds (seeds from 8001, after 200 ticks), both arms the
unchanged world but on independent random streams (``run_preview(..., independent_arms=True)``,
not common random numbers, so every future's difference is noise of the full size): any decided
sign is false. (A no-op change under common random numbers is no null: both arms are the same
future, every difference is 0, nothing can be signed.)

The null runs with the precision stops off (``precision_stops=False``): a preview stops there
only on a decided sign or at the cap, so the sign test meets every look up to the cap. With
them on, the relative precision stop ends almost every A/A preview at the look of 32 futures,
where O'Brien-Fleming spending of a cap of 200 has spent about 1e-6: the sign test would barely be
tried and the check could not fail. Each look still records whether the precision rule held
(``precise``) and whether every future was identical, so the same futures give both figures:

- the **sign test alone** (every look to the cap): the false-sign rate the target is about, an
  upper bound for the full rule, which only stops sooner;
- the **full rule as previews run it** (stopped at the first look where the sign is decided, the
  futures are identical, the precision rule holds, or the cap): counts by stop reason;
- a **naive rule** on the same looks (|t| past Student's 97.5% point at any look, no spending):
  the false signs the check would report for a rule that does not spend alpha, so the check is
  seen to be able to fail on this very data.
"""

from __future__ import annotations

import resource
import statistics
import time
from typing import Any

from miniature_office.runio import read_scenario
from miniature_office.service.previews import run_preview
from miniature_office.sim.engine import Engine
from miniature_office.sim.scenario import with_overrides
from miniature_office.sim.sequential import (
    CAP,
    NO_DIFFERENCE,
    PRECISE,
    SIGN_DECIDED,
    t_quantile,
)

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


def _cpu() -> float:
    """CPU seconds of this process and its finished children (a preview's pool workers end
    with the preview): on a loaded host the figure to compare, wall time being the target's."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _timed(engine: Engine, commands: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    """One preview, timed: to the first look's answer and to the final one."""
    cpu = _cpu()
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
        "cpu_seconds": _cpu() - cpu,
        "first_answer": first[0] if first else None,
        "futures": run["futures_run"],
        "stopped_because": run["stopped_because"],
        # a decided sign is the mean's; otherwise the side of zero the 95% CI is on, if any
        "sign": (1 if mean > 0 else -1) if decided else _sign(diff),
        "decided": decided,
        "any_difference": diff["ties"] < diff["n"],
        "looks": run["looks"],
    }


def _sign(diff: dict[str, Any]) -> int:
    low, high = diff["expected_effect_ci95"]
    if low is None or high is None:
        return 0
    return 1 if low > 0 else -1 if high < 0 else 0


def full_rule(looks: list[dict[str, Any]], cap: int) -> tuple[str, int]:
    """Where the full rule (precision stops on) stops on these looks: (reason, futures).

    A look's sign test comes first, as in :func:`~miniature_office.sim.sequential.judge`; the
    looks of a run with the precision stops off carry ``precise`` and ``identical`` for this.
    """
    for look in looks:
        if look["stop"] == SIGN_DECIDED:
            return SIGN_DECIDED, look["futures"]
        if look["identical"]:
            return NO_DIFFERENCE, look["futures"]
        if look["precise"]:
            return PRECISE, look["futures"]
        if look["futures"] >= cap:
            return CAP, look["futures"]
    last = looks[-1]["futures"] if looks else 0
    return CAP, last


def naive_sign(looks: list[dict[str, Any]]) -> bool:
    """Whether a rule without alpha spending (|t| at least Student's 97.5% point at any look)
    would decide a sign on these looks."""
    return any(
        look["t"] is not None and abs(look["t"]) >= t_quantile(0.975, look["futures"] - 1)
        for look in looks
        if look["futures"] >= 2
    )


def _ratio(seq: list[float], fixed: list[float]) -> float | None:
    if not seq or not fixed or not statistics.median(fixed):
        return None
    return round(statistics.median(seq) / statistics.median(fixed), 3)


def _counts(values: list[str]) -> dict[str, int]:
    return {value: values.count(value) for value in sorted(set(values))}


def null_check(null_worlds: int, cap: int, ticks: int) -> dict[str, Any]:
    """The A/A null on ``null_worlds`` worlds, the sign test alone to the cap (see above)."""
    nulls = []
    for offset in range(null_worlds):
        engine = _world(8001 + offset, at=200)
        nulls.append(
            _timed(
                engine,
                [],
                futures=cap,
                ticks=ticks,
                seed=offset + 1,
                independent_arms=True,
                precision_stops=False,
            )
        )
    sign_only = [n["stopped_because"] for n in nulls]
    full = [full_rule(n["looks"], cap) for n in nulls]
    false_signs = sign_only.count(SIGN_DECIDED)
    naive = sum(1 for n in nulls if naive_sign(n["looks"]))
    return {
        "null_worlds": null_worlds,
        "null_cap": cap,
        "null_ticks": ticks,
        "null": "A/A: the unchanged world in both arms, on independent streams",
        "null_differences_nonzero": sum(1 for n in nulls if n["any_difference"]),
        # the target's figure: the sign test alone, met at every look up to the cap
        "false_signs": false_signs,
        "false_sign_rate": round(false_signs / max(1, null_worlds), 4),
        "null_stopped_because": _counts(sign_only),
        "null_futures_median": statistics.median(n["futures"] for n in nulls) if nulls else None,
        "null_looks_met_median": (
            statistics.median(len(n["looks"]) for n in nulls) if nulls else None
        ),
        # the same futures under the full rule, as previews run it
        "full_rule_false_signs": sum(1 for reason, _ in full if reason == SIGN_DECIDED),
        "full_rule_stopped_because": _counts([reason for reason, _ in full]),
        "full_rule_futures_median": statistics.median(n for _, n in full) if full else None,
        # the check's power: a rule that spends no alpha, on the same looks
        "naive_rule_false_signs": naive,
        "naive_rule_false_sign_rate": round(naive / max(1, null_worlds), 4),
        "null_rows": [
            {
                "world": 8001 + i,
                "sign_only": n["stopped_because"],
                "futures": n["futures"],
                "full_rule": full[i][0],
                "full_rule_futures": full[i][1],
                "naive_sign": naive_sign(n["looks"]),
                "seconds": round(n["seconds"], 3),
            }
            for i, n in enumerate(nulls)
        ],
    }


def compare(
    worlds: int, null_worlds: int, cap: int, ticks: int, null_ticks: int | None = None
) -> dict[str, Any]:
    """The figures of the targets, with the rows they come from."""
    rows = []
    for offset in range(worlds):
        engine = _world(7001 + offset)
        for name, commands in QUESTIONS.items():
            options = {"futures": cap, "ticks": ticks, "seed": offset + 1}
            seq = _timed(engine, commands, **options)
            fixed = _timed(engine, commands, sequential=False, **options)
            seq.pop("looks"), fixed.pop("looks")
            rows.append({"world": 7001 + offset, "question": name, "seq": seq, "fixed": fixed})
    null = null_check(null_worlds, cap, ticks if null_ticks is None else null_ticks)
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
        "cpu_median_ratio": _ratio(
            [r["seq"]["cpu_seconds"] for r in rows], [r["fixed"]["cpu_seconds"] for r in rows]
        ),
        "row_ratio_median": (
            round(statistics.median(s / f for s, f in zip(seq_final, fixed_final)), 3)
            if rows
            else None
        ),
        "futures_median_sequential": (
            statistics.median(r["seq"]["futures"] for r in rows) if rows else None
        ),
        "stopped_because": _counts([r["seq"]["stopped_because"] for r in rows]),
        "decided_sign_agrees_with_fixed": (
            f"{sum(1 for r in decided if r['seq']['sign'] == r['fixed']['sign'])}/{len(decided)}"
        ),
        **null,
        "targets": {"first_answer_s": 2.0, "median_ratio": 0.2, "false_sign_rate": 0.05},
        "rows": rows,
    }


def verdict_lines(result: dict[str, Any], command: str) -> list[str]:
    """The targets' figures as Markdown, with the command that reproduces them."""
    cap, nulls = result["cap"], result["null_worlds"]
    first_ok = result["first_answer_s_max"] is not None and result["first_answer_s_max"] <= 2.0
    ratio = result["median_ratio"]
    rate = result["false_sign_rate"]
    status = {True: "**met**", False: "**not met**"}
    enough = " (fewer than the target's 100 worlds)" if nulls < 100 else ""
    against = "" if cap == 200 else f" (cap {cap}, not the target's 200)"
    return [
        f"Reproduce: `{command}`",
        "",
        "| target | figure | status |",
        "|---|---|---|",
        f"| first answer within 2 s | max {result['first_answer_s_max']} s, median "
        f"{result['first_answer_s_median']} s over {len(result['rows'])} previews "
        f"| {status[first_ok]} |",
        f"| median time to the final answer at most a fifth of fixed-{cap}{against} "
        f"| {result['final_s_median_sequential']} s against {result['final_s_median_fixed']} s: "
        f"{ratio} (median of per-preview ratios {result['row_ratio_median']}; CPU seconds "
        f"{result['cpu_median_ratio']}, the figure to read on a loaded host; median "
        f"{result['futures_median_sequential']} futures; stops {result['stopped_because']}) "
        f"| {status[ratio is not None and ratio <= 0.2]} |",
        f"| false-sign rate at most 5% on a change with no effect, over at least 100 worlds "
        f"| sign test alone to cap {result['null_cap']} x {result['null_ticks']} ticks: "
        f"{result['false_signs']} of {nulls} ({rate:.1%}){enough}; stops "
        f"{result['null_stopped_because']}, median {result['null_looks_met_median']} looks. "
        f"Full rule on the same futures: {result['full_rule_false_signs']} false, stops "
        f"{result['full_rule_stopped_because']}. No alpha spending (|t| >= t.975 at any look): "
        f"{result['naive_rule_false_signs']} of {nulls} "
        f"| {status[rate <= 0.05 and nulls >= 100]} |",
    ]
