"""Scale-out against the real Redis and PostgreSQL: two server processes, one engine.

Both processes broadcast the same ticks to their clients; killing the engine process moves the
engine to the other, and clients keep receiving ticks.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest
import requests
import socketio
from scratch import scratch_dir
from services import REDIS

from miniature_office.web.app import get_socketio

from .conftest import ADMIN_HEADERS, Server, build_app, server_env

pytestmark = [pytest.mark.services, pytest.mark.slow]


def _server(port: int, database: str) -> Server:
    env = server_env(
        port,
        MESSAGE_QUEUE=REDIS,
        DATABASE_URL=database,
        MINIOFFICE_TICK_RATE="5",
        MINIOFFICE_ASYNC_MODE="threading",
        MINIOFFICE_DATA_DIR=str(scratch_dir("minioffice-scale-")),
    )
    server = Server([sys.executable, "-m", "miniature_office.web"], env, port)
    server.wait_ready(timeout=30)
    return server


class Watcher:
    """A Socket.IO client that records the ticks it is sent."""

    def __init__(self, url: str) -> None:
        self.ticks: list[int] = []
        self.lock = threading.Lock()
        self.client = socketio.Client(reconnection=True, reconnection_delay=0.2)
        self.client.on("tick_end", self._tick)
        self.client.connect(url, transports=["websocket"], wait_timeout=10)

    def _tick(self, data: dict) -> None:
        with self.lock:
            self.ticks.append(data["tick"])

    def seen(self) -> list[int]:
        with self.lock:
            return list(self.ticks)

    def wait_for(self, count: int, after: int = -1, timeout: float = 15.0) -> list[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            new = [t for t in self.seen() if t > after]
            if len(new) >= count:
                return new
            time.sleep(0.05)
        raise AssertionError(f"only {self.seen()[-5:]} after {after}")


def _role(server: Server) -> str:
    return requests.get(server.url + "/health", timeout=3).json()["role"]


def test_two_processes_share_one_engine_and_survive_losing_it(free_port_factory, postgres_url):
    first = _server(free_port_factory(), postgres_url)
    second = _server(free_port_factory(), postgres_url)
    try:
        assert sorted([_role(first), _role(second)]) == ["follower", "leader"]
        leader, follower = (first, second) if _role(first) == "leader" else (second, first)
        on_leader, on_follower = Watcher(leader.url), Watcher(follower.url)
        start = on_leader.wait_for(3)[0]
        a, b = on_leader.wait_for(10, start), on_follower.wait_for(10, start)
        common = sorted(set(a) & set(b))
        assert len(common) >= 8, (a, b)  # both clients get the same ticks from one engine

        created = requests.post(
            follower.url + "/api/directives",
            json={"title": "Forwarded", "floor": "python"},
            headers=ADMIN_HEADERS,
            timeout=10,
        )
        assert created.status_code in (200, 202), created.text
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            listing = requests.get(leader.url + "/api/directives", params={"limit": 500}, timeout=5)
            titles = [d["title"] for d in listing.json()["directives"]]
            if "Forwarded" in titles:
                break
            time.sleep(0.2)
        assert "Forwarded" in titles

        for path in ("/api/audit/events?limit=5", "/api/audit/verify", "/api/world/replay?tick=3"):
            answer = requests.get(follower.url + path, headers=ADMIN_HEADERS, timeout=30)
            assert answer.status_code == 200, (path, answer.text)  # reads work on a follower

        last = max(on_follower.seen())
        os.kill(leader.process.pid, signal.SIGKILL)
        leader.process.wait(timeout=10)
        resumed = on_follower.wait_for(5, last, timeout=20)  # the survivor takes the engine
        assert resumed == sorted(resumed)
        assert _role(follower) == "leader"
        verdict = requests.get(follower.url + "/api/audit/verify", timeout=30).json()
        assert verdict["valid"], verdict
        state = requests.get(follower.url + "/api/world/state", timeout=5).json()
        assert any(d["title"] == "Forwarded" for d in state["directives"])
        on_leader.client.disconnect()
        on_follower.client.disconnect()
    finally:
        for server in (first, second):
            if server.process.poll() is None:
                server.stop()


def test_gunicorn_with_several_workers_runs_one_engine(free_port_factory, postgres_url):
    from .conftest import ADMIN_HEADERS, gunicorn_argv

    port = free_port_factory()
    env = server_env(
        port,
        MESSAGE_QUEUE=REDIS,
        DATABASE_URL=postgres_url,
        MINIOFFICE_WORKERS="2",
        MINIOFFICE_TICK_RATE="5",
        MINIOFFICE_DATA_DIR=str(scratch_dir("minioffice-workers-")),
    )
    server = Server(gunicorn_argv(), env, port)
    server.wait_ready(timeout=30)
    try:
        roles, ticks = set(), []
        deadline = time.monotonic() + 30
        while roles != {"leader", "follower"} and time.monotonic() < deadline:
            try:
                health = requests.get(server.url + "/health", timeout=3).json()
            except requests.ConnectionError as exc:
                time.sleep(1)
                raise AssertionError(server.output()[-6000:]) from exc
            roles.add(health["role"])
            ticks.append(health["tick"])
        assert roles == {"leader", "follower"}  # both workers answer, one runs the engine
        watcher = Watcher(server.url)
        seen = watcher.wait_for(8)
        assert seen == sorted(seen) and len(set(seen)) == len(seen)
        for n in range(4):  # some of these land on the follower and are forwarded
            answer = requests.post(
                server.url + "/api/directives",
                json={"title": f"Worker {n}", "floor": "javascript"},
                headers=ADMIN_HEADERS,
                timeout=10,
            )
            assert answer.status_code in (200, 202), answer.text
        wanted, titles = {f"Worker {n}" for n in range(4)}, set()
        deadline = time.monotonic() + 15
        while not wanted <= titles and time.monotonic() < deadline:
            state = requests.get(server.url + "/api/world/state", timeout=5).json()
            titles = {d["title"] for d in state["directives"]}
            time.sleep(0.2)
        assert wanted <= titles
        watcher.client.disconnect()
    finally:
        server.stop()


def test_each_store_has_its_own_socketio_channel_on_a_shared_redis():
    channels = [  # built, not started: the channel is the built app's, and nothing connects
        get_socketio(
            build_app(message_queue=REDIS, tick_loop=False, start=False)
        ).server.manager.channel
        for _ in range(2)  # each app gets a data directory (and so a store) of its own
    ]
    assert channels[0] != channels[1]
    assert all(c.startswith("minioffice:") and c.endswith(":socketio") for c in channels)
