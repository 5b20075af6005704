"""``token``: API tokens (create, list, revoke); SECURITY.md describes the roles.

miniature-office token create --name NAME [--role viewer|operator|admin]
miniature-office token list [--all]
miniature-office token revoke ID
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from .common import CliError, open_store


def _token_store(url: str | None) -> Any:
    from ..store.tokens import TokenStore

    return TokenStore(open_store(url).db)


def cmd_token_create(args: argparse.Namespace) -> int:
    """Create a token and print it once; the store keeps only its hash."""
    from ..store.tokens import TokenError

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
    from ..store.tokens import TokenError

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


def register(sub: Any) -> None:
    """Add the ``token`` command group to the top-level subparsers."""
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
