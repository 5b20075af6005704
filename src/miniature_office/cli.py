"""Command line: run the server, simulate headless, sweep parameters, replay and verify.

miniature-office simulate --scenario FILE --seed N --ticks T [--json] [--csv PATH]
miniature-office sweep --scenario FILE --seeds 1..50 --set roles.verifier=1,2,3 --ticks T
miniature-office forecast [--scenario FILE --ticks W | --database URL] --add JSON --by-day D
miniature-office replay --scenario FILE --seed N --commands FILE --until-tick T
miniature-office verify-audit FILE | --database URL
miniature-office export --out run.json / import run.json
miniature-office run
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import json
import math
import os
import sys
from typing import Any, Sequence

from . import __version__, history_cli
from .native import build_label
from .runio import read_jsonl, read_scenario, write_jsonl
from .sim.audit import HEADLESS_HEAD, verify_chain
from .sim.engine import Engine
from .sim.errors import CommandRejected, ScenarioError
from .sim.scenario import Scenario

# `simulate` imports only what it runs: the job runner (multiprocessing), the configuration and
# the forecasting modules are imported by the commands that use them.

#: Ticks a forecast future may run (``sim.forecast.DEFAULT_HORIZON``; tests/sim/test_speed.py
#: checks they agree).
FORECAST_HORIZON = 3000


def default_workers() -> int:
    """One worker per CPU (``service.jobs.default_workers``, imported when a command needs it)."""
    from .service.jobs import default_workers as workers

    return workers()


PROGRESS_MIN_TICKS = 2000


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


# ---- helpers ----------------------------------------------------------------------------------


def parse_seeds(text: str) -> list[int]:
    """``1..50`` (inclusive), ``1,2,7`` or a single number."""
    try:
        if ".." in text:
            low, high = (int(part) for part in text.split("..", 1))
            if high < low:
                raise CliError(f"--seeds: {text!r} runs backwards")
            return list(range(low, high + 1))
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CliError(
            f"--seeds: {text!r} is not a range like 1..50 or a list like 1,2,3"
        ) from None


def parse_value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    return {"true": True, "false": False}.get(text.lower(), text)


def parse_sets(items: Sequence[str]) -> dict[str, list[Any]]:
    """``--set roles.verifier=1,2,3`` -> {"roles.verifier": [1, 2, 3]}."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        path, sep, values = item.partition("=")
        if not sep or not path or not values:
            raise CliError(f"--set: {item!r} should look like roles.verifier=1,2,3")
        grid[path.strip()] = [parse_value(v.strip()) for v in values.split(",")]
    return grid


