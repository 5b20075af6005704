"""/api/history: import (CSV or multipart), describe, fit, backtest and what-if over HTTP."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from .conftest import ADMIN_TOKEN, build_app

DATA = Path(__file__).parents[1] / "history" / "data"
FLASK = (DATA / "flask.csv").read_bytes()


@pytest.fixture
def client():
    return build_app().test_client()


def headers(**extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}", **extra}


def test_import_as_csv_then_describe(client) -> None:
    answer = client.post(
        "/api/history?name=flask", data=FLASK, headers=headers(**{"Content-Type": "text/csv"})
    )
    assert answer.status_code == 201
    description = answer.get_json()["description"]
    assert description["items"] == 643 and sum(description["throughput"]) == 643
    assert client.get("/api/history").get_json() == {"histories": ["flask"], "count": 1}
    assert client.get("/api/history/flask").get_json()["description"] == description


def test_import_as_multipart(client) -> None:
    answer = client.post(
        "/api/history",
        data={"file": (io.BytesIO(FLASK), "flask.csv")},
        content_type="multipart/form-data",
        headers=headers(),
    )
    assert answer.status_code == 201 and answer.get_json()["name"] == "team"


def test_import_needs_a_token() -> None:
    anonymous = build_app().test_client(token=None)
    answer = anonymous.post("/api/history", data=FLASK, content_type="text/csv")
    assert answer.status_code == 401


def test_wrong_type_bad_rows_and_oversize(client, monkeypatch) -> None:
    answer = client.post("/api/history", json={"a": 1}, headers=headers())
    assert answer.status_code == 415
    assert client.post("/api/history", headers=headers()).status_code == 422  # no body at all
    bad = b"id,created,done\n1,2024-01-01,2024-01-02\n2,never,2024-01-02\n"
    answer = client.post("/api/history", data=bad, headers=headers(**{"Content-Type": "text/csv"}))
    body = answer.get_json()
    assert answer.status_code == 422
    assert body["error"]["details"]["problems"] == [
        {"line": 3, "problem": "created: not a date: 'never'"}
    ]
    assert client.get("/api/history/team").status_code == 404  # nothing half-imported
    monkeypatch.setattr("miniature_office.web.api.history.MAX_CSV_BYTES", 1000)
    answer = client.post(
        "/api/history", data=FLASK, headers=headers(**{"Content-Type": "text/csv"})
    )
    assert answer.status_code == 413


def test_fit_backtest_and_whatif(client) -> None:
    client.post("/api/history", data=FLASK, headers=headers(**{"Content-Type": "text/csv"}))
    fit = client.post("/api/history/team/fit", json={}, headers=headers())
    assert fit.status_code == 200 and fit.get_json()["fit"]["verdict"].startswith("poor fit")
    started = client.post(
        "/api/history/team/backtest", json={"cuts": 2, "futures": 3}, headers=headers()
    )
    assert started.status_code == 202
    for _ in range(600):
        state = client.get("/api/history/team/backtest").get_json()
        if state["state"] != "running":
            break
        time.sleep(0.1)
    assert state["state"] == "done" and state["result"]["summary"]["cuts"] == 2
    hire = {"kind": "hire_agent", "payload": {"floor": "team", "role": "builder"}}
    answer = client.post(
        "/api/history/team/whatif",
        json={"commands": [hire], "futures": 2, "ticks": 50},
        headers=headers(),
    )
    assert answer.status_code == 200 and answer.get_json()["preview"]["futures"] == 2
    wrong = {"kind": "hire_agent", "payload": {"floor": "nowhere", "role": "builder"}}
    answer = client.post("/api/history/team/whatif", json={"commands": [wrong]}, headers=headers())
    assert answer.status_code == 422
    assert client.post("/api/history/nope/fit", json={}, headers=headers()).status_code == 404
    # a staff the scenario refuses is the user's error, reported from the child process
    wizard = client.post("/api/history/team/fit", json={"staff": {"wizard": 1}}, headers=headers())
    assert wizard.status_code == 422 and wizard.get_json()["error"]["message"].startswith("staff")


def test_openapi_documents_the_csv_body(client) -> None:
    spec = client.get("/api/openapi.json").get_json()
    body = spec["paths"]["/api/history"]["post"]["requestBody"]
    assert set(body["content"]) == {"text/csv", "multipart/form-data"}
    assert spec["paths"]["/api/history/{name}/fit"]["post"]["x-required-role"] == "operator"


def test_an_import_survives_a_restart_of_the_server(tmp_path) -> None:
    """A second app on the same database (a restart, or another worker) sees the import."""
    first = build_app(data_dir=str(tmp_path)).test_client()
    answer = first.post(
        "/api/history?name=flask", data=FLASK, headers=headers(**{"Content-Type": "text/csv"})
    )
    assert answer.status_code == 201
    again = build_app(data_dir=str(tmp_path)).test_client()
    assert again.get("/api/history").get_json() == {"histories": ["flask"], "count": 1}
    stored = again.get("/api/history/flask").get_json()["description"]
    assert stored == answer.get_json()["description"]
