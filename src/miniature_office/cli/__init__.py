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
import os
import sys
from types import ModuleType
from typing import Sequence

# No command uses a pydantic plugin, and looking for them scans every installed distribution's
# entry points (importlib.metadata) when the first model is built: about 3% of a one-tick
# ``simulate``. Set before the command groups import the scenario's models; a value the user
# set is kept.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from .. import __version__  # noqa: E402
from ..native import build_label  # noqa: E402
from . import forecast, history, preview, server, simulate, store, sweep, tokens  # noqa: E402
from .common import CliError  # noqa: E402

__all__ = ["COMMANDS", "CliError", "build_parser", "main"]

GROUPS: tuple[ModuleType, ...] = (
    simulate,
    sweep,
    forecast,
    preview,
    store,
    server,
    history,
    tokens,
)
#: Each top-level command and the group module that registers it (tests/cli/test_cli.py holds
#: this equal to what the groups register): a command's own parser is all it needs.
COMMANDS: dict[str, ModuleType] = {
    "simulate": simulate,
    "replay": simulate,
    "sweep": sweep,
    "forecast": forecast,
    "preview": preview,
    "verify-audit": store,
    "export": store,
    "import": store,
    "run": server,
    "history": history,
    "token": tokens,
}


def build_parser(groups: Sequence[ModuleType] = GROUPS) -> argparse.ArgumentParser:
    """The ``miniature-office`` parser with ``groups`` (by default every command group)
    registered."""
    parser = argparse.ArgumentParser(prog="miniature-office", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__} ({build_label()})"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for group in groups:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a CliError is printed as one line with exit code 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # Registering every group's arguments is ~2% of a one-tick simulate: a command line that
    # starts with a known command gets only its group (its parsing and its help are the same);
    # anything else (--help, --version, a typo) gets the whole parser and its messages.
    group = COMMANDS.get(argv[0]) if argv else None
    parser = build_parser((group,) if group is not None else GROUPS)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"miniature-office: {exc}", file=sys.stderr)
        return 2
