"""Socket.IO fan-out: each distinct message is encoded, compressed and framed once.

A tick goes to every viewer. Without this module every viewer cost the server a JSON encoding
check of the whole message and, above all, its own permessage-deflate compression of it
(about 0.4 ms for a tick of the default world, per viewer and tick): 1,000 viewers at 5 ticks/s
needed two cores for compression alone. Here:

- :class:`Encoded` carries JSON text encoded once (orjson); :class:`FastPacket` (the server's
  Socket.IO packet class) splices it into the packet as it is, and encodes every other packet
  with orjson too, without walking the data for binary parts first.
- :class:`SharedFrames` turns a message into its WebSocket frame once: every connection that
  sends the same text (Engine.IO hands each recipient of a room the same string) writes the
  same bytes. Compression is per message (the server announces
  ``server_no_context_takeover``), so one compressed frame is valid for every connection that
  negotiated permessage-deflate with the default window; the others get the plain frame (an
  uncompressed message is always allowed). Messages under ``threshold`` characters are sent
  uncompressed and not cached.
- :class:`Fanout` sends a room its messages; :class:`Direct` writes them straight to each idle
  eventlet connection instead of through Engine.IO's per-connection queue and green thread.

:func:`install` puts the packet class and the shared frames in place on a python-socketio
server (eventlet or threading mode). Nothing on the wire changes for a client: the same
events, the same JSON values, frames any RFC 6455/7692 client reads.
"""

from __future__ import annotations

import struct
import threading
import zlib
from collections import deque
from typing import Any, Callable

import engineio.packet
import socketio.packet

from ..service.encoding import dumps

__all__ = ["Encoded", "FastPacket", "Fanout", "SharedFrames", "encode", "install"]

#: Recent large messages kept with their frames: a tick's audiences (whole world, each
#: followed floor) and the snapshot being handed to connecting clients.
CACHE_ENTRIES = 32
#: ... and at most about this many bytes of text and frames (snapshots are 100-200 KB each).
CACHE_BYTES = 4 << 20
#: Below this many characters a message is framed per connection, uncompressed.
THRESHOLD = 512
LEVEL = 6
TEXT = 0x81  # FIN + text opcode
RSV1 = 0x40  # permessage-deflate: this message is compressed


