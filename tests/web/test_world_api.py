"""World control: state, step, start/stop, speed, reset and replay."""

from __future__ import annotations


def test_state_is_the_whole_world_snapshot(client):
    state = client.get("/api/world/state").get_json()
    assert state["tick"] == 0 and state["running"] is False
    assert {f["id"] for f in state["floors"]} == {"python", "javascript"}
    assert len(state["agents"]) >= 10


def test_state_is_serialised_once_per_tick_and_served_from_the_cache(client, runtime):
    first = runtime.state()[0]
    assert client.get("/api/world/state").data == first
    assert runtime.state()[0] is first  # the same bytes object: not re-encoded
    client.post("/api/world/step")
    assert runtime.state()[0] is not first


def test_state_answers_304_for_a_current_etag(client):
    etag = client.get("/api/world/state").headers["ETag"]
    assert client.get("/api/world/state", headers={"If-None-Match": etag}).status_code == 304
    client.post("/api/world/step")
    assert client.get("/api/world/state", headers={"If-None-Match": etag}).status_code == 200


def test_step_while_paused_applies_exactly_one_tick(client):
    response = client.post("/api/world/step")
    assert response.status_code == 200
    assert response.get_json()["tick"] == 1
    assert client.get("/api/world/state").get_json()["tick"] == 1


def test_step_with_a_count_advances_that_many_ticks(client):
    assert client.post("/api/world/step", json={"count": 5}).get_json()["tick"] == 5


def test_step_while_running_steps_as_0_1_0_did(make_client):
    """0.1.0 never answered 409: without a tick loop (driven by hand) it steps at once; with
    one it queues an extra tick (test_integrity.py)."""
    client = make_client(autostart=True)
    response = client.post("/api/world/step")
    body = response.get_json()
    assert response.status_code == 200 and body["success"] is True and body["queued"] is False
    assert body["time"] == body["tick_count"] == body["tick"] == 1


def test_step_with_an_out_of_range_count_names_the_field(client):
    response = client.post("/api/world/step", json={"count": 0})
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["field"] == "count"


def test_a_command_while_paused_is_applied_at_once_with_200(client):
    response = client.post("/api/world/start")
    body = response.get_json()
    assert response.status_code == 200
    assert body["status"] == "applied" and body["command"]["kind"] == "resume"
    assert client.get("/api/world/state").get_json()["running"] is True


def test_a_command_while_running_is_queued_for_the_next_tick_with_202(make_client):
    client = make_client(autostart=True)
    response = client.post("/api/world/stop")
    body = response.get_json()
    assert response.status_code == 202
    assert body["status"] == "accepted" and body["tick"] == 1
    assert body["command"]["status"] == "pending"
    assert client.get("/api/world/state").get_json()["pending_commands"] == 1


def test_pause_and_resume_are_aliases_of_stop_and_start(client):
    assert client.post("/api/world/resume").get_json()["command"]["kind"] == "resume"
    client2_kind = client.post("/api/world/pause").get_json()["command"]["kind"]
    assert client2_kind == "pause"


def test_speed_sets_the_multiplier(client):
    assert client.post("/api/world/speed", json={"speed": 4}).status_code == 200
    assert client.get("/api/world/state").get_json()["speed"] == 4


def test_speed_must_be_positive(client):
    response = client.post("/api/world/speed", json={"speed": -1})
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["field"] == "speed"


def test_reset_with_a_seed_starts_a_fresh_world(client):
    client.post("/api/world/step", json={"count": 3})
    response = client.post("/api/world/reset", json={"seed": 7})
    assert response.status_code == 200
    state = client.get("/api/world/state").get_json()
    assert (state["tick"], state["seed"]) == (0, 7)


def test_replay_returns_the_world_as_it_was_without_touching_the_live_one(client):
    client.post("/api/world/step", json={"count": 3})
    at_three = client.get("/api/world/state").get_json()
    client.post("/api/directives", json={"title": "Later work", "floor": "python"})
    client.post("/api/world/step", json={"count": 4})
    replay = client.get("/api/world/replay?tick=3").get_json()
    assert replay["tick"] == 3
    assert replay["snapshot"]["audit"] == at_three["audit"]
    assert [row["tick"] for row in replay["flow_history"]] == [1, 2, 3]
    assert client.get("/api/world/state").get_json()["tick"] == 7


def test_replay_of_a_future_tick_is_a_conflict_and_a_bad_tick_is_invalid(client):
    assert client.get("/api/world/replay?tick=5").status_code == 409
    response = client.get("/api/world/replay?tick=abc")
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["field"] == "tick"
    assert client.get("/api/world/replay").status_code == 422
