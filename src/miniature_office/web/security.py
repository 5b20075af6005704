"""Security headers on every response (HTML, JSON, errors, static files and Socket.IO).

The headers are added by a small WSGI middleware rather than a Flask ``after_request`` hook:
the list is built once per scheme, from the configuration only, and appended as it is, so a
response pays one list extension instead of a dozen validated header insertions (a measurable
share of a /health request under Gunicorn). It also covers responses Flask never sees, such as
Socket.IO's, and Gunicorn's own error answers (see :func:`server_error_page`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable

from ..service.encoding import dumps

if TYPE_CHECKING:  # Gunicorn's master imports this module: keep pydantic out of it
    from ..service.config import Config

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

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def content_security_policy(origins: tuple[str, ...] = ()) -> str:
    """A CSP without unsafe-inline that lets the page open its Socket.IO websocket.

    ``'self'`` covers the page's own origin, ws/wss included (CSP Level 3). Other origins
    come from the configuration only (MINIOFFICE_CORS_ORIGINS), never from the request's
    Host header, which the client chooses.
    """
    connect = ["'self'"]
    for origin in origins:
        scheme, _, rest = origin.partition("://")
        connect += [origin, f"{'wss' if scheme == 'https' else 'ws'}://{rest}"]
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src {' '.join(connect)}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(
    scheme: str, hsts: bool, origins: tuple[str, ...] = ()
) -> tuple[tuple[str, str], ...]:
    """Every header the middleware adds (HSTS only over HTTPS)."""
    csp = ("Content-Security-Policy", content_security_policy(origins))
    headers = [*STATIC_HEADERS.items(), csp]
    if hsts and scheme == "https":
        headers.append(("Strict-Transport-Security", HSTS))
    return tuple(headers)


class SecurityHeaders:
    """WSGI middleware appending the security headers to whatever the wrapped app answers.

    Place it inside ProxyFix, so the forwarded host and scheme decide the CSP and HSTS.
    """

    def __init__(self, app: WSGIApp, config: "Config") -> None:
        self.app = app
        self.by_scheme = {
            scheme: security_headers(scheme, config.hsts, config.cors_origins)
            for scheme in ("http", "https")
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        extra = self.by_scheme.get(environ.get("wsgi.url_scheme", "http"), self.by_scheme["http"])

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, *extra], exc_info)

        return self.app(environ, start)


def server_error_page(status: int, reason: str, message: str) -> bytes:
    """A whole HTTP response for errors the server answers before the app sees the request
    (Gunicorn's 400 and 431 for a malformed or oversized request): JSON, like the API's
    errors, with the same security headers as every other response."""
    body = dumps(
        {"error": {"code": "bad_request" if status == 400 else f"http_{status}",
                   "message": f"{reason}: {message}"[:300], "details": {}}}  # fmt: skip
    )
    headers = [
        ("Connection", "close"),
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        *security_headers("http", False),
    ]
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    return head.encode("latin-1") + b"\r\n" + body
