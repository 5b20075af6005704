"""Health probes and Prometheus metrics (parsed with prometheus_client's own parser)."""

from __future__ import annotations

import math
import re

from deploy._support import METRICS
from polling import wait_for
from prometheus_client.parser import text_string_to_metric_families
from scratch import scratch_dir

from miniature_office import __version__
from miniature_office.service.config import load_config
from miniature_office.web.app import create_app, get_runtime, start_app


def _metrics(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.get_data(as_text=True))}
    return families


def _value(families, name, **labels):
    for family in families.values():
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    raise AssertionError(f"{name}{labels} not exported")


def test_health_reports_status_service_version_simulation_and_tick(stepped_client):
    body = stepped_client.get("/health").get_json()
    assert body["status"] == "healthy" and body["service"] == "miniature-office"
    assert body["version"] == __version__ and body["tick"] == 40
    assert body["simulation"] == "paused" and body["world"]["running"] is False
    engine = body["engine"]
    assert (engine["state"], engine["reason"], engine["advice"], engine["tick"]) == (
        "paused",
        None,
        None,
        40,
    )
    assert 0 <= engine["seconds_since_tick"] < 60


def test_health_is_503_while_starting_and_when_the_tick_loop_died():
    app = create_app(
        load_config(
            {},
            async_mode="threading",
            autostart=False,
            tick_loop=True,
            data_dir=scratch_dir(),
        )
    )
    runtime = get_runtime(app)
    client = app.test_client()
    runtime.stop_loop()
    runtime.loop_state = "starting"
    assert client.get("/health").status_code == 503
    assert client.get("/health").get_json()["status"] == "starting"
    assert client.get("/health").get_json()["simulation"] == "initializing"
    assert client.get("/health/ready").status_code == 503
    assert client.get("/health/live").status_code == 200
    runtime.loop_state = "dead"
    assert client.get("/health").get_json()["status"] == "unhealthy"
    assert client.get("/health").get_json()["engine"]["state"] == "stopped"
    assert client.get("/health/live").status_code == 503


def test_the_loop_runs_the_world_and_health_sees_it():
    app = create_app(
        load_config(
            {},
            async_mode="threading",
            tick_rate=50,
            tick_loop=True,
            data_dir=scratch_dir(),
        )
    )
    start_app(app)  # the server's start-up hook does this
    runtime = get_runtime(app)
    try:
        client = app.test_client()
        wait_for(lambda: runtime.read(lambda e: e.tick) >= 2, 5.0, "two ticks of the loop")
        assert client.get("/health/ready").status_code == 200
        assert client.get("/health").get_json()["tick"] >= 2
    finally:
        runtime.stop_loop()
    assert runtime.loop_state == "stopped"


def test_metrics_export_every_named_metric_with_the_world_values(stepped_client, runtime):
    stepped_client.get("/api/floors")
    families = _metrics(stepped_client)
    world = runtime.engine.world
    assert _value(families, "minioffice_world_time") == 40
    assert _value(families, "minioffice_floors_total") == 2
    assert _value(families, "minioffice_agents_total") == len(world.building.agents)
    assert _value(families, "minioffice_artifacts_total") == world.totals["artifacts"]
    assert _value(families, "minioffice_audit_events_total") == world.audit.count
    in_progress = sum(1 for t in world.board.tasks.values() if t.state.value == "in_progress")
    assert _value(families, "minioffice_tasks", state="in_progress") == in_progress
    backlog = _value(families, "minioffice_backlog_directives")
    assert backlog == len(world.board.backlog) == runtime.engine.flow.latest.backlog_directives
    builders = sum(1 for a in world.building.agents.values() if a.role.value == "builder")
    assert _value(families, "minioffice_agents_by_role", role="builder") == builders
    idle = sum(1 for a in world.building.agents.values() if a.status.value == "idle")
    assert _value(families, "minioffice_agents_by_status", status="idle") == idle
    assert _value(families, "minioffice_tick_duration_seconds_count") == 40
    latest = runtime.engine.flow.latest
    per_day = latest.throughput_directives_per_day
    assert _value(families, "minioffice_throughput_tasks_per_day") == per_day
    lead, median = _value(families, "minioffice_lead_time_ticks"), latest.lead_time_p50_ticks
    assert (math.isnan(lead) and median is None) or lead == median
    assert _value(families, "minioffice_audit_chain_valid") == 1
    assert _value(families, "minioffice_tick_loop_running") == 0
    assert _value(families, "minioffice_last_tick_timestamp_seconds") > 1e9
    assert (
        _value(
            families,
            "minioffice_http_requests_total",
            endpoint="/api/floors",
            method="GET",
            status="200",
        )
        == 1
    )
    assert _value(
        families, "minioffice_http_request_duration_seconds_count", endpoint="/api/floors"
    )
    assert _value(families, "minioffice_socketio_clients") == 0


def test_metric_names_are_exactly_the_dashboard_names(client):
    client.get("/api/floors")  # so the per-request series exist
    names = {s.name for f in _metrics(client).values() for s in f.samples}
    for name in (
        "minioffice_floors_total",
        "minioffice_agents_total",
        "minioffice_artifacts_total",
        "minioffice_audit_events_total",
    ):
        assert name in names and name + "_total" not in names
    # Exactly the documented set (DEPLOYMENT.md, dashboard and alerts are checked against it).
    exported = {
        re.sub(r"_(bucket|sum|count)$", "", name) for name in names if not name.endswith("_created")
    }
    assert exported == set(METRICS)


def test_each_app_has_its_own_registry(client, make_client):
    client.get("/api/floors")
    other = make_client()
    families = _metrics(other)
    assert not [
        s
        for s in families["minioffice_http_requests"].samples
        if s.labels.get("endpoint") == "/api/floors"
    ]


def test_a_tampered_audit_chain_reports_invalid(stepped_client, runtime):
    runtime.persistence.flush_seconds = 1e9  # the tampered event reaches the store unflushed
    families = _metrics(stepped_client)
    assert _value(families, "minioffice_audit_chain_valid") == 1
    stepped_client.post("/api/world/step")
    event = runtime.engine.world.audit.get(runtime.engine.world.audit.count)
    event.data["tampered"] = True
    assert _value(_metrics(stepped_client), "minioffice_audit_chain_valid") == 0
    assert stepped_client.get("/api/audit/verify").get_json()["first_broken"] == event.seq


def test_health_and_metrics_name_the_simulation_build_this_process_loaded(stepped_client):
    import importlib.machinery

    import miniature_office.sim.engine as engine

    native = isinstance(engine.__loader__, importlib.machinery.ExtensionFileLoader)
    build = "compiled (mypyc)" if native else "pure python"
    assert stepped_client.get("/health").get_json()["build"] == build
    families = _metrics(stepped_client)
    assert _value(families, "minioffice_build_info", simulation=build, version=__version__) == 1
