"""The store: a durable command log, the audit chain and periodic world snapshots.

Commands are written (and committed) before the API acknowledges them. Ticks are written in
batches: a tick that was computed but not yet written is simply computed again on recovery,
because the engine is deterministic. The store is the truth on restart.
"""

from __future__ import annotations

import json
import time
import zlib
from itertools import takewhile
from pathlib import Path
from typing import Any, Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.exc import DatabaseError, OperationalError

from ..sim.audit import AuditEvent, ChainVerdict, sorted_compact_encoder, verify_chain
from ..sim.commands import Command
from . import schema
from .schema import audit_events, commands, meta, runs, snapshots

SCHEMA_VERSION = 4
#: Snapshots kept (one per 2,000 ticks by default: the last 100,000 ticks).
SNAPSHOTS_KEPT = 50
#: What :meth:`Store.runs` lists for each run.
RUN_FIELDS = ("id", "seed", "created_at", "ended_at", "tick", "head", "count", "previous_run",
              "previous_head")  # fmt: skip
#: PostgreSQL advisory lock that serialises schema creation and upgrades between processes.
MIGRATION_LOCK = 0x6D6F5F6D
_FAST_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


class _SchemaBeingCreated(Exception):
    """The schema's tables exist but its version row does not yet."""


class StoreError(RuntimeError):
    """The database cannot be used as it is (corrupt, truncated, from a newer version)."""


#: The canonical JSON text of stored payloads and of the token chain's hashed data: sorted
#: keys, compact, UTF-8 (sim.audit's encoder, the one the audit chain hashes with).
canonical_json = sorted_compact_encoder(allow_nan=True)


