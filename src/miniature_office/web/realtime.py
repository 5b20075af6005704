"""Socket.IO: the tick broadcaster and the client events (follow a floor, resync).

Connections authenticate with the API tokens (see web/auth.py): ``auth: {token}`` in the
connect packet or an Authorization header. Without MINIOFFICE_AUTH_READS the view is open;
a token that is presented must still be valid. Every event is authorised like a REST call
(the events below are views and need the viewer role).

Every client starts in the ``all`` room and receives whole-world deltas. ``follow_floor``
moves it to ``floor:<id>``, whose deltas carry only that floor's agents, tasks, directives,
meetings, votes, tools and contracts. ``unfollow_floor`` moves it back.

A tick is encoded once per audience (the whole world, each followed floor) and each encoding
is compressed and framed once for all its viewers (web/fanout.py); a connecting client gets
the runtime's cached snapshot bytes.
"""

from __future__ import annotations

import json
import logging
import threading
from functools import wraps
from typing import Any, Callable

from flask import request
from flask_socketio import ConnectionRefusedError, SocketIO, join_room, leave_room

from ..service.compat import flow_row
from ..service.events import RuntimeListener
from ..service.runtime import SimulationRuntime
from ..sim.commands import Command, CommandStatus
from ..sim.engine import Engine, TickResult
from ..store.tokens import CACHE_SECONDS, AccessRole
from . import fanout
from .auth import (
    ANONYMOUS,
    Authenticator,
    AuthFailure,
    Principal,
    authorize_socket,
    log_failure,
    socket_principal,
)
from .socket_gate import (
    CLOSING,
    EventLimiter,
    SocketGate,
)

log = logging.getLogger(__name__)
ALL_ROOM = "all"
MAX_FLOOR_NAME = 40
#: Without configuration (tests' apps): no practical cap on live connections.
UNCAPPED = 1 << 30


def _owner(principal: Principal, remote: str | None) -> str:
    """Whose budget an event spends: the token's, else the client address's."""
    if principal.token is not None:
        return "token:" + principal.token.id
    return "addr:" + (remote or "unknown")


FLOOR_KEYS = ("agents", "tasks", "directives", "meetings", "votes", "tools")


def floor_room(floor: str) -> str:
    return f"floor:{floor}"


