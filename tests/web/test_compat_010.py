"""Version 0.1.0's clients keep working: every field its answers had is still there, with the
same meaning, beside today's (the list is the one in issue 13)."""

from __future__ import annotations

from miniature_office import __version__
from miniature_office.service.compat import FLOW_ROW_010
from miniature_office.sim.flow_row import FlowRow
from miniature_office.web.app import get_socketio

from .conftest import build_app


def test_health_has_0_1_0s_fields(stepped_client):
    response = stepped_client.get("/health")
    body = response.get_json()
    assert response.status_code == 200 and body["status"] == "healthy"
    assert body["service"] == "miniature-office" and body["version"] == __version__
    assert body["simulation"] == "paused"
    stepped_client.post("/api/world/start", json={})
    assert stepped_client.get("/health").get_json()["simulation"] == "running"


def test_api_index_has_name_version_description_and_endpoints_by_method_and_path(client):
    body = client.get("/api").get_json()
    assert body["name"] == "miniature-office" and body["version"] == __version__
    assert isinstance(body["description"], str) and body["description"]
    assert isinstance(body["endpoints"], dict)
    assert isinstance(body["endpoints"]["GET /api/agents"], str)
    assert "POST /api/world/step" in body["endpoints"]


def test_world_state_has_a_world_with_name_and_time(stepped_client):
    world = stepped_client.get("/api/world/state").get_json()["world"]
    assert world == {"name": "default", "time": 40}


def test_step_start_and_stop_answer_success(client):
    body = client.post("/api/world/step").get_json()
    assert body["success"] is True and body["time"] == 1 and body["tick_count"] == 1
    for path, message in (("/api/world/start", "started"), ("/api/world/stop", "stopped")):
        answer = client.post(path, json={}).get_json()
        assert answer["success"] is True and message in answer["message"]


def test_agents_have_agent_id_name_role_status(stepped_client, runtime):
    agents = stepped_client.get("/api/agents").get_json()["agents"]
    world = runtime.engine.world
    for agent in agents:
        held = world.building.agents[agent["agent_id"]]
        assert (agent["name"], agent["role"], agent["status"]) == (
            held.name, held.role.value, held.status.value
        )  # fmt: skip


def test_agent_status_has_0_1_0s_fields(stepped_client, runtime):
    world = runtime.engine.world
    builder, held = next(
        (a, a.to_dict()) for a in world.building.agents.values()
        if a.role.value == "builder" and a.to_dict()["task_id"] is not None
    )  # fmt: skip
    body = stepped_client.get(f"/api/agents/{builder.id}/status").get_json()
    assert body["agent_id"] == builder.id and body["name"] == builder.name
    assert body["role"] == "builder" and body["status"] == builder.status.value
    assert body["department_id"] == builder.floor_id
    assert body["current_task_id"] == held["task_id"]
    assert body["capabilities"] == sorted(builder.skills)
    assert held["task_id"] in body["task_history"]


def test_tasks_have_task_id_name_state_and_assignee(stepped_client, runtime):
    tasks = stepped_client.get("/api/tasks?limit=500").get_json()["tasks"]
    world = runtime.engine.world
    assert tasks
    for task in tasks:
        held = world.board.tasks[task["task_id"]]
        assert task["name"] == held.title and task["state"] == held.state.value
        assert task["assigned_agent_id"] == held.assignee


def test_task_detail_has_0_1_0s_fields(stepped_client, runtime):
    world = runtime.engine.world
    task = next(t for t in world.board.tasks.values() if t.depends_on and t.reviews)
    body = stepped_client.get(f"/api/tasks/{task.id}").get_json()
    assert body["task_id"] == task.id and body["name"] == task.title
    assert body["description"] == task.title and body["state"] == task.state.value
    assert body["assigned_agent_id"] == task.assignee
    assert body["ambiguity_score"] == round(task.ambiguity, 3)  # as the task's JSON rounds it
    assert body["blocked_reason"] == task.blocked_reason
    assert [p["description"] for p in body["preconditions"]] == [
        f"{dep} is merged" for dep in task.depends_on
    ]
    assert all(isinstance(p["is_satisfied"], bool) for p in body["preconditions"])
    assert len(body["postconditions"]) == len(task.reviews)
    assert all(isinstance(p["is_met"], bool) for p in body["postconditions"])
    assert [c["description"] for c in body["acceptance_criteria"]] == list(task.acceptance)
    assert all(isinstance(c["is_met"], bool) for c in body["acceptance_criteria"])
    assert len(body["state_history"]) == len(task.history)


