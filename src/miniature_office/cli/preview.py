"""``preview``: what if, as paired futures with and without commands.

miniature-office preview [--scenario FILE --ticks W | --database URL] --command JSON
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..sim.errors import CommandRejected
from .common import (
    CliError,
    default_workers,
    forecast_start,
    positive,
    scheduler,
    scheduler_option,
    start_options,
)


def cmd_preview(args: argparse.Namespace) -> int:
    """What if: paired futures with and without the commands, from a stored run or a scenario."""
    from ..service.previews import report_text, run_preview

    commands = []
    for text in args.command or []:
        try:
            command = json.loads(text)
        except ValueError as exc:
            raise CliError(f"--command: not JSON: {exc}") from None
        if not isinstance(command, dict) or "kind" not in command:
            raise CliError('--command: give {"kind": "hire_agent", "payload": {...}}')
        commands.append(command)
    engine, source = forecast_start(args)
    try:
        report = run_preview(
            engine,
            commands,
            futures=args.futures,
            ticks=args.horizon,
            seed=args.seed,
            workers=args.workers or default_workers(),
            scheduler=scheduler(args),
            sequential=not args.fixed,
        )
    except CommandRejected as exc:
        raise CliError(f"--command: {exc.reason}") from None
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(json.dumps(report, indent=2) if args.json else report_text(report, source))
    return 0


def register(sub: Any) -> None:
    """Add ``preview`` to the top-level subparsers."""
    pv = sub.add_parser("preview", help="what if: futures with and without commands (paired)")
    start_options(pv)
    pv.add_argument(
        "--command",
        action="append",
        metavar="JSON",
        help='a command, e.g. \'{"kind": "hire_agent", "payload": {"floor": "python", '
        '"role": "verifier"}}\' (repeat for several)',
    )
    pv.add_argument(
        "--futures",
        type=positive,
        default=50,
        help="at most this many paired futures: looks of 8, 16, 32, ... stop early once the "
        "answer is decided or precise enough (see --fixed)",
    )
    pv.add_argument("--fixed", action="store_true", help="run exactly --futures futures")
    pv.add_argument("--horizon", type=positive, default=400, help="ticks each future runs")
    pv.add_argument("--seed", type=int, default=1, help="seed of the paired futures")
    pv.add_argument("--workers", type=positive, help="parallel processes (default: CPU count)")
    scheduler_option(pv)
    pv.add_argument("--json", action="store_true")
    pv.set_defaults(func=cmd_preview)