class Encoded:
    """JSON text, encoded once, that a :class:`FastPacket` places in a packet unchanged."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __reduce__(self) -> tuple[Any, ...]:  # picklable (slots)
        return (Encoded, (self.text,))

    def __repr__(self) -> str:
        return f"Encoded({len(self.text)} chars)"


def encode(data: Any) -> Encoded:
    """``data`` as compact JSON (the service's one encoder), ready to emit."""
    return Encoded(dumps(data).decode())


def _json(value: Any) -> str:
    if isinstance(value, Encoded):
        return value.text
    return dumps(value).decode()


class FastPacket(socketio.packet.Packet):
    """A Socket.IO packet encoded with orjson, with :class:`Encoded` parts spliced in.

    The library walks an event's whole data looking for bytes before encoding it; here the
    data is encoded first, and only what orjson refuses (bytes, or a type it does not know)
    takes the library's own path.
    """

    def __init__(
        self,
        packet_type: int = socketio.packet.EVENT,
        data: Any = None,
        namespace: str | None = None,
        id: int | None = None,  # noqa: A002 - the library's name
        binary: bool | None = None,
        encoded_packet: Any = None,
    ) -> None:
        self._json: str | None = None
        if (
            binary is None
            and encoded_packet is None
            and data is not None
            and packet_type in (socketio.packet.EVENT, socketio.packet.ACK)
        ):
            try:
                self._json = _dumps(data)
                binary = False
            except TypeError:
                pass
        super().__init__(packet_type, data, namespace, id, binary, encoded_packet)

    def encode(self) -> Any:
        if self._json is None:
            return super().encode()
        head = str(self.packet_type)
        if self.namespace is not None and self.namespace != "/":
            head += self.namespace + ","
        if self.id is not None:
            head += str(self.id)
        return head + self._json


def _dumps(data: Any) -> str:
    if isinstance(data, list):
        return "[" + ",".join(_json(item) for item in data) + "]"
    return _json(data)


def frame(payload: bytes, compressed: bool) -> bytes:
    """One unmasked, final text frame (RFC 6455 5.2)."""
    first = TEXT | (RSV1 if compressed else 0)
    size = len(payload)
    if size < 126:
        return bytes((first, size)) + payload
    if size < 65536:
        return struct.pack("!BBH", first, 126, size) + payload
    return struct.pack("!BBQ", first, 127, size) + payload


def deflate(payload: bytes, level: int = LEVEL) -> bytes:
    """A permessage-deflate message body, compressed on its own (RFC 7692 7.2.1)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return body[:-4]  # without the empty block's 00 00 ff ff


class _Entry:
    __slots__ = ("text", "plain", "compressed")

    def __init__(self, text: str) -> None:
        self.text = text
        self.plain: bytes | None = None
        self.compressed: bytes | None = None

    def size(self) -> int:
        return len(self.text) + len(self.plain or b"") + len(self.compressed or b"")


class SharedFrames:
    """The frames of recent large messages, built once and written to every connection."""

    def __init__(
        self,
        entries: int = CACHE_ENTRIES,
        threshold: int = THRESHOLD,
        level: int = LEVEL,
        max_bytes: int = CACHE_BYTES,
    ) -> None:
        self.threshold = threshold
        self.level = level
        self.max_entries = entries
        self.max_bytes = max_bytes
        self._entries: deque[_Entry] = deque()
        self._lock = threading.Lock()
        #: Frames built (plain and compressed counted apart) and frames reused: what the
        #: tests read to check that a message is framed once, whatever the audience.
        self.built = 0
        self.reused = 0
        #: Engine.IO sid -> the connection's direct writer (eventlet WebSockets only).
        self.direct: dict[str, Direct] = {}

    def frame(self, text: str, compress: bool) -> bytes:
        """The frame carrying ``text``: compressed when the connection negotiated it."""
        if len(text) < self.threshold:
            return frame(text.encode(), False)
        with self._lock:
            entry = self._find(text)
            if entry is None:
                entry = _Entry(text)
                self._entries.appendleft(entry)
            if compress:
                built = entry.compressed
                if built is None:
                    built = entry.compressed = frame(deflate(text.encode(), self.level), True)
                    self.built += 1
                    self._evict()
                else:
                    self.reused += 1
                return built
            built = entry.plain
            if built is None:
                built = entry.plain = frame(text.encode(), False)
                self.built += 1
                self._evict()
            else:
                self.reused += 1
            return built

    def _evict(self) -> None:
        """Drop the oldest entries beyond the count or the bytes (never the newest)."""
        entries = self._entries
        while len(entries) > 1 and (
            len(entries) > self.max_entries or sum(e.size() for e in entries) > self.max_bytes
        ):
            entries.pop()

    def _find(self, text: str) -> _Entry | None:
        for entry in self._entries:  # Engine.IO gives every recipient the same string object
            if entry.text is text:
                return entry
        size = len(text)
        for entry in self._entries:
            if len(entry.text) == size and entry.text == text:
                return entry
        return None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class FramedSocket:
    """A driver's WebSocket whose text messages go out as :class:`SharedFrames` frames."""

    def __init__(
        self, ws: Any, write: Callable[[bytes], Any], compress: bool, frames: SharedFrames
    ) -> None:
        self._ws = ws
        self._write = write
        self.compress = compress
        self.frames = frames

    def send(self, message: Any) -> Any:
        if not isinstance(message, str):
            return self._ws.send(message)  # binary: the driver's own path
        return self._write(self.frames.frame(message, self.compress))

    def __getattr__(self, name: str) -> Any:  # wait, close, the socket for timeouts
        return getattr(self._ws, name)


def _window_ok(bits: Any) -> bool:
    """Our compressed frames use the full 32 KiB window: fine unless the client asked less."""
    return bits in (None, True, zlib.MAX_WBITS)


def _eventlet(ws: Any, frames: SharedFrames) -> FramedSocket | None:
    """eventlet.websocket.RFC6455WebSocket: writes go through its send lock."""
    send = getattr(ws, "_send", None)
    extensions = getattr(ws, "extensions", None)
    if send is None or not isinstance(extensions, dict):
        return None
    deflate_options = extensions.get("permessage-deflate")
    compress = bool(deflate_options) and _window_ok(deflate_options.get("server_max_window_bits"))
    return FramedSocket(ws, send, compress, frames)


def _simple_websocket(wrapper: Any, frames: SharedFrames) -> FramedSocket | None:
    """Engine.IO's SimpleWebSocketWSGI around simple_websocket.Server (threading mode)."""
    server = getattr(wrapper, "ws", None)
    sock = getattr(server, "sock", None)
    if sock is None:
        return None
    compress = False
    connection = getattr(getattr(server, "ws", None), "connection", None)
    for extension in getattr(getattr(connection, "_proto", None), "extensions", ()):
        if getattr(extension, "name", "") == "permessage-deflate" and extension.enabled():
            compress = _window_ok(getattr(extension, "server_max_window_bits", None))
    lock = threading.Lock()

    def write(data: bytes) -> None:
        if not server.connected:
            raise OSError("the WebSocket is closed")
        with lock:
            sock.sendall(data)

    return FramedSocket(wrapper, write, compress, frames)


class Direct:
    """Writes a broadcast straight to an idle eventlet WebSocket, skipping its send queue.

    Engine.IO gives every connection a queue and a writer green thread; a broadcast through
    them costs a queue put, a timer, a thread switch and a send per message and connection.
    When the connection's queue is empty and nothing is being written to it (its send lock is
    free), nothing sent earlier can still be waiting, so writing the frames now keeps their
    order. Otherwise (or in threading mode, where the writer may hold a packet it took off the
    queue) the broadcast goes through the queue like any message. A write the socket cannot
    take whole is finished by a green thread that holds the send lock meanwhile, so the writer
    waits for it.
    """

    __slots__ = ("socket", "ws", "compress", "lock", "raw", "green", "spawn")

    def __init__(self, eio_socket: Any, framed: FramedSocket) -> None:
        ws = framed._ws
        self.socket = eio_socket
        self.ws = ws
        self.compress = framed.compress
        self.lock = ws._sendlock
        self.green = ws.socket  # eventlet GreenSocket
        self.raw = getattr(ws.socket, "fd", None)  # the non-blocking socket under it
        from eventlet import spawn  # only eventlet WebSockets get a Direct

        self.spawn = spawn

    @classmethod
    def of(cls, eio_socket: Any, framed: Any) -> Direct | None:
        ws = getattr(framed, "_ws", None)
        if not isinstance(framed, FramedSocket) or not hasattr(ws, "_sendlock"):
            return None
        if getattr(getattr(ws, "socket", None), "fd", None) is None:
            return None
        if not hasattr(eio_socket, "queue") or not hasattr(eio_socket, "sid"):
            return None
        return cls(eio_socket, framed)

    def write(self, data: bytes) -> bool:
        """True when ``data`` was written (or is being finished); False: use the queue."""
        socket = self.socket
        if socket.closed or socket.closing or socket.upgrading or socket.queue.qsize():
            return False
        if not self.lock.acquire(blocking=False):
            return False
        try:
            sent = self.raw.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self.lock.release()
            return True  # the connection is gone; its reader sees that and cleans up
        if sent >= len(data):
            self.lock.release()
        else:
            self.spawn(self._finish, data[sent:])
        return True

    def _finish(self, rest: bytes) -> None:
        try:
            self.green.sendall(rest)
        except OSError:
            pass
        finally:
            self.lock.release()


class Fanout:
    """Sends one message (or a few, in order) to every connection in a room of this process.

    Each message is encoded once, each frame built once (:class:`SharedFrames`); idle eventlet
    connections get their frames written at once (:class:`Direct`), the others through
    Engine.IO's queue.
    """

    def __init__(self, server: Any, frames: SharedFrames) -> None:
        self.server = server
        self.frames = frames
        self.direct_writes = 0
        self.queued_writes = 0

    def packet(self, event: str, data: Any) -> str:
        """The Socket.IO packet text of one event for the default namespace."""
        return str(FastPacket(socketio.packet.EVENT, data=[event, data]).encode())

    def send(self, room: str, packets: list[str], namespace: str = "/") -> int:
        """Send ``packets`` (Socket.IO packet texts) to ``room``; how many connections."""
        members = list(self.server.manager.get_participants(namespace, room))
        if not members:
            return 0
        queued = []
        for text in packets:
            item = engineio.packet.Packet(engineio.packet.MESSAGE, text)
            item.encode()  # cached on the packet: every connection gets the same string
            queued.append(item)
        frames, direct = self.frames, self.frames.direct
        texts = [item.encode() for item in queued]
        built: dict[bool, bytes] = {}
        send_eio = self.server._send_eio_packet
        for _, eio_sid in members:
            writer = direct.get(eio_sid)
            if writer is not None:
                data = built.get(writer.compress)
                if data is None:
                    data = built[writer.compress] = b"".join(
                        frames.frame(text, writer.compress) for text in texts
                    )
                if writer.write(data):
                    self.direct_writes += 1
                    continue
            self.queued_writes += 1
            for item in queued:
                send_eio(eio_sid, item)
        return len(members)


def wrap(ws: Any, frames: SharedFrames) -> Any:
    """``ws`` with shared frames, or ``ws`` itself for a driver this module does not know."""
    return _eventlet(ws, frames) or _simple_websocket(ws, frames) or ws


def no_server_context_takeover(environ: dict[str, Any]) -> None:
    """Ask for per-message compression in the client's offer, so that the driver's answer
    says ``server_no_context_takeover`` (a server may announce it unasked, RFC 7692 7.1.1.1)."""
    offer = environ.get("HTTP_SEC_WEBSOCKET_EXTENSIONS")
    if not offer:
        return
    parts = []
    for extension in offer.split(","):
        name = extension.split(";", 1)[0].strip().lower()
        if name == "permessage-deflate" and "server_no_context_takeover" not in extension:
            extension = extension.rstrip() + "; server_no_context_takeover"
        parts.append(extension)
    environ["HTTP_SEC_WEBSOCKET_EXTENSIONS"] = ",".join(parts)


def _websocket_class(base: type, frames: SharedFrames) -> type:
    class SharedFrameWebSocket(base):  # type: ignore[valid-type, misc]
        def __init__(self, handler: Callable[[Any], Any], *args: Any, **kwargs: Any) -> None:
            eio_socket = getattr(handler, "__self__", None)  # Socket._websocket_handler

            def run(ws: Any) -> Any:
                framed = wrap(ws, frames)
                writer = Direct.of(eio_socket, framed)
                if writer is not None:
                    frames.direct[eio_socket.sid] = writer
                try:
                    return handler(framed)
                finally:
                    if writer is not None and frames.direct.get(eio_socket.sid) is writer:
                        del frames.direct[eio_socket.sid]

            super().__init__(run, *args, **kwargs)

        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            no_server_context_takeover(environ)
            return super().__call__(environ, start_response)

    SharedFrameWebSocket.__name__ = f"SharedFrame{base.__name__}"
    return SharedFrameWebSocket


def install(socketio_server: Any, frames: SharedFrames | None = None) -> SharedFrames:
    """Use :class:`FastPacket` and shared frames on a python-socketio server."""
    frames = frames or SharedFrames()
    socketio_server.packet_class = FastPacket
    eio = socketio_server.eio
    drivers = dict(eio._async)  # the async mode's classes, shared by every server: copy
    if drivers.get("websocket") is not None:
        drivers["websocket"] = _websocket_class(drivers["websocket"], frames)
        eio._async = drivers
    return frames
