"""Socket.IO: the tick broadcaster and the client events (follow a floor, resync).

Connections authenticate with the API tokens (see web/auth.py): ``auth: {token}`` in the
connect packet or an Authorization header. Without MINIOFFICE_AUTH_READS the view is open;
a token that is presented must still be valid. Every event is authorised like a REST call
(the events below are views and need the viewer role).

Every client starts in the ``all`` room and receives whole-world deltas. ``follow_floor``
moves it to ``floor:<id>``, whose deltas carry only that floor's agents, tasks, directives,
meetings, votes, tools and contracts. ``unfollow_floor`` moves it back.
"""

from __future__ import annotations

import json
import logging
import threading
from functools import wraps
from typing import Any, Callable

from flask import request
from flask_socketio import ConnectionRefusedError, SocketIO, join_room, leave_room

from ..sim.commands import Command
from ..sim.engine import TickResult
from ..store.tokens import CACHE_SECONDS, Role
from .auth import (
    ANONYMOUS,
    Authenticator,
    AuthFailure,
    Principal,
    authorize_socket,
    log_failure,
    socket_principal,
)
from .runtime import SimulationRuntime

log = logging.getLogger(__name__)
ALL_ROOM = "all"
FLOOR_KEYS = ("agents", "tasks", "directives", "meetings", "votes", "tools")


def floor_room(floor: str) -> str:
    return f"floor:{floor}"


def tick_message(result: TickResult) -> dict[str, Any]:
    """The ``tick_end`` payload for every floor: delta, new audit events and the flow row."""
    return {
        "tick": result.tick,
        "delta": result.delta,
        "events": [e.to_dict() for e in result.events],
        "flow": result.flow,
    }


def floor_message(message: dict[str, Any], floor: str) -> dict[str, Any]:
    """``message`` narrowed to one floor's entities."""
    delta = dict(message["delta"])
    for key in FLOOR_KEYS:
        delta[key] = [item for item in delta.get(key, []) if item.get("floor_id") == floor]
    delta["contracts"] = [
        c
        for c in delta.get("contracts", [])
        if floor in (c.get("consumer_floor"), c.get("provider_floor"))
    ]
    return {**message, "delta": delta, "floor": floor}


class Broadcaster:
    """Publishes ticks and commands from the runtime to the connected clients."""

    def __init__(self, socketio: SocketIO, runtime: SimulationRuntime) -> None:
        self.socketio = socketio
        self.runtime = runtime
        self.floor_rooms: dict[str, int] = {}
        runtime.on_tick_start.append(self.tick_start)
        runtime.on_tick.append(self.tick_end)
        runtime.on_commands_applied.append(self.commands)
        runtime.on_reset.append(lambda engine: self.state_to(None))

    def tick_start(self, tick: int) -> None:
        self.socketio.emit("tick_start", {"tick": tick})

    def tick_end(self, result: TickResult, duration: float) -> None:
        message = tick_message(result)
        self.socketio.emit("tick_end", message, to=ALL_ROOM)
        for floor, members in list(self.floor_rooms.items()):
            if members > 0:
                self.socketio.emit("tick_end", floor_message(message, floor), to=floor_room(floor))

    def commands(self, applied: list[Command]) -> None:
        for command in applied:
            event = "command_applied" if command.status == "applied" else "command_rejected"
            self.socketio.emit(event, command.to_dict())
        if not self.runtime.read(lambda e: e.world.running):
            self.state_to(None)  # a paused world has no tick to carry the change

    def state_to(self, sid: str | None) -> None:
        _, snapshot, _ = self.runtime.state()
        if sid is None:
            self.socketio.emit("state_update", snapshot)
        else:
            self.socketio.emit("state_update", snapshot, to=sid)


