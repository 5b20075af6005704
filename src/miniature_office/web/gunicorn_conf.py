"""Gunicorn settings, read from the same MINIOFFICE_* variables as the app.

Run: ``gunicorn -c python:miniature_office.web.gunicorn_conf miniature_office.web.wsgi:app``.

- eventlet worker by default (it monkey-patches before the app is imported; no preloading);
  MINIOFFICE_ASYNC_MODE=threading uses the gthread worker with simple-websocket, the upgrade
  path for Gunicorn 26, which dropped eventlet.
- More than one worker needs MESSAGE_QUEUE: the world lives in one process's memory.
- On shutdown the worker stops the tick loop after the current tick.
"""

from __future__ import annotations

import json

# The child runs this interpreter on a fixed module: no shell, no user input.
import resource
import subprocess  # nosec B404
import sys
from typing import Any

import gunicorn.util

from .security import server_error_page

# Validate every setting once, in a child process: the master must not import the app (or
# pydantic) before the eventlet worker monkey-patches the standard library.
_check = subprocess.run(  # nosec B603
    [sys.executable, "-m", "miniature_office.service.config"],
    capture_output=True,
    text=True,
    check=False,
)
if _check.returncode != 0:
    sys.stderr.write(_check.stderr)
    raise SystemExit(2)
_settings: dict[str, Any] = json.loads(_check.stdout)

_host: str = _settings["host"]
bind = [f"[{_host}]:{_settings['port']}" if ":" in _host else f"{_host}:{_settings['port']}"]
workers = _settings["workers"]
if _settings["async_mode"] == "eventlet":
    worker_class = "eventlet"
    # Websockets, long polls and HTTP share this pool; the app caps Socket.IO sessions well
    # below it (MINIOFFICE_WS_MAX_CONNECTIONS), so idle or held connections never take the
    # last slot from /health (SECURITY.md, "Connection limits").
    worker_connections = _settings["worker_connections"]
else:
    worker_class = "gthread"
    threads = 100
preload_app = False
timeout = 120
graceful_timeout = 30
keepalive = 5


def _raise_file_limit(needed: int) -> None:
    """Every connection is a file descriptor: lift the soft limit to the hard one if the pool
    would not fit (a pool the descriptors cannot hold fails accept() under load)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


_raise_file_limit(_settings["worker_connections"] + 256)
accesslog = "-"
errorlog = "-"
loglevel = _settings["log_level"].lower()
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# Builds only the atoms that format prints (no per-header work); see web/access_log.py.
logger_class = "miniature_office.web.access_log.AccessLogger"
# X-Forwarded-* are honoured only through MINIOFFICE_PROXY_FIX (werkzeug ProxyFix in the app).
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
proc_name = "miniature-office"


def _write_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """Gunicorn's own error answers (malformed or oversized requests, 400/431) carry the
    security headers and the API's JSON error shape too."""
    gunicorn.util.write_nonblock(sock, server_error_page(status_int, reason, mesg))


# Workers call gunicorn.util.write_error by attribute: this replaces it for them.
gunicorn.util.write_error = _write_error


def post_worker_init(worker: Any) -> None:
    """The worker has loaded the app: claim the store, recover the run, start the tick loop
    (or the cluster) and the token watch.

    The app factory only builds; this hook is the served app's start-up (``start_app``)."""
    from .app import start_app  # in the worker, after eventlet monkey-patched

    # Another app under this config (bench/web_bench.py's bare baseline) has nothing to start.
    if "miniature_office" in getattr(worker.wsgi, "extensions", {}):
        start_app(worker.wsgi)


def _stop_tick_loop(worker: Any) -> None:
    app = getattr(worker, "wsgi", None)
    parts = getattr(app, "extensions", {}).get("miniature_office")
    if parts is not None:
        parts.runtime.stop_loop(timeout=5.0)


def worker_int(worker: Any) -> None:
    """SIGINT/SIGQUIT: stop the tick loop before the worker goes."""
    _stop_tick_loop(worker)


def worker_exit(server: Any, worker: Any) -> None:
    """Normal or graceful exit: stop the tick loop cleanly."""
    _stop_tick_loop(worker)


# Request limits (see SECURITY.md): the request line, the number of headers and each header's
# size. Larger requests are refused by Gunicorn before the app sees them (400 or 431); JSON
# bodies over MINIOFFICE_MAX_CONTENT_LENGTH are refused by the app with 413.
limit_request_line = 4094
limit_request_fields = 64
limit_request_field_size = 8190
