"""The hot-read path: ``GET /health`` and ``GET /api/world/state`` answered below Flask.

Both are polled far more than anything else (probes, monitors, every open page) and both are
cached bytes: the world snapshot is encoded once per change, /health once per distinct answer.
Routing, the request context and the hooks cost more than serving those bytes, so this WSGI
layer answers them from pre-encoded bytes, with their headers and ETag (304 on a matching
If-None-Match), and hands every other request to the app unchanged.

What stays true on this path (tests/web/test_hot_reads.py compares it with Flask's answers):

- security headers: this layer sits inside :class:`~.security.SecurityHeaders`;
- metrics: each answer is counted and timed under the route's rule, as Flask's hook does;
- authentication: where reads need a token the request is served here only if it carries a
  valid viewer (or better) token; anything else (no token, a bad one) goes to Flask, which
  refuses it with the usual 401/403 and logs it;
- rate limits: both routes are exempt from the in-app limiter (web/limits.py); the edge
  limits them (DEPLOYMENT.md, "Rate limits").

Anything unusual goes to Flask too: another method (HEAD, OPTIONS), CORS configured (Flask-CORS
adds its headers there), or a /health answer that is not healthy (Flask builds the 503).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ..store.tokens import AccessRole
from .auth import Authenticator, AuthFailure, bearer_token
from .health import probe

if TYPE_CHECKING:
    from ..service.config import Config
    from ..service.runtime import SimulationRuntime
    from .metrics import Metrics

STATE_PATH = "/api/world/state"
HEALTH_PATH = "/health"
JSON = ("Content-Type", "application/json")
NO_STORE = ("Cache-Control", "no-store")


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names ``etag`` (quoted; weak or strong) or is ``*``."""
    if not header:
        return False
    return header.strip() == "*" or etag in header


class HotReads:
    """WSGI layer serving the two hot reads from cached bytes; everything else passes on."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        *,
        runtime: "SimulationRuntime",
        config: "Config",
        auth: Authenticator,
        metrics: "Metrics",
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.auth = auth
        self.metrics = metrics
        self.by_hand = not config.tick_loop
        self.enabled = not config.cors_origins
        self._state: tuple[str, bytes, list[tuple[str, str]]] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.enabled and environ["REQUEST_METHOD"] == "GET":
            path = environ.get("PATH_INFO")
            if path == STATE_PATH:
                answer = self._world_state(environ, start_response)
                if answer is not None:
                    return answer
            elif path == HEALTH_PATH:
                answer = self._health(environ, start_response)
                if answer is not None:
                    return answer
        return self.app(environ, start_response)

    def _world_state(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        if self.auth.reads_need_token and not self._viewer(environ):
            return None  # Flask refuses it (401/403) and logs the failure
        body, _, etag = self.runtime.state()
        cached = self._state
        if cached is None or cached[0] != etag:
            quoted = f'"{etag}"'
            headers = [JSON, ("Content-Length", str(len(body))), ("ETag", quoted), NO_STORE]
            cached = self._state = (etag, body, headers)
        quoted = cached[2][2][1]
        if etag_matches(environ.get("HTTP_IF_NONE_MATCH"), quoted):
            start_response("304 NOT MODIFIED", [("ETag", quoted), NO_STORE])
            self.metrics.record(STATE_PATH, "GET", 304, started)
            return [b""]
        start_response("200 OK", list(cached[2]))
        self.metrics.record(STATE_PATH, "GET", 200, started)
        return [cached[1]]

    def _health(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        body, healthy, etag = probe(self.runtime, self.by_hand)
        if not healthy:
            return None  # rare: Flask builds the 503
        if etag_matches(environ.get("HTTP_IF_NONE_MATCH"), etag):
            start_response("304 NOT MODIFIED", [("ETag", etag), NO_STORE])
            self.metrics.record(HEALTH_PATH, "GET", 304, started)
            return [b""]
        start_response(
            "200 OK", [JSON, ("Content-Length", str(len(body))), NO_STORE, ("ETag", etag)]
        )
        self.metrics.record(HEALTH_PATH, "GET", 200, started)
        return [body]

    def _viewer(self, environ: dict[str, Any]) -> bool:
        """Whether the request carries a valid token that may read (any role may)."""
        header = environ.get("HTTP_AUTHORIZATION")
        if header is None:
            return False
        try:
            token = bearer_token({"Authorization": header})
            principal = self.auth.identify(token)
            self.auth.authorize(principal, AccessRole.VIEWER)
        except AuthFailure:
            return False
        return principal.token is not None
