"""The application factory: one place where configuration, runtime and blueprints meet."""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from typing import Any, Iterator
from urllib.parse import urlsplit, urlunsplit

from flask import Flask
from flask.sessions import SessionInterface
from flask_cors import CORS
from flask_socketio import SocketIO
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import RequestRedirect

from ..runio import read_scenario
from ..service.cluster import Cluster
from ..service.config import Config, load_config
from ..service.runtime import SimulationRuntime
from ..service.storage import StoreListener, open_store
from ..store.coordination import namespace_for
from ..store.tokens import TokenStore
from .api import API_BLUEPRINTS, register_api
from .api.consigliere import BoardShutdown
from .auth import get_authenticator, register_auth
from .errors import register_error_handlers
from .extension import KEY, Office, get_runtime, office
from .health import bp as health_bp
from .hot import HotReads
from .limits import init_limiter, limit_replays
from .metrics import STARTED, Metrics, init_metrics
from .realtime import Broadcaster, TokenWatch, register_realtime
from .security import SecurityHeaders
from .ui import bp as ui_bp
from .ui import resolve_static_dir

__all__ = ["create_app", "get_runtime", "get_socketio", "office", "start_app"]


def create_app(config: Config | None = None) -> Flask:
    """Build the app: a simulation runtime, REST API, Socket.IO, health, metrics, UI.

    ``config`` defaults to :func:`load_config` (the environment). Building only builds: it
    neither takes the store's writer lock nor reads the stored run nor starts a thread. The
    server's start-up hook calls :func:`start_app` for those.
    """
    config = config or load_config()
    _configure_logging(config)
    static_dir = resolve_static_dir(config.static_dir)
    app = OfficeFlask(
        "miniature_office.web",
        static_folder=str(static_dir),
        static_url_path="/static",
        instance_relative_config=False,
    )
    app.config.update(
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=config.max_content_length,
        MINIOFFICE=config,
    )
    runtime = SimulationRuntime(
        read_scenario(config.scenario),
        config.seed,
        tick_rate=config.tick_rate,
        autostart=config.autostart,
    )
    # The service keeps no cookie sessions (callers authenticate with bearer tokens), so skip
    # the signed-cookie machinery Flask would otherwise set up on every request.
    app.session_interface = NoSessions()
    # One store (one engine, one schema check) for the run and the API tokens alike.
    store = open_store(config)
    recording = StoreListener(runtime, store)  # writes once start_app() attaches the run

    register_error_handlers(app)
    tokens = TokenStore(store.db)
    with _scoped_to(app, API_BLUEPRINTS):  # only the API pays for auth and rate limits
        register_auth(app, config, tokens, between=lambda bound: init_limiter(bound, config))
    metrics = init_metrics(app, runtime)
    register_api(app)
    limit_replays(app)
    app.register_blueprint(health_bp)
    app.register_blueprint(ui_bp)
    if config.cors_origins:
        CORS(app, resources={r"/api/*": {"origins": list(config.cors_origins)}})

    socketio = SocketIO(
        app,
        async_mode=config.async_mode,
        cors_allowed_origins=config.socket_cors(),
        message_queue=config.message_queue,
        # Processes of one deployment share a store: name their Socket.IO channel after it,
        # so two deployments (or test runs) on one Redis never see each other's ticks.
        channel=f"{namespace_for(store.url)}:socketio",
        # Clients send small events; a larger message closes the connection (SECURITY.md).
        max_http_buffer_size=config.ws_max_message,
        logger=False,
        engineio_logger=False,
    )
    broadcaster, token_watch = register_realtime(
        socketio,
        runtime,
        get_authenticator(app),
        scale_out=bool(config.message_queue),
        max_connections=config.websocket_cap,
        per_address=config.ws_per_address,
    )
    cluster = None
    if config.message_queue:  # the cluster elects who writes the store, at start-up
        cluster = Cluster(
            runtime,
            message_queue=config.message_queue,
            store=store,
            recording=recording,
            spawn=socketio.start_background_task,
            sleep=socketio.sleep,
            start_ticking=config.tick_loop,
        )
    _listen(runtime, broadcaster, recording, metrics, cluster, token_watch, BoardShutdown(app))
    app.extensions[KEY] = Office(config, runtime, store, socketio, token_watch, recording, cluster)
    # WSGI stack, outermost first: ProxyFix (trusted forwarded host/scheme), security headers,
    # then Socket.IO for its own path and Flask for everything else.
    wsgi: Any = Dispatch(app.wsgi_app)
    # /health and /api/world/state from cached bytes, below Flask (web/hot.py).
    wsgi = HotReads(wsgi, runtime=runtime, config=config, auth=get_authenticator(app),
                    metrics=metrics)  # fmt: skip
    wsgi = SecurityHeaders(wsgi, config)
    if config.proxy_fix:
        n = config.proxy_fix
        wsgi = ProxyFix(wsgi, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)
    app.wsgi_app = wsgi  # type: ignore[method-assign]
    return app