def test_departments_have_0_1_0s_fields(stepped_client, runtime):
    departments = stepped_client.get("/api/departments").get_json()["departments"]
    world = runtime.engine.world
    assert {d["department_id"] for d in departments} == set(world.building.floors)
    for department in departments:
        floor = world.building.floors[department["department_id"]]
        assert department["name"] == floor.name and department["domain"] == floor.language
        assert department["is_fully_staffed"] is (department["missing_roles"] == [])
        assert isinstance(department["missing_roles"], list)


def test_a_floor_without_an_architect_is_not_fully_staffed(stepped_client, runtime):
    world = runtime.engine.world
    architect = next(a for a in world.building.agents.values() if a.role.value == "architect")
    with runtime._lock:  # no command removes an agent, so the test reaches in
        del world.building.agents[architect.id]
    departments = stepped_client.get("/api/departments").get_json()["departments"]
    floor = next(d for d in departments if d["department_id"] == architect.floor_id)
    assert floor["is_fully_staffed"] is False and "architect" in floor["missing_roles"]


def test_contracts_list_is_under_contracts(stepped_client):
    assert isinstance(stepped_client.get("/api/contracts").get_json()["contracts"], list)


def test_audit_events_accept_0_1_0s_query_parameters(stepped_client):
    ours = stepped_client.get("/api/audit/events?kind=task.created&limit=5").get_json()
    old = stepped_client.get("/api/audit/events?type=task.created&limit=5").get_json()
    assert old["events"] == ours["events"] and len(old["events"]) == 5
    event = ours["events"][0]
    by_actor = stepped_client.get(f"/api/audit/events?actor_id={event['actor']}&limit=500")
    assert {e["actor"] for e in by_actor.get_json()["events"]} == {event["actor"]}
    by_target = stepped_client.get(f"/api/audit/events?target_id={event['target']}&limit=500")
    assert {e["target"] for e in by_target.get_json()["events"]} == {event["target"]}


def test_supply_store_has_tools_and_counts(stepped_client, runtime):
    body = stepped_client.get("/api/supply-store").get_json()
    tools = runtime.engine.world.building.tools.values()
    assert len(body["tools"]) == len(tools)
    assert body["available_count"] == sum(t.free_slots for t in tools)
    assert body["checked_out_count"] == sum(len(t.holders) for t in tools)


def test_a_0_1_0_client_never_sees_409_for_step():
    client = build_app(autostart=True).test_client()
    assert client.post("/api/world/step").status_code == 200


#: 0.1.0's flow columns, in 0.1.0's order; today's figures named with units follow them.
FLOW_COLUMNS_010 = [
    "tick", "day", "states", "wip", "throughput", "directives_deployed", "deployed_total",
    "throughput_per_day", "lead_time_median", "lead_time_p85", "cycle_time_median", "blocked",
    "queue", "utilisation", "escaped_defects", "defects_found", "bottleneck", "audit_head",
]  # fmt: skip


def _has_0_1_0s_flow_names(row: dict) -> None:
    """0.1.0's columns first, in their order, each short name equal to today's figure."""
    assert list(row)[: len(FLOW_COLUMNS_010)] == FLOW_COLUMNS_010
    assert set(FlowRow.from_dict(row).to_dict()) <= set(row)  # every figure of today's too
    for old, today in FLOW_ROW_010.items():
        assert row[old] == row[today], (old, today)


def test_every_flow_row_served_has_0_1_0s_names(stepped_client, runtime):
    """The flow row carries each figure once (sim/flow_row.py); the rows the service sends
    carry 0.1.0's names for six of them (service/compat.py), wherever a row goes out."""
    socketio = get_socketio(stepped_client.application)
    viewer = socketio.test_client(stepped_client.application)
    viewer.get_received()
    step = stepped_client.post("/api/world/step", json={"count": 1}).get_json()
    tick_end = next(r["args"][0] for r in viewer.get_received() if r["name"] == "tick_end")
    viewer.disconnect()
    rows = [
        step["flow"],
        tick_end["flow"],
        stepped_client.get("/api/flow").get_json()["latest"],
        stepped_client.get("/api/world/state").get_json()["flow"],
        *stepped_client.get("/api/flow/history?since=30").get_json()["history"],
        *stepped_client.get("/api/world/replay?tick=20").get_json()["flow_history"],
    ]
    assert step["flow"]["tick"] == tick_end["flow"]["tick"] == 41
    assert any(row["lead_time_median"] is not None for row in rows)  # a check with values
    for row in rows:
        _has_0_1_0s_flow_names(row)
    header = stepped_client.get("/api/flow/export.csv").get_data(as_text=True).splitlines()[0]
    scalar = [c for c in FLOW_COLUMNS_010 if c not in ("states", "queue", "utilisation",
                                                       "audit_head")]  # fmt: skip
    assert header.split(",")[: len(scalar)] == scalar
