"""``python -m miniature_office.web``: run the service on MINIOFFICE_HOST:MINIOFFICE_PORT.

With MINIOFFICE_ASYNC_MODE=eventlet (the default) the standard library is monkey-patched
before anything else is imported; with ``threading`` it runs Werkzeug's threaded server with
simple-websocket. Production runs under gunicorn (see gunicorn_conf).
"""

import os

if os.environ.get("MINIOFFICE_ASYNC_MODE", "").strip().lower() in ("", "eventlet"):
    import eventlet

    eventlet.monkey_patch()

import logging  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

from ..service.config import ConfigError, load_config  # noqa: E402
from .app import create_app, get_runtime, get_socketio, start_app  # noqa: E402


def _port_taken(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be ours, or None. Eventlet listens with SO_REUSEPORT, so a
    second server on a busy port would silently share it (each answering half the requests
    from a different world); a plain bind finds the port taken instead."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return f"{host}:{port} is in use ({exc.strerror}); is another server running?"
    return None


def main() -> int:
    """Validate the configuration, build the app and serve until SIGTERM or Ctrl-C."""
    try:
        config = load_config()
    except ConfigError as exc:
        sys.stderr.write(f"miniature-office: cannot start: {exc}\n")
        return 2
    busy = _port_taken(config.host, config.port)
    if busy:
        sys.stderr.write(f"miniature-office: cannot start: {busy}\n")
        return 2
    app = create_app(config)
    runtime = get_runtime(app)
    socketio = get_socketio(app)

    def _exit_after_the_current_tick() -> None:
        runtime.stop_loop()
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    def _shutdown(signum: int, frame: Any) -> None:
        # Signal handlers may run inside the event hub: leave the waiting to a task.
        socketio.start_background_task(_exit_after_the_current_tick)

    signal.signal(signal.SIGTERM, _shutdown)
    start_app(app)  # the writer lock, the stored run, the tick loop (or cluster), the watch
    try:
        socketio.run(
            app,
            host=config.host,
            port=config.port,
            allow_unsafe_werkzeug=True,
            log_output=config.log_level == "DEBUG",
        )
    except KeyboardInterrupt:
        pass
    finally:
        runtime.stop_loop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
