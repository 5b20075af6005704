"""The Socket.IO door: connection caps and a budget on every packet a client sends.

Two defects of issue 25 lived below the event handlers, where web/realtime.py's budgets
could not see them:

- **Floods of any packet.** Engine.IO reads a client's messages in a loop and starts a green
  thread for each before Socket.IO decodes it; a client sending thousands of malformed
  ``follow_floor`` events a second kept that loop busy and queued thousands of handlers, and
  the tick loop waited (the world fell from 4 to 1.25 ticks/s). Here every message a client
  sends -- valid or not, of a known event or not, text or binary -- spends from the
  connection's packet budget *before* anything is decoded or started; a refused packet is
  dropped, and it counts, with the handlers' own refusals (web/realtime.py), towards closing
  the connection. A closed flooder first gets a ``closing`` event naming the reason. Binary
  messages (the app has no binary event) are refused outright, and a message larger than
  MINIOFFICE_WS_MAX_MESSAGE closes the connection (Engine.IO's own packet size limit).
- **Held connections.** Every websocket (and every long poll) holds one of the worker's
  connection slots (Gunicorn's ``worker_connections``), which HTTP requests share. New
  sessions beyond MINIOFFICE_WS_MAX_CONNECTIONS in all, or beyond MINIOFFICE_WS_PER_ADDRESS
  from one client address, are refused with 503 before a session exists, so ``/health``,
  ``/metrics`` and the API always find a free slot. The address is the WSGI ``REMOTE_ADDR``,
  which ProxyFix sets from the trusted forwarded header only when MINIOFFICE_PROXY_FIX says
  how many proxies to trust; a spoofed X-Forwarded-For changes nothing.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

log = logging.getLogger(__name__)
#: Event budgets (events per second, burst). A resync sends the whole world (about 100 kB):
#: a few per second per connection, and a bound per token (or client address without one)
#: across all its connections. Other events are cheap and get a larger budget.
RESYNC_RATE, RESYNC_BURST = 2.0, 4.0
TOKEN_RESYNC_RATE, TOKEN_RESYNC_BURST = 10.0, 20.0
EVENT_RATE, EVENT_BURST = 20.0, 40.0
TOKEN_EVENT_RATE, TOKEN_EVENT_BURST = 100.0, 200.0
#: A connection refused this many times without a quiet spell of FLOOD_QUIET seconds between
#: refusals is closed (a flood; a page that merely resyncs too eagerly never gets near it).
FLOOD_CLOSE_AFTER = 200
FLOOD_QUIET = 10.0


@dataclass(slots=True)
class Bucket:
    """A token bucket: ``rate`` per second, holding at most ``burst``."""

    rate: float
    burst: float
    level: float = -1.0
    at: float = 0.0

    def take(self, now: float) -> float:
        """0.0 when one event may pass now, else the seconds until one may."""
        if self.level < 0:
            self.level, self.at = self.burst, now
        self.level = min(self.burst, self.level + (now - self.at) * self.rate)
        self.at = now
        if self.level >= 1.0:
            self.level -= 1.0
            return 0.0
        return (1.0 - self.level) / self.rate


class EventLimiter:
    """Per-connection and per-token (or per-address) budgets for Socket.IO traffic.

    A connection is named by an opaque key (the gate and the handlers both use its Engine.IO
    session id), so the packets the gate refuses and the events the handlers refuse add up
    towards one closing threshold.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.buckets: dict[tuple[str, str], Bucket] = {}  # (owner, kind) -> bucket
        self.connections: dict[str, dict[str, Bucket]] = {}  # connection -> kind -> bucket
        self.refused: dict[str, tuple[int, float]] = {}  # connection -> (refusals, last one)

    def check(self, sid: str, owner: str, kind: str) -> float:
        """0.0 to let the event through, else the Retry-After in seconds."""
        now = self.clock()
        heavy = kind == "resync"
        mine = self._mine(sid, kind if heavy else "event",
                          RESYNC_RATE if heavy else EVENT_RATE,
                          RESYNC_BURST if heavy else EVENT_BURST)  # fmt: skip
        key = (owner, kind if heavy else "event")
        theirs = self.buckets.get(key)
        if theirs is None:
            theirs = self.buckets[key] = Bucket(
                TOKEN_RESYNC_RATE if heavy else TOKEN_EVENT_RATE,
                TOKEN_RESYNC_BURST if heavy else TOKEN_EVENT_BURST,
            )
        wait = mine.take(now)
        if not wait:
            wait = theirs.take(now)
            if wait:  # give the connection's allowance back: the owner's budget refused it
                mine.level = min(mine.burst, mine.level + 1.0)
        if wait:
            self.refuse(sid, now)
        return wait

    def spend(self, sid: str, kind: str, rate: float, burst: float) -> bool:
        """Take one from the connection's ``kind`` budget; False (a refusal) when empty."""
        now = self.clock()
        if self._mine(sid, kind, rate, burst).take(now):
            self.refuse(sid, now)
            return False
        return True

    def refuse(self, sid: str, now: float | None = None) -> None:
        """Count one refusal against the connection (a quiet spell starts the count again)."""
        now = self.clock() if now is None else now
        count, last = self.refused.get(sid, (0, now))
        self.refused[sid] = (1 if now - last > FLOOD_QUIET else count + 1, now)

    def flooding(self, sid: str) -> bool:
        """The connection was refused often enough, without a pause, to be closed."""
        return self.refused.get(sid, (0, 0.0))[0] >= FLOOD_CLOSE_AFTER

    def forget(self, sid: str) -> None:
        self.refused.pop(sid, None)
        self.connections.pop(sid, None)

    def _mine(self, sid: str, kind: str, rate: float, burst: float) -> Bucket:
        kinds = self.connections.get(sid)
        if kinds is None:
            kinds = self.connections[sid] = {}
        bucket = kinds.get(kind)
        if bucket is None:
            bucket = kinds[kind] = Bucket(rate, burst)
        return bucket


