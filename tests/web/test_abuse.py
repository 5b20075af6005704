"""Abuse: floods, odd methods, deep JSON, tokens in URLs, caches and bad Socket.IO arguments."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from miniature_office.web.access_log import AccessLogger, redact
from miniature_office.web.app import get_runtime, get_socketio
from miniature_office.web.security import server_error_page
from miniature_office.web.socket_gate import FLOOD_CLOSE_AFTER, RESYNC_BURST, EventLimiter

TOKEN = "mo_abcd1234_" + "S" * 43


@pytest.fixture
def sio(app):
    client = get_socketio(app).test_client(app)
    client.get_received()
    yield client
    if client.is_connected():
        client.disconnect()


def _states(client) -> int:
    return sum(1 for r in client.get_received() if r["name"] == "state_update")


# ---- Socket.IO ------------------------------------------------------------------------------


def test_resync_is_rate_limited_per_connection(sio):
    answers = [sio.emit("resync", callback=True) for _ in range(20)]
    passed = [a for a in answers if a == {"ok": True}]
    refused = [a for a in answers if a.get("status") == 429]
    assert len(passed) == int(RESYNC_BURST) and len(refused) == 20 - int(RESYNC_BURST)
    assert all(a["retry_after"] > 0 for a in refused)
    assert _states(sio) == int(RESYNC_BURST)  # a refused resync sends nothing


def test_the_owner_budget_spans_connections():
    clock = SimpleNamespace(now=0.0)
    limiter = EventLimiter(clock=lambda: clock.now)
    allowed = sum(
        1
        for n in range(40)
        for _ in range(3)
        if not limiter.check(f"sid{n}", "token:one", "resync")  # 40 connections, one token
    )
    assert allowed == 20  # the token's burst, although each connection had 4 to spend
    clock.now += 1.0
    assert not limiter.check("sid-new", "token:one", "resync")  # it refills with time


def test_a_connection_that_keeps_flooding_is_closed(app, sio):
    runtime = get_runtime(app)
    assert runtime.clients == 1
    sent = 0
    with pytest.raises(RuntimeError, match="not connected"):
        for sent in range(1, 10 * FLOOD_CLOSE_AFTER):
            sio.emit("unfollow_floor")
    assert sent < 2 * FLOOD_CLOSE_AFTER
    assert runtime.clients == 0  # the server dropped it (its disconnect handler ran)


@pytest.mark.parametrize(
    "args",
    [
        (None, 1, 2, 3),
        ({"floor": "python"}, "extra"),
        ("python",),
        ({"floor": ["python"]},),
        ({"floor": "x" * 5000},),
    ],
)
def test_follow_floor_with_bad_arguments_answers_an_error(sio, args):
    answer = sio.emit("follow_floor", *args, callback=True)
    assert answer["ok"] is False and answer["status"] == 422
    assert "x" * 100 not in answer["error"]  # never echoes a huge value
    assert sio.emit("follow_floor", {"floor": "python"}, callback=True)["ok"] is True


# ---- HTTP -----------------------------------------------------------------------------------


def test_unknown_methods_share_one_metrics_label(client):
    for n in range(30):
        client.open("/nothing", method=f"XRANDOM{n}")
    text = client.get("/metrics").get_data(as_text=True)
    assert "XRANDOM" not in text
    assert 'method="other"' in text


def test_deeply_nested_json_is_a_400_not_a_500(client):
    body = "[" * 1000 + "]" * 1000
    for path in ("/api/directives", "/api/world/step"):
        answer = client.post(path, data='{"title": ' + body + "}", content_type="application/json")
        assert answer.status_code in (400, 422), answer.status_code
    answer = client.post("/api/directives", data=body * 1, content_type="application/json")
    assert answer.status_code in (400, 422)
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    answer = client.post("/api/directives", data=deep, content_type="application/json")
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "malformed_json"


def test_a_bool_is_not_a_number(client):
    for body in ({"speed": True}, {"speed": "2"}):
        assert client.post("/api/world/speed", json=body).status_code == 422
    assert client.post("/api/world/step", json={"count": True}).status_code == 422
    assert client.post("/api/world/speed", json={"speed": 2}).status_code == 200


def test_api_answers_are_never_cached(client):
    created = client.post("/api/tokens", json={"name": "bot"})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    for path in ("/api/floors", "/api/world/state", "/api/nothing", "/health"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path


def test_tokens_in_a_query_string_never_reach_the_access_log():
    assert TOKEN not in redact(f"/api/floors?token={TOKEN}")
    assert TOKEN not in redact(f"/api/floors?x=1&access_token={TOKEN}")
    assert TOKEN not in redact(f"/api/floors?q={TOKEN}")
    assert redact("/api/tasks?state=merged&limit=5") == "/api/tasks?state=merged&limit=5"
    cfg = SimpleNamespace(access_log_format='%(h)s "%(r)s" %(s)s')
    logger = AccessLogger.__new__(AccessLogger)
    logger.cfg = cfg
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/api/floors?token={TOKEN}",
        "QUERY_STRING": f"token={TOKEN}",
        "PATH_INFO": "/api/floors",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    response = SimpleNamespace(status="401 UNAUTHORIZED", sent=10, headers=(), status_code=401,
                               response_length=10)  # fmt: skip
    atoms = logger.atoms(response, None, environ, SimpleNamespace(seconds=0, microseconds=0))
    assert TOKEN not in str(atoms) and "[redacted]" in atoms["r"]


def test_the_servers_own_error_pages_carry_the_security_headers():
    raw = server_error_page(431, "Request Header Fields Too Large", "too many headers")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 ")
    for name in (b"Content-Security-Policy", b"X-Content-Type-Options", b"X-Frame-Options",
                 b"Cache-Control: no-store"):  # fmt: skip
        assert name in head
    assert b'"error"' in body


def test_a_slow_flood_is_still_a_flood():
    """Refusals interleaved with events the refill lets through still add up."""
    clock = SimpleNamespace(now=0.0)
    limiter = EventLimiter(clock=lambda: clock.now)
    for _ in range(3000):
        clock.now += 0.005  # 200 events a second against a budget of 20
        limiter.check("sid", "addr:x", "unfollow_floor")
        if limiter.flooding("sid"):
            break
    assert limiter.flooding("sid") and clock.now < 3.0
    limiter.forget("sid")
    clock.now += 60
    for _ in range(30):  # an eager page: a burst, then quiet
        clock.now += 0.01
        limiter.check("sid", "addr:x", "unfollow_floor")
    assert not limiter.flooding("sid")


# ---- Socket.IO: every packet counts (issue 25) ----------------------------------------------


def test_an_unknown_event_is_refused_and_counted(app, sio):
    answer = sio.emit("no_such_event", {"x": [1] * 1000}, callback=True)
    assert answer == {"ok": False, "error": "unknown event 'no_such_event'", "status": 404}
    limiter = get_socketio(app).event_limiter
    assert sum(count for count, _ in limiter.refused.values()) == 1


def test_a_flood_of_unknown_events_is_closed_with_a_stated_reason(app, sio):
    runtime = get_runtime(app)
    with pytest.raises(RuntimeError, match="not connected"):
        for _ in range(10 * FLOOD_CLOSE_AFTER):
            sio.emit("x" * 100, [1] * 100)
    assert runtime.clients == 0


def test_malformed_follow_floor_floods_spend_the_same_budget_and_are_closed(app, sio):
    answers = []
    with pytest.raises(RuntimeError, match="not connected"):
        for _ in range(10 * FLOOD_CLOSE_AFTER):
            answers.append(sio.emit("follow_floor", {"x": [1] * 1000}, callback=True))
    assert {a["status"] for a in answers} == {422, 429}  # refused for its argument, then budget
    assert len(answers) < 2 * FLOOD_CLOSE_AFTER


class FakeEngine:
    """The parts of an engineio.Server the gate wraps, recording what it is asked to do."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.closed: list[str] = []
        self.handled: list[tuple] = []
        self.slept = 0

    def handle_request(self, environ, start_response):
        start_response("200 OK", [])
        return [b"session"]

    def _trigger_event(self, event, *args, **kwargs):
        self.handled.append((event, *args))
        return None

    def sleep(self, seconds):
        self.slept += 1

    def send(self, sid, text):
        self.sent.append((sid, text))

    def start_background_task(self, target, *args):
        target(*args)

    def disconnect(self, sid):
        self.closed.append(sid)


