"""Reading the world: every collection and detail endpoint, and its 404."""

from __future__ import annotations

import csv
import io

import pytest

COLLECTIONS = [
    ("/api/floors", "floors"),
    ("/api/departments", "departments"),
    ("/api/offices", "offices"),
    ("/api/agents", "agents"),
    ("/api/directives", "directives"),
    ("/api/tasks", "tasks"),
    ("/api/meetings", "meetings"),
    ("/api/votes", "votes"),
    ("/api/supply-store/tools", "tools"),
    ("/api/supply-store/checkouts", "checkouts"),
    ("/api/contracts", "contracts"),
    ("/api/artifacts", "artifacts"),
    ("/api/audit/events", "events"),
    ("/api/flow/history", "history"),
]

DETAILS = [
    ("/api/floors/{}", "floors", "id"),
    ("/api/offices/{}", "offices", "id"),
    ("/api/agents/{}", "agents", "id"),
    ("/api/agents/{}/status", "agents", "id"),
    ("/api/directives/{}", "directives", "id"),
    ("/api/tasks/{}", "tasks", "id"),
    ("/api/meetings/{}", "meetings", "id"),
    ("/api/votes/{}", "votes", "id"),
    ("/api/contracts/{}", "contracts", "id"),
    ("/api/artifacts/{}", "artifacts", "id"),
    ("/api/audit/events/{}", "events", "seq"),
    ("/api/audit/events/{}/lineage", "events", "seq"),
]


@pytest.mark.parametrize(("path", "key"), COLLECTIONS)
def test_every_collection_lists_its_items(stepped_client, path, key):
    response = stepped_client.get(path)
    assert response.status_code == 200
    assert response.get_json()[key], f"{path} is empty after 40 ticks"


@pytest.mark.parametrize(("template", "collection", "field"), DETAILS)
def test_every_detail_answers_for_a_known_id(stepped_client, template, collection, field):
    listing = stepped_client.get(COLLECTION_PATH[collection]).get_json()[collection]
    ident = listing[0][field]
    response = stepped_client.get(template.format(ident))
    assert response.status_code == 200
    assert str(ident) in response.get_data(as_text=True)


@pytest.mark.parametrize(("template", "collection", "field"), DETAILS)
def test_every_detail_answers_404_for_an_unknown_id(client, template, collection, field):
    response = client.get(template.format("999999"))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


COLLECTION_PATH = {key: path for path, key in COLLECTIONS}


def test_the_version_0_1_paths_keep_working(stepped_client):
    agent = stepped_client.get("/api/agents").get_json()["agents"][0]["id"]
    task = stepped_client.get("/api/tasks").get_json()["tasks"][0]["id"]
    for path in [
        "/api",
        "/api/world/state",
        "/api/agents",
        f"/api/agents/{agent}/status",
        "/api/tasks",
        f"/api/tasks/{task}",
        "/api/departments",
        "/api/supply-store",
        "/api/audit/events",
        "/api/contracts",
        "/api/floors",
        "/api/floors/python",
    ]:
        assert stepped_client.get(path).status_code == 200, path


def test_tasks_filter_by_state_floor_and_role_and_paginate(stepped_client):
    everything = stepped_client.get("/api/tasks?limit=500").get_json()
    state = everything["tasks"][0]["state"]
    by_state = stepped_client.get(f"/api/tasks?state={state}&limit=500").get_json()
    assert by_state["tasks"] and all(t["state"] == state for t in by_state["tasks"])
    python = stepped_client.get("/api/tasks?floor=python&limit=500").get_json()["tasks"]
    assert python and all(t["floor_id"] == "python" for t in python)
    builders = stepped_client.get("/api/tasks?role=builder&limit=500").get_json()["tasks"]
    builder_ids = {
        a["id"] for a in stepped_client.get("/api/agents?role=builder").get_json()["agents"]
    }
    assert builders and all(t["assignee"] in builder_ids for t in builders)
    page = stepped_client.get("/api/tasks?limit=2&offset=1").get_json()
    assert page["tasks"] == everything["tasks"][1:3]
    assert (page["total"], page["limit"], page["offset"]) == (everything["total"], 2, 1)