class Progress:
    """A one-line progress bar on stderr for long runs (silent when not a terminal)."""

    def __init__(self, total: int, enabled: bool, unit: str = "tick") -> None:
        self.total, self.enabled, self.last, self.unit = total, enabled, -1, unit

    def __call__(self, tick: int) -> None:
        if not self.enabled:
            return
        percent = tick * 100 // max(self.total, 1)
        if percent != self.last:
            self.last = percent
            bar = "#" * (percent // 4)
            sys.stderr.write(f"\r[{bar:<25}] {percent:3d}%  {self.unit} {tick}/{self.total}")
            if tick >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()

    def interrupted(self) -> None:
        """End the bar's line so a message after it starts on its own."""
        if self.enabled and 0 <= self.last < 100:
            sys.stderr.write("\n")


def _load(path: str | None) -> Scenario:
    try:
        return read_scenario(path)
    except FileNotFoundError:
        raise CliError(f"scenario file not found: {path}") from None
    except ScenarioError as exc:
        raise CliError(f"scenario {path}: {exc}") from None


def _queue_commands(engine: Engine, pending: list[dict[str, Any]]) -> None:
    """Submit scripted commands (``{"tick": t, "kind": ..., "payload": ...}``) due now."""
    while pending and int(pending[0].get("tick", 0)) <= engine.tick:
        row = pending.pop(0)
        try:
            engine.submit(row["kind"], row.get("payload", {}), row.get("actor", "script"))
        except CommandRejected as exc:
            print(f"command at tick {row.get('tick', 0)} refused: {exc.reason}", file=sys.stderr)


def flow_csv(rows: Sequence[dict[str, Any]]) -> str:
    """Flatten per-tick flow rows into CSV (nested dicts become ``queue.builder`` columns)."""
    flat = [_flatten(row) for row in rows]
    columns = list(dict.fromkeys(key for row in flat for key in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
    return out.getvalue()


def _flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


# ---- simulate ---------------------------------------------------------------------------------


def cmd_simulate(args: argparse.Namespace) -> int:
    scenario = _load(args.scenario)
    # The chain is hashed only when something shows it (the audit export, per-tick rows in JSON or
    # CSV, or --audit-head): hashing is ~30% of a run, and the figures are equal either way.
    hashed = bool(args.audit_out or args.json or args.csv or args.audit_head)
    # Every flow row is kept only when it is printed (--json, --csv); the summary reads the
    # last one. Holding 10,000 rows costs a long run 15-30% more time, for nothing.
    rows = max(args.ticks, 1) if (args.json or args.csv) else 1
    engine = Engine(scenario, args.seed, flow_history=rows, headless=not hashed)
    scripted = (
        sorted(read_jsonl(args.commands), key=lambda r: int(r.get("tick", 0)))
        if args.commands
        else []
    )
    progress = Progress(
        args.ticks, args.progress or (args.ticks >= PROGRESS_MIN_TICKS and sys.stderr.isatty())
    )
    # A batch run only grows (the chain, the flow history): full collections rescan all of it
    # and cost ~20% of a hashed run for no garbage. Collect rarely while it runs.
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    try:
        for _ in range(args.ticks):
            _queue_commands(engine, scripted)
            engine.step()
            progress(engine.tick)
    finally:
        gc.set_threshold(*thresholds)
    summary = engine.summary()
    if args.csv:
        with open(args.csv, "w", encoding="utf-8") as out:
            out.write(flow_csv([row.to_dict() for row in engine.flow.history]))
    if args.audit_out:
        write_jsonl(args.audit_out, (e.to_dict() for e in engine.world.audit))
    if args.commands_out:
        write_jsonl(args.commands_out, (c.to_dict() for c in engine.commands))
    if args.json:
        rows = [row.to_dict() for row in engine.flow.history]
        print(json.dumps({"summary": summary, "flow": rows}, indent=None))
    else:
        print(render_summary(summary))
    return 0


def render_summary(summary: dict[str, Any]) -> str:
    def fmt(value: Any) -> str:
        return "-" if value is None else str(value)

    unhashed = " (--audit-head hashes it)" if summary["audit_head"] == HEADLESS_HEAD else ""
    lines = [
        f"scenario            {summary['scenario']} (seed {summary['seed']})",
        f"ticks               {summary['ticks']}",
        f"directives deployed {summary['directives_deployed']} of {summary['directives_created']}",
        f"throughput          {summary['throughput_per_day']} directives/day",
        f"median lead time    {fmt(summary['lead_time_median'])} ticks "
        f"(p85 {fmt(summary['lead_time_p85'])}, p95 {fmt(summary['lead_time_p95'])})",
        f"bottleneck role     {fmt(summary['bottleneck'])}",
        f"intake limit        {_intake_line(summary)}",
        f"escaped defects     {summary['escaped_defects']} "
        f"(found in review: {summary['defects_found']})",
        f"audit events        {summary['audit_events']}",
        f"audit head hash     {summary['audit_head']}{unhashed}",
    ]
    steadiness = summary.get("steadiness") or {}
    if steadiness.get("steady") is False:
        lines.insert(5, f"NOT STEADY          {steadiness['reason']}")
    return "\n".join(lines)


def _intake_line(summary: dict[str, Any]) -> str:
    intake = summary["intake"]
    share = f"admission bound {intake['bound_share_window']:.0%} of the last window"
    if intake["constraint"]:
        return f"{intake['setting']} {intake['limit']} is the constraint ({share}): raise it"
    return f"{intake['setting']} {intake['limit']} ({share})"


# ---- sweep ------------------------------------------------------------------------------------


# ---- sweep ------------------------------------------------------------------------------------

#: How the sweep names its per-seed figures in text (summary key -> label).
SWEEP_LABELS = {
    "throughput_per_day": "throughput (directives/day)",
    "lead_time_median": "lead time median (ticks)",
    "lead_time_p85": "lead time p85 (ticks)",
    "lead_time_p95": "lead time p95 (ticks)",
    "flow_efficiency": "flow efficiency",
}
HIGHER_IS_BETTER = ("throughput_per_day", "flow_efficiency")


def parse_baseline(items: Sequence[str] | None, grid: dict[str, list[Any]]) -> dict[str, Any]:
    """``--baseline 2`` (one --set) or ``--baseline roles.verifier=2`` (any grid)."""
    chosen: dict[str, Any] = {}
    for item in items or []:
        path, sep, value = item.partition("=")
        if not sep:
            if len(grid) != 1:
                raise CliError("--baseline: with several --set, name the field: PATH=VALUE")
            path, value = next(iter(grid)), item
        if path.strip() not in grid:
            raise CliError(f"--baseline: {path.strip()!r} is not a swept field")
        chosen[path.strip()] = parse_value(value.strip())
    return chosen


def _number(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits else str(round(value))


def render_sweep(result: Any) -> str:
    """Variant by variant: spread over seeds and the paired difference to the baseline."""
    seeds = result.seeds
    span = f"{seeds[0]}..{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else ""
    lines = [
        f"{len(result.variants)} variant(s) x {len(seeds)} seeds ({span or 'as listed'}), "
        f"{result.ticks} ticks each; baseline {result.baseline.label}",
        "differences: variant minus baseline on the same seed, mean [95% CI, paired bootstrap]",
        "'at least' / 'at most': what 85% of seeds reach (the 15th / 85th percentile)",
        f"bottleneck: {result.bottleneck_method}",
    ]
    for variant in result.variants:
        lines.append("")
        lines.append(variant.label + ("  (baseline)" if variant.baseline else ""))
        differences = {d.metric: d for d in variant.differences}
        for key, text in SWEEP_LABELS.items():
            spread = variant.spread(key)
            if not spread["seeds"]:
                lines.append(f"  {text:<28} not reported")
                continue
            bound = "at least", spread["p15"]
            if key not in HIGHER_IS_BETTER:
                bound = "at most", spread["p85"]
            lines.append(
                f"  {text:<28} median {_number(spread['median'])}, "
                f"{bound[0]} {_number(bound[1])}"
            )
            if key in differences:
                lines.append(f"  {'':<28} vs baseline {differences[key].describe()}")
        lines.append(f"  {'bottleneck':<28} {variant.bottlenecks}")
    return "\n".join(lines)


def cmd_sweep(args: argparse.Namespace) -> int:
    from .service.experiments import run_sweep

    scenario = _load(args.scenario)
    seeds = parse_seeds(args.seeds)
    grid = parse_sets(args.set or [])
    baseline = parse_baseline(args.baseline, grid)
    runs = len(seeds) * max(1, math.prod(len(v) for v in grid.values()))
    progress = Progress(runs, args.progress or sys.stderr.isatty(), unit="run")
    try:
        result = run_sweep(
            scenario,
            seeds,
            grid,
            args.ticks,
            baseline=baseline,
            workers=args.workers or default_workers(),
            progress=lambda done, total: progress(done),
            scheduler=_scheduler(args),
        )
    except ScenarioError as exc:
        raise CliError(f"--set: {exc}") from None
    except KeyboardInterrupt:
        progress.interrupted()
        raise CliError(f"interrupted after {max(progress.last, 0)}% of the runs") from None
    if args.csv:
        with open(args.csv, "w", encoding="utf-8") as out:
            out.write(flow_csv(result.rows))
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print(render_sweep(result))
    return 0


# ---- forecast ---------------------------------------------------------------------------------


def _forecast_start(args: argparse.Namespace) -> tuple[Engine, str]:
    """The world the futures fork from: a stored run's current state, or a scenario run."""
    if args.database or args.stored:
        from .store import StoreError
        from .store.persistence import recover

        store = _open_store(args.database)
        try:
            engine = recover(store)
        except StoreError as exc:
            raise CliError(str(exc)) from None
        finally:
            store.close()
        engine.apply_pending()  # acknowledged commands would apply at the next tick anyway
        return engine, f"stored run ({engine.scenario.name}, seed {engine.seed})"
    scenario = _load(args.scenario)
    # Headless: the warm-up's figures equal a full run's, and nobody reads its audit chain.
    engine = Engine(scenario, args.world_seed, headless=True)
    engine.run(args.ticks)
    return engine, f"{scenario.name} (seed {args.world_seed}) after {args.ticks} ticks"


def _directive_payload(text: str) -> dict[str, Any]:
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise CliError(f"--add: not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise CliError('--add: give an object like {"title": "Export", "floor": "python"}')
    return payload


def _start_options(parser: argparse.ArgumentParser) -> None:
    """Where forecasts and previews start: a stored run, or a scenario after a warm-up."""
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--scenario", help="start from this scenario (default: the packaged one)")
    start.add_argument("--database", metavar="URL", help="start from the stored run's state")
    start.add_argument(
        "--stored", action="store_true", help="start from the run in the server's own store"
    )
    parser.add_argument("--world-seed", type=int, default=42, help="the scenario run's seed")
    parser.add_argument("--ticks", type=_non_negative, default=0, help="scenario warm-up ticks")


def _scheduler(args: argparse.Namespace) -> str | None:
    """--scheduler, else the configuration's DASK_SCHEDULER_ADDRESS, else None (local pool)."""
    if args.scheduler:
        return args.scheduler
    from .service.config import cli_config

    return cli_config().dask_scheduler_address


def _scheduler_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on this Dask scheduler (default: DASK_SCHEDULER_ADDRESS, else a local pool)",
    )


def cmd_preview(args: argparse.Namespace) -> int:
    """What if: paired futures with and without the commands, from a stored run or a scenario."""
    from .service.previews import report_text, run_preview

    commands = []
    for text in args.command or []:
        try:
            command = json.loads(text)
        except ValueError as exc:
            raise CliError(f"--command: not JSON: {exc}") from None
        if not isinstance(command, dict) or "kind" not in command:
            raise CliError('--command: give {"kind": "hire_agent", "payload": {...}}')
        commands.append(command)
    engine, source = _forecast_start(args)
    try:
        report = run_preview(
            engine,
            commands,
            futures=args.futures,
            ticks=args.horizon,
            seed=args.seed,
            workers=args.workers or default_workers(),
            scheduler=_scheduler(args),
            sequential=not args.fixed,
        )
    except CommandRejected as exc:
        raise CliError(f"--command: {exc.reason}") from None
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(json.dumps(report, indent=2) if args.json else report_text(report, source))
    return 0


def cmd_forecast(args: argparse.Namespace) -> int:
    from .service.experiments import run_forecast
    from .sim.forecast import Question, add_directives, current_work, keys_of

    if args.only_added and not args.add:
        raise CliError("--only-added: add directives with --add")
    engine, source = _forecast_start(args)
    work = current_work(engine)  # before the added directives open
    try:
        added = add_directives(engine, [_directive_payload(text) for text in args.add or []])
    except CommandRejected as exc:
        raise CliError(f"--add: {exc.reason}") from None
    targets = keys_of(engine, added)
    basis: dict[str, Any] = {"added": added}
    if not args.only_added:
        targets = work["open"] + work["waiting"] + targets
        basis.update(open=len(work["open"]), waiting=len(work["waiting"]))
    if not targets:
        raise CliError("nothing to forecast: no open directives (add some with --add)")
    per_day = engine.world.settings.ticks_per_day
    horizon = engine.tick + args.horizon
    by_tick = None
    if args.by_day:
        by_tick = args.by_day * per_day
        if by_tick <= engine.tick:
            raise CliError(
                f"--by-day: day {args.by_day} ends at tick {by_tick}, "
                f"not after the start (tick {engine.tick})"
            )
        horizon = max(horizon, by_tick)
    question = Question(tuple(targets), engine.tick, horizon, by_tick)
    progress = Progress(args.futures, args.progress or sys.stderr.isatty(), unit="future")
    try:
        forecast = run_forecast(
            engine,
            question,
            futures=args.futures,
            seed=args.seed,
            workers=args.workers or default_workers(),
            progress=lambda done, total: progress(done),
            basis=basis,
            source=source,
            scheduler=_scheduler(args),
        )
    except KeyboardInterrupt:
        progress.interrupted()
        raise CliError(f"interrupted after {max(progress.last, 0)}% of the futures") from None
    report = forecast.to_dict()
    rows = [
        {
            **o.to_dict(),
            "done_in_ticks": None if o.done_tick is None else o.done_tick - question.start_tick,
            "done_in_days": (
                None if o.done_tick is None else round((o.done_tick - engine.tick) / per_day, 2)
            ),
        }
        for o in forecast.outcomes
    ]
    if args.csv:
        with open(args.csv, "w", encoding="utf-8") as out:
            out.write(flow_csv(rows))
    if args.json:
        print(json.dumps({**report, "per_future": rows}))
    else:
        print(render_forecast(report))
    return 0


def render_forecast(report: dict[str, Any]) -> str:
    """The two answers in words, with the basis (start, futures, horizon) first."""
    start, horizon, targets = report["start"], report["horizon"], report["targets"]
    count = targets["count"]
    parts = []
    if "open" in targets:  # not with --only-added
        parts = [f"{targets['open']} open", f"{targets['waiting']} waiting in the backlog"]
    if targets["added"]:
        parts.append(f"{len(targets['added'])} added now ({', '.join(targets['added'])})")
    lines = [
        f"forecast from {report['source']}: tick {start['tick']} (day {start['day']})",
        f"{report['futures']} futures (seed {report['seed']}), each at most {horizon['ticks']} "
        f"ticks ({horizon['days']} days, to tick {horizon['tick']}); "
        f"{report['ticks_per_day']} ticks a day",
        f"targets: {count} directive(s): {', '.join(parts)}",
        "",
        f"when will {'it' if count == 1 else f'all {count}'} be deployed?",
    ]
    completion = report["completion"]
    for p in (50, 85, 95):
        when = completion[f"p{p}"]
        if when["beyond_horizon"]:
            lines.append(f"  {p}% chance: not within the horizon (> {horizon['ticks']} ticks)")
        else:
            lines.append(
                f"  {p}% chance: within {when['ticks']} ticks ({when['days']} days), "
                f"by tick {when['tick']} (day {when['day']})"
            )
    lines.append(
        f"  finished within the horizon in {completion['finished_by_horizon']} of "
        f"{report['futures']} futures"
    )
    by = report.get("by")
    if by:
        share = round(100 * by["all_targets_done_share"])
        lines += [
            "",
            f"how many by the end of day {by['day']} (tick {by['tick']})?",
            f"  85% chance of at least {by['targets_done_at_least']} of the {count} "
            f"(median {by['targets_done_median']}); all {count} in {share}% of futures",
            f"  85% chance of at least {by['deployed_at_least']} directives deployed in all, "
            f"new arrivals included (median {by['deployed_median']})",
        ]
    return "\n".join(lines)


# ---- replay and verify ------------------------------------------------------------------------


def cmd_replay(args: argparse.Namespace) -> int:
    scenario = _load(args.scenario)
    try:
        commands = list(read_jsonl(args.commands)) if args.commands else []
    except (OSError, ValueError) as exc:
        raise CliError(f"--commands: {exc}") from None
    engine = Engine.replay(scenario, args.seed, commands, args.until_tick)
    summary = engine.summary()
    if args.json:
        print(json.dumps(summary))
    else:
        print(render_summary(summary))
    return 0


def _open_store(url: str | None) -> Any:
    from .service.config import ConfigError
    from .service.storage import open_store
    from .store import StoreError

    try:  # --database, else the server's own setting (DATABASE_URL or the data directory)
        return open_store(url=url)
    except (ConfigError, StoreError) as exc:
        raise CliError(str(exc)) from None


def cmd_verify(args: argparse.Namespace) -> int:
    from .store.store import truncated

    expect = args.expect_head
    try:
        if args.file is not None:
            verdict = verify_chain(read_jsonl(args.file))
            if verdict.valid and expect and verdict.head != expect:
                verdict = truncated(verdict, f"the chain ends at {verdict.head[:12]}, not at "
                                    f"the expected head {expect[:12]}")  # fmt: skip
        else:  # the configured store (the server's default) unless --database names another
            verdict = _open_store(args.database).verify(run=args.run, expect_head=expect)
    except (OSError, ValueError) as exc:
        raise CliError(f"{args.file}: {exc}") from None
    if args.json:
        print(json.dumps(verdict.to_dict()))
    elif verdict.valid:
        print(f"valid: {verdict.checked} events, head {verdict.head}")
    else:
        print(
            f"BROKEN at event {verdict.first_broken}: {verdict.reason} "
            f"({verdict.checked} valid before it)"
        )
    return 0 if verdict.valid else 1


def cmd_export(args: argparse.Namespace) -> int:
    from .store import StoreError
    from .store.transfer import export_run

    try:
        result = export_run(_open_store(args.database), args.out)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    print(
        f"exported tick {result['tick']}: {result['events']} events, "
        f"{result['commands']} commands, head {result['head']}"
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from .store import StoreError
    from .store.transfer import import_run

    try:
        result = import_run(_open_store(args.database), args.file, force=args.force)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    print(
        f"imported tick {result['tick']}: {result['events']} events verified, "
        f"replay head {result['head']}"
    )
    return 0


def _token_store(url: str | None) -> Any:
    from .store.tokens import TokenStore

    return TokenStore(_open_store(url).db)


def cmd_token_create(args: argparse.Namespace) -> int:
    """Create a token and print it once; the store keeps only its hash."""
    from .store.tokens import TokenError

    tokens = _token_store(args.database)
    actor = f"cli:{os.environ.get('USER', 'unknown')}"
    try:
        record, token = tokens.create(args.name, args.role, actor=actor)
    except TokenError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print(json.dumps({**record.to_dict(), "token": token}))
    else:
        print(f"created {record.role.value} token {record.name!r} (id {record.id})")
        print("shown once; keep it somewhere safe:")
        print(token)
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    """List tokens: id, name, role, state and when last used (never secrets or hashes)."""
    found = _token_store(args.database).list(include_revoked=args.all)
    if args.json:
        print(json.dumps([t.to_dict() for t in found]))
        return 0
    print(f"{'id':<14} {'name':<28} {'role':<9} {'state':<8} last used")
    for t in found:
        state = "active" if t.active else "revoked"
        used = _when(t.last_used_at)
        print(f"{t.id:<14} {t.name:<28} {t.role.value:<9} {state:<8} {used}")
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    """Revoke a token by id (exit 1 when there is no such token)."""
    from .store.tokens import TokenError

    tokens = _token_store(args.database)
    try:
        record = tokens.revoke(args.id, actor=f"cli:{os.environ.get('USER', 'unknown')}")
    except TokenError as exc:
        print(f"miniature-office: {exc}", file=sys.stderr)
        return 1
    print(f"revoked token {record.name!r} (id {record.id})")
    return 0


def _when(stamp: float | None) -> str:
    import time

    return "never" if stamp is None else time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(stamp))


def cmd_run(args: argparse.Namespace) -> int:
    """Start the production server (Gunicorn with the packaged configuration)."""
    argv = [
        "gunicorn",
        "-c",
        "python:miniature_office.web.gunicorn_conf",
        "miniature_office.web.wsgi:app",
    ]
    os.execvp(argv[0], argv)  # noqa: S606 - fixed argv, no shell
    return 0  # pragma: no cover


# ---- parser -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="miniature-office", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__} ({build_label()})"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("simulate", help="run headless and print a summary")
    sim.add_argument("--scenario", help="YAML or JSON scenario (default: the packaged one)")
    sim.add_argument("--seed", type=int, default=42)
    sim.add_argument("--ticks", type=_positive, default=800)
    sim.add_argument("--json", action="store_true", help="print summary and per-tick flow as JSON")
    sim.add_argument("--csv", metavar="PATH", help="write per-tick flow metrics as CSV")
    sim.add_argument(
        "--commands", metavar="FILE", help="JSON Lines of {tick, kind, payload} to inject"
    )
    sim.add_argument("--audit-out", metavar="FILE", help="write the audit chain as JSON Lines")
    sim.add_argument("--commands-out", metavar="FILE", help="write the command log as JSON Lines")
    sim.add_argument(
        "--audit-head",
        action="store_true",
        help="hash the audit chain and print its head (implied by --audit-out, --json, --csv)",
    )
    sim.add_argument("--progress", action="store_true", help="always show the progress bar")
    sim.set_defaults(func=cmd_simulate)

    sw = sub.add_parser(
        "sweep", help="compare parameter values on the same seeds (paired differences)"
    )
    sw.add_argument("--scenario")
    sw.add_argument("--seeds", default="1..20", help="1..50 or 1,2,3")
    sw.add_argument(
        "--set",
        action="append",
        metavar="PATH=V1,V2",
        help="any scenario field, e.g. roles.verifier=1,2,3 or settings.walk_speed=8,16; "
        "several --set form a grid",
    )
    sw.add_argument(
        "--baseline",
        action="append",
        metavar="VALUE|PATH=VALUE",
        help="the variant the others are compared with (default: the first values)",
    )
    sw.add_argument("--ticks", type=_positive, default=400)
    sw.add_argument("--workers", type=_positive, help="parallel processes (default: CPU count)")
    sw.add_argument("--csv", metavar="PATH", help="write one row per variant and seed")
    sw.add_argument("--json", action="store_true", help="print variants and per-seed rows")
    sw.add_argument("--progress", action="store_true", help="always show the progress bar")
    _scheduler_option(sw)
    sw.set_defaults(func=cmd_sweep)

    fc = sub.add_parser(
        "forecast", help="when will the open work be done; how much by day D (Monte Carlo)"
    )
    _start_options(fc)
    fc.add_argument(
        "--add",
        action="append",
        metavar="JSON",
        help='a directive to add now, e.g. \'{"title": "Export", "floor": "python"}\'',
    )
    fc.add_argument("--only-added", action="store_true", help="forecast the added directives only")
    fc.add_argument("--by-day", type=_positive, metavar="D", help="how many done by end of day D")
    fc.add_argument("--futures", type=_positive, default=200)
    fc.add_argument("--seed", type=int, default=1, help="seed of the random futures")
    fc.add_argument(
        "--horizon", type=_positive, default=FORECAST_HORIZON, help="ticks a future may run"
    )
    fc.add_argument("--workers", type=_positive, help="parallel processes (default: CPU count)")
    fc.add_argument("--csv", metavar="PATH", help="write one row per future")
    fc.add_argument("--json", action="store_true")
    fc.add_argument("--progress", action="store_true", help="always show the progress bar")
    _scheduler_option(fc)
    fc.set_defaults(func=cmd_forecast)

    pv = sub.add_parser("preview", help="what if: futures with and without commands (paired)")
    _start_options(pv)
    pv.add_argument(
        "--command",
        action="append",
        metavar="JSON",
        help='a command, e.g. \'{"kind": "hire_agent", "payload": {"floor": "python", '
        '"role": "verifier"}}\' (repeat for several)',
    )
    pv.add_argument(
        "--futures",
        type=_positive,
        default=50,
        help="at most this many paired futures: looks of 8, 16, 32, ... stop early once the "
        "answer is decided or precise enough (see --fixed)",
    )
    pv.add_argument("--fixed", action="store_true", help="run exactly --futures futures")
    pv.add_argument("--horizon", type=_positive, default=400, help="ticks each future runs")
    pv.add_argument("--seed", type=int, default=1, help="seed of the paired futures")
    pv.add_argument("--workers", type=_positive, help="parallel processes (default: CPU count)")
    _scheduler_option(pv)
    pv.add_argument("--json", action="store_true")
    pv.set_defaults(func=cmd_preview)

    rp = sub.add_parser(
        "replay", help="rebuild the world at a tick from scenario, seed and commands"
    )
    rp.add_argument("--scenario")
    rp.add_argument("--seed", type=int, default=42)
    rp.add_argument("--commands", metavar="FILE", help="a command log written by --commands-out")
    rp.add_argument("--until-tick", type=_non_negative, required=True)
    rp.add_argument("--json", action="store_true")
    rp.set_defaults(func=cmd_replay)

    va = sub.add_parser(
        "verify-audit", help="verify an exported or stored audit chain (exit 0 valid, 1 broken)"
    )
    va.add_argument("file", nargs="?", help="JSON Lines written by simulate --audit-out")
    va.add_argument("--database", metavar="URL", help="verify the chain in a store instead")
    va.add_argument(
        "--expect-head",
        metavar="HASH",
        help="fail unless the chain ends here "
        "(detects removed last events; exports and the API report the head)",
    )
    va.add_argument("--run", type=int, metavar="N", help="a stored run other than the current")
    va.add_argument("--json", action="store_true")
    va.set_defaults(func=cmd_verify)

    ex = sub.add_parser("export", help="write the stored run (scenario, seed, commands, chain)")
    ex.add_argument("--out", required=True, metavar="FILE")
    ex.add_argument("--database", metavar="URL", help="default: DATABASE_URL or the data dir")
    ex.set_defaults(func=cmd_export)

    im = sub.add_parser("import", help="load an exported run into a fresh store and prove it")
    im.add_argument("file")
    im.add_argument("--database", metavar="URL", help="default: DATABASE_URL or the data dir")
    im.add_argument("--force", action="store_true", help="replace a run already in the store")
    im.set_defaults(func=cmd_import)

    rn = sub.add_parser("run", help="start the web server (Gunicorn)")
    rn.set_defaults(func=cmd_run)

    history_cli.register(sub)
    tk = sub.add_parser("token", help="API tokens: create, list, revoke (see SECURITY.md)")
    tokens = tk.add_subparsers(dest="token_command", required=True)
    tc = tokens.add_parser("create", help="create a token and print it once")
    tc.add_argument("--name", required=True, help="who or what uses it (letters, digits . _ : -)")
    tc.add_argument("--role", choices=("viewer", "operator", "admin"), default="viewer")
    tc.set_defaults(func=cmd_token_create)
    tl = tokens.add_parser("list", help="list tokens (never their secrets)")
    tl.add_argument("--all", action="store_true", help="include revoked tokens")
    tl.set_defaults(func=cmd_token_list)
    tr = tokens.add_parser("revoke", help="revoke a token by id")
    tr.add_argument("id")
    tr.set_defaults(func=cmd_token_revoke)
    for command in (tc, tl, tr):
        command.add_argument("--database", metavar="URL", help="default: DATABASE_URL or data dir")
        command.add_argument("--json", action="store_true")
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"miniature-office: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