def _gate(clock, **caps):
    from miniature_office.web.socket_gate import SocketGate

    engine = FakeEngine()
    gate = SocketGate(EventLimiter(clock=lambda: clock.now), **caps)
    gate.install(engine)
    return gate, engine


def _open(engine, address, query="EIO=4&transport=websocket"):
    statuses = []
    environ = {"REMOTE_ADDR": address, "QUERY_STRING": query}
    body = engine.handle_request(environ, lambda status, headers: statuses.append(status))
    return statuses[0], b"".join(body), environ


def test_the_gate_drops_packets_over_budget_before_decoding_and_closes_a_flood():
    from miniature_office.web.socket_gate import PACKET_BURST

    clock = SimpleNamespace(now=0.0)
    gate, engine = _gate(clock, max_connections=10, per_address=10)
    engine._trigger_event("connect", "s1", {"REMOTE_ADDR": "1.2.3.4"})
    for _ in range(int(PACKET_BURST) + FLOOD_CLOSE_AFTER):
        engine._trigger_event("message", "s1", '42["follow_floor",{"x":[1]}]')
    messages = [h for h in engine.handled if h[0] == "message"]
    assert len(messages) == int(PACKET_BURST)  # the rest never reached Socket.IO
    assert engine.closed == ["s1"]
    sid, text = engine.sent[0]
    assert sid == "s1" and '"closing"' in text and '"flood"' in text  # the stated reason
    assert engine.slept == int(PACKET_BURST) + FLOOD_CLOSE_AFTER  # yields after every packet