class TokenWatch:
    """Live connections lose what a revoked token gave them, not only new requests.

    A connection is authenticated once, at connect. Every ``interval`` seconds (the REST token
    cache's lifetime, so both sides honour a revocation within the same bound) the tokens of
    the open connections are checked again in one query. A connection whose token was revoked
    (or deleted) gets ``auth_revoked``; then, where reads need a token, it is disconnected, and
    where reads are open it goes on as an anonymous viewer.
    """

    def __init__(
        self,
        socketio: SocketIO,
        authenticator: Authenticator,
        principals: dict[str, Principal],
        interval: float = CACHE_SECONDS,
    ) -> None:
        self.socketio = socketio
        self.authenticator = authenticator
        self.principals = principals
        self.interval = interval
        self._stop = threading.Event()

    def check(self) -> list[str]:
        """Check every connection's token now; the sids that lost theirs."""
        holders = {
            sid: p.token.id for sid, p in list(self.principals.items()) if p.token is not None
        }
        gone = self.authenticator.tokens.inactive(holders.values())
        lost = [sid for sid, ident in holders.items() if ident in gone]
        close = self.authenticator.needs_token(Role.VIEWER)
        for sid in lost:
            ident = holders[sid]
            log.warning(
                json.dumps(
                    {"event": "auth.connection_revoked", "token_id": ident, "closed": close},
                    sort_keys=True,
                )
            )
            message = "the API token of this connection was revoked"
            self.socketio.emit("auth_revoked", {"token_id": ident, "message": message}, to=sid)
            if close:
                self.socketio.server.disconnect(sid, namespace="/")
            elif sid in self.principals:
                self.principals[sid] = ANONYMOUS
        return lost

    def run(self) -> None:
        """The background loop (``socketio.start_background_task``) until :meth:`stop`."""
        while not self._stop.is_set():
            self.socketio.sleep(self.interval)
            if self._stop.is_set():
                break
            try:
                self.check()
            except Exception:  # noqa: BLE001 - a store hiccup must not end the watch
                log.exception("token watch: check failed")

    def stop(self) -> None:
        self._stop.set()


def register_realtime(
    socketio: SocketIO, runtime: SimulationRuntime, authenticator: Authenticator
) -> tuple[Broadcaster, TokenWatch]:
    """Wire the Socket.IO events to the runtime; the token watch is returned, not started."""
    broadcaster = Broadcaster(socketio, runtime)
    following: dict[str, str] = {}
    principals: dict[str, Principal] = {}
    watch = TokenWatch(socketio, authenticator, principals)

    def needs(role: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Authorise an event for the connection's principal; refusals answer an error."""

        def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
            @wraps(handler)
            def guarded(*args: Any) -> Any:
                sid = request.sid  # type: ignore[attr-defined]
                try:
                    authorize_socket(principals.get(sid, ANONYMOUS), role)
                except AuthFailure as failure:
                    log_failure(failure, None, event=handler.__name__, transport="socket.io")
                    return {"ok": False, "error": failure.message, "status": failure.status}
                return handler(*args)

            return guarded

        return decorate

    @socketio.on("connect")
    def _connect(auth: Any = None) -> None:
        try:
            principal = socket_principal(auth, request.headers)
        except AuthFailure as failure:
            token = auth.get("token") if isinstance(auth, dict) else None
            log_failure(
                failure,
                token if isinstance(token, str) else None,
                remote=request.remote_addr,
                transport="socket.io",
            )
            raise ConnectionRefusedError(f"unauthorized: {failure.message}") from None
        principals[request.sid] = principal  # type: ignore[attr-defined]
        runtime.clients += 1
        join_room(ALL_ROOM)
        broadcaster.state_to(request.sid)  # type: ignore[attr-defined]

    @socketio.on("disconnect")
    def _disconnect(*_: Any) -> None:
        if principals.pop(request.sid, None) is None:  # type: ignore[attr-defined]
            return  # a refused connection was never counted
        runtime.clients = max(0, runtime.clients - 1)
        _leave_floor(request.sid)  # type: ignore[attr-defined]

    @socketio.on("resync")
    @needs(Role.VIEWER)
    def _resync(*_: Any) -> None:
        broadcaster.state_to(request.sid)  # type: ignore[attr-defined]

    @socketio.on("follow_floor")
    @needs(Role.VIEWER)
    def _follow(data: Any = None) -> dict[str, Any]:
        floor = data.get("floor") if isinstance(data, dict) else None
        known = runtime.read(lambda e: list(e.world.floors))
        if not isinstance(floor, str) or floor not in known:
            return {"ok": False, "error": f"unknown floor {floor!r}", "floors": known}
        sid = request.sid  # type: ignore[attr-defined]
        _leave_floor(sid)
        leave_room(ALL_ROOM)
        join_room(floor_room(floor))
        following[sid] = floor
        broadcaster.floor_rooms[floor] = broadcaster.floor_rooms.get(floor, 0) + 1
        return {"ok": True, "floor": floor}

    @socketio.on("unfollow_floor")
    @needs(Role.VIEWER)
    def _unfollow(*_: Any) -> dict[str, Any]:
        sid = request.sid  # type: ignore[attr-defined]
        _leave_floor(sid)
        join_room(ALL_ROOM)
        return {"ok": True, "floor": None}

    def _leave_floor(sid: str) -> None:
        floor = following.pop(sid, None)
        if floor is not None:
            leave_room(floor_room(floor))
            broadcaster.floor_rooms[floor] = max(0, broadcaster.floor_rooms.get(floor, 0) - 1)

    return broadcaster, watch
