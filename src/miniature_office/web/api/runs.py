"""Runs: every run the store holds (a reset starts a new one and keeps the old), each
exportable and verifiable. Nothing here deletes anything."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response
from pydantic import Field

from ...store.tokens import AccessRole
from ..errors import ApiError, not_found
from .common import Query, json_response, parse_query, route, runtime

bp = Blueprint("runs", __name__, url_prefix="/api/runs")

NO_STORE = {200: "OK", 404: "Unknown run", 409: "No store is attached",
            422: "Invalid query parameter"}  # fmt: skip


class VerifyQuery(Query):
    expect_head: str | None = Field(
        default=None,
        pattern="^[0-9a-f]{64}$",
        description="fail unless the chain ends at this head (detects removed last events)",
    )


def _store() -> Any:
    persistence = runtime().persistence
    if persistence is None:
        raise ApiError(409, "conflict", "this server keeps no store, so it has no runs")
    return persistence.store


def _record(run: int) -> dict[str, Any]:
    found = _store().run_record(run)
    if found is None:
        raise not_found("run", run)
    return found


@route(bp, "", "Every run in the store, oldest first (a reset starts a new run)",
       responses=NO_STORE)  # fmt: skip
def runs() -> Response:
    runtime().try_flush()  # the current run's progress as far as the store can have it
    found = _store().runs()
    return json_response({"runs": found, "count": len(found)})


@route(bp, "/<int:run>", "One run: seed, scenario, tick, head, count and predecessor",
       responses=NO_STORE)  # fmt: skip
def run(run: int) -> Response:
    return json_response(_record(run))


@route(bp, "/<int:run>/verify", "Verify one run's stored chain, including that it ends at the "
       "recorded (or expected) head", query=VerifyQuery, responses=NO_STORE)  # fmt: skip
def verify(run: int) -> Response:
    expect = parse_query(VerifyQuery).expect_head
    _record(run)
    runtime().try_flush()
    verdict = _store().verify(run=run, expect_head=expect)
    return json_response({**verdict.to_dict(), "run": run, "scope": "store"})


@route(bp, "/<int:run>/export", "One run as an export (scenario, seed, commands, audit chain, "
       "head and count)", responses=NO_STORE, role=AccessRole.ADMIN)  # fmt: skip
def export(run: int) -> Response:
    record = _record(run)
    runtime().try_flush()
    store = _store()
    return json_response(
        {
            "format": 1,
            "run": run,
            "scenario": record["scenario"],
            "seed": record["seed"],
            "tick": record["tick"],
            "head": record["head"],
            "count": record["count"],
            "previous_run": record["previous_run"],
            "previous_head": record["previous_head"],
            "commands": store.commands_log(run=run),
            "audit": list(store.iter_events(run=run)),
        }
    )
