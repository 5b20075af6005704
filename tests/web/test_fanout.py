"""Fan-out: a tick is encoded once per audience, framed once per message, and reaches every
viewer whole and in order (web/fanout.py; the server benchmark is bench/web_bench.py fanout)."""

from __future__ import annotations

import base64
import os
import socket
import struct
import zlib

import orjson
import pytest
import socketio.packet

from miniature_office.service.cluster import Cluster
from miniature_office.service.events import RuntimeListener
from miniature_office.service.runtime import RuntimeRole
from miniature_office.sim.engine import Engine
from miniature_office.web import fanout
from miniature_office.web.app import get_runtime, get_socketio
from miniature_office.web.fanout import FastPacket, SharedFrames

from .conftest import build_app

# ---- packets ---------------------------------------------------------------------------------

SAMPLES = [
    ["tick_end", {"tick": 3, "delta": {"agents": [{"id": "A-1", "x": 1.5}]}, "events": []}],
    ["state_update", {"name": "Zoë's office — 2", "nested": [[1, 2], {"k": None}], "f": 0.1}],
    ["numbers", {1: "int keys become strings", "ok": True}],
    ["command_applied", {"seq": 1, "payload": {"floor": "python"}}],
]


@pytest.mark.parametrize("data", SAMPLES)
def test_a_fast_packet_decodes_to_what_the_library_packet_decodes_to(data):
    ours = socketio.packet.Packet(encoded_packet=FastPacket(data=data).encode())
    theirs = socketio.packet.Packet(encoded_packet=socketio.packet.Packet(data=data).encode())
    assert ours.data == theirs.data
    assert ours.packet_type == socketio.packet.EVENT


def test_encoded_json_is_spliced_in_unchanged():
    document = {"tick": 7, "delta": {"agents": []}, "flow": {"wip": 2}}
    packet = FastPacket(data=["tick_end", fanout.encode(document)], id=12, namespace="/x")
    text = packet.encode()
    assert text == '2/x,12["tick_end",' + orjson.dumps(document).decode() + "]"
    assert socketio.packet.Packet(encoded_packet=text).data == ["tick_end", document]


def test_binary_data_still_takes_the_binary_path():
    packet = FastPacket(data=["upload", {"blob": b"\x00\x01"}])
    assert packet.packet_type == socketio.packet.BINARY_EVENT
    encoded = packet.encode()
    assert isinstance(encoded, list) and encoded[1] == b"\x00\x01"


def test_an_ack_is_encoded_with_its_id():
    packet = FastPacket(socketio.packet.ACK, data=[{"ok": True}], id=5)
    assert packet.encode() == '35[{"ok":true}]'


# ---- frames ----------------------------------------------------------------------------------


def _parse(frame: bytes) -> tuple[int, bytes]:
    """(first byte, payload) of one unmasked server frame."""
    size, at = frame[1] & 0x7F, 2
    assert not frame[1] & 0x80, "server frames are not masked"
    if size == 126:
        size, at = struct.unpack("!H", frame[2:4])[0], 4
    elif size == 127:
        size, at = struct.unpack("!Q", frame[2:10])[0], 10
    assert len(frame) == at + size
    return frame[0], frame[at:]


def _inflate(body: bytes) -> bytes:
    """A message compressed without context: a fresh decompressor must read it."""
    return zlib.decompressobj(-zlib.MAX_WBITS).decompress(body + b"\x00\x00\xff\xff")


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 70000])
def test_frame_lengths_use_the_right_encoding(size):
    first, payload = _parse(fanout.frame(b"x" * size, False))
    assert first == 0x81 and payload == b"x" * size


def test_a_message_is_framed_once_whatever_the_number_of_connections():
    frames = SharedFrames()
    text = "42" + orjson.dumps(["tick_end", {"tick": 1, "items": list(range(400))}]).decode()
    equal_copy = "".join(list(text))  # same characters, another string object
    assert equal_copy is not text
    sent = [frames.frame(text if i % 2 else equal_copy, True) for i in range(100)]
    plain = [frames.frame(text, False) for _ in range(50)]
    assert frames.built == 2  # one compressed, one plain frame
    assert frames.reused == 148
    assert all(s is sent[0] for s in sent) and all(p is plain[0] for p in plain)
    first, body = _parse(sent[0])
    assert first == 0x81 | 0x40  # final text frame, compressed
    assert _inflate(body) == text.encode()
    assert len(sent[0]) < len(plain[0]) / 2
    first, body = _parse(plain[0])
    assert first == 0x81 and body == text.encode()


