"""The stored run: ``verify-audit``, ``export`` and ``import``.

miniature-office verify-audit FILE | --database URL [--expect-head HASH]
miniature-office export --out run.json [--database URL]
miniature-office import run.json [--database URL] [--force]
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..runio import read_jsonl
from ..sim.audit import verify_chain
from .common import CliError, open_store


def cmd_verify(args: argparse.Namespace) -> int:
    """Verify an exported chain (FILE) or a stored one; exit 0 valid, 1 broken."""
    from ..store.store import truncated

    expect = args.expect_head
    try:
        if args.file is not None:
            verdict = verify_chain(read_jsonl(args.file))
            if verdict.valid and expect and verdict.head != expect:
                verdict = truncated(verdict, f"the chain ends at {verdict.head[:12]}, not at "
                                    f"the expected head {expect[:12]}")  # fmt: skip
        else:  # the configured store (the server's default) unless --database names another
            verdict = open_store(args.database).verify(run=args.run, expect_head=expect)
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
    """Write the stored run (scenario, seed, commands, chain) to ``--out``."""
    from ..store import StoreError
    from ..store.transfer import export_run

    try:
        result = export_run(open_store(args.database), args.out)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    print(
        f"exported tick {result['tick']}: {result['events']} events, "
        f"{result['commands']} commands, head {result['head']}"
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Load an exported run into the store, replaying it to prove the chain."""
    from ..store import StoreError
    from ..store.transfer import import_run

    try:
        result = import_run(open_store(args.database), args.file, force=args.force)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    print(
        f"imported tick {result['tick']}: {result['events']} events verified, "
        f"replay head {result['head']}"
    )
    return 0


def register(sub: Any) -> None:
    """Add ``verify-audit``, ``export`` and ``import`` to the top-level subparsers."""
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
