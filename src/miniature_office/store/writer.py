"""One writer per store: the process that runs the engine holds a lock for as long as it lives.

Two engines writing one store interleave their audit chains (a restart while the old worker
still ticked gave ``UNIQUE constraint failed: audit_events.seq``). A second engine on the same
store therefore refuses to start, naming the holder. On SQLite the lock is an exclusive
``flock`` on ``<database>.writer`` next to the file; on PostgreSQL a session advisory lock.
Both are released by the operating system or the server when the holder dies, so a crash
never leaves a stale lock behind. (The scale-out setup elects its writer with its own lock
instead: see service/cluster.py.)
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import time
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa

from .store import Store, StoreError

#: Holder description written where the next process can read it.
WRITER_KEY = "writer"


def holder_description() -> str:
    """Who holds the lock: process id, host and start time (for the refusal message)."""
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return f"pid {os.getpid()} on {socket.gethostname()} since {started}"


class WriterLock:
    """Exclusive right to write one store; :meth:`acquire` raises StoreError when taken."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._file: IO[str] | None = None
        self._conn: Any = None
        self._pg: sa.Engine | None = None

    def acquire(self) -> None:
        """Take the lock or raise StoreError naming the process that has it."""
        if self.store.is_sqlite:
            self._acquire_file()
        else:
            self._acquire_advisory()

    def _acquire_file(self) -> None:
        database = sa.engine.make_url(self.store.url).database
        if not database or database == ":memory:":
            return  # a private in-memory database has no second writer
        path = Path(f"{database}.writer")
        handle = open(path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise StoreError(refusal(self.store, holder)) from None
        handle.seek(0)
        handle.truncate()
        handle.write(holder_description() + "\n")
        handle.flush()
        self._file = handle

    def _acquire_advisory(self) -> None:
        key = int.from_bytes(
            hashlib.sha256(f"{self.store.url}:writer".encode()).digest()[:4], "big"
        )
        self._pg = sa.create_engine(self.store.url, poolclass=sa.pool.NullPool)
        self._conn = self._pg.connect()
        got = self._conn.execute(
            sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key & 0x7FFFFFFF}
        ).scalar()
        self._conn.commit()
        table = sa.table("run_meta", sa.column("key"), sa.column("value"))
        if not got:
            holder = self._conn.execute(
                sa.select(table.c.value).where(table.c.key == WRITER_KEY)
            ).scalar()
            self.release()
            raise StoreError(refusal(self.store, holder or "another process"))
        with self.store.db.begin() as conn:  # where the next process reads who holds it
            Store._upsert(conn, {WRITER_KEY: holder_description()})

    def release(self) -> None:
        """Give the lock up (also done by the OS or the server when the process dies)."""
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._conn is not None:
            try:
                self._conn.close()
            except sa.exc.DBAPIError:
                pass
            self._conn = None
        if self._pg is not None:
            self._pg.dispose()
            self._pg = None


def refusal(store: Store, holder: str) -> str:
    """The message a second engine stops with."""
    return (
        f"another engine already writes the store at {store.describe()} ({holder}). "
        "Only one process may run the engine on a store: stop that one first, or run "
        "several processes with MESSAGE_QUEUE set (scale-out: one leads, the others follow)."
    )
