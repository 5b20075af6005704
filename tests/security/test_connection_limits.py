"""Connection limits (issue 25): websocket caps below the worker's pool, per address and in
all, and a flood closed with a stated reason -- on a real eventlet server."""

from __future__ import annotations

import json
import time

import pytest
import requests
import websocket
from web.conftest import Server, gunicorn_argv, server_env

from miniature_office.service.config import ConfigError, load_config

WS = "/socket.io/?EIO=4&transport=websocket"


def test_the_defaults_keep_a_quarter_of_the_pool_for_http():
    config = load_config({})
    assert config.worker_connections == 4000
    assert config.websocket_cap == 1000 <= 0.75 * config.worker_connections
    assert config.ws_per_address == 50


def test_a_websocket_cap_that_leaves_no_http_reserve_is_refused():
    with pytest.raises(ConfigError) as refused:
        load_config({"MINIOFFICE_WORKER_CONNECTIONS": "1000",
                     "MINIOFFICE_WS_MAX_CONNECTIONS": "900"})  # fmt: skip
    assert refused.value.variable == "MINIOFFICE_WS_MAX_CONNECTIONS"
    assert "quarter" in refused.value.problem


def test_the_threaded_worker_clamps_the_cap_below_its_threads():
    config = load_config({"MINIOFFICE_ASYNC_MODE": "threading"})
    assert config.websocket_cap == 75  # of gthread's 100 threads


def test_the_config_check_hands_gunicorn_the_pool_size(monkeypatch):
    import subprocess  # nosec B404
    import sys

    env = {"MINIOFFICE_WORKER_CONNECTIONS": "5000", "PATH": "/usr/bin"}
    out = subprocess.run(  # nosec B603
        [sys.executable, "-m", "miniature_office.service.config"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(out.stdout)["worker_connections"] == 5000


def _open(url: str) -> websocket.WebSocket:
    ws = websocket.create_connection(url.replace("http", "ws") + WS, timeout=10)
    ws.recv()  # engine.io open
    ws.send("40")
    return ws


def test_a_live_server_caps_websockets_per_address_and_closes_a_flood_saying_why(free_port):
    env = server_env(free_port, MINIOFFICE_WS_PER_ADDRESS="3", MINIOFFICE_TICK_RATE="2")
    server = Server(gunicorn_argv(), env, free_port)
    held = []
    try:
        server.wait_ready()
        held = [_open(server.url) for _ in range(3)]
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            _open(server.url)
        assert refused.value.status_code == 503
        polling = requests.get(server.url + "/socket.io/?EIO=4&transport=polling", timeout=5)
        assert polling.status_code == 503 and polling.json()["error"] == "too_many_connections"
        assert polling.headers["Retry-After"]
        # every slot of this address taken: probes and metrics still answer at once
        for path in ("/health", "/metrics"):
            started = time.monotonic()
            assert requests.get(server.url + path, timeout=5).status_code == 200
            assert time.monotonic() - started < 1.0
        # a flood of malformed events: closed, after a `closing` event naming the reason
        flooder = held.pop()
        frame = "42" + json.dumps(["follow_floor", {"x": [1] * 1000}])
        said = []
        with pytest.raises((websocket.WebSocketConnectionClosedException, OSError)):
            for _ in range(20_000):
                flooder.send(frame)
        flooder.settimeout(2)
        try:
            while True:
                said.append(flooder.recv())
        except Exception:  # noqa: BLE001 - reading until the close
            pass
        assert any('"closing"' in m and '"flood"' in m for m in said if isinstance(m, str))
        # the slot it held is free again
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                held.append(_open(server.url))
                break
            except websocket.WebSocketBadStatusException:
                time.sleep(0.2)
        assert len(held) == 3
    finally:
        for ws in held:
            ws.close()
        server.stop()
