"""Security headers on every response (HTML, JSON, errors and static files)."""

from __future__ import annotations

import re
from functools import lru_cache

from flask import Flask, Response, request

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


@lru_cache(maxsize=64)
@lru_cache(maxsize=64)
def content_security_policy(host: str) -> str:
    """A CSP without unsafe-inline that still lets the page open its Socket.IO websocket."""
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


def register_security_headers(app: Flask, config: Config) -> None:
    """Add the headers in an after_request hook."""

    fixed = list(STATIC_HEADERS.items())
    hsts = [("Strict-Transport-Security", HSTS)]

    @app.after_request
    def _headers(response: Response) -> Response:
        # No view sets these, so appending (no lookups) is safe and keeps this hook cheap.
        headers = response.headers
        headers.extend(fixed)
        headers.add("Content-Security-Policy", content_security_policy(request.host))
        if config.hsts and request.is_secure:
            headers.extend(hsts)
        return response
