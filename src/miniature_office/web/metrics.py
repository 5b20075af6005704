"""Prometheus metrics: a collector that reads the world at scrape time, plus HTTP and tick
figures, all in a registry that belongs to the app (not prometheus_client's global one)."""

from __future__ import annotations

import math
import time
from typing import Any, Iterator

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .. import __version__
from ..native import build_label
from ..service.events import RuntimeListener
from ..service.runtime import SimulationRuntime
from ..sim.agents import AgentStatus, Role
from ..sim.engine import Engine, TickResult
from ..sim.stalls import stalls_by_cause
from ..sim.tasks import BOARD_ORDER, TaskState
from .openapi import Operation, describe

bp = Blueprint("metrics", __name__)
#: WSGI environ key holding the request's start (``time.perf_counter()``).
STARTED = "miniature_office.started"
#: Method label values: a closed set, anything else is "other" (a client chooses the method
#: name, and each new label value would be a new time series kept for the process's life).
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
TICK_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class WorldCollector(Collector):
    """Reads the world when Prometheus scrapes; nothing is copied between scrapes."""

    def __init__(self, runtime: SimulationRuntime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        runtime = self.runtime
        figures = runtime.read(_figures)
        verdict = runtime.verify_audit()
        yield _gauge("minioffice_world_time", "Ticks since the world began", figures["tick"])
        yield _gauge("minioffice_floors_total", "Floors in the world", figures["floors"])
        yield _gauge("minioffice_agents_total", "Agents on staff", figures["agents"])
        yield _gauge("minioffice_artifacts_total", "Artifacts produced", figures["artifacts"])
        yield _gauge("minioffice_audit_events_total", "Audit events logged", figures["events"])
        yield _labelled("minioffice_tasks", "Tasks per state", "state", figures["tasks"])
        yield _gauge(
            "minioffice_backlog_directives",
            "Offered directives waiting for admission (at most the scenario's max_backlog)",
            figures["backlog"],
        )
        yield _labelled("minioffice_agents_by_role", "Agents per role", "role", figures["by_role"])
        yield _labelled(
            "minioffice_agents_by_status", "Agents per status", "status", figures["by_status"]
        )
        yield _gauge(
            "minioffice_throughput_tasks_per_day",
            "Deployments over the last simulated day",
            figures["throughput"],
        )
        yield _gauge(
            "minioffice_lead_time_ticks",
            "Median lead time of recently deployed directives (NaN before the first)",
            figures["lead_time"],
        )
        yield _gauge(
            "minioffice_audit_chain_valid", "1 when the audit chain verifies", verdict.valid
        )
        yield _gauge(
            "minioffice_tick_loop_running", "1 while the tick loop runs", runtime.loop_alive
        )
        yield _gauge(
            "minioffice_last_tick_timestamp_seconds",
            "Unix time of the last tick (0 before the first)",
            runtime.last_tick_at or 0.0,
        )
        yield _gauge("minioffice_socketio_clients", "Connected Socket.IO clients", runtime.clients)
        # An info metric: always 1; the labels say what runs (miniature_office/native.py).
        build = GaugeMetricFamily(
            "minioffice_build_info",
            "The version and the simulation build running (compiled (mypyc) or pure python)",
            labels=["version", "simulation"],
        )
        build.add_metric([__version__, build_label()], 1.0)
        yield build
        yield _labelled(
            "minioffice_stalls_open",
            "Work that cannot progress now, per cause (closed set: sim/stalls.STALL_CAUSES)",
            "cause",
            figures["stalls"],
        )


def _figures(engine: Engine) -> dict[str, Any]:
    world = engine.world
    tasks = {s.value: world.board.state_counts[s] for s in BOARD_ORDER}
    tasks[TaskState.DEPLOYED.value] = world.totals["tasks_deployed"]
    by_role = {r.value: 0 for r in Role}
    by_status = {s.value: 0 for s in AgentStatus}
    for agent in world.building.agents.values():
        by_role[agent.role.value] += 1
        by_status[agent.status.value] += 1
    latest = engine.flow.latest
    lead = latest.lead_time_p50_ticks if latest is not None else None
    return {
        "tick": world.tick,
        "floors": len(world.building.floors),
        "agents": len(world.building.agents),
        "artifacts": world.totals["artifacts"],
        "events": world.audit.count,
        "tasks": tasks,
        "backlog": len(world.board.backlog),
        "by_role": by_role,
        "by_status": by_status,
        "throughput": latest.throughput_directives_per_day if latest is not None else 0,
        "lead_time": math.nan if lead is None else float(lead),
        "stalls": stalls_by_cause(world),
    }


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=float(value))


def _labelled(name: str, doc: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in values.items():
        family.add_metric([key], float(value))
    return family


class Metrics(RuntimeListener):
    """The app's registry and the figures recorded as things happen (HTTP, ticks)."""

    def __init__(self, runtime: SimulationRuntime) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(WorldCollector(runtime))
        self.requests = Counter(
            "minioffice_http_requests",
            "HTTP requests by endpoint, method and status",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "minioffice_http_request_duration_seconds",
            "HTTP request duration by endpoint",
            ["endpoint"],
            registry=self.registry,
        )
        self.tick_duration = Histogram(
            "minioffice_tick_duration_seconds",
            "Wall time of one simulation tick",
            buckets=TICK_BUCKETS,
            registry=self.registry,
        )
        # Label children, looked up once each: labels() validates and locks on every call.
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[str, Any] = {}

    def record(self, endpoint: str, method: str, status: int, started: float | None) -> None:
        """Count one HTTP request and time it from ``started`` (``time.perf_counter()``).

        Called by Flask's after_request hook and by the hot-read path (web/hot.py), which
        answers without Flask: both count under the route's rule, so the series are the same.
        """
        if method not in KNOWN_METHODS:
            method = "other"
        key = (endpoint, method, status)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = self.requests.labels(endpoint, method, str(status))
        counter.inc()
        if started is not None:
            timer = self._timers.get(endpoint)
            if timer is None:
                timer = self._timers[endpoint] = self.latency.labels(endpoint)
            timer.observe(time.perf_counter() - started)

    def tick_end(self, result: TickResult, duration: float) -> None:
        """Time the tick."""
        self.tick_duration.observe(duration)


def init_metrics(app: Flask, runtime: SimulationRuntime) -> Metrics:
    """Create the registry, time every request and register /metrics."""
    metrics = Metrics(runtime)
    app.extensions["miniature_office.metrics"] = metrics

    @app.after_request
    def _record(response: Response) -> Response:
        # The request's start time is stamped into the WSGI environ by app.Dispatch (outside
        # Flask), which saves a before_request hook and a `g` round trip on every request.
        current = request._get_current_object()  # one proxy lookup instead of three
        environ = current.environ
        rule = current.url_rule
        endpoint = rule.rule if rule is not None else "unmatched"
        metrics.record(
            endpoint, environ["REQUEST_METHOD"], response.status_code, environ.get(STARTED)
        )
        return response

    app.register_blueprint(bp)
    return metrics


@bp.get("/metrics")
@describe(Operation("Prometheus metrics (text exposition format)", "metrics",
                    content_type=CONTENT_TYPE_LATEST))  # fmt: skip
def metrics_endpoint() -> Response:
    registry = current_app.extensions["miniature_office.metrics"].registry
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
