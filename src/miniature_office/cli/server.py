"""``run``: start the production server (Gunicorn with the packaged configuration)."""

from __future__ import annotations

import argparse
import os
from typing import Any


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


def register(sub: Any) -> None:
    """Add ``run`` to the top-level subparsers."""
    rn = sub.add_parser("run", help="start the web server (Gunicorn)")
    rn.set_defaults(func=cmd_run)
