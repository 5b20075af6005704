"""Bad input never hurts: bounded bodies, bounded queries, and errors that name the field."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
from web.conftest import build_app

from miniature_office.web.api.common import MAX_INT


@pytest.fixture
def client():
    return build_app(max_content_length=2048).test_client()


def test_a_json_body_over_the_limit_is_413(client) -> None:
    body = '{"title": "' + "x" * 4000 + '", "floor": "python"}'
    response = client.post("/api/directives", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/agents?floor=" + "f" * 201, "floor"),
        ("/api/tasks?directive=" + "d" * 201, "directive"),
        ("/api/audit/events?kind=" + "k" * 201, "kind"),
        (f"/api/audit/events?offset={MAX_INT + 1}", "offset"),
        (f"/api/audit/events?tick_from={2**64}", "tick_from"),
        (f"/api/flow/history?since={2**64}", "since"),
        ("/api/tasks?limit=100000", "limit"),
        ("/api/tasks?offset=-1", "offset"),
    ],
)
def test_query_parameters_are_bounded_and_the_error_names_them(client, path, field) -> None:
    response = client.get(path)
    assert response.status_code == 422, path
    assert response.get_json()["error"]["details"]["field"] == field


def test_replay_rejects_a_tick_beyond_any_store(client) -> None:
    response = client.get(f"/api/world/replay?tick={2**70}")
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["field"] == "tick"


def test_overlong_body_strings_are_refused_with_the_field_named(client) -> None:
    response = client.post("/api/directives", json={"title": "t" * 201, "floor": "python"})
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["field"] == "title"


def test_token_names_are_bounded(client) -> None:
    response = client.post("/api/tokens", json={"name": "n" * 65, "role": "viewer"})
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["field"] == "name"


def test_gunicorn_limits_request_lines_and_headers() -> None:
    script = (
        "import json, miniature_office.web.gunicorn_conf as c; "
        "print(json.dumps([c.limit_request_line, c.limit_request_fields, "
        "c.limit_request_field_size]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    line, fields, size = importlib.import_module("json").loads(out.strip().splitlines()[-1])
    assert 0 < line <= 8190 and 0 < fields <= 100 and 0 < size <= 8190