def tick_message(result: TickResult) -> dict[str, Any]:
    """The ``tick_end`` payload for every floor: delta, new audit events and the flow row."""
    return {
        "tick": result.tick,
        "delta": result.delta,
        "events": [e.to_dict() for e in result.events],
        "flow": flow_row(result.flow),
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


class Broadcaster(RuntimeListener):
    """Publishes ticks and commands from the runtime to the connected clients.

    Ticks go to this process's own viewers (:class:`~.fanout.Fanout`): a tick's ``tick_start``
    and ``tick_end`` go out together after the tick, each audience's pair encoded and framed
    once and written to its connections at once. ``tick_start`` still comes before
    ``tick_end``; the tick itself takes a few milliseconds, during which the loop would not have
    sent it anyway. In scale-out every process does the same for its viewers with the ticks its
    mirror steps (``replicated_tick``), so tick payloads never cross the message queue and
    each process knows which floors its viewers follow; commands and whole-world snapshots still
    go through Socket.IO's queue to every process.
    """

    def __init__(
        self,
        socketio: SocketIO,
        runtime: SimulationRuntime,
        *,
        every_floor: bool = False,
        fan: fanout.Fanout,
    ) -> None:
        self.socketio = socketio
        self.runtime = runtime
        self.floor_rooms: dict[str, int] = {}
        #: Scale-out: snapshots for everyone go through the message queue.
        self.every_floor = every_floor
        #: Local fan-out: ticks are framed once per audience and written to its connections.
        self.fan = fan
        self._starting: int | None = None
        #: The snapshot last sent, as the runtime's cached bytes and as emitted text.
        self._snapshot: tuple[bytes, fanout.Encoded] | None = None

    def tick_start(self, tick: int) -> None:
        """Hold the tick's number: it is sent with the tick's end, in the same write."""
        self._starting = tick

    def replicated_tick(self, result: TickResult) -> None:
        """A follower's mirror made the leader's tick: show it to this process's viewers."""
        self.tick_start(result.tick)
        self.tick_end(result, 0.0)

    def tick_end(self, result: TickResult, duration: float) -> None:
        """One encoding per audience: the whole world, then each floor someone follows here."""
        message = tick_message(result)
        floors = [floor for floor, members in list(self.floor_rooms.items()) if members > 0]
        fan = self.fan
        starting, self._starting = self._starting, None
        start = [] if starting is None else [fan.packet("tick_start", {"tick": starting})]
        fan.send(ALL_ROOM, start + [fan.packet("tick_end", fanout.encode(message))])
        for floor in floors:
            narrowed = fanout.encode(floor_message(message, floor))
            fan.send(floor_room(floor), start + [fan.packet("tick_end", narrowed)])

    def commands_applied(self, applied: list[Command]) -> None:
        """Every client hears each applied (or rejected) command; while paused, the world."""
        for command in applied:
            event = (
                "command_applied" if command.status is CommandStatus.APPLIED else "command_rejected"
            )
            self.socketio.emit(event, command.to_dict())
        if not self.runtime.read(lambda e: e.world.running):
            self.state_to(None)  # a paused world has no tick to carry the change

    def reset_done(self, engine: Engine) -> None:
        """Every client gets the fresh world."""
        self.state_to(None)

    def state_to(self, sid: str | None) -> None:
        """The snapshot, from the runtime's cached bytes (encoded once per world change, and
        framed once for every client that connects before the next change).

        To one client: from this process only (its connect or resync came here). To everyone
        in scale-out: as a document, through the message queue to every process."""
        body, snapshot, _ = self.runtime.state()
        if sid is None and self.every_floor:
            self.socketio.emit("state_update", snapshot)
            return
        last = self._snapshot
        if last is None or last[0] is not body:
            last = self._snapshot = (body, fanout.Encoded(body.decode()))
        if sid is None:
            self.socketio.emit("state_update", last[1])
        else:
            self.socketio.emit("state_update", last[1], to=sid, ignore_queue=True)


class TokenWatch(RuntimeListener):
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
        close = self.authenticator.needs_token(AccessRole.VIEWER)
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

    def shutdown(self) -> None:
        """The process stops: so does the watch."""
        self.stop()


def register_realtime(
    socketio: SocketIO,
    runtime: SimulationRuntime,
    authenticator: Authenticator,
    *,
    scale_out: bool = False,
    limiter: EventLimiter | None = None,
    max_connections: int = UNCAPPED,
    per_address: int = UNCAPPED,
) -> tuple[Broadcaster, TokenWatch]:
    """Wire the Socket.IO events to the runtime; the broadcaster and the token watch are
    returned (the app registers them as the runtime's listeners) and nothing is started.

    ``max_connections`` and ``per_address`` cap the live Socket.IO sessions (web/socket_gate.py).
    """
    frames = fanout.install(socketio.server)
    fan = fanout.Fanout(socketio.server, frames)
    socketio.fanout = fan  # type: ignore[attr-defined]
    broadcaster = Broadcaster(socketio, runtime, every_floor=scale_out, fan=fan)
    following: dict[str, str] = {}
    principals: dict[str, Principal] = {}
    watch = TokenWatch(socketio, authenticator, principals)
    limits = limiter or EventLimiter()
    socketio.event_limiter = limits  # type: ignore[attr-defined]
    gate = SocketGate(limits, max_connections=max_connections, per_address=per_address)
    gate.install(socketio.server.eio)
    socketio.gate = gate  # type: ignore[attr-defined]

    def connection(sid: str) -> str:
        """The budget key of a Socket.IO sid: its Engine.IO session, as the gate counts it."""
        eio_sid = socketio.server.manager.eio_sid_from_sid(sid, "/")
        return "eio:" + eio_sid if eio_sid else "sid:" + sid

    def refused(sid: str) -> None:
        """After a refusal: close a connection that keeps being refused, saying why."""
        if limits.flooding(connection(sid)):
            log.warning(json.dumps({"event": "socket.flood_closed", "sid": sid}))
            message = "this connection kept sending refused events"
            socketio.emit(CLOSING, {"reason": "flood", "message": message}, to=sid)
            socketio.server.disconnect(sid, namespace="/")

    def needs(role: AccessRole, kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Authorise and rate-limit an event for the connection's principal, and check its
        arguments' count; refusals answer an error instead of running the handler."""

        def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
            @wraps(handler)
            def guarded(*args: Any) -> Any:
                sid = request.sid  # type: ignore[attr-defined]
                principal = principals.get(sid, ANONYMOUS)
                wait = limits.check(connection(sid), _owner(principal, request.remote_addr), kind)
                if wait:
                    refused(sid)
                    return {"ok": False, "error": "rate limited", "status": 429,
                            "retry_after": round(wait, 2)}  # fmt: skip
                try:
                    authorize_socket(principal, role)
                except AuthFailure as failure:
                    log_failure(failure, None, event=handler.__name__, transport="socket.io")
                    return {"ok": False, "error": failure.message, "status": failure.status}
                if len(args) > 1:
                    return {"ok": False, "error": f"{kind} takes at most one argument",
                            "status": 422}  # fmt: skip
                try:
                    return handler(args[0] if args else None)
                except Exception:  # noqa: BLE001 - a bad event must not break the connection
                    log.exception("socket.io %s handler failed", kind)
                    return {"ok": False, "error": "internal error", "status": 500}

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
        limits.forget(connection(request.sid))  # type: ignore[attr-defined]
        _leave_floor(request.sid)  # type: ignore[attr-defined]

    @socketio.on("*")
    def _unknown(event: Any, *_: Any) -> dict[str, Any]:
        """Any other event: refused, and counted like every refusal."""
        sid = request.sid  # type: ignore[attr-defined]
        limits.refuse(connection(sid))
        refused(sid)
        shown = event if isinstance(event, str) and len(event) <= MAX_FLOOR_NAME else None
        return {"ok": False, "error": f"unknown event {shown!r}", "status": 404}

    @socketio.on("resync")
    @needs(AccessRole.VIEWER, "resync")
    def _resync(_: Any) -> dict[str, Any]:
        broadcaster.state_to(request.sid)  # type: ignore[attr-defined] - the cached snapshot
        return {"ok": True}

    @socketio.on("follow_floor")
    @needs(AccessRole.VIEWER, "follow_floor")
    def _follow(data: Any) -> dict[str, Any]:
        floor = data.get("floor") if isinstance(data, dict) else None
        known = runtime.read(lambda e: list(e.world.building.floors))
        if not isinstance(floor, str) or len(floor) > MAX_FLOOR_NAME or floor not in known:
            shown = floor if isinstance(floor, str) and len(floor) <= MAX_FLOOR_NAME else None
            return {"ok": False, "error": f"unknown floor {shown!r}", "floors": known,
                    "status": 422}  # fmt: skip
        sid = request.sid  # type: ignore[attr-defined]
        _leave_floor(sid)
        leave_room(ALL_ROOM)
        join_room(floor_room(floor))
        following[sid] = floor
        broadcaster.floor_rooms[floor] = broadcaster.floor_rooms.get(floor, 0) + 1
        return {"ok": True, "floor": floor}

    @socketio.on("unfollow_floor")
    @needs(AccessRole.VIEWER, "unfollow_floor")
    def _unfollow(_: Any) -> dict[str, Any]:
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
