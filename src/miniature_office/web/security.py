"""Security headers on every response (HTML, JSON, errors, static files and Socket.IO).

The headers are added by a small WSGI middleware rather than a Flask ``after_request`` hook:
the list is built once per (host, scheme) and appended as it is, so a response pays one list
extension instead of a dozen validated header insertions (a measurable share of a /health
request under Gunicorn). It also covers responses Flask never sees, such as Socket.IO's.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable, Iterable

from werkzeug.sansio.utils import get_host as sansio_get_host
from werkzeug.wsgi import get_host

from .config import Config

STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-XSS-Protection": "0",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
        "microphone=(), payment=(), usb=()"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def content_security_policy(host: str) -> str:
    """A CSP without unsafe-inline that still lets the page open its Socket.IO websocket.

    ``'self'`` does not cover ws:/wss: in every browser, so the websocket origin is named
    explicitly, but only for a host that looks like a host (never echo arbitrary input).
    """
    connect = "'self'"
    if _HOST.match(host):
        connect += f" ws://{host} wss://{host}"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src {connect}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


@lru_cache(maxsize=256)
def security_headers(host: str, scheme: str, hsts: bool) -> tuple[tuple[str, str], ...]:
    """Every header the middleware adds for a request to ``host`` (HSTS only over HTTPS).

    Cached per distinct (Host, scheme): the host is normalised here (Werkzeug's rules, default
    ports dropped), so the middleware can pass the raw header.
    """
    host = sansio_get_host(scheme, host)
    csp = ("Content-Security-Policy", content_security_policy(host))
    headers = [*STATIC_HEADERS.items(), csp]
    if hsts and scheme == "https":
        headers.append(("Strict-Transport-Security", HSTS))
    return tuple(headers)


class SecurityHeaders:
    """WSGI middleware appending the security headers to whatever the wrapped app answers.

    Place it inside ProxyFix, so the forwarded host and scheme decide the CSP and HSTS.
    """

    def __init__(self, app: WSGIApp, config: Config) -> None:
        self.app = app
        self.hsts = config.hsts

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        # Without a Host header (HTTP/1.0), the server's own name.
        host = environ.get("HTTP_HOST") or get_host(environ)
        extra = security_headers(host, environ.get("wsgi.url_scheme", "http"), self.hsts)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, *extra], exc_info)

        return self.app(environ, start)
