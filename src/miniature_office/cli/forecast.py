"""``forecast``: when will the open work be done, and how much by day D (Monte Carlo).

miniature-office forecast [--scenario FILE --ticks W | --database URL] --add JSON --by-day D
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..sim.errors import CommandRejected
from .common import (
    CliError,
    Progress,
    default_workers,
    flow_csv,
    forecast_start,
    positive,
    scheduler,
    scheduler_option,
    start_options,
)

#: Ticks a forecast future may run (``sim.forecast.DEFAULT_HORIZON``; tests/sim/test_speed.py
#: checks they agree).
FORECAST_HORIZON = 3000


def _directive_payload(text: str) -> dict[str, Any]:
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise CliError(f"--add: not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise CliError('--add: give an object like {"title": "Export", "floor": "python"}')
    return payload


def cmd_forecast(args: argparse.Namespace) -> int:
    """When will the open (and added) directives be deployed; how many by day D."""
    from ..service.experiments import run_forecast
    from ..sim.forecast import Question, add_directives, current_work, keys_of

    if args.only_added and not args.add:
        raise CliError("--only-added: add directives with --add")
    engine, source = forecast_start(args)
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
            scheduler=scheduler(args),
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


def register(sub: Any) -> None:
    """Add ``forecast`` to the top-level subparsers."""
    fc = sub.add_parser(
        "forecast", help="when will the open work be done; how much by day D (Monte Carlo)"
    )
    start_options(fc)
    fc.add_argument(
        "--add",
        action="append",
        metavar="JSON",
        help='a directive to add now, e.g. \'{"title": "Export", "floor": "python"}\'',
    )
    fc.add_argument("--only-added", action="store_true", help="forecast the added directives only")
    fc.add_argument("--by-day", type=positive, metavar="D", help="how many done by end of day D")
    fc.add_argument("--futures", type=positive, default=200)
    fc.add_argument("--seed", type=int, default=1, help="seed of the random futures")
    fc.add_argument(
        "--horizon", type=positive, default=FORECAST_HORIZON, help="ticks a future may run"
    )
    fc.add_argument("--workers", type=positive, help="parallel processes (default: CPU count)")
    fc.add_argument("--csv", metavar="PATH", help="write one row per future")
    fc.add_argument("--json", action="store_true")
    fc.add_argument("--progress", action="store_true", help="always show the progress bar")
    scheduler_option(fc)
    fc.set_defaults(func=cmd_forecast)
