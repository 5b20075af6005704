"""What the app factory keeps on the Flask app, behind one typed accessor.

``create_app`` builds an :class:`Office` and stores it in ``app.extensions``; views, the health
probe, the server's start-up hook and tests read it through :func:`office` (or
:func:`get_runtime`) instead of repeating a string key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:
    from flask_socketio import SocketIO

    from ..service.cluster import Cluster
    from ..service.config import Config
    from ..service.runtime import SimulationRuntime
    from ..service.storage import StoreListener
    from ..store import Store
    from .realtime import TokenWatch

KEY = "miniature_office"


@dataclass(slots=True)
class Office:
    """One app's parts: its configuration, runtime, store, Socket.IO server, token watch, the
    store's listener (``recording``) and, in scale-out mode, the cluster.

    ``started`` is set by :func:`miniature_office.web.app.start_app` (the run attached; the
    tick loop, or the cluster's roles, and the token watch running).
    """

    config: Config
    runtime: SimulationRuntime
    store: Store
    socketio: SocketIO
    token_watch: TokenWatch
    recording: StoreListener
    cluster: Cluster | None = None
    started: bool = False


def office(app: Flask | None = None) -> Office:
    """The parts ``app`` (default: the current app) was built with."""
    return (app or current_app).extensions[KEY]  # type: ignore[no-any-return]


def get_runtime(app: Flask | None = None) -> SimulationRuntime:
    """The simulation runtime ``app`` (default: the current app) was built with."""
    return (app or current_app).extensions[KEY].runtime  # type: ignore[no-any-return]