def test_small_messages_are_sent_plain_and_not_kept():
    frames = SharedFrames(threshold=512)
    first, body = _parse(frames.frame('42["tick_start",{"tick":9}]', True))
    assert first == 0x81 and body == b'42["tick_start",{"tick":9}]'
    assert frames.built == 0 and not frames._entries


def test_the_frame_cache_is_bounded_in_entries_and_bytes():
    frames = SharedFrames(entries=4, threshold=1)
    for i in range(20):
        frames.frame(f"message {i} " + "x" * 100, True)
    assert len(frames._entries) == 4 and frames.built == 20
    frames = SharedFrames(entries=32, threshold=1, max_bytes=10_000)
    for i in range(20):
        frames.frame(f"snapshot {i} " + "y" * 3_000, False)  # about 6 KB each, text and frame
    assert len(frames._entries) == 1  # the newest stays, whatever its size
    assert frames.frame("snapshot 19 " + "y" * 3_000, False)  # and is still shared
    assert frames.reused == 1


def test_the_offer_asks_for_no_server_context_takeover():
    environ = {"HTTP_SEC_WEBSOCKET_EXTENSIONS": "permessage-deflate; client_max_window_bits, x-y"}
    fanout.no_server_context_takeover(environ)
    assert environ["HTTP_SEC_WEBSOCKET_EXTENSIONS"] == (
        "permessage-deflate; client_max_window_bits; server_no_context_takeover, x-y"
    )
    fanout.no_server_context_takeover(environ)  # already there: unchanged
    assert environ["HTTP_SEC_WEBSOCKET_EXTENSIONS"].count("server_no_context_takeover") == 1
    bare: dict[str, str] = {}
    fanout.no_server_context_takeover(bare)
    assert bare == {}


# ---- the broadcaster -------------------------------------------------------------------------


def test_a_tick_is_encoded_once_per_audience_whatever_the_number_of_viewers(monkeypatch):
    app = build_app()
    socketio_ = get_socketio(app)
    clients = [socketio_.test_client(app) for _ in range(9)]
    for client in clients[:3]:
        assert client.emit("follow_floor", {"floor": "python"}, callback=True)["ok"]
    for client in clients[3:5]:
        assert client.emit("follow_floor", {"floor": "javascript"}, callback=True)["ok"]
    for client in clients:
        client.get_received()
    encoded: list[object] = []
    real = fanout.encode
    monkeypatch.setattr(fanout, "encode", lambda data: encoded.append(data) or real(data))

    get_runtime(app).step()

    assert len(encoded) == 3  # the whole world, python, javascript: not one per viewer
    for index, client in enumerate(clients):
        received = client.get_received()
        assert [r["name"] for r in received] == ["tick_start", "tick_end"]
        start, end = received[0]["args"][0], received[1]["args"][0]
        assert start == {"tick": 1} and end["tick"] == 1
        floor = "python" if index < 3 else "javascript" if index < 5 else None
        assert end.get("floor") == floor
        if floor:
            assert {a["floor_id"] for a in end["delta"]["agents"]} == {floor}
    for client in clients:
        client.disconnect()


