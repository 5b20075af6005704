"""Share a run: export scenario, seed, command log and audit chain as one file, and import it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..sim.audit import AuditEvent, verify_chain
from ..sim.commands import Command
from ..sim.errors import SimError
from ..sim.scenario import MAX_TICK, parse_scenario
from .persistence import recover
from .store import Store, StoreError

EXPORT_FORMAT = 1
#: An export larger than this is refused before it is read (a run of a million ticks of the
#: default world exports to well under this; raise it with care: the file is read at once).
MAX_EXPORT_BYTES = 512 << 20


class ExportFile(BaseModel):
    """The shape of an export, checked before anything is written (a tampered or truncated
    file is refused whole, never half-imported)."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    format: int
    scenario: dict[str, Any]
    seed: int = Field(ge=0, le=2**63 - 1)
    tick: int = Field(ge=0, le=MAX_TICK)
    head: str | None = None
    count: int = Field(default=0, ge=0)
    commands: list[dict[str, Any]]
    audit: list[dict[str, Any]]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number an export holds")


def read_export(source: str | Path) -> ExportFile:
    """Read and check an export file; :class:`StoreError` says what is wrong with it."""
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > MAX_EXPORT_BYTES:
            raise StoreError(f"{source}: the export is {size} bytes, over the "
                             f"{MAX_EXPORT_BYTES}-byte limit")  # fmt: skip
        data = json.loads(path.read_text(encoding="utf-8"), parse_constant=_refuse_constant)
    except (OSError, ValueError, RecursionError) as exc:
        problem = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:300]
        raise StoreError(f"{source}: cannot read the export ({problem})") from None
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise StoreError(f"{source}: not a miniature-office export (format {EXPORT_FORMAT})")
    try:
        export = ExportFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise StoreError(f"{source}: not a valid export: {where}: {first['msg']}") from None
    try:
        parse_scenario(export.scenario)
    except SimError as exc:
        raise StoreError(f"{source}: the export's scenario is invalid: {exc}") from None
    return export


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
    export = read_export(source)
    try:
        verdict = verify_chain(export.audit)
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"{source}: an audit event is malformed ({exc!r:.200})") from None
    if not verdict.valid:
        raise StoreError(
            f"{source}: the audit chain is broken at event {verdict.first_broken} "
            f"({verdict.reason})"
        )
    try:
        events = [AuditEvent.from_dict(e) for e in export.audit]
        commands = [Command.from_dict(c) for c in export.commands]
    except (KeyError, TypeError, ValueError, SimError) as exc:
        raise StoreError(f"{source}: a command or event is malformed ({exc!r:.200})") from None
    store.start_run(export.scenario, export.seed, [])
    for command in commands:
        if command.applied_tick is None:
            store.append_command(command)
    store.record(export.tick, [c for c in commands if c.applied_tick is not None], events)
    engine = recover(store)
    if engine.head_hash != verdict.head:
        raise StoreError("replaying the imported commands does not reproduce the imported chain")
    return {"tick": engine.tick, "events": verdict.checked, "head": engine.head_hash}
