"""World: state, time control (step, start, stop, speed), reset and replay."""

from __future__ import annotations

from flask import Blueprint, Response, request
from pydantic import BaseModel, ConfigDict, Field
from werkzeug.http import quote_etag

from ...service import compat
from ...service.runtime import SPEED_MAX, SPEED_MIN
from ...sim.commands import CommandKind, Empty, SetSpeed
from ...store.tokens import AccessRole
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
    200: "Stepped (paused world: the delta of the last tick), or, while the world runs, "
    "`count` extra ticks queued for the loop (`queued`: true)",
    415: "Body is not JSON",
    422: "Invalid count",
}


class StepBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int = Field(default=1, ge=1, le=100)


class SpeedBody(SetSpeed):
    """The speed multiplier, bounded: below SPEED_MIN the clock would all but stop."""

    speed: float = Field(ge=SPEED_MIN, le=SPEED_MAX, description="ticks/s = tick rate x speed")


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
    headers = [("ETag", quote_etag(etag)), ("Cache-Control", "no-store")]
    return Response(body, mimetype="application/json", headers=headers)


@mutation(bp, "/step", "Advance a paused world by one tick (or `count`)", body=StepBody,
          responses=STEP_RESPONSES)  # fmt: skip
def step() -> Response:
    count = parse_body(StepBody).count
    sim = runtime()
    running = sim.read(lambda e: e.world.running)
    if running and sim.forward is None and sim.loop_state == "running":
        # 0.1.0 clients step whatever the clock does: the loop runs `count` extra ticks.
        for _ in range(count):
            target = sim.queue_extra_tick()
        return json_response({"success": True, "queued": True, "tick": target, "ticks": count,
                              "time": target, "tick_count": target})  # fmt: skip
    # Paused, or no loop here (driven by hand, or a follower that forwards): step now.
    results = [sim.step() for _ in range(count)]
    last = results[-1]
    return json_response(
        {
            "success": True,
            "queued": False,
            "tick": last.tick,
            "time": last.tick,
            "tick_count": last.tick,
            "ticks": len(results),
            "delta": last.delta,
            "events": sum(len(r.events) for r in results),
            "flow": compat.flow_row(last.flow),
        }
    )


def _clock(kind: CommandKind, message: str) -> Response:
    """Start/stop: the command answer plus 0.1.0's success and message."""
    response = submit(kind, parse_body(Empty).model_dump())
    data = response.get_json()
    return json_response({**data, "success": True, "message": message}, response.status_code)


@mutation(bp, "/start", "Start (resume) the world's clock")
def start() -> Response:
    return _clock(CommandKind.RESUME, "simulation started")


@mutation(bp, "/resume", "Resume the world's clock (same as start)")
def resume() -> Response:
    return submit(CommandKind.RESUME, parse_body(Empty).model_dump())


@mutation(bp, "/stop", "Pause the world's clock")
def stop() -> Response:
    return _clock(CommandKind.PAUSE, "simulation stopped")


@mutation(bp, "/pause", "Pause the world's clock (same as stop)")
def pause() -> Response:
    return submit(CommandKind.PAUSE, parse_body(Empty).model_dump())


@mutation(bp, "/speed", f"Set the speed multiplier, {SPEED_MIN} to {SPEED_MAX:g} "
          "(ticks/s = tick rate x speed)", body=SpeedBody)  # fmt: skip
def speed() -> Response:
    return submit(CommandKind.SET_SPEED, parse_body(SpeedBody).model_dump())


RESET_RESPONSES = {
    200: "A new run started; the previous one is kept (GET /api/runs)",
    415: "Body is not JSON",
    422: "Invalid seed",
    503: "The store cannot be written (nothing changed; see Retry-After)",
    507: "The disk holding the store is full (nothing changed; see Retry-After)",
}
REPLAY_RESPONSES = {200: "Snapshot and flow history", 409: "Tick out of range", 422: "Bad tick"}


@mutation(bp, "/reset", "Start a fresh world from the scenario, optionally with a new seed",
          body=ResetBody, responses=RESET_RESPONSES, role=AccessRole.ADMIN)  # fmt: skip
def reset() -> Response:
    seed = parse_body(ResetBody).seed
    sim = runtime()
    engine = sim.reset(seed)
    persistence = sim.persistence
    run = persistence.store.run_id if persistence is not None else None
    return json_response({"tick": engine.tick, "seed": engine.seed, "reset": True, "run": run})


# Viewers may time-travel: the rebuild starts from the nearest stored snapshot, and the
# application-wide rate limit applies to it like to any other API read.
@route(bp, "/replay", "The world as it was at `tick`, rebuilt from seed and commands",
       query=ReplayQuery, responses=REPLAY_RESPONSES)  # fmt: skip
def replay() -> Response:
    tick = parse_query(ReplayQuery).tick
    engine = runtime().replay(tick)
    return json_response(
        {
            "tick": tick,
            "snapshot": compat.snapshot(engine),
            "flow_history": [compat.flow_row(r) for r in engine.flow.history],
        }
    )
