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

#: One row per key: scenario (JSON), seed, tick (the last tick fully stored), head, created_at.
meta = Table(
    "run_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

commands = Table(
    "commands",
    metadata,
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
Index("ix_audit_tick", audit_events.c.tick)
Index("ix_audit_kind", audit_events.c.kind)
Index("ix_audit_target", audit_events.c.target)
Index("ix_audit_actor", audit_events.c.actor)

snapshots = Table(
    "snapshots",
    metadata,
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


def _add_security_tables(conn: Connection) -> None:
    """Version 2: API tokens and the security event chain."""
    metadata.create_all(conn, tables=[api_tokens, security_events], checkfirst=True)


#: Ordered upgrade steps: MIGRATIONS[n] takes a database from version n to n + 1. A new
#: database is created whole by ``metadata.create_all`` at the newest version.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    1: _add_security_tables,
}
