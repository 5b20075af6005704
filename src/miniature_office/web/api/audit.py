"""The audit log: events with filters, chain verification and causal lineage."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response
from pydantic import Field, model_validator

from ...sim.engine import Engine
from ...store.store import truncated
from ..errors import not_found
from .common import (
    MAX_INT,
    Page,
    Query,
    json_response,
    paginate,
    parse_query,
    read,
    require,
    route,
    runtime,
)
from .runs import VerifyQuery

bp = Blueprint("audit", __name__, url_prefix="/api/audit")


class EventFilter(Page):
    kind: str | None = Field(default=None, description="exact kind, or a prefix ending in '.'")
    actor: str | None = None
    target: str | None = None
    tick_from: int | None = Field(default=None, ge=0, le=MAX_INT)
    tick_to: int | None = Field(default=None, ge=0, le=MAX_INT)
    order: str = Field(default="desc", pattern="^(asc|desc)$")
    #: 0.1.0's names for kind, actor and target (used when the new name is not given).
    type: str | None = Field(default=None, description="0.1.0 name of `kind`")
    actor_id: str | None = Field(default=None, description="0.1.0 name of `actor`")
    target_id: str | None = Field(default=None, description="0.1.0 name of `target`")

    @model_validator(mode="after")
    def _range(self) -> "EventFilter":
        self.kind = self.kind if self.kind is not None else self.type
        self.actor = self.actor if self.actor is not None else self.actor_id
        self.target = self.target if self.target is not None else self.target_id
        if (
            self.tick_from is not None
            and self.tick_to is not None
            and self.tick_from > self.tick_to
        ):
            raise ValueError("tick_from must not be after tick_to")
        return self


class LineageQuery(Query):
    limit: int = Field(default=200, ge=1, le=2000)


def _matches(event: Any, f: EventFilter) -> bool:
    if f.kind is not None:
        if f.kind.endswith("."):
            if not event.kind.startswith(f.kind):
                return False
        elif event.kind != f.kind:
            return False
    return (
        (f.actor is None or event.actor == f.actor)
        and (f.target is None or event.target == f.target)
        and (f.tick_from is None or event.tick >= f.tick_from)
        and (f.tick_to is None or event.tick <= f.tick_to)
    )


@route(bp, "/events", "Audit events, filtered by kind, actor, target and tick range, paginated",
       query=EventFilter)  # fmt: skip
def events() -> Response:
    f = parse_query(EventFilter)
    persistence = runtime().persistence
    if persistence is not None:
        return json_response(_stored_events(persistence, f))

    def build(engine: Engine) -> dict[str, Any]:
        audit = engine.world.audit
        found = [e for e in audit if _matches(e, f)]
        if f.order == "desc":
            found.reverse()
        page = paginate(found, f, "events", lambda e: e.to_dict())
        page.update(head=audit.head, count=audit.count, first_seq=audit.first_seq)
        return page

    return json_response(read(build))


def _stored_events(persistence: Any, f: EventFilter) -> dict[str, Any]:
    """A page from the store, which holds the whole chain (memory keeps a recent window)."""
    runtime().try_flush()  # reads keep working while the store cannot be written
    head, count, first_seq = read(
        lambda engine: (engine.world.audit.head, engine.world.audit.count,
                        engine.world.audit.first_seq)
    )  # fmt: skip
    found, total = persistence.store.events(
        kind=f.kind,
        actor=f.actor,
        target=f.target,
        tick_from=f.tick_from,
        tick_to=f.tick_to,
        limit=f.limit,
        offset=f.offset,
        newest_first=f.order == "desc",
    )
    return {
        "events": found,
        "total": total,
        "limit": f.limit,
        "offset": f.offset,
        "head": head,
        "count": count,
        "first_seq": first_seq,
    }


@route(bp, "/events/<int:seq>", "One audit event")
def event(seq: int) -> Response:
    if seq > MAX_INT:  # beyond any stored sequence number (and any database integer)
        raise not_found("event", seq)
    held = read(lambda e: e.world.audit.get(seq))
    if held is not None:
        return json_response(held.to_dict())
    persistence = runtime().persistence
    stored = persistence.store.event(seq) if persistence is not None else None
    return json_response(require(stored, "event", seq))


@route(bp, "/events/<int:seq>/lineage",
       "Causal ancestors and descendants of an event, within the in-memory window",
       query=LineageQuery)  # fmt: skip
def lineage(seq: int) -> Response:
    limit = parse_query(LineageQuery).limit

    def build(engine: Engine) -> dict[str, Any]:
        audit = engine.world.audit
        found = require(audit.get(seq), "event", seq)
        return {
            "event": found.to_dict(),
            "ancestors": [e.to_dict() for e in audit.ancestors(seq, limit)],
            "descendants": [e.to_dict() for e in audit.descendants(seq, limit)],
        }

    return json_response(read(build))


@route(bp, "/verify", "Verify the hash chain (the store's whole chain when a store is attached, "
       "else the in-memory window); names the first broken event",
       query=VerifyQuery, responses={200: "Verdict", 422: "Invalid expect_head"})  # fmt: skip
def verify() -> Response:
    persistence = runtime().persistence
    expect = parse_query(VerifyQuery).expect_head
    if persistence is not None:
        runtime().try_flush()  # an unwritable store still verifies what it holds
        verdict = persistence.verify(flush=False)  # reads the store only: no lock needed
        if verdict.valid and expect and verdict.head != expect:
            verdict = truncated(verdict, f"the chain ends at {verdict.head[:12]}, not at the "
                                f"expected {expect[:12]}")  # fmt: skip
        return json_response({**verdict.to_dict(), "first_seq": 1, "scope": "store",
                              "run": persistence.store.run_id})  # fmt: skip
    verdict = runtime().verify_audit()  # incremental: only events added since the last check
    first_seq = read(lambda e: e.world.audit.first_seq)
    return json_response({**verdict.to_dict(), "first_seq": first_seq, "scope": "memory"})