def test_a_follower_shows_its_own_viewers_the_ticks_its_mirror_steps():
    """Scale-out: every process fans a tick out to its viewers from its mirror, floor rooms
    included; the tick's payload never crosses the message queue."""
    app = build_app()
    runtime = get_runtime(app)
    socketio_ = get_socketio(app)
    whole, python = socketio_.test_client(app), socketio_.test_client(app)
    assert python.emit("follow_floor", {"floor": "python"}, callback=True)["ok"]
    leader = Engine(runtime.scenario, runtime.engine.seed)
    runtime.role = RuntimeRole.FOLLOWER
    cluster = Cluster.__new__(Cluster)  # only its follower half: no Redis, no store
    cluster.runtime = runtime
    stored: list[int] = []

    class Store(RuntimeListener):
        def tick_end(self, result, duration):
            stored.append(result.tick)

    runtime.listen(Store())
    for client in (whole, python):
        client.get_received()

    for _ in range(3):
        made = leader.step()
        cluster._follow({"type": "tick", "tick": made.tick, "commands": [], "head": made.head})
    cluster._follow({"type": "tick", "tick": 2, "commands": [], "head": "old"})  # had it

    for client, floor in ((whole, None), (python, "python")):
        received = client.get_received()
        assert [(r["name"], r["args"][0]["tick"]) for r in received] == [
            ("tick_start", 1), ("tick_end", 1), ("tick_start", 2), ("tick_end", 2),
            ("tick_start", 3), ("tick_end", 3),
        ]  # fmt: skip
        assert all(r["args"][0].get("floor") == floor for r in received if r["name"] == "tick_end")
    assert stored == []  # tick_end (the store, the cluster's publishing) is the leader's
    whole.disconnect()
    python.disconnect()


# ---- on the wire: a live eventlet server -----------------------------------------------------


