"""The WSGI stack around Flask: security headers outside, then Socket.IO or Flask by path."""

from __future__ import annotations

from typing import Any

from miniature_office.web.app import Dispatch
from miniature_office.web.metrics import STARTED


class Recording:
    """A WSGI app that answers with its name and remembers the environ it saw."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.environ: dict[str, Any] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.environ = environ
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [self.name.encode()]


class FakeSocketIOMiddleware(Recording):
    engineio_path = "/socket.io/"

    def __init__(self) -> None:
        super().__init__("socketio")
        self.wsgi_app = Recording("flask")


def _call(app: Dispatch, path: str) -> bytes:
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET"}
    return b"".join(app(environ, lambda status, headers, exc_info=None: None))


def test_only_the_socketio_path_goes_through_flask_socketio():
    middleware = FakeSocketIOMiddleware()
    dispatch = Dispatch(middleware)
    assert _call(dispatch, "/socket.io/") == b"socketio"
    assert _call(dispatch, "/health") == b"flask"
    assert _call(dispatch, "/api/world/state") == b"flask"
    assert _call(dispatch, "/socket.iox") == b"flask"


def test_the_request_start_is_stamped_for_the_latency_histogram():
    middleware = FakeSocketIOMiddleware()
    _call(Dispatch(middleware), "/health")
    assert isinstance(middleware.wsgi_app.environ[STARTED], float)


def test_socketio_responses_carry_the_security_headers_too(client):
    response = client.get("/socket.io/?EIO=4&transport=polling")
    assert response.status_code == 200 and response.data.startswith(b"0{")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_each_security_header_appears_once(client):
    response = client.get("/api/world/state")
    names = [name.lower() for name, _ in response.headers]
    assert len(names) == len(set(names))


def test_requests_without_a_host_header_get_the_same_policy(app):
    seen: dict[str, Any] = {}
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/health",
        "SERVER_NAME": "office.internal",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.0",
        "wsgi.url_scheme": "http",
    }
    app.wsgi_app(environ, lambda status, headers, exc_info=None: seen.update(headers))
    assert "connect-src 'self';" in seen["Content-Security-Policy"]
    assert "office.internal" not in seen["Content-Security-Policy"]
