"""Share a run: export scenario, seed, command log and audit chain as one file, and import it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..sim.audit import AuditEvent, verify_chain
from ..sim.commands import Command
from .persistence import recover
from .store import Store, StoreError

EXPORT_FORMAT = 1


def export_run(store: Store, out: str | Path) -> dict[str, Any]:
    """Write the stored run to ``out``; returns {tick, events, commands, head}."""
    info = store.run_info()
    if info is None:
        raise StoreError("the store holds no run to export")
    commands = store.commands_log()
    with open(out, "w", encoding="utf-8") as handle:
        handle.write('{"format": %d, ' % EXPORT_FORMAT)
        for key in ("scenario", "seed", "tick", "head", "count"):
            handle.write(f'"{key}": {json.dumps(info[key])}, ')
        handle.write(f'"commands": {json.dumps(commands)}, "audit": [')
        for index, event in enumerate(store.iter_events()):
            handle.write(("," if index else "") + "\n" + json.dumps(event, sort_keys=True))
        handle.write("\n]}\n")
    return {
        "tick": info["tick"],
        "events": info["count"],
        "commands": len(commands),
        "head": info["head"],
    }


def import_run(store: Store, source: str | Path, *, force: bool = False) -> dict[str, Any]:
    """Load an exported run into ``store`` and prove it by verification and by replay."""
    if store.run_info() is not None and not force:
        raise StoreError("the target store already holds a run (use --force to replace it)")
    try:
        data = json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreError(f"{source}: cannot read the export ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise StoreError(f"{source}: not a miniature-office export (format {EXPORT_FORMAT})")
    verdict = verify_chain(data["audit"])
    if not verdict.valid:
        raise StoreError(
            f"{source}: the audit chain is broken at event {verdict.first_broken} "
            f"({verdict.reason})"
        )
    events = [AuditEvent.from_dict(e) for e in data["audit"]]
    store.start_run(data["scenario"], int(data["seed"]), [])
    commands = [Command.from_dict(c) for c in data["commands"]]
    for command in commands:
        if command.applied_tick is None:
            store.append_command(command)
    store.record(int(data["tick"]), [c for c in commands if c.applied_tick is not None], events)
    engine = recover(store)
    if engine.head_hash != verdict.head:
        raise StoreError("replaying the imported commands does not reproduce the imported chain")
    return {"tick": engine.tick, "events": verdict.checked, "head": engine.head_hash}
