"""Mutations are commands: validated, numbered and applied (at once while paused)."""

from __future__ import annotations

from miniature_office.web.app import get_runtime

from .conftest import build_app


def _applied(response):
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "applied", body
    return body["command"]


def test_create_directive_is_a_numbered_command(client):
    command = _applied(client.post("/api/directives", json={"title": "Ship", "floor": "python"}))
    assert command["seq"] == 1 and command["kind"] == "create_directive"
    titles = [d["title"] for d in client.get("/api/directives").get_json()["directives"]]
    assert "Ship" in titles


def test_create_directive_names_the_invalid_field(client):
    response = client.post("/api/directives", json={"title": "", "floor": "python"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["details"]["field"] == "title" and error["message"].startswith("title")


def test_create_directive_on_an_unknown_floor_is_invalid(client):
    response = client.post("/api/directives", json={"title": "x", "floor": "cobol"})
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["field"] == "floor"


def test_hire_adds_an_agent(client):
    before = len(client.get("/api/agents").get_json()["agents"])
    _applied(client.post("/api/agents", json={"floor": "python", "role": "verifier"}))
    agents = client.get("/api/agents?role=verifier&floor=python").get_json()["agents"]
    assert len(client.get("/api/agents").get_json()["agents"]) == before + 1
    assert len(agents) == 2


def test_hire_refuses_an_unknown_role(client):
    response = client.post("/api/agents", json={"floor": "python", "role": "intern"})
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["field"] == "role"


def test_dismiss_removes_an_agent(client):
    agent = client.get("/api/agents?role=builder").get_json()["agents"][0]["id"]
    _applied(client.delete(f"/api/agents/{agent}"))
    assert client.get(f"/api/agents/{agent}").status_code == 404


def test_dismiss_of_an_unknown_agent_is_404(client):
    assert client.delete("/api/agents/A-9999").status_code == 404


def test_block_and_unblock_a_task(stepped_client):
    task = stepped_client.get("/api/tasks?state=scheduled").get_json()["tasks"]
    task = task[0] if task else stepped_client.get("/api/tasks").get_json()["tasks"][0]
    path = f"/api/tasks/{task['id']}"
    _applied(stepped_client.post(path + "/block", json={"reason": "waiting on legal"}))
    assert stepped_client.get(path).get_json()["state"] == "blocked"
    _applied(stepped_client.post(path + "/unblock"))
    assert stepped_client.get(path).get_json()["state"] == task["state"]


def test_unblocking_a_task_that_is_not_blocked_is_a_conflict(stepped_client):
    task = stepped_client.get("/api/tasks").get_json()["tasks"][0]["id"]
    response = stepped_client.post(f"/api/tasks/{task}/unblock")
    assert response.status_code == 409


def test_block_needs_a_reason(stepped_client):
    task = stepped_client.get("/api/tasks").get_json()["tasks"][0]["id"]
    response = stepped_client.post(f"/api/tasks/{task}/block", json={})
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["field"] == "reason"


def test_override_of_a_closed_vote_is_a_conflict_and_unknown_is_404(stepped_client):
    votes = stepped_client.get("/api/votes").get_json()["votes"]
    closed = next(v for v in votes if v["outcome"] != "open")
    body = {"outcome": "carried", "reason": "release deadline"}
    assert stepped_client.post(f"/api/votes/{closed['id']}/override", json=body).status_code == 409
    assert stepped_client.post("/api/votes/V-9999/override", json=body).status_code == 404


def test_override_of_an_open_vote_is_applied(stepped_client):
    for _ in range(30):
        votes = stepped_client.get("/api/votes?outcome=open").get_json()["votes"]
        if votes:
            break
        stepped_client.post("/api/world/step")
    body = {"outcome": "carried", "reason": "release deadline"}
    _applied(stepped_client.post(f"/api/votes/{votes[0]['id']}/override", json=body))
    outcome = stepped_client.get(f"/api/votes/{votes[0]['id']}").get_json()["outcome"]
    assert outcome == "overridden_carried"


def test_add_tool_to_the_supply_store(client):
    tool = {"floor": "python", "name": "mypy", "kind": "linter", "capabilities": ["lint"]}
    _applied(client.post("/api/supply-store/tools", json=tool))
    names = [t["name"] for t in client.get("/api/supply-store/tools").get_json()["tools"]]
    assert "mypy" in names


def test_commands_applied_at_a_tick_report_their_outcome():
    app = build_app(autostart=True)
    client = app.test_client()
    queued = client.post("/api/agents", json={"floor": "python", "role": "builder"})
    assert queued.status_code == 202
    seq = queued.get_json()["command"]["seq"]
    get_runtime(app).step()
    events = client.get("/api/audit/events?kind=command.applied").get_json()["events"]
    assert events[0]["target"] == f"command:{seq}"
