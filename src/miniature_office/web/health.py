"""Health probes: /health (overall), /health/live and /health/ready.

/health keeps version 0.1.0's fields with their meaning -- ``status`` "healthy" (200) or
"starting"/"unhealthy" (503), ``service``, ``version``, ``simulation`` as a string ("running",
"paused", "initializing") -- and adds ``engine`` (state, reason, seconds since the last tick,
advice, tick) and ``world`` (today's details: tick, running, speed, loop, last tick time).
``engine.state`` is one of running, paused, stalled, stopped, store_unavailable, starting,
following; stalled means no tick for several tick intervals while the world runs.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from flask import Blueprint, Response, current_app, request

from .. import __version__
from ..service.encoding import dumps
from ..service.runtime import SimulationRuntime
from .extension import get_runtime
from .openapi import Operation, describe

bp = Blueprint("health", __name__, url_prefix="/health")
PROBE = {200: "Healthy", 503: "Starting, or the engine is stalled, stopped or cannot write"}
#: Engine states in which the service does its job (reads and ticks).
GOOD = frozenset({"running", "paused", "following"})


def _runtime() -> SimulationRuntime:
    return get_runtime(current_app)


def _engine(runtime: SimulationRuntime) -> dict:
    by_hand = not current_app.config["MINIOFFICE"].tick_loop
    return runtime.engine_state(driven_by_hand=by_hand)


def probe(runtime: SimulationRuntime, by_hand: bool) -> tuple[bytes, bool, str]:
    """/health's answer as (encoded body, healthy, quoted ETag).

    The Flask view and the hot-read path (web/hot.py) both answer from this, so they send the
    same bytes; the body and its ETag are encoded once per distinct answer.
    """
    engine = runtime.engine_state(driven_by_hand=by_hand)
    body, etag = _health_body(
        engine["state"], engine["reason"], engine["seconds_since_tick"], engine["advice"],
        engine["tick"], engine["running"], engine["speed"], runtime.loop_state,
        runtime.last_tick_at, runtime.role,
    )  # fmt: skip
    return body, engine["state"] in GOOD, etag


def _answer(body: bytes, healthy: bool) -> Response:
    response = Response(body, status=200 if healthy else 503, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@lru_cache(maxsize=16)
def _health_body(
    state: str,
    reason: str | None,
    since: float | None,
    advice: str | None,
    tick: int,
    running: bool,
    speed: float,
    loop: str,
    last: float | None,
    role: str,
) -> tuple[bytes, str]:
    # Probes poll this often; the body changes at most once per tick (or 0.1 s), so encode once.
    status = "healthy" if state in GOOD else ("starting" if state == "starting" else "unhealthy")
    simulation = "initializing" if state == "starting" else ("running" if running else "paused")
    engine = {"state": state, "reason": reason, "seconds_since_tick": since, "advice": advice,
              "tick": tick}  # fmt: skip
    body = dumps(
        {
            "status": status,
            "service": "miniature-office",
            "version": __version__,
            "simulation": simulation,
            "engine": engine,
            "tick": tick,
            "world": {"tick": tick, "running": running, "speed": speed, "loop": loop,
                      "last_tick_at": last},  # fmt: skip
            "role": role,
        }
    )
    return body, '"' + hashlib.blake2b(body, digest_size=8).hexdigest() + '"'


@lru_cache(maxsize=8)
def _status_body(status: str) -> bytes:
    return dumps({"status": status})


@bp.get("")
@describe(Operation("Service health: status, version, simulation state and the engine's state",
                    "health", responses=PROBE))  # fmt: skip
def health() -> Response:
    body, healthy, etag = probe(_runtime(), not current_app.config["MINIOFFICE"].tick_loop)
    if healthy and etag in request.headers.get("If-None-Match", ""):
        return Response(status=304, headers=[("ETag", etag), ("Cache-Control", "no-store")])
    response = _answer(body, healthy)
    response.headers["ETag"] = etag
    return response


@bp.get("/live")
@describe(Operation("Liveness: the process answers and the tick loop has not died", "health",
                    responses=PROBE))  # fmt: skip
def live() -> Response:
    alive = _runtime().loop_state != "dead"
    return _answer(_status_body("ok" if alive else "down"), alive)


@bp.get("/ready")
@describe(Operation("Readiness: the world is built, ticks arrive and the store can be written",
                    "health", responses=PROBE))  # fmt: skip
def ready() -> Response:
    state = _engine(_runtime())["state"]
    ok = state in GOOD
    return _answer(_status_body("ok" if ok else state), ok)
