"""Gunicorn's access logger, without the work for atoms the log format never prints.

Gunicorn builds every atom for every request: one entry per request header (``{name}i``),
per response header (``{name}o``) and per WSGI environ key (``{name}e``), then escapes them
all, even when the format uses none. With the security headers on every response that was a
measurable share of a small request. When the configured format has no ``{...}`` atom, this
logger hands Gunicorn's own ``atoms`` only what the plain atoms read; otherwise it changes
nothing.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

#: Query parameters whose values never reach the log (the API refuses tokens in a query
#: string, but a client may still send one), and anything shaped like an API token.
_SECRET_PARAM = re.compile(
    r"(?i)((?:^|[?&;])(?:access_token|token|api_key|apikey|key|secret|password|auth)=)[^&;#\s]*"
)
_TOKEN = re.compile(r"mo_[A-Za-z0-9]{1,32}_[A-Za-z0-9_\-]{8,}")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` (a URI or query string) with secret parameter values and tokens replaced."""
    if "=" not in text and "mo_" not in text:
        return text
    return _TOKEN.sub("mo_" + REDACTED, _SECRET_PARAM.sub(r"\1" + REDACTED, text))


def _redacted(environ: dict[str, Any]) -> dict[str, Any]:
    if not environ.get("QUERY_STRING"):
        return environ
    clean = dict(environ)
    for key in ("RAW_URI", "QUERY_STRING", "REQUEST_URI"):
        if isinstance(clean.get(key), str):
            clean[key] = redact(clean[key])
    return clean


#: The environ keys Gunicorn's plain atoms (h u r m U q H f a) read.
PLAIN_ATOM_KEYS = (
    "REMOTE_ADDR",
    "REQUEST_METHOD",
    "RAW_URI",
    "SERVER_PROTOCOL",
    "PATH_INFO",
    "QUERY_STRING",
    "HTTP_REFERER",
    "HTTP_USER_AGENT",
    "HTTP_AUTHORIZATION",  # %(u)s: the Basic-auth user name
)


class _WithoutHeaders:
    """Gunicorn's response object as the plain atoms see it: everything but its headers."""

    __slots__ = ("_response",)
    headers: tuple[()] = ()

    def __init__(self, response: Any) -> None:
        self._response = response

    def __getattr__(self, name: str) -> Any:  # status, sent, and whatever a version reads
        return getattr(self._response, name)


class AccessLogger(Logger):
    """Gunicorn's Logger; skips header and environ atoms the access-log format does not use,
    and never logs a secret sent in a query string."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        if "{" in (self.cfg.access_log_format or ""):
            return super().atoms(resp, req, _redacted(environ), request_time)
        plain = {key: environ[key] for key in PLAIN_ATOM_KEYS if key in environ}
        return super().atoms(_WithoutHeaders(resp), (), _redacted(plain), request_time)
