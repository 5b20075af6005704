"""The hot-read path (web/hot.py): /health and /api/world/state served below Flask must answer
exactly what Flask's views answer, keep security headers, metrics and authentication, and
honour If-None-Match."""

from __future__ import annotations

from web.conftest import ADMIN_TOKEN, build_app

from miniature_office.web.api.world import state as flask_state_view
from miniature_office.web.health import health as flask_health_view
from miniature_office.web.security import STATIC_HEADERS


def _flask_answer(app, path: str, view, **headers: str):
    """What Flask's own view answers for ``path`` (the hot path bypassed)."""
    with app.test_request_context(path, headers=headers):
        return view()


def _requests(app, path: str, status: int) -> float:
    metrics = app.extensions["miniature_office.metrics"]
    return metrics.requests.labels(path, "GET", str(status))._value.get()


def test_world_state_hot_answer_has_the_same_bytes_and_etag_as_flask():
    app = build_app()
    client = app.test_client()
    hot = client.get("/api/world/state")
    flask = _flask_answer(app, "/api/world/state", flask_state_view)
    assert hot.status_code == 200
    assert hot.data == flask.get_data()
    assert hot.headers["ETag"] == flask.headers["ETag"]
    assert hot.headers["Cache-Control"] == "no-store"
    assert hot.headers["Content-Type"] == "application/json"
    assert hot.get_json()["world"]["time"] == hot.get_json()["tick"]


def test_health_hot_answer_has_the_same_bytes_as_flask_and_an_etag():
    app = build_app()
    hot = app.test_client().get("/health")
    flask = _flask_answer(app, "/health", flask_health_view)
    assert hot.status_code == 200 == flask.status_code
    assert hot.data == flask.get_data()
    assert hot.headers["ETag"] == flask.headers["ETag"]
    assert hot.get_json()["engine"]["state"] in ("running", "paused")


def test_a_matching_if_none_match_answers_304_without_a_body():
    app = build_app()
    client = app.test_client()
    for path in ("/api/world/state", "/health"):
        etag = client.get(path).headers["ETag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304, path
        assert again.data == b""
        assert again.headers["ETag"] == etag
        assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_the_state_etag_changes_after_a_tick():
    app = build_app()
    client = app.test_client()
    before = client.get("/api/world/state").headers["ETag"]
    assert client.post("/api/world/step", json={}).status_code == 200
    after = client.get("/api/world/state", headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.headers["ETag"] != before


def test_hot_answers_carry_the_security_headers_and_are_counted_in_metrics():
    app = build_app()
    client = app.test_client()
    for path in ("/api/world/state", "/health"):
        before = _requests(app, path, 200)
        answer = client.get(path)
        for name, value in STATIC_HEADERS.items():
            assert answer.headers[name] == value, (path, name)
        assert "Content-Security-Policy" in answer.headers
        assert _requests(app, path, 200) == before + 1
        etag = answer.headers["ETag"]
        before_304 = _requests(app, path, 304)
        client.get(path, headers={"If-None-Match": etag})
        assert _requests(app, path, 304) == before_304 + 1


def test_closed_reads_still_need_a_valid_token_on_the_hot_path():
    app = build_app(auth_reads=True)
    anonymous = app.test_client(token=None)
    refused = anonymous.get("/api/world/state")
    assert refused.status_code == 401
    assert refused.get_json()["error"]["details"]["required_role"] == "viewer"
    bad = app.test_client(token="mo_nobody00_" + "z" * 43).get("/api/world/state")
    assert bad.status_code == 401
    assert app.test_client(token=ADMIN_TOKEN).get("/api/world/state").status_code == 200
    assert anonymous.get("/health").status_code == 200  # probes stay public