#: Packets per second (and burst) one connection may send, every kind together. Above the
#: handlers' own event budget (20/s, burst 40), so a page that merely sends too often still
#: gets their 429 answers with a Retry-After; only a flood reaches this one.
PACKET_RATE, PACKET_BURST = 40.0, 80.0
#: Seconds a refused session is told to wait before trying again.
RETRY_AFTER = 5
CLOSING = "closing"


def _refusal(status: str, message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    body = json.dumps({"error": "too_many_connections", "message": message,
                       "status": int(status[:3])}).encode()  # fmt: skip
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
               ("Retry-After", str(RETRY_AFTER)), ("Cache-Control", "no-store")]  # fmt: skip
    return status, headers, body


class SocketGate:
    """Caps on Engine.IO sessions and a per-connection packet budget, on one server.

    :meth:`install` wraps the Engine.IO server's request entry (new sessions) and its event
    trigger (every message, every connect and disconnect) on that instance only.
    """

    def __init__(
        self,
        limiter: EventLimiter,
        *,
        max_connections: int,
        per_address: int,
    ) -> None:
        self.limiter = limiter
        self.max_connections = max_connections
        self.per_address = per_address
        self.address_of: dict[str, str] = {}  # eio sid -> client address
        self.per_addr: dict[str, int] = {}
        self.closing: set[str] = set()
        self.refused_sessions = 0
        self.closed_floods = 0
        self._eio: Any = None

    # ---- sessions ----------------------------------------------------------------------

    def admit(self, environ: dict[str, Any]) -> str | None:
        """None when a new session may open, else why not (the 503's message)."""
        if len(self.address_of) >= self.max_connections:
            return (f"the server holds its maximum of {self.max_connections} live connections;"
                    " try again later")  # fmt: skip
        address = environ.get("REMOTE_ADDR") or "unknown"
        if self.per_addr.get(address, 0) >= self.per_address:
            return (f"this address holds its maximum of {self.per_address} live connections;"
                    " close one first")  # fmt: skip
        return None

    def _opened(self, sid: str, environ: dict[str, Any]) -> bool:
        if self.admit(environ) is not None:  # handshakes that raced past the first check
            return False
        address = environ.get("REMOTE_ADDR") or "unknown"
        self.address_of[sid] = address
        self.per_addr[address] = self.per_addr.get(address, 0) + 1
        return True

    def _closed(self, sid: str) -> None:
        self.closing.discard(sid)
        self.limiter.forget("eio:" + sid)
        address = self.address_of.pop(sid, None)
        if address is not None:
            left = self.per_addr.get(address, 1) - 1
            if left > 0:
                self.per_addr[address] = left
            else:
                self.per_addr.pop(address, None)

    # ---- packets -----------------------------------------------------------------------

    def allow(self, sid: str, data: Any) -> bool:
        """Spend one packet of ``sid``'s budget; False to drop the message unread."""
        if sid in self.closing:
            return False
        key = "eio:" + sid
        binary = not isinstance(data, str) or data[:1] in ("5", "6")  # binary event or ack
        if binary:
            self.limiter.refuse(key)
        elif self.limiter.spend(key, "packet", PACKET_RATE, PACKET_BURST):
            return True
        if self.limiter.flooding(key):
            self.close(sid, "flood", "this connection sent more than its budget of messages")
        return False

    def close(self, sid: str, reason: str, message: str) -> None:
        """Tell the client why, then close its session (once)."""
        if sid in self.closing or self._eio is None:
            return
        self.closing.add(sid)
        self.closed_floods += 1
        log.warning(json.dumps({"event": "socket.flood_closed", "eio_sid": sid,
                                "reason": reason}, sort_keys=True))  # fmt: skip
        eio = self._eio
        text = json.dumps([CLOSING, {"reason": reason, "message": message}])
        try:
            eio.send(sid, "2" + text)  # a Socket.IO EVENT on the default namespace
        except Exception:  # noqa: BLE001 - the socket may be gone already
            pass
        eio.start_background_task(eio.disconnect, sid)

    # ---- wiring ------------------------------------------------------------------------

    def install(self, eio: Any) -> None:
        """Put the gate in front of ``eio`` (an ``engineio.Server``)."""
        self._eio = eio
        handle_request: Callable[..., Any] = eio.handle_request
        trigger: Callable[..., Any] = eio._trigger_event
        sleep = eio.sleep

        def gated_request(environ: dict[str, Any], start_response: Any) -> Any:
            if "sid=" not in environ.get("QUERY_STRING", ""):  # a new session
                why = self.admit(environ)
                if why is not None:
                    self.refused_sessions += 1
                    status, headers, body = _refusal("503 Service Unavailable", why)
                    start_response(status, headers)
                    return [body]
            return handle_request(environ, start_response)

        def gated_trigger(event: str, *args: Any, **kwargs: Any) -> Any:
            if event == "message":
                passed = self.allow(args[0], args[1])
                # the reading loop yields after every message: a client that never pauses
                # must not keep the tick loop (or anyone else) waiting
                if not passed:
                    sleep(0)
                    return None
                result = trigger(event, *args, **kwargs)
                sleep(0)
                return result
            if event == "connect" and not self._opened(args[0], args[1]):
                self.refused_sessions += 1
                return False
            if event == "disconnect":
                try:
                    return trigger(event, *args, **kwargs)
                finally:
                    self._closed(args[0])
            return trigger(event, *args, **kwargs)

        eio.handle_request = gated_request
        eio._trigger_event = gated_trigger
