"""Gunicorn settings, read from the same MINIOFFICE_* variables as the app.

Run: ``gunicorn -c python:miniature_office.web.gunicorn_conf miniature_office.web.wsgi:app``.

- eventlet worker by default (it monkey-patches before the app is imported; no preloading);
  MINIOFFICE_ASYNC_MODE=threading uses the gthread worker with simple-websocket, the upgrade
  path for Gunicorn 26, which dropped eventlet.
- More than one worker needs MESSAGE_QUEUE: the world lives in one process's memory.
- On shutdown the worker stops the tick loop after the current tick.
"""

from __future__ import annotations

import sys
from typing import Any

from miniature_office.web.config import ConfigError, load_config

try:
    _config = load_config()
except ConfigError as _exc:
    sys.stderr.write(f"miniature-office: cannot start: {_exc}\n")
    raise SystemExit(2) from None

_host = f"[{_config.host}]" if ":" in _config.host else _config.host
bind = [f"{_host}:{_config.port}"]
workers = _config.workers
if _config.async_mode == "eventlet":
    worker_class = "eventlet"
    worker_connections = 1000
else:
    worker_class = "gthread"
    threads = 100
preload_app = False
timeout = 120
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
loglevel = _config.log_level.lower()
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# X-Forwarded-* are honoured only through MINIOFFICE_PROXY_FIX (werkzeug ProxyFix in the app).
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
proc_name = "miniature-office"


def _stop_tick_loop(worker: Any) -> None:
    app = getattr(worker, "wsgi", None)
    runtime = getattr(app, "extensions", {}).get("miniature_office")
    if runtime is not None:
        runtime.stop_loop(timeout=5.0)


def worker_int(worker: Any) -> None:
    """SIGINT/SIGQUIT: stop the tick loop before the worker goes."""
    _stop_tick_loop(worker)


def worker_exit(server: Any, worker: Any) -> None:
    """Normal or graceful exit: stop the tick loop cleanly."""
    _stop_tick_loop(worker)
