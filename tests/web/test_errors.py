"""Errors answer {"error": {"code", "message", "details"}}; bad input never gets a 500."""

from __future__ import annotations

import pytest

from miniature_office.web.app import get_runtime


def _error(response, status):
    assert response.status_code == status
    body = response.get_json()
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def test_malformed_json_is_400(client):
    response = client.post("/api/directives", data="{nope", content_type="application/json")
    assert _error(response, 400)["code"] == "malformed_json"


def test_unknown_path_is_404(client):
    assert _error(client.get("/api/nothing-here"), 404)["code"] == "not_found"


def test_wrong_method_is_405_with_allow(client):
    response = client.delete("/api/world/state")
    assert _error(response, 405)["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_conflict_is_409(make_client):
    answer = make_client().get("/api/world/replay?tick=999")  # beyond the world's tick
    assert _error(answer, 409)["code"] == "conflict"


def test_oversized_body_is_413(make_client):
    client = make_client(max_content_length=1024)
    response = client.post("/api/directives", json={"title": "x" * 4000, "floor": "python"})
    assert _error(response, 413)["code"] == "payload_too_large"


def test_a_body_that_is_not_json_is_415(client):
    response = client.post("/api/directives", data="title=x", content_type="text/plain")
    assert _error(response, 415)["code"] == "unsupported_media_type"


def test_a_json_array_body_is_422(client):
    assert _error(client.post("/api/directives", json=[1, 2]), 422)["details"]["field"] == "body"


def test_unknown_fields_are_422_naming_the_field(client):
    response = client.post("/api/directives", json={"title": "x", "floor": "python", "x": 1})
    assert _error(response, 422)["details"]["field"] == "x"


@pytest.mark.parametrize(
    "body",
    [
        {"title": 5, "floor": "python"},
        {"title": "x", "floor": "python", "priority": "high"},
        {"title": "x", "floor": None},
        {"title": "x" * 10_000, "floor": "python"},
        {"title": "\u0000", "floor": "\ud7ff"},
    ],
)
def test_odd_bodies_never_cause_a_500(client, body):
    assert client.post("/api/directives", json=body).status_code in (200, 422)


def test_an_unexpected_failure_is_a_json_500_without_details(app, client, monkeypatch):
    runtime = get_runtime(app)
    monkeypatch.setattr(runtime, "read", lambda query: 1 / 0)
    error = _error(client.get("/api/agents"), 500)
    assert error == {"code": "internal_error", "message": "internal server error", "details": {}}