class RawClient:
    """A WebSocket Socket.IO client that reads frames itself (to see their compression)."""

    def __init__(self, port: int, *, deflate: bool, rcvbuf: int | None = None) -> None:
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(20)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        self.sock.sendall(
            (
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                + (offer if deflate else "")
                + "\r\n"
            ).encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(4096)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        assert " 101 " in lines[0], lines
        headers = dict(line.split(": ", 1) for line in lines[1:])
        self.extensions = {k.lower(): v for k, v in headers.items()}.get("sec-websocket-extensions")

    def _exact(self, size: int) -> bytes:
        while len(self.buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def message(self) -> tuple[str, bool, bytes]:
        """(text, compressed, payload as sent) of the next text message."""
        while True:
            first, second = self._exact(2)
            size = second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self._exact(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._exact(8))[0]
            payload = self._exact(size)
            assert first & 0x80, "one frame per message"
            if first & 0x0F != 1:
                continue  # a control frame
            compressed = bool(first & 0x40)
            text = (_inflate(payload) if compressed else payload).decode()
            if text == "2":  # Engine.IO ping
                self.send("3")
                continue
            return text, compressed, payload

    def send(self, text: str) -> None:
        data, mask = text.encode(), os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(bytes((0x81, 0x80 | len(data))) + mask + masked)

    def join(self) -> None:
        assert self.message()[0].startswith("0{")  # Engine.IO open
        self.send("40")
        first = self.message()[0]  # the connect handler's snapshot comes before the ack
        assert first.startswith('42["state_update",'), first[:40]
        assert self.message()[0].startswith("40{")  # Socket.IO connected

    def events(self, ends: int) -> list[tuple[str, dict, bool, bytes]]:
        """Events until ``ends`` tick_end have arrived: (name, data, compressed, payload)."""
        seen: list[tuple[str, dict, bool, bytes]] = []
        while sum(1 for e in seen if e[0] == "tick_end") < ends:
            text, compressed, payload = self.message()
            assert text.startswith("42["), text[:40]
            name, data = orjson.loads(text[2:])
            seen.append((name, data, compressed, payload))
        return seen

    def close(self) -> None:
        self.sock.close()


def _check_order(events: list[tuple[str, dict, bool, bytes]]) -> list[int]:
    """Every tick_end follows its tick_start; ticks are consecutive. The ticks seen."""
    ticks = []
    names = [(name, data.get("tick")) for name, data, _, _ in events if name != "state_update"]
    while names and names[0][0] == "tick_end":
        names.pop(0)  # joined between a tick's start and its end
    for (start, n), (end, m) in zip(names[::2], names[1::2]):
        assert (start, end) == ("tick_start", "tick_end") and n == m, names
        ticks.append(m)
    assert ticks == list(range(ticks[0], ticks[0] + len(ticks))), ticks
    return ticks


def test_ticks_reach_websocket_viewers_whole_in_order_and_compressed_once(live_server):
    port = live_server.port
    first, second = RawClient(port, deflate=True), RawClient(port, deflate=True)
    plain = RawClient(port, deflate=False)
    try:
        assert "server_no_context_takeover" in (first.extensions or "")
        assert plain.extensions is None
        for client in (first, second, plain):
            client.join()
        got = {id(c): c.events(12) for c in (first, second, plain)}
        by_tick: dict[int, list[tuple[str, bool, bytes]]] = {}
        for client in (first, second, plain):
            _check_order(got[id(client)])
            for name, data, compressed, payload in got[id(client)]:
                if name == "tick_end":
                    text = orjson.dumps(data)
                    by_tick.setdefault(data["tick"], []).append((text, compressed, payload))
        common = [t for t, copies in by_tick.items() if len(copies) == 3]
        assert len(common) >= 8
        for tick in common:
            (a, a_zip, a_raw), (b, b_zip, b_raw), (c, c_zip, _) = by_tick[tick]
            assert a == b == c  # the same document for every viewer
            assert a_zip and b_zip and not c_zip
            assert a_raw == b_raw  # one compressed frame, shared (no per-connection context)
    finally:
        for client in (first, second, plain):
            client.close()


DIRECT_ORDER = r"""
import eventlet

eventlet.monkey_patch()
import json
import socket
import struct

from eventlet import queue, websocket

from miniature_office.web.fanout import Direct, FramedSocket, SharedFrames, frame


class EioSocket:  # the parts of an Engine.IO socket that Direct reads
    sid, closed, closing, upgrading = "s1", False, False, False

    def __init__(self):
        self.queue = queue.Queue()


server, peer = socket.socketpair()
server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
ws = websocket.RFC6455WebSocket(server, {}, 13, extensions={})
eio = EioSocket()
framed = FramedSocket(ws, ws._send, False, SharedFrames())
direct = Direct.of(eio, framed)


def writer():  # Engine.IO's writer: whatever was queued, in order
    while (text := eio.queue.get()) is not None:
        framed.send(text)


eventlet.spawn(writer)
messages = ["A" * 300_000, "B" * 1000, "C" * 2000, "D" * 10]
outcome = [direct.write(frame(messages[0].encode(), False))]  # more than the socket takes
outcome.append(direct.lock.locked())  # the rest is being finished, holding the send lock
for text in messages[1:3]:
    written = direct.write(frame(text.encode(), False))
    outcome.append(written)
    if not written:
        eio.queue.put(text)  # what Fanout does when Direct declines
outcome.append(direct.write(frame(messages[3].encode(), False)))
if not outcome[-1]:
    eio.queue.put(messages[3])

got, buffer = [], b""
while len(got) < 4:
    buffer += peer.recv(65536)
    while len(buffer) >= 2:
        size, at = buffer[1] & 0x7F, 2
        if size == 126:
            size, at = struct.unpack("!H", buffer[2:4])[0], 4
        elif size == 127:
            size, at = struct.unpack("!Q", buffer[2:10])[0], 10
        if len(buffer) < at + size:
            break
        got.append(buffer[at : at + size].decode())
        buffer = buffer[at + size :]
eventlet.sleep(0)
print(json.dumps([outcome, [m[0] + str(len(m)) for m in got], direct.lock.locked(),
                  eio.queue.qsize()]))
"""


def test_a_write_the_socket_cannot_take_at_once_keeps_its_place():
    """Direct writes only to an idle connection; a partial write is finished before anything
    queued after it, and broadcasts meanwhile go through the queue, in order."""
    import subprocess  # nosec B404
    import sys

    done = subprocess.run(  # nosec B603 - this interpreter, a fixed script
        [sys.executable, "-c", DIRECT_ORDER], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    outcome, order, locked, queued = orjson.loads(done.stdout)
    assert outcome == [True, True, False, False, False]  # busy, then queue not empty
    assert order == ["A300000", "B1000", "C2000", "D10"]
    assert locked is False and queued == 0
