"""``simulate`` (a headless run and its summary) and ``replay`` (the world rebuilt at a tick).

miniature-office simulate --scenario FILE --seed N --ticks T [--json] [--csv PATH]
miniature-office replay --scenario FILE --seed N --commands FILE --until-tick T
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from typing import Any

from ..runio import read_jsonl, write_jsonl
from ..service.compat import flow_row
from ..sim.audit import HEADLESS_HEAD
from ..sim.engine import Engine
from ..sim.errors import CommandRejected
from .common import (
    PROGRESS_MIN_TICKS,
    CliError,
    Progress,
    flow_csv,
    load_scenario,
    non_negative,
    positive,
)

# `simulate` imports only what it runs: the job runner (multiprocessing), the configuration and
# the forecasting modules are imported by the commands that use them.


def _queue_commands(engine: Engine, pending: list[dict[str, Any]]) -> None:
    """Submit scripted commands (``{"tick": t, "kind": ..., "payload": ...}``) due now."""
    while pending and int(pending[0].get("tick", 0)) <= engine.tick:
        row = pending.pop(0)
        try:
            engine.submit(row["kind"], row.get("payload", {}), row.get("actor", "script"))
        except CommandRejected as exc:
            print(f"command at tick {row.get('tick', 0)} refused: {exc.reason}", file=sys.stderr)


def cmd_simulate(args: argparse.Namespace) -> int:
    """Run a scenario headless for ``--ticks`` and print its summary (or JSON, or CSV)."""
    scenario = load_scenario(args.scenario)
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
            out.write(flow_csv([flow_row(row) for row in engine.flow.history]))
    if args.audit_out:
        write_jsonl(args.audit_out, (e.to_dict() for e in engine.world.audit))
    if args.commands_out:
        write_jsonl(args.commands_out, (c.to_dict() for c in engine.commands))
    if args.json:
        rows = [flow_row(row) for row in engine.flow.history]
        print(json.dumps({"summary": summary, "flow": rows}, indent=None))
    else:
        print(render_summary(summary))
    return 0


def render_summary(summary: dict[str, Any]) -> str:
    """A run's summary for a terminal, one figure a line."""

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


def cmd_replay(args: argparse.Namespace) -> int:
    """Rebuild the world at ``--until-tick`` from scenario, seed and a command log."""
    scenario = load_scenario(args.scenario)
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


def register(sub: Any) -> None:
    """Add ``simulate`` and ``replay`` to the top-level subparsers."""
    sim = sub.add_parser("simulate", help="run headless and print a summary")
    sim.add_argument("--scenario", help="YAML or JSON scenario (default: the packaged one)")
    sim.add_argument("--seed", type=int, default=42)
    sim.add_argument("--ticks", type=positive, default=800)
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

    rp = sub.add_parser(
        "replay", help="rebuild the world at a tick from scenario, seed and commands"
    )
    rp.add_argument("--scenario")
    rp.add_argument("--seed", type=int, default=42)
    rp.add_argument("--commands", metavar="FILE", help="a command log written by --commands-out")
    rp.add_argument("--until-tick", type=non_negative, required=True)
    rp.add_argument("--json", action="store_true")
    rp.set_defaults(func=cmd_replay)
