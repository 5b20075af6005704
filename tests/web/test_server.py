"""End to end: real servers in subprocesses, a real python-socketio client, stopped by PID."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time

import pytest
import requests
import socketio

from .conftest import ADMIN_HEADERS, Server, gunicorn_argv, server_env


class Recorder:
    """A Socket.IO client that keeps every event it receives."""

    def __init__(self, url: str) -> None:
        self.client = socketio.Client(reconnection=False)
        self.events: dict[str, list] = {}
        self.lock = threading.Lock()
        for name in ("tick_start", "tick_end", "state_update", "command_applied"):
            self.client.on(name, self._keeper(name))
        self.client.connect(url, transports=["websocket"], wait_timeout=10)

    def _keeper(self, name):
        def keep(data):
            with self.lock:
                self.events.setdefault(name, []).append(data)

        return keep

    def got(self, name):
        with self.lock:
            return list(self.events.get(name, []))

    def wait_for(self, name, count, timeout=10.0):
        deadline = time.monotonic() + timeout
        while len(self.got(name)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.got(name)


def test_websocket_client_receives_state_then_tick_deltas(live_server):
    recorder = Recorder(live_server.url)
    try:
        assert recorder.wait_for("state_update", 1)[0]["floors"]
        ends = recorder.wait_for("tick_end", 5)
        ticks = [m["tick"] for m in ends]
        assert ticks == list(range(ticks[0], ticks[0] + len(ticks)))  # none lost
        assert all(set(m) == {"tick", "delta", "events", "flow"} for m in ends)
        assert recorder.got("tick_start")
    finally:
        recorder.client.disconnect()


def test_following_a_floor_over_websocket_narrows_the_deltas(live_server):
    recorder = Recorder(live_server.url)
    try:
        answer = recorder.client.call("follow_floor", {"floor": "javascript"}, timeout=5)
        assert answer == {"ok": True, "floor": "javascript"}
        seen = len(recorder.got("tick_end"))
        ends = recorder.wait_for("tick_end", seen + 4)[seen + 1 :]
        agents = [a for m in ends for a in m["delta"]["agents"]]
        assert agents and {a["floor_id"] for a in agents} == {"javascript"}
        recorder.client.emit("resync")
        assert len(recorder.wait_for("state_update", 2)) == 2
    finally:
        recorder.client.disconnect()


def test_rest_and_metrics_on_the_live_server(live_server):
    health = requests.get(live_server.url + "/health", timeout=5).json()
    assert health["world"]["loop"] == "running" and health["tick"] > 0
    assert health["status"] == "healthy" and health["engine"]["state"] == "running"
    command = requests.post(
        live_server.url + "/api/directives",
        json={"title": "From the live test", "floor": "python"},
        headers=ADMIN_HEADERS,
        timeout=5,
    )
    assert command.status_code == 202 and command.json()["status"] == "accepted"
    metrics = requests.get(live_server.url + "/metrics", timeout=5).text
    assert "minioffice_tick_loop_running 1.0" in metrics


def test_the_access_log_prints_one_line_per_request_in_the_configured_format(live_server):
    requests.get(live_server.url + "/health?probe=1", headers={"User-Agent": "probe/1"}, timeout=5)
    deadline = time.monotonic() + 5
    pattern = re.compile(r'127\.0\.0\.1 "GET /health\?probe=1 HTTP/1\.1" 200 \d+ \d+ms "probe/1"')
    while not pattern.search(live_server.output()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pattern.search(live_server.output()), live_server.output()[-2000:]


def test_threading_mode_serves_websockets_under_gthread(free_port):
    env = server_env(free_port, MINIOFFICE_ASYNC_MODE="threading")
    server = Server(gunicorn_argv(), env, free_port)
    try:
        server.wait_ready()
        recorder = Recorder(server.url)
        try:
            assert recorder.client.transport() == "websocket"
            assert len(recorder.wait_for("tick_end", 3)) >= 3
        finally:
            recorder.client.disconnect()
    finally:
        code, output = server.stop()
    assert "Using worker: gthread" in output
    assert "tick loop stopped" in output


def test_python_dash_m_serves_and_stops_cleanly_on_sigterm(free_port):
    server = Server(
        [sys.executable, "-m", "miniature_office.web"], server_env(free_port), free_port
    )
    server.wait_ready()
    assert requests.get(server.url + "/api/world/state", timeout=5).json()["floors"]
    code, output = server.stop()
    assert code == 0 and "tick loop stopped" in output


def test_production_without_secret_key_refuses_to_start(free_port):
    env = server_env(free_port, MINIOFFICE_ENV="production")
    result = subprocess.run(  # nosec B603
        [sys.executable, "-m", "miniature_office.web"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr and "MINIOFFICE_ENV=production" in result.stderr


@pytest.mark.parametrize("workers", ["2", "4"])
def test_gunicorn_refuses_several_workers_without_a_message_queue(free_port, workers):
    env = server_env(free_port, MINIOFFICE_WORKERS=workers)
    result = subprocess.run(  # nosec B603
        gunicorn_argv(), env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode != 0
    assert "MESSAGE_QUEUE" in result.stderr and "one process" in result.stderr


def test_config_check_prints_the_gunicorn_settings(free_port):
    result = subprocess.run(  # nosec B603
        [sys.executable, "-m", "miniature_office.service.config"],
        env=server_env(free_port),
        capture_output=True,
        text=True,
    )
    assert json.loads(result.stdout)["port"] == free_port