def test_task_filters_reject_unknown_states_naming_the_parameter(client):
    response = client.get("/api/tasks?state=done")
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {
        **response.get_json()["error"]["details"],
        "field": "state",
        "in": "query",
    }


def test_task_detail_carries_its_state_history(stepped_client):
    task = stepped_client.get("/api/tasks?state=in_progress").get_json()["tasks"][0]
    detail = stepped_client.get(f"/api/tasks/{task['id']}").get_json()
    assert detail["history"][0]["from"] == "scheduled"


def test_directive_detail_carries_its_task_tree(stepped_client):
    directives = stepped_client.get("/api/directives").get_json()["directives"]
    designed = next(d for d in directives if d["task_ids"])
    tree = stepped_client.get(f"/api/directives/{designed['id']}").get_json()["tree"]
    assert [t["id"] for t in tree["tasks"]] == designed["task_ids"]
    assert all(len(edge) == 2 for edge in tree["edges"])


def test_meeting_detail_carries_the_decision_transcript(stepped_client):
    meetings = stepped_client.get("/api/meetings?open=false").get_json()["meetings"]
    detail = stepped_client.get(f"/api/meetings/{meetings[0]['id']}").get_json()
    assert detail["transcript"] and detail["decision"]["kind"] == "decision_transcript"


def test_supply_store_lists_tools_and_checkouts(stepped_client):
    store = stepped_client.get("/api/supply-store?floor=python").get_json()
    assert store["tools"] and all(t["floor_id"] == "python" for t in store["tools"])
    assert isinstance(store["checkouts"], list)


def test_elevator_reports_its_level_and_queue(client):
    elevator = client.get("/api/elevator").get_json()
    assert {"level", "queue", "cargo"} <= set(elevator)


def test_flow_current_and_csv_export(stepped_client):
    current = stepped_client.get("/api/flow").get_json()
    assert current["latest"]["tick"] == 40 and current["summary"]["ticks"] == 40
    response = stepped_client.get("/api/flow/export.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 40 and rows[-1]["tick"] == "40" and "state_in_progress" in rows[0]


def test_flow_history_after_a_tick(stepped_client):
    rows = stepped_client.get("/api/flow/history?since=35").get_json()["history"]
    assert [r["tick"] for r in rows] == [36, 37, 38, 39, 40]


def test_audit_events_filter_by_kind_actor_target_and_ticks(stepped_client):
    hired = stepped_client.get("/api/audit/events?kind=agent.hired&limit=500").get_json()
    assert hired["events"] and all(e["kind"] == "agent.hired" for e in hired["events"])
    prefix = stepped_client.get("/api/audit/events?kind=task.&limit=500").get_json()["events"]
    assert prefix and all(e["kind"].startswith("task.") for e in prefix)
    system = stepped_client.get("/api/audit/events?actor=system&limit=5").get_json()["events"]
    assert all(e["actor"] == "system" for e in system)
    target = hired["events"][0]["target"]
    by_target = stepped_client.get(f"/api/audit/events?target={target}").get_json()["events"]
    assert all(e["target"] == target for e in by_target)
    window = stepped_client.get("/api/audit/events?tick_from=3&tick_to=4&limit=500").get_json()
    assert window["events"] and all(3 <= e["tick"] <= 4 for e in window["events"])


def test_audit_events_refuse_an_inverted_tick_range(client):
    assert client.get("/api/audit/events?tick_from=5&tick_to=1").status_code == 422


def test_audit_verify_walks_the_chain(stepped_client):
    verdict = stepped_client.get("/api/audit/verify").get_json()
    count = stepped_client.get("/api/world/state").get_json()["audit"]["count"]
    assert verdict["valid"] is True and verdict["checked"] == count


def test_lineage_follows_parents_and_children(stepped_client):
    lineage = stepped_client.get("/api/audit/events/1/lineage").get_json()
    assert lineage["event"]["kind"] == "world.created"
    assert lineage["ancestors"] == [] and lineage["descendants"]
    child = lineage["descendants"][0]["seq"]
    back = stepped_client.get(f"/api/audit/events/{child}/lineage").get_json()
    genesis = 1
    assert genesis in [e["seq"] for e in back["ancestors"]]