def _listen(
    runtime: SimulationRuntime,
    broadcaster: Broadcaster,
    recording: StoreListener,
    metrics: Metrics,
    cluster: Cluster | None,
    token_watch: TokenWatch,
    board: BoardShutdown,
) -> None:
    """Register everything that follows the runtime's events, in the order it hears each one.

    1. The broadcaster: viewers see a tick before the store writes it (they need not wait for
       the disk; the store writes in batches anyway, and a tick computed but not yet written
       is recomputed exactly on recovery).
    2. The store: it alone hears ``command_accepted`` (the write-ahead log: a command the
       store cannot hold is refused) and ``reset_prepare``; at shutdown it checkpoints, then
       releases the writer lock, so no other engine writes before the checkpoint.
    3. The metrics (tick durations).
    4. The cluster, after the store: a leader publishes a tick or a boundary once the store
       holds it, since a follower that falls out of step rebuilds itself from the store; and
       it gives the engine lock up after the store's checkpoint.
    5. The token watch and the job board, which only stop at shutdown.
    """
    runtime.listen(broadcaster, recording, metrics)
    if cluster is not None:
        runtime.listen(cluster)
    runtime.listen(token_watch, board)


def start_app(app: Flask) -> None:
    """The served app's start-up, once: claim the store, recover the run, start the threads.

    Without a message queue: take the store's writer lock (a second engine on the store stops
    here, StoreError naming the holder), recover the stored run (or start one), then start the
    tick loop. With a message queue the cluster does it: leader election, then the store as
    its writer or its reader, then ticking or following. Then the token watch. The server's
    start-up hook calls this (Gunicorn's ``post_worker_init``, ``python -m
    miniature_office.web``), and so do tests, after :func:`create_app`. With
    ``config.tick_loop`` false (an app driven by hand) the run is attached without the writer
    lock, the cluster joins without ticking, and no thread starts.
    """
    parts = office(app)
    if parts.started:
        return
    parts.started = True
    config, runtime, socketio = parts.config, parts.runtime, parts.socketio
    if parts.cluster is not None:
        parts.cluster.boot()
    else:
        parts.recording.open(exclusive=config.tick_loop)
        if config.tick_loop:
            runtime.start_loop(socketio.start_background_task, socketio.sleep)
    if config.tick_loop:  # a served app (tests drive the watch by hand)
        socketio.start_background_task(parts.token_watch.run)


class OfficeFlask(Flask):
    """Flask, remembering which hooks and views are coroutines instead of asking every call.

    Flask inspects each before/after hook and view on every request (``ensure_sync``); with a
    handful of hooks that inspection was a measurable share of a /health request.
    """

    _sync: dict[Any, Any]

    def raise_routing_exception(self, request: Any) -> Any:
        """Werkzeug's slash redirects name an absolute URL built from the Host header, which
        the client chooses; send the path (and query) only."""
        exc = request.routing_exception
        if isinstance(exc, RequestRedirect):
            target = urlsplit(exc.new_url)
            exc.new_url = urlunsplit(("", "", target.path, target.query, ""))
        return super().raise_routing_exception(request)

    def ensure_sync(self, func: Any) -> Any:
        cache = self.__dict__.setdefault("_sync", {})
        try:
            return cache[func]
        except KeyError:
            cache[func] = wrapped = super().ensure_sync(func)
            return wrapped
        except TypeError:  # an unhashable callable: ask Flask every time
            return super().ensure_sync(func)


class Dispatch:
    """The app's WSGI entry (inside the security headers): stamp, then route by path.

    It stamps the request's start time for the latency histogram, sends Socket.IO's path to
    Flask-SocketIO's middleware and everything else straight to Flask. Flask-SocketIO wraps the
    whole app, so without this every request, /health included, copied its environ and built a
    class before reaching Flask; only requests under the Socket.IO path need that.
    """

    def __init__(self, socketio_middleware: Any) -> None:
        self.socketio = socketio_middleware
        self.flask = socketio_middleware.wsgi_app
        self.path = socketio_middleware.engineio_path  # "/socket.io/"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ[STARTED] = time.perf_counter()
        path = environ.get("PATH_INFO") or ""
        if path.startswith(self.path):
            return self.socketio(environ, start_response)
        return self.flask(environ, start_response)


class NoSessions(SessionInterface):
    """A session interface for an app without sessions: a null session, nothing saved."""

    def open_session(self, app: Flask, request: Any) -> None:
        return None  # Flask then uses make_null_session()

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        return None


@contextmanager
def _scoped_to(app: Flask, blueprints: tuple[str, ...]) -> Iterator[None]:
    """Hooks registered app-wide inside the block run only for ``blueprints`` instead.

    Flask runs a blueprint's own hooks after the app's, in registration order, so the moved
    hooks keep their order among themselves (identify, rate-limit, enforce). Requests outside
    those blueprints (health, metrics, the page, static files) skip them entirely.
    """
    registries = (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
    before = [list(registry.get(None, [])) for registry in registries]
    yield
    for registry, kept in zip(registries, before):
        added = [hook for hook in registry.get(None, []) if hook not in kept]
        registry[None] = kept
        for name in blueprints:
            registry.setdefault(name, []).extend(added)


def get_socketio(app: Flask) -> SocketIO:
    """The app's Socket.IO server."""
    return office(app).socketio


def _configure_logging(config: Config) -> None:
    logger = logging.getLogger("miniature_office")
    logger.setLevel(config.log_level)
    if not logging.getLogger().handlers and not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
