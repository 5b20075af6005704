"""Health probes: /health (overall), /health/live and /health/ready."""

from __future__ import annotations

from functools import lru_cache

from flask import Blueprint, Response, current_app

from .. import __version__
from ..sim.engine import Engine
from .openapi import Operation, describe
from .runtime import SimulationRuntime, dumps

bp = Blueprint("health", __name__, url_prefix="/health")
PROBE = {200: "Healthy", 503: "Starting, or the tick loop has died"}


def _runtime() -> SimulationRuntime:
    return current_app.extensions["miniature_office"]


def _loop_ok(runtime: SimulationRuntime) -> bool:
    """The loop is running, or the app was built without one (driven by hand)."""
    if not current_app.config["MINIOFFICE"].tick_loop:
        return runtime.loop_state not in ("dead",)
    return runtime.loop_state in ("running", "following")


def _answer(body: bytes, healthy: bool) -> Response:
    response = Response(body, status=200 if healthy else 503, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _header(engine: Engine) -> tuple[int, bool, float]:
    return engine.tick, engine.world.running, engine.world.speed


@lru_cache(maxsize=8)
def _health_body(
    status: str, tick: int, running: bool, speed: float, loop: str, last: float | None, role: str
) -> bytes:
    # Probes poll this often; the body changes at most once per tick, so encode it once.
    simulation = {"tick": tick, "running": running, "speed": speed, "loop": loop}
    return dumps(
        {
            "status": status,
            "service": "miniature-office",
            "version": __version__,
            "tick": tick,
            "simulation": {**simulation, "last_tick_at": last},
            "role": role,
        }
    )


@lru_cache(maxsize=8)
def _status_body(status: str) -> bytes:
    return dumps({"status": status})


@bp.get("")
@describe(Operation("Service health: status, version, simulation state and tick", "health",
                    responses=PROBE))  # fmt: skip
def health() -> Response:
    runtime = _runtime()
    tick, running, speed = runtime.read(_header)
    healthy = _loop_ok(runtime)
    loop = runtime.loop_state
    status = "ok" if healthy else ("starting" if loop == "starting" else "down")
    body = _health_body(status, tick, running, speed, loop, runtime.last_tick_at, runtime.role)
    return _answer(body, healthy)


@bp.get("/live")
@describe(Operation("Liveness: the process answers and the tick loop has not died", "health",
                    responses=PROBE))  # fmt: skip
def live() -> Response:
    alive = _runtime().loop_state != "dead"
    return _answer(_status_body("ok" if alive else "down"), alive)


@bp.get("/ready")
@describe(Operation("Readiness: the world is built and the tick loop runs", "health",
                    responses=PROBE))  # fmt: skip
def ready() -> Response:
    ok = _loop_ok(_runtime())
    return _answer(_status_body("ok" if ok else "not_ready"), ok)
