"""Tables and migrations. SQLAlchemy Core, so the same code runs on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Callable

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Connection

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
)

#: Every run the store has held, oldest first. A reset starts a new run and keeps the old one
#: (its commands, events and snapshots stay under its id); ``previous_run``/``previous_head``
#: name the run it followed, and ``linked`` is 1 when its chain records that link as an event.
runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("scenario", Text, nullable=False),
    Column("seed", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("previous_run", Integer, nullable=True),
    Column("previous_head", String(64), nullable=True),
    Column("linked", Integer, nullable=False, default=0),
    Column("ended_at", Float, nullable=True),
    Column("tick", BigInteger, nullable=True),
    Column("head", String(64), nullable=True),
    Column("count", BigInteger, nullable=True),
)

#: The current run, one row per key: run_id, scenario (JSON), seed, tick (the last tick fully
#: stored), head, count, created_at.
meta = Table(
    "run_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

commands = Table(
    "commands",
    metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(40), nullable=False),
    Column("payload", Text, nullable=False),
    Column("actor", String(120), nullable=False),
    Column("submitted_tick", BigInteger, nullable=False),
    Column("applied_tick", BigInteger, nullable=True),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=True),
    Column("event_seq", BigInteger, nullable=True),
    Column("recorded_at", Float, nullable=True),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("tick", BigInteger, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("actor", String(120), nullable=False),
    Column("target", String(120), nullable=False),
    Column("data", Text, nullable=False),
    Column("parents", Text, nullable=False),
    Column("prev", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("recorded_at", Float, nullable=True),
)
AUDIT_INDEXES = ("ix_audit_tick", "ix_audit_kind", "ix_audit_target", "ix_audit_actor")
Index("ix_audit_tick", audit_events.c.run_id, audit_events.c.tick)
Index("ix_audit_kind", audit_events.c.run_id, audit_events.c.kind)
Index("ix_audit_target", audit_events.c.run_id, audit_events.c.target)
Index("ix_audit_actor", audit_events.c.run_id, audit_events.c.actor)

snapshots = Table(
    "snapshots",
    metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=False),
    Column("tick", BigInteger, primary_key=True, autoincrement=False),
    Column("event_count", BigInteger, nullable=False),
    Column("head", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=True),
)


#: API tokens (store/tokens.py). Only the SHA-256 of a token is kept; ``prefix`` is the
#: public part (``mo_<id>``) shown in listings. Not touched by a world reset or a new run.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    Column("prefix", String(40), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
    Column("last_used_at", Float, nullable=True),
)

#: The security audit trail: token creation and revocation, hash-chained like the world's
#: audit log but kept apart from it, because the world's chain is rebuilt from commands and
#: must stay deterministic (these events carry wall-clock times and random identifiers).
security_events = Table(
    "security_events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", Float, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("actor", String(120), nullable=False),
    Column("data", Text, nullable=False),
    Column("prev", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)


#: Imported team histories (store/histories.py), one row each: the parsed items as compressed
#: JSON (so an import is one row, written or not), the description and the latest fit as JSON.
#: Not touched by a world reset or a new run.
histories = Table(
    "histories",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("imported_at", Float, nullable=False),
    Column("item_count", Integer, nullable=False),
    Column("items", LargeBinary, nullable=False),
    Column("description", Text, nullable=False),
    Column("fit", Text, nullable=True),
)


def _add_security_tables(conn: Connection) -> None:
    """Version 2: API tokens and the security event chain."""
    metadata.create_all(conn, tables=[api_tokens, security_events], checkfirst=True)


#: Copies a version-2 table's rows into its version-3 form (fixed names, no input).
_COPY = "INSERT INTO {table} (run_id, {columns}) SELECT 1, {columns} FROM {table}_v2"


def _runs_keep_history(conn: Connection) -> None:
    """Version 3: runs are kept. Commands, events and snapshots gain a run id (the stored run
    becomes run 1), and the ``runs`` table lists every run."""
    import json
    import time

    from sqlalchemy import inspect, select, text

    if "run_id" in {c["name"] for c in inspect(conn).get_columns("commands")}:
        metadata.create_all(conn, tables=[runs], checkfirst=True)
        return  # already laid out per run (a database made whole by a newer create_all)
    for name in AUDIT_INDEXES:
        conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
    for table in (commands, audit_events, snapshots):
        conn.execute(text(f"ALTER TABLE {table.name} RENAME TO {table.name}_v2"))
    metadata.create_all(conn, tables=[runs, commands, audit_events, snapshots])
    for table in (commands, audit_events, snapshots):
        columns = ", ".join(c.name for c in table.columns if c.name != "run_id")
        conn.execute(text(_COPY.format(table=table.name, columns=columns)))  # nosec B608
        conn.execute(text(f"DROP TABLE {table.name}_v2"))
    stored = dict(conn.execute(select(meta.c.key, meta.c.value)).all())
    if "seed" in stored:
        conn.execute(
            runs.insert().values(
                id=1,
                scenario=stored["scenario"],
                seed=int(stored["seed"]),
                created_at=float(stored.get("created_at") or time.time()),
                linked=0,
            )
        )
        conn.execute(meta.insert().values(key="run_id", value=json.dumps(1)))


def _add_histories(conn: Connection) -> None:
    """Version 4: imported histories."""
    metadata.create_all(conn, tables=[histories], checkfirst=True)


#: Ordered upgrade steps: MIGRATIONS[n] takes a database from version n to n + 1. A new
#: database is created whole by ``metadata.create_all`` at the newest version.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    1: _add_security_tables,
    2: _runs_keep_history,
    3: _add_histories,
}
