"""Health probes: /health (overall), /health/live and /health/ready."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app

from .. import __version__
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


def _answer(body: dict[str, Any], healthy: bool) -> Response:
    response = Response(dumps(body), status=200 if healthy else 503, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
@describe(Operation("Service health: status, version, simulation state and tick", "health",
                    responses=PROBE))  # fmt: skip
def health() -> Response:
    runtime = _runtime()
    header = runtime.read(
        lambda e: {"tick": e.tick, "running": e.world.running, "speed": e.world.speed}
    )
    healthy = _loop_ok(runtime)
    status = "ok" if healthy else ("starting" if runtime.loop_state == "starting" else "down")
    body = {
        "status": status,
        "service": "miniature-office",
        "version": __version__,
        "tick": header["tick"],
        "simulation": {**header, "loop": runtime.loop_state, "last_tick_at": runtime.last_tick_at},
        "role": runtime.role,
    }
    return _answer(body, healthy)


@bp.get("/live")
@describe(Operation("Liveness: the process answers and the tick loop has not died", "health",
                    responses=PROBE))  # fmt: skip
def live() -> Response:
    alive = _runtime().loop_state != "dead"
    return _answer({"status": "ok" if alive else "down"}, alive)


@bp.get("/ready")
@describe(Operation("Readiness: the world is built and the tick loop runs", "health",
                    responses=PROBE))  # fmt: skip
def ready() -> Response:
    ok = _loop_ok(_runtime())
    return _answer({"status": "ok" if ok else "not_ready"}, ok)
