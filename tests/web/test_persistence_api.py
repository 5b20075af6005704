"""The web service keeps its world in the store: restarts lose nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from miniature_office.store import StoreError

from .conftest import build_app


def test_a_restarted_app_continues_the_stored_run(tmp_path: Path) -> None:
    data = tmp_path
    first = build_app(data_dir=data).test_client()
    assert first.post("/api/world/step", json={"count": 30}).status_code == 200
    created = first.post("/api/directives", json={"title": "Survives", "floor": "python"})
    assert created.status_code == 200  # applied at once: the world is paused
    state = first.get("/api/world/state").get_json()
    again = build_app(data_dir=data).test_client().get("/api/world/state").get_json()
    assert again["tick"] == state["tick"] == 30
    assert again["audit"] == state["audit"]
    assert any(d["title"] == "Survives" for d in again["directives"])


def test_audit_events_page_through_the_whole_stored_chain() -> None:
    client = build_app().test_client()
    client.post("/api/world/step", json={"count": 20})
    oldest = client.get("/api/audit/events?order=asc&limit=3").get_json()
    assert [e["seq"] for e in oldest["events"]] == [1, 2, 3]
    assert oldest["total"] == oldest["count"]
    moves = client.get("/api/audit/events?kind=task.&limit=500").get_json()
    assert moves["events"] and all(e["kind"].startswith("task.") for e in moves["events"])
    assert client.get("/api/audit/events/1").get_json()["kind"] == "world.created"


def test_verify_walks_the_stored_chain() -> None:
    client = build_app().test_client()
    client.post("/api/world/step", json={"count": 10})
    verdict = client.get("/api/audit/verify").get_json()
    assert verdict["valid"] and verdict["scope"] == "store"
    assert verdict["checked"] == client.get("/api/world/state").get_json()["audit"]["count"]


def test_a_damaged_database_stops_start_up_with_a_clear_message(tmp_path: Path) -> None:
    data = tmp_path
    (data / "miniature_office.db").write_bytes(b"this is not a database at all" * 10)
    with pytest.raises(StoreError, match="not a SQLite database"):
        build_app(data_dir=data)
