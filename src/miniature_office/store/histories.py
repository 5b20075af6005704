"""Imported team histories in the database, so that an import survives a restart.

One row per history: its parsed items as zlib-compressed JSON, its description and its latest
fit as JSON. An import replaces the row of its name in one transaction (delete, insert): it is
stored whole or not at all, and a failed write leaves the earlier import of that name as it was.
"""

from __future__ import annotations

import json
import time
import zlib
from dataclasses import dataclass
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine as SqlEngine

from ..sim.history.items import History, Item
from .schema import histories


@dataclass(frozen=True, slots=True)
class StoredHistory:
    """One stored import: the history, its description and its fit (None until fitted)."""

    name: str
    imported_at: float
    history: History
    description: dict[str, Any]
    fit: dict[str, Any] | None


def encode_items(history: History) -> bytes:
    """The history as compressed JSON: columns, dropped count and one list per item."""
    body = {
        "columns": history.columns,
        "dropped": history.dropped,
        "items": [[i.id, i.start, i.done, i.type, i.assignee] for i in history.items],
    }
    return zlib.compress(json.dumps(body, separators=(",", ":")).encode(), 6)


def decode_items(blob: bytes) -> History:
    """The history :func:`encode_items` stored."""
    body = json.loads(zlib.decompress(blob))
    items = tuple(
        Item(str(i), float(s), None if d is None else float(d), t, a)
        for i, s, d, t, a in body["items"]
    )
    return History(items, dict(body["columns"]), int(body["dropped"]))


class HistoryTable:
    """The ``histories`` table behind a SQLAlchemy engine (the store's: SQLite or PostgreSQL)."""

    def __init__(self, db: SqlEngine, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self._clock = clock

    def save(self, name: str, history: History, description: dict[str, Any], *, keep: int) -> None:
        """Store ``history`` under ``name`` (replacing it), then drop the oldest imports beyond
        ``keep``; all in one transaction."""
        row = {
            "name": name,
            "imported_at": self._clock(),
            "item_count": len(history.items),
            "items": encode_items(history),
            "description": json.dumps(description, separators=(",", ":")),
            "fit": None,
        }
        with self.db.begin() as conn:
            conn.execute(histories.delete().where(histories.c.name == name))
            conn.execute(histories.insert().values(**row))
            names = conn.execute(
                sa.select(histories.c.name).order_by(
                    histories.c.imported_at.desc(), histories.c.name
                )
            ).scalars()
            stale = list(names)[keep:]
            if stale:
                conn.execute(histories.delete().where(histories.c.name.in_(stale)))

    def set_fit(self, name: str, fit: dict[str, Any]) -> None:
        """Keep the latest fit of ``name`` (nothing happens if it is not stored)."""
        with self.db.begin() as conn:
            conn.execute(
                histories.update()
                .where(histories.c.name == name)
                .values(fit=json.dumps(fit, separators=(",", ":")))
            )

    def stamp(self, name: str) -> tuple[float, bool] | None:
        """(imported_at, fitted?) of ``name``, or None: enough to tell whether a copy held in
        memory is still the stored one."""
        with self.db.connect() as conn:
            row = conn.execute(
                sa.select(histories.c.imported_at, histories.c.fit.is_not(None)).where(
                    histories.c.name == name
                )
            ).first()
        return None if row is None else (float(row[0]), bool(row[1]))

    def get(self, name: str) -> StoredHistory | None:
        with self.db.connect() as conn:
            row = conn.execute(sa.select(histories).where(histories.c.name == name)).first()
        if row is None:
            return None
        return StoredHistory(
            row.name,
            row.imported_at,
            decode_items(row.items),
            json.loads(row.description),
            None if row.fit is None else json.loads(row.fit),
        )

    def names(self) -> list[str]:
        """Stored names, oldest import first."""
        with self.db.connect() as conn:
            return list(
                conn.execute(
                    sa.select(histories.c.name).order_by(histories.c.imported_at, histories.c.name)
                ).scalars()
            )
