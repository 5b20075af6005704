"""Forecast benchmark: 200 futures x 400 ticks of the default world from a live state.

Run with ``make bench`` (or ``python bench/forecast_bench.py``). The live state is the default
scenario (seed 42) after a warm-up; each future is forked from it with fresh random draws and
runs exactly 400 ticks (the question asks how much is done 400 ticks on). Measured: the
forecast in one process and in a pool of ``--workers`` processes (wall time, futures per second,
futures per second per core), against

- the same futures as plain headless simulations in this process, one after another: the start
  state copied for each future, reseeded with that future's streams and stepped 400 ticks with
  ``Engine.step``, no job runner. This is the target's baseline: the pooled forecast within
  1.2x of it divided by the workers;

and, for context, plain ``simulate`` calls one after another, called in-process so interpreter
start-up is not counted against them:

- the same number of ticks: ``simulate --ticks 400 --seed N`` (from tick 0, where the world is
  emptier and each tick cheaper than after the warm-up);
- the same question: ``simulate --ticks W+400 --seed N``, since ``simulate`` cannot start from a
  live state and must replay the warm-up in every run.

Writes bench/results/forecast.json.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import pickle  # nosec B403 - our own engine, pickled and read in this process
import platform
import resource
import time
from pathlib import Path
from typing import Any

from miniature_office.cli import main as cli_main
from miniature_office.runio import read_scenario
from miniature_office.service.experiments import run_forecast
from miniature_office.service.jobs import default_workers
from miniature_office.service.progressive import run_progressive_forecast
from miniature_office.sim.engine import Engine
from miniature_office.sim.forecast import Question, current_work, fork, future_salt, reseed

HERE = Path(__file__).resolve().parent


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the pool's workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def live_state(warmup: int) -> Engine:
    """The default world after ``warmup`` ticks: work open, backlog waiting, people busy."""
    engine = Engine(read_scenario(None), 42)
    engine.run(warmup)
    return engine


def forecast_run(engine: Engine, futures: int, ticks: int, workers: int) -> dict[str, Any]:
    work = current_work(engine)
    end = engine.tick + ticks
    question = Question(tuple(work["open"] + work["waiting"]), engine.tick, end, by_tick=end)
    start, cpu = time.perf_counter(), cpu_seconds()
    forecast = run_forecast(engine, question, futures=futures, seed=1, workers=workers)
    elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    simulated = sum(o.ticks_run for o in forecast.outcomes)
    return {
        "workers": workers,
        "futures": futures,
        "ticks_simulated": simulated,
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu, 2),
        "futures_per_cpu_second": round(futures / max(cpu, 1e-9), 2),
        "futures_per_second": round(futures / elapsed, 2),
        "futures_per_second_per_core": round(futures / elapsed / workers, 2),
        "ticks_per_second": round(simulated / elapsed),
        "answer": forecast.to_dict()["by"],
    }


def progressive_run(engine: Engine, cap: int, ticks: int, workers: int) -> dict[str, Any]:
    """The same question as a progressive forecast: looks until the p85 is precise enough."""
    work = current_work(engine)
    end = engine.tick + ticks
    question = Question(tuple(work["open"] + work["waiting"]), engine.tick, end, by_tick=end)
    start = time.perf_counter()
    forecast = run_progressive_forecast(engine, question, cap=cap, seed=1, workers=workers)
    report = forecast.to_dict()
    return {
        "cap": cap,
        "futures_run": forecast.futures,
        "stopped_because": forecast.sequential["stopped_because"],
        "seconds": round(time.perf_counter() - start, 2),
        "p85": report["completion"]["p85"],
        "precision": report["precision"],
        "tolerance_ticks": forecast.sequential["tolerance_ticks"],
    }


def runs_row(runs: int, ticks: int, elapsed: float, cpu: float) -> dict[str, Any]:
    """The figures of ``runs`` runs of ``ticks`` ticks that took ``elapsed`` s and ``cpu`` CPU s."""
    return {
        "runs": runs,
        "ticks_simulated": runs * ticks,
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu, 2),
        "runs_per_cpu_second": round(runs / max(cpu, 1e-9), 2),
        "runs_per_second": round(runs / elapsed, 2),
        "ticks_per_second": round(runs * ticks / elapsed),
    }


def same_futures_plain(engine: Engine, futures: int, ticks: int) -> dict[str, Any]:
    """The forecast's futures stepped in this process with no job runner: a fresh copy of the
    start state for each (pickled once, as the forecast does), reseeded with the future's
    streams, ``ticks`` steps."""
    start, cpu = time.perf_counter(), cpu_seconds()
    frozen = pickle.dumps(fork(engine, "start"), protocol=pickle.HIGHEST_PROTOCOL)
    for future in range(futures):
        copy: Engine = pickle.loads(frozen)  # nosec B301 - pickled just above
        reseed(copy, future_salt(1, future))
        for _ in range(ticks):
            copy.step()
    return runs_row(futures, ticks, time.perf_counter() - start, cpu_seconds() - cpu)


def simulate_calls(runs: int, ticks: int) -> dict[str, Any]:
    """The same amount of simulation as ``runs`` plain ``simulate`` commands in a row."""
    start, cpu = time.perf_counter(), cpu_seconds()
    for seed in range(1, runs + 1):
        with contextlib.redirect_stdout(io.StringIO()):
            cli_main(["simulate", "--seed", str(seed), "--ticks", str(ticks)])
    return runs_row(runs, ticks, time.perf_counter() - start, cpu_seconds() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 futures (smoke run)")
    parser.add_argument("--futures", type=int, default=200)
    parser.add_argument("--ticks", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=400)
    parser.add_argument("--workers", type=int, default=default_workers())
    args = parser.parse_args()
    futures = 20 if args.quick else args.futures
    engine = live_state(args.warmup)
    single = forecast_run(engine, futures, args.ticks, 1)
    pooled = forecast_run(engine, futures, args.ticks, args.workers)
    progressive = progressive_run(engine, futures, args.ticks, args.workers)
    same = same_futures_plain(engine, futures, args.ticks)
    plain = simulate_calls(futures, args.ticks)
    same_question = simulate_calls(futures, args.warmup + args.ticks)
    result = {
        "machine": f"{platform.machine()} python {platform.python_version()}",
        "start_tick": engine.tick,
        "forecast_one_process": single,
        "forecast_pool": pooled,
        "forecast_progressive": progressive,
        "same_futures_plain": same,
        "plain_simulate": plain,
        "plain_simulate_with_warmup": same_question,
    }
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "forecast.json").write_text(json.dumps(result, indent=2))
    print(f"{futures} futures x {args.ticks} ticks of the default world from tick {engine.tick}\n")
    print(
        "| run | wall (s) | futures/s | per core | CPU (s) | futures per CPU s "
        "| simulated ticks/s | wall vs the same futures plain |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, row in (
        ("forecast, 1 process (headless)", single),
        (f"forecast, {args.workers} workers (headless)", pooled),
    ):
        print(
            f"| {name} | {row['seconds']} | {row['futures_per_second']} "
            f"| {row['futures_per_second_per_core']} | {row['cpu_seconds']} "
            f"| {row['futures_per_cpu_second']} | {row['ticks_per_second']} "
            f"| {round(row['seconds'] / same['seconds'], 2)}x |"
        )
    for name, row in (
        (f"the same {futures} futures, plain headless", same),
        (f"{futures} x `simulate --ticks {args.ticks}`", plain),
        (f"{futures} x `simulate --ticks {args.warmup + args.ticks}`", same_question),
    ):
        print(
            f"| {name} | {row['seconds']} | {row['runs_per_second']} | {row['runs_per_second']} "
            f"| {row['cpu_seconds']} | {row['runs_per_cpu_second']} | {row['ticks_per_second']} "
            f"| {round(row['seconds'] / same['seconds'], 2)}x |"
        )
    # Issue 17's target: the pooled forecast within 1.2x of the same futures run as plain
    # headless simulations divided by the workers used (the job runner adds little).
    share = same["seconds"] / args.workers
    wall_ratio = pooled["seconds"] / share
    cpu_ratio = pooled["cpu_seconds"] / same["cpu_seconds"]
    result["target"] = {"wall_ratio": round(wall_ratio, 3), "cpu_ratio": round(cpu_ratio, 3)}
    (out / "forecast.json").write_text(json.dumps(result, indent=2))
    print(
        f"\ntarget: pooled forecast wall / (same futures plain wall / {args.workers} workers) = "
        f"{wall_ratio:.2f} (<= 1.2: {'met' if wall_ratio <= 1.2 else 'NOT met'}); "
        f"CPU of the forecast / CPU of the same futures plain = {cpu_ratio:.2f}"
    )
    print(
        f"\nprogressive: {progressive['futures_run']} of at most {futures} futures in "
        f"{progressive['seconds']} s (fixed: {pooled['seconds']} s), stopped: "
        f"{progressive['stopped_because']}; p85 {progressive['p85']['ticks']} ticks, 95% CI "
        f"{progressive['precision']['p85_ci95_ticks']} (tolerance +/- "
        f"{progressive['tolerance_ticks']:g})"
    )
    by = pooled["answer"]
    print(
        f"\nanswer: 85% chance of at least {by['targets_done_at_least']} of the open work and "
        f"{by['deployed_at_least']} deployments in all by tick {by['tick']}"
    )


if __name__ == "__main__":
    main()
