"""The Consigliere's and the Head of Security's jobs, kept in the store (they survive restarts).

One row per job: its kind (preview, assess, audit), who asked, its parameters, its state and,
once finished, its result. The table is created on first use (``checkfirst``), outside the
numbered migrations: it holds advice, never world state, and an older database simply gains it.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Column, Float, MetaData, String, Table, Text

metadata = MetaData()

advice_jobs = Table(
    "advice_jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("state", String(20), nullable=False),  # queued running done failed cancelled ...
    Column("actor", String(120), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("finished_at", Float, nullable=True),
    Column("tick", sa.BigInteger, nullable=False),
    Column("params", Text, nullable=False),
    Column("result", Text, nullable=True),
    Column("error", Text, nullable=True),
)

FIELDS = ("id", "kind", "state", "actor", "created_at", "finished_at", "tick", "error")


class AdviceStore:
    """Rows of :data:`advice_jobs` on a SQLAlchemy engine (the world's store database)."""

    def __init__(self, db: sa.Engine) -> None:
        self.db = db
        metadata.create_all(db, tables=[advice_jobs], checkfirst=True)

    def save(self, job: dict[str, Any]) -> None:
        """Insert or replace a job row."""
        row = {name: job.get(name) for name in FIELDS}
        row["params"] = json.dumps(job.get("params") or {}, sort_keys=True)
        row["result"] = None if job.get("result") is None else json.dumps(job["result"])
        with self.db.begin() as conn:
            conn.execute(advice_jobs.delete().where(advice_jobs.c.id == job["id"]))
            conn.execute(advice_jobs.insert().values(**row))

    def load(self, limit: int = 200) -> list[dict[str, Any]]:
        """The newest jobs first (results included)."""
        query = advice_jobs.select().order_by(advice_jobs.c.created_at.desc()).limit(limit)
        with self.db.connect() as conn:
            return [_job(row) for row in conn.execute(query).mappings().all()]

    def get(self, job_id: str) -> dict[str, Any] | None:
        """One job (another server process may have started it), or None."""
        query = advice_jobs.select().where(advice_jobs.c.id == job_id)
        with self.db.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _job(row)


def _job(row: Any) -> dict[str, Any]:
    job = {name: row[name] for name in FIELDS}
    job["params"] = json.loads(row["params"])
    job["result"] = None if row["result"] is None else json.loads(row["result"])
    total = int(job["params"].get("futures", 1))
    job["progress"] = {"done": total if job["state"] == "done" else 0, "total": total}
    return job


__all__ = ["AdviceStore", "advice_jobs"]