class Store:
    """One run's persistent state behind a SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, url: str, *, clock: Any = time.time) -> None:
        self.url = url
        self._clock = clock
        #: The run this store reads and writes (refreshed by run_info and start_run).
        self.run_id: int | None = None
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self._check_sqlite_file(url)
        self.db: SqlEngine = sa.create_engine(url, future=True, pool_pre_ping=not self.is_sqlite)
        if self.is_sqlite:
            sa.event.listen(self.db, "connect", _sqlite_pragmas)
        try:
            self._open_schema()
        except (DatabaseError, OperationalError) as exc:
            self.db.dispose()
            raise StoreError(f"cannot open the database at {self.describe()}: {exc.orig}") from None

    # ---- opening ----------------------------------------------------------------------------

    def describe(self) -> str:
        """The URL without a password, for messages."""
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    @staticmethod
    def _check_sqlite_file(url: str) -> None:
        path = sa.engine.make_url(url).database
        if not path or path == ":memory:":
            return
        file = Path(path)
        file.parent.mkdir(parents=True, exist_ok=True)
        if file.exists() and file.stat().st_size > 0:
            with open(file, "rb") as handle:
                header = handle.read(16)
            if header != b"SQLite format 3\x00":
                raise StoreError(
                    f"{file} is not a SQLite database (bad header); refusing to touch it. "
                    "Restore it from a backup or point DATABASE_URL elsewhere."
                )

    def _integrity_check(self) -> None:
        if not self.is_sqlite:
            return
        with self.db.connect() as conn:
            result = conn.exec_driver_sql("PRAGMA quick_check").scalar()
        if result != "ok":
            raise StoreError(
                f"the database at {self.describe()} is damaged ({result}); refusing to start. "
                "Restore it from a backup (see DEPLOYMENT.md)."
            )

    def _open_schema(self) -> None:
        """Check the file, then create or upgrade the schema, riding out a busy database."""
        for attempt in range(5):
            try:
                self._integrity_check()
                break
            except OperationalError:  # "database is locked" while another process sets it up
                if attempt == 4:
                    raise
                time.sleep(0.1 * (attempt + 1))
        self.migrate()

    def migrate(self) -> None:
        """Create the schema, or upgrade it step by step; refuse a newer one.

        Several processes may start at once on an empty database (Gunicorn workers, replicas):
        on PostgreSQL they queue on an advisory lock; on SQLite the loser of the race finds
        the tables made and tries again.
        """
        attempts = 5
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                self._migrate_once(finish_interrupted=last)
                return
            except (_SchemaBeingCreated, OperationalError, sa.exc.IntegrityError,
                    sa.exc.ProgrammingError):  # fmt: skip
                if last:
                    raise
                time.sleep(0.1 * (attempt + 1))

    def _migrate_once(self, *, finish_interrupted: bool) -> None:
        with self.db.begin() as conn:
            if not self.is_sqlite:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            inspector = sa.inspect(conn)
            if not inspector.has_table("schema_version"):
                schema.metadata.create_all(conn)
                conn.execute(schema.schema_version.insert().values(version=SCHEMA_VERSION))
                return
            version = conn.execute(sa.select(sa.func.max(schema.schema_version.c.version))).scalar()
            if version is None:
                # SQLite commits each CREATE TABLE at once: another process is still creating
                # the schema. If it stays like this, that process died: finish its work.
                if not finish_interrupted:
                    raise _SchemaBeingCreated()
                schema.metadata.create_all(conn)
                conn.execute(schema.schema_version.insert().values(version=SCHEMA_VERSION))
                return
            version = int(version)
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"the database at {self.describe()} has schema version {version}, written by a "
                    f"newer miniature-office; this one understands up to {SCHEMA_VERSION}. "
                    "Upgrade miniature-office, or restore a backup taken before the upgrade."
                )
            while version < SCHEMA_VERSION:
                schema.MIGRATIONS[version](conn)
                version += 1
                conn.execute(schema.schema_version.insert().values(version=version))

    def close(self) -> None:
        self.db.dispose()

    # ---- run identity -----------------------------------------------------------------------

    def run_info(self) -> dict[str, Any] | None:
        """{run_id, scenario, seed, tick, head, count, previous_run, previous_head, linked} of
        the current run, or None for an empty store."""
        with self.db.connect() as conn:
            rows = dict(conn.execute(sa.select(meta.c.key, meta.c.value)).all())
            if "seed" not in rows:
                return None
            self.run_id = int(rows.get("run_id", "1"))
            run = conn.execute(sa.select(runs).where(runs.c.id == self.run_id)).mappings().first()
        return {
            "run_id": self.run_id,
            "scenario": json.loads(rows["scenario"]),
            "seed": int(rows["seed"]),
            "tick": int(rows.get("tick", "0")),
            "head": rows.get("head"),
            "count": int(rows.get("count", "0")),
            "previous_run": run["previous_run"] if run else None,
            "previous_head": run["previous_head"] if run else None,
            "linked": bool(run["linked"]) if run else False,
        }

    def _run(self, run: int | None) -> int:
        if run is not None:
            return run
        if self.run_id is None:
            self.run_info()
        return self.run_id or 1

    def next_run(self) -> tuple[int, str | None]:
        """The id a new run would get and the head of the current run (None: no run yet)."""
        info = self.run_info()
        if info is None:
            with self.db.connect() as conn:
                last = conn.execute(sa.select(sa.func.max(runs.c.id))).scalar()
            return int(last or 0) + 1, None
        return info["run_id"] + 1, info["head"]

    def start_run(
        self,
        scenario: dict[str, Any],
        seed: int,
        events: Iterable[AuditEvent],
        *,
        linked: bool = False,
    ) -> int:
        """Record a new run with its first events; the previous run is kept whole (listed by
        :meth:`runs`). ``linked``: the new chain records the previous run and its head."""
        info = self.run_info()
        now = self._clock()
        with self.db.begin() as conn:
            last = conn.execute(sa.select(sa.func.max(runs.c.id))).scalar()
            new_id = int(last or 0) + 1
            if info is not None:
                conn.execute(
                    runs.update()
                    .where(runs.c.id == info["run_id"])
                    .values(ended_at=now, tick=info["tick"], head=info["head"], count=info["count"])
                )
            conn.execute(
                runs.insert().values(
                    id=new_id,
                    scenario=canonical_json(scenario),
                    seed=seed,
                    created_at=now,
                    previous_run=info["run_id"] if info else None,
                    previous_head=info["head"] if info else None,
                    linked=int(linked and info is not None),
                )
            )
            self.run_id = new_id  # the rows below belong to the new run
            values = {"run_id": str(new_id), "scenario": canonical_json(scenario),
                      "seed": str(seed), "created_at": str(now), "tick": "0", "head": "",
                      "count": "0"}  # fmt: skip
            self._upsert(conn, values)
            held = list(events)  # may be a one-pass iterable
            self._write_events(conn, held)
            self._set_progress(conn, 0, held)
        return new_id

    def runs(self) -> list[dict[str, Any]]:
        """Every run, oldest first: id, seed, created/ended, tick, head, count, predecessor.
        The current run's progress comes from its live record."""
        info = self.run_info()
        with self.db.connect() as conn:
            rows = conn.execute(sa.select(runs).order_by(runs.c.id)).mappings().all()
        out = []
        for row in rows:
            item = {k: row[k] for k in RUN_FIELDS}
            item["linked"] = bool(row["linked"])
            item["current"] = info is not None and row["id"] == info["run_id"]
            if item["current"]:
                item.update(tick=info["tick"], head=info["head"], count=info["count"])
            out.append(item)
        return out

    def run_record(self, run: int) -> dict[str, Any] | None:
        """One run as listed by :meth:`runs` (with its scenario), or None."""
        for item in self.runs():
            if item["id"] == run:
                with self.db.connect() as conn:
                    raw = conn.execute(sa.select(runs.c.scenario).where(runs.c.id == run)).scalar()
                return {**item, "scenario": json.loads(raw)}
        return None

    # ---- writing ----------------------------------------------------------------------------

    def append_command(self, command: Command) -> None:
        """Make an accepted command durable (commit) before it is acknowledged."""
        with self.db.begin() as conn:
            conn.execute(commands.insert().values(**self._command_row(command)))

    def _command_row(self, command: Command) -> dict[str, Any]:
        row = command.to_dict()
        row["run_id"] = self._run(None)
        row["payload"] = canonical_json(row["payload"])
        row["kind"] = command.kind.value
        row["recorded_at"] = self._clock()
        return row

    def record(self, tick: int, applied: list[Command], events: list[AuditEvent]) -> None:
        """Record a batch of ticks (or a boundary while paused) in one transaction."""
        with self.db.begin() as conn:
            self._write_applied(conn, applied)
            self._write_events(conn, events)
            self._set_progress(conn, tick, events)

    def _write_applied(self, conn: sa.Connection, applied: list[Command]) -> None:
        if not applied:
            return
        run = self._run(None)
        existing = {
            row.seq
            for row in conn.execute(
                sa.select(commands.c.seq).where(
                    commands.c.run_id == run, commands.c.seq.in_([c.seq for c in applied])
                )
            )
        }
        for command in applied:
            if command.seq not in existing:
                conn.execute(commands.insert().values(**self._command_row(command)))
                continue
            conn.execute(
                commands.update()
                .where(commands.c.run_id == run, commands.c.seq == command.seq)
                .values(
                    applied_tick=command.applied_tick,
                    status=command.status.value,
                    reason=command.reason,
                    event_seq=command.event_seq,
                )
            )

    def _write_events(self, conn: sa.Connection, events: list[AuditEvent]) -> None:
        """Bulk insert through the driver: this is the hot path of a persisted tick."""
        if not events:
            return
        encode = _FAST_JSON.encode
        run = self._run(None)
        rows = [
            (
                run,
                e.seq,
                e.tick,
                e.kind,
                e.actor,
                e.target,
                encode(e.data),
                encode(e.parents),
                e.prev,
                e.hash,
                e.recorded_at,
            )
            for e in events
        ]
        marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        placeholders = ", ".join([marker] * 11)
        conn.exec_driver_sql(
            "INSERT INTO audit_events (run_id, seq, tick, kind, actor, target, data, parents, "
            f"prev, hash, recorded_at) VALUES ({placeholders})",  # nosec B608 - fixed column list
            rows,
        )

    def _set_progress(self, conn: sa.Connection, tick: int, events: list[AuditEvent]) -> None:
        values = {"tick": str(tick)}
        if events:
            values.update(head=events[-1].hash, count=str(events[-1].seq))
        self._upsert(conn, values)

    @staticmethod
    def _upsert(conn: sa.Connection, values: dict[str, str]) -> None:
        for key, value in values.items():
            updated = conn.execute(meta.update().where(meta.c.key == key).values(value=value))
            if updated.rowcount == 0:
                conn.execute(meta.insert().values(key=key, value=value))

    def save_snapshot(self, tick: int, data: dict[str, Any]) -> None:
        """Store a compressed engine snapshot taken right after ``tick``.

        The newest ``SNAPSHOTS_KEPT`` stay: recovery uses the newest, time travel the nearest.
        """
        blob = zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 6)
        run = self._run(None)
        mine = snapshots.c.run_id == run
        with self.db.begin() as conn:
            conn.execute(snapshots.delete().where(mine, snapshots.c.tick == tick))
            conn.execute(
                snapshots.insert().values(
                    run_id=run,
                    tick=tick,
                    event_count=data["audit"]["count"],
                    head=data["audit"]["head"],
                    data=blob,
                    created_at=self._clock(),
                )
            )
            keep = [
                r.tick
                for r in conn.execute(
                    sa.select(snapshots.c.tick)
                    .where(mine)
                    .order_by(snapshots.c.tick.desc())
                    .limit(SNAPSHOTS_KEPT)
                )
            ]
            # Snapshots are derived data (rebuilt from commands): old ones are thinned.
            conn.execute(snapshots.delete().where(mine, snapshots.c.tick.not_in(keep)))

    # ---- reading ----------------------------------------------------------------------------

    def latest_snapshot(
        self, at_or_before: int | None = None, *, run: int | None = None
    ) -> tuple[int, dict[str, Any]] | None:
        query = (
            sa.select(snapshots.c.tick, snapshots.c.data)
            .where(snapshots.c.run_id == self._run(run))
            .order_by(snapshots.c.tick.desc())
        )
        if at_or_before is not None:
            query = query.where(snapshots.c.tick <= at_or_before)
        with self.db.connect() as conn:
            row = conn.execute(query.limit(1)).first()
        if row is None:
            return None
        try:
            return row.tick, json.loads(zlib.decompress(row.data))
        except (zlib.error, ValueError) as exc:
            raise StoreError(f"snapshot at tick {row.tick} is damaged: {exc}") from None

    def commands_log(
        self, *, pending: bool | None = None, run: int | None = None
    ) -> list[dict[str, Any]]:
        """Commands in sequence order; ``pending=True`` only those not applied yet."""
        query = (
            sa.select(commands).where(commands.c.run_id == self._run(run)).order_by(commands.c.seq)
        )
        if pending is True:
            query = query.where(commands.c.applied_tick.is_(None))
        elif pending is False:
            query = query.where(commands.c.applied_tick.is_not(None))
        with self.db.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            {
                **{k: v for k, v in row.items() if k != "run_id"},
                "payload": json.loads(row["payload"]),
            }
            for row in rows
        ]

    def events(
        self,
        *,
        kind: str | None = None,
        actor: str | None = None,
        target: str | None = None,
        tick_from: int | None = None,
        tick_to: int | None = None,
        after_seq: int | None = None,
        before_seq: int | None = None,
        limit: int = 100,
        offset: int = 0,
        newest_first: bool = False,
        run: int | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of audit events matching the filters, and how many match in all."""
        columns = audit_events.c
        conditions = [columns.run_id == self._run(run)]
        if kind is not None and kind.endswith("."):
            conditions.append(columns.kind.startswith(kind, autoescape=True))
        elif kind is not None:
            conditions.append(columns.kind == kind)
        for column, value in ((columns.actor, actor), (columns.target, target)):
            if value is not None:
                conditions.append(column == value)
        if tick_from is not None:
            conditions.append(columns.tick >= tick_from)
        if tick_to is not None:
            conditions.append(columns.tick <= tick_to)
        if after_seq is not None:
            conditions.append(columns.seq > after_seq)
        if before_seq is not None:
            conditions.append(columns.seq < before_seq)
        order = columns.seq.desc() if newest_first else columns.seq
        query = (
            sa.select(audit_events).where(*conditions).order_by(order).limit(limit).offset(offset)
        )
        count = sa.select(sa.func.count()).select_from(audit_events).where(*conditions)
        with self.db.connect() as conn:
            rows = conn.execute(query).mappings().all()
            total = conn.execute(count).scalar() or 0
        return [self._event_dict(r) for r in rows], int(total)

    @staticmethod
    def _event_dict(row: Any) -> dict[str, Any]:
        return {
            "seq": row["seq"],
            "tick": row["tick"],
            "kind": row["kind"],
            "actor": row["actor"],
            "target": row["target"],
            "data": json.loads(row["data"]),
            "parents": json.loads(row["parents"]),
            "prev": row["prev"],
            "hash": row["hash"],
            "recorded_at": row["recorded_at"],
        }

    def event(self, seq: int, *, run: int | None = None) -> dict[str, Any] | None:
        query = sa.select(audit_events).where(
            audit_events.c.run_id == self._run(run), audit_events.c.seq == seq
        )
        with self.db.connect() as conn:
            row = conn.execute(query).mappings().first()
        return self._event_dict(row) if row is not None else None

    def iter_events(
        self, batch: int = 5000, after_seq: int = 0, *, run: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Stored events after ``after_seq`` in order, read in batches (constant memory)."""
        last = after_seq
        run = self._run(run)
        while True:
            with self.db.connect() as conn:
                rows = (
                    conn.execute(
                        sa.select(audit_events)
                        .where(audit_events.c.run_id == run, audit_events.c.seq > last)
                        .order_by(audit_events.c.seq)
                        .limit(batch)
                    )
                    .mappings()
                    .all()
                )
            if not rows:
                return
            for row in rows:
                yield self._event_dict(row)
            last = rows[-1]["seq"]

    def tail(self, *, run: int | None = None) -> tuple[int, str | None, int]:
        """(highest seq, its hash, number of rows) of a run's stored events: what an
        incremental check compares with what it verified before."""
        columns = audit_events.c
        mine = columns.run_id == self._run(run)
        with self.db.connect() as conn:
            top, rows = conn.execute(
                sa.select(sa.func.max(columns.seq), sa.func.count()).where(mine)
            ).one()
            head = None
            if top is not None:
                head = conn.execute(
                    sa.select(columns.hash).where(mine, columns.seq == top)
                ).scalar()
        return int(top or 0), head, int(rows)

    def verify(self, *, run: int | None = None, expect_head: str | None = None) -> ChainVerdict:
        """Verify a stored chain from genesis (the current run by default).

        Truncation is detected too: the chain must end at the head and count the store
        recorded for the run, and at ``expect_head`` when given (a head kept elsewhere).
        """
        run = self._run(run)
        # The record first: a live server may be writing, and a write stores events, head and
        # count in one transaction, so every event up to the recorded count is already there.
        record = self.run_record(run)
        recorded = (record or {}).get("head") or None
        count = (record or {}).get("count")
        events: Iterable[dict[str, Any]] = self.iter_events(run=run)
        if recorded and count:
            events = takewhile(lambda event: event["seq"] <= count, events)
        verdict = verify_chain(events)
        if not verdict.valid:
            return verdict
        for expected, source in (
            (recorded, "the store's record"),
            (expect_head, "the expected head"),
        ):
            if expected and verdict.head != expected:
                reason = (
                    f"the chain ends at {verdict.head[:12]} but {source} says {expected[:12]}: "
                    "events were removed or altered"
                )
                return truncated(verdict, reason)
        if count and verdict.checked != count:
            return truncated(verdict, f"{verdict.checked} events stored, {count} recorded")
        return verdict


def truncated(verdict: ChainVerdict, reason: str) -> ChainVerdict:
    """A failed verdict for a chain that is sound as far as it goes but ends too early."""
    return ChainVerdict(False, verdict.checked, verdict.head, verdict.checked + 1, reason)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=5000")  # first: the pragmas below may have to wait
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