def test_the_gate_refuses_binary_messages_outright():
    clock = SimpleNamespace(now=0.0)
    gate, engine = _gate(clock, max_connections=10, per_address=10)
    engine._trigger_event("connect", "s1", {"REMOTE_ADDR": "1.2.3.4"})
    engine._trigger_event("message", "s1", b"\x00" * 10)
    engine._trigger_event("message", "s1", '51-["follow_floor",{"_placeholder":true,"num":0}]')
    assert [h for h in engine.handled if h[0] == "message"] == []
    assert gate.limiter.refused["eio:s1"][0] == 2


def test_the_gate_caps_sessions_in_all_and_per_address():
    clock = SimpleNamespace(now=0.0)
    gate, engine = _gate(clock, max_connections=4, per_address=2)
    for n, address in enumerate(["10.0.0.1", "10.0.0.1", "10.0.0.2"]):
        status, _, environ = _open(engine, address)
        assert status == "200 OK"
        engine._trigger_event("connect", f"s{n}", environ)
    status, body, _ = _open(engine, "10.0.0.1")
    assert status.startswith("503") and b"this address" in body
    engine._trigger_event("connect", "s3", _open(engine, "10.0.0.3")[2])
    status, body, _ = _open(engine, "10.0.0.4")
    assert status.startswith("503") and b"maximum of 4" in body
    # a request of an existing session is never refused
    assert _open(engine, "10.0.0.1", "EIO=4&transport=polling&sid=s0")[0] == "200 OK"
    engine._trigger_event("disconnect", "s0", "client disconnect")
    assert _open(engine, "10.0.0.1")[0] == "200 OK"  # the slot came back
    assert gate.address_of == {"s1": "10.0.0.1", "s2": "10.0.0.2", "s3": "10.0.0.3"}


def test_a_session_that_raced_past_the_check_is_refused_at_connect():
    clock = SimpleNamespace(now=0.0)
    gate, engine = _gate(clock, max_connections=1, per_address=1)
    assert engine._trigger_event("connect", "s1", {"REMOTE_ADDR": "a"}) is None
    assert engine._trigger_event("connect", "s2", {"REMOTE_ADDR": "a"}) is False
    assert list(gate.address_of) == ["s1"]
