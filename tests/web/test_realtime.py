"""Socket.IO events through Flask-SocketIO's test client (the live server is test_server.py)."""

from __future__ import annotations

import pytest

from miniature_office.web.app import get_runtime, get_socketio
from miniature_office.web.realtime import floor_message

from .conftest import build_app


@pytest.fixture
def sio(app):
    client = get_socketio(app).test_client(app)
    yield client
    if client.is_connected():
        client.disconnect()


def _named(received, name):
    return [r["args"][0] for r in received if r["name"] == name]


def test_connect_sends_the_full_state(sio):
    states = _named(sio.get_received(), "state_update")
    assert len(states) == 1 and states[0]["tick"] == 0 and states[0]["agents"]


def test_a_tick_sends_tick_start_and_a_delta_in_tick_end(app, sio):
    sio.get_received()
    get_runtime(app).step()
    received = sio.get_received()
    assert _named(received, "tick_start") == [{"tick": 1}]
    [end] = _named(received, "tick_end")
    assert end["tick"] == 1 and set(end) == {"tick", "delta", "events", "flow"}
    assert end["events"] and end["flow"]["tick"] == 1
    assert "floors" not in end["delta"]  # a delta, not the snapshot


def test_resync_sends_the_state_again(sio):
    sio.get_received()
    sio.emit("resync")
    assert len(_named(sio.get_received(), "state_update")) == 1


def test_following_a_floor_narrows_the_deltas_to_that_floor(app, sio):
    assert sio.emit("follow_floor", {"floor": "python"}, callback=True) == {
        "ok": True,
        "floor": "python",
    }
    sio.get_received()
    get_runtime(app).step()
    [end] = _named(sio.get_received(), "tick_end")
    assert end["floor"] == "python"
    assert end["delta"]["agents"] and {a["floor_id"] for a in end["delta"]["agents"]} == {"python"}
    sio.emit("unfollow_floor")
    get_runtime(app).step()
    [end] = _named(sio.get_received(), "tick_end")
    assert "floor" not in end and {a["floor_id"] for a in end["delta"]["agents"]} == {
        "python",
        "javascript",
    }


def test_following_an_unknown_floor_is_refused(sio):
    answer = sio.emit("follow_floor", {"floor": "cobol"}, callback=True)
    assert answer["ok"] is False and "python" in answer["floors"]


def test_commands_are_announced(app, sio, client):
    sio.get_received()
    client.post("/api/agents", json={"floor": "python", "role": "builder"})
    received = sio.get_received()
    assert _named(received, "command_applied")[0]["kind"] == "hire_agent"
    assert _named(received, "state_update")  # paused: the change arrives as a state


def test_rejected_commands_are_announced():
    app = build_app(autostart=True)
    sio = get_socketio(app).test_client(app)
    client = app.test_client()
    agent = client.get("/api/agents?role=builder").get_json()["agents"][0]["id"]
    client.delete(f"/api/agents/{agent}")
    client.delete(f"/api/agents/{agent}")  # valid when queued, refused when applied
    sio.get_received()
    get_runtime(app).step()
    received = sio.get_received()
    assert _named(received, "command_applied")[0]["kind"] == "dismiss_agent"
    assert _named(received, "command_rejected")[0]["reason"].startswith("unknown agent")


def test_client_count_follows_connections(app, sio):
    runtime = get_runtime(app)
    assert runtime.clients == 1
    sio.disconnect()
    assert runtime.clients == 0


def test_floor_message_keeps_cross_floor_contracts_for_both_floors():
    message = {
        "tick": 1,
        "events": [],
        "flow": {},
        "delta": {
            "agents": [{"floor_id": "a"}, {"floor_id": "b"}],
            "contracts": [{"consumer_floor": "a", "provider_floor": "b"}],
        },
    }
    narrowed = floor_message(message, "b")
    assert narrowed["delta"]["agents"] == [{"floor_id": "b"}]
    assert len(narrowed["delta"]["contracts"]) == 1
