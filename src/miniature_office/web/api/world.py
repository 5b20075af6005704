"""World: state, time control (step, start, stop, speed), reset and replay."""

from __future__ import annotations

from flask import Blueprint, Response, request
from pydantic import BaseModel, ConfigDict, Field
from werkzeug.http import quote_etag

from ...sim.commands import CommandKind, Empty, SetSpeed
from ...store.tokens import Role
from .common import (
    MAX_INT,
    Query,
    json_response,
    mutation,
    parse_body,
    parse_query,
    route,
    runtime,
    submit,
)

bp = Blueprint("world", __name__, url_prefix="/api/world")

STEP_RESPONSES = {
    200: "Stepped; the delta of the last tick stepped",
    409: "The world is running: pause it first",
    415: "Body is not JSON",
    422: "Invalid count",
}


class StepBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int = Field(default=1, ge=1, le=100)


class ResetBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1)


class ReplayQuery(Query):
    tick: int = Field(ge=0, le=MAX_INT)


@route(bp, "/state", "The whole world as of the latest tick (cached per tick; ETag)")
def state() -> Response:
    body, _, etag = runtime().state()
    current = request._get_current_object()
    if "HTTP_IF_NONE_MATCH" in current.environ and current.if_none_match.contains(etag):
        response = Response(status=304)
        response.set_etag(etag)
        return response
    # Built in one go (no per-header set calls): this is the API's most polled document.
    headers = [("ETag", quote_etag(etag)), ("Cache-Control", "no-cache")]
    return Response(body, mimetype="application/json", headers=headers)


@mutation(bp, "/step", "Advance a paused world by one tick (or `count`)", body=StepBody,
          responses=STEP_RESPONSES)  # fmt: skip
def step() -> Response:
    count = parse_body(StepBody).count
    results = [runtime().step(only_when_paused=True) for _ in range(count)]
    last = results[-1]
    return json_response(
        {
            "tick": last.tick,
            "ticks": len(results),
            "delta": last.delta,
            "events": sum(len(r.events) for r in results),
            "flow": last.flow,
        }
    )


@mutation(bp, "/start", "Start (resume) the world's clock")
def start() -> Response:
    return submit(CommandKind.RESUME, parse_body(Empty).model_dump())


@mutation(bp, "/resume", "Resume the world's clock (same as start)")
def resume() -> Response:
    return submit(CommandKind.RESUME, parse_body(Empty).model_dump())


@mutation(bp, "/stop", "Pause the world's clock")
def stop() -> Response:
    return submit(CommandKind.PAUSE, parse_body(Empty).model_dump())


@mutation(bp, "/pause", "Pause the world's clock (same as stop)")
def pause() -> Response:
    return submit(CommandKind.PAUSE, parse_body(Empty).model_dump())


@mutation(bp, "/speed", "Set the speed multiplier (ticks/s = tick rate x speed)", body=SetSpeed)
def speed() -> Response:
    return submit(CommandKind.SET_SPEED, parse_body(SetSpeed).model_dump())


RESET_RESPONSES = {200: "Reset", 415: "Body is not JSON", 422: "Invalid seed"}
REPLAY_RESPONSES = {200: "Snapshot and flow history", 409: "Tick out of range", 422: "Bad tick"}


@mutation(bp, "/reset", "Start a fresh world from the scenario, optionally with a new seed",
          body=ResetBody, responses=RESET_RESPONSES, role=Role.ADMIN)  # fmt: skip
def reset() -> Response:
    seed = parse_body(ResetBody).seed
    engine = runtime().reset(seed)
    return json_response({"tick": engine.tick, "seed": engine.seed, "reset": True})


@route(bp, "/replay", "The world as it was at `tick`, rebuilt from seed and commands",
       query=ReplayQuery, responses=REPLAY_RESPONSES)  # fmt: skip
def replay() -> Response:
    tick = parse_query(ReplayQuery).tick
    engine = runtime().replay(tick)
    return json_response(
        {"tick": tick, "snapshot": engine.snapshot(), "flow_history": list(engine.flow.history)}
    )
# Viewers may time-travel: the rebuild starts from the nearest stored snapshot, and the
# application-wide rate limit applies to it like to any other API read.
