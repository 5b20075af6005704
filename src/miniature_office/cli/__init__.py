"""Command line: run the server, simulate headless, sweep parameters, replay and verify.

One module per command group; each defines its commands (``cmd_*``) and a ``register(sub)``
that adds their arguments, so a change to a command is made in one file:

- ``simulate.py``: ``simulate`` (headless run, summary, JSON or CSV) and ``replay``
- ``sweep.py``: ``sweep`` (parameter grid on paired seeds)
- ``forecast.py``: ``forecast`` (when will the work be done; how much by day D)
- ``preview.py``: ``preview`` (what if: paired futures with and without commands)
- ``store.py``: ``verify-audit``, ``export``, ``import`` (the stored run)
- ``history.py``: the ``history`` group (import, fit, backtest, whatif)
- ``tokens.py``: ``token create | list | revoke``
- ``server.py``: ``run`` (Gunicorn)
- ``common.py``: what they share (``CliError``, argument types, progress bar, CSV, stores)
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from .. import __version__
from . import forecast, history, preview, server, simulate, store, sweep, tokens
from .common import CliError

__all__ = ["CliError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The ``miniature-office`` parser with every command group registered."""
    parser = argparse.ArgumentParser(prog="miniature-office", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (simulate, sweep, forecast, preview, store, server, history, tokens):
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a CliError is printed as one line with exit code 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"miniature-office: {exc}", file=sys.stderr)
        return 2
