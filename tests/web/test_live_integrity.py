"""Integrity against real servers: a resync flood does not delay ticks for others, the
README's `token create` reaches a server started with defaults, Gunicorn's own errors carry
the security headers."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import requests
import socketio
from polling import wait_for

from .conftest import VENV_BIN, Server, server_env
from .test_server import Recorder

#: Frames the flooding client sends (issue 13 used 2,000: the loop stopped for 12 s).
FLOOD_FRAMES = 2000


def _gaps(stamps: list[float]) -> list[float]:
    return [b - a for a, b in zip(stamps, stamps[1:])]


def test_a_resync_flood_from_one_client_does_not_delay_ticks_for_another(live_server):
    """Client B records when each tick_end arrives while client A sends 2,000 resyncs."""
    arrivals: list[float] = []
    watcher = socketio.Client(reconnection=False)
    watcher.on("tick_end", lambda _data: arrivals.append(time.monotonic()))
    watcher.connect(live_server.url, transports=["websocket"], wait_timeout=10)
    flooder = Recorder(live_server.url)
    try:
        time.sleep(0.5)
        started = time.monotonic()
        for _ in range(FLOOD_FRAMES):
            flooder.client.emit("resync")
        sent = time.monotonic()
        time.sleep(1.5)  # ticks that the flood would have held back arrive late or not at all
        during = [t for t in arrivals if t >= started]
        gaps = _gaps(during)
        states = len(flooder.got("state_update"))
    finally:
        flooder.client.disconnect()
        watcher.disconnect()
    expected = 0.1  # 10 ticks/s
    print(  # recorded in SECURITY.md
        f"flood: {FLOOD_FRAMES} resync frames in {sent - started:.2f} s; "
        f"{len(during)} ticks for the other client, spacing max {max(gaps):.3f} s, "
        f"mean {sum(gaps) / len(gaps):.3f} s; {states} state answers to the flooder"
    )
    assert len(during) >= (time.monotonic() - started - 1.0) / expected * 0.6
    assert max(gaps) < 5 * expected
    assert states <= 1 + 4 + 2 * 10 * (time.monotonic() - started)  # the budget, not the flood


def test_readme_token_create_reaches_a_server_started_with_defaults(free_port_factory, tmp_path):
    home = tmp_path
    port = free_port_factory()
    env = server_env(port)
    env.pop("MINIOFFICE_DATA_DIR")  # the default: ./instance under the working directory
    env.pop("MINIOFFICE_BOOTSTRAP_TOKEN")
    env.pop("DATABASE_URL", None)
    env["HOME"] = str(home)
    server = Server([sys.executable, "-m", "miniature_office.web"], env, port, cwd=home)
    try:
        server.wait_ready()
        made = subprocess.run(  # README: miniature-office token create --name ci-bot ...
            [str(VENV_BIN / "miniature-office"), "token", "create", "--name", "ci-bot",
             "--role", "operator"],  # fmt: skip
            cwd=home,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        token = made.stdout.strip().splitlines()[-1]
        assert (home / "instance" / "miniature_office.db").exists()
        answer = requests.post(
            server.url + "/api/world/stop",
            json={},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        assert answer.status_code in (200, 202), answer.text
    finally:
        server.stop()


def test_gunicorns_own_error_answers_carry_the_security_headers(live_server):
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=5) as conn:
        conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 200 + b"\r\n")
        raw = conn.recv(65536)
    head = raw.partition(b"\r\n\r\n")[0]
    assert head.split(b" ")[1] in (b"400", b"431")
    assert b"Content-Security-Policy" in head and b"X-Content-Type-Options: nosniff" in head


def test_a_query_string_token_is_redacted_in_the_access_log(live_server):
    token = "mo_abcd1234_" + "Q" * 43
    requests.get(live_server.url + f"/api/floors?token={token}", timeout=5)
    wait_for(lambda: "/api/floors?token=[redacted]" in live_server.output(), 5.0, "the log line")
    assert token not in live_server.output()


def test_a_second_dev_server_on_a_busy_port_refuses_to_start(live_server):
    env = server_env(live_server.port)
    done = subprocess.run(
        [sys.executable, "-m", "miniature_office.web"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "is in use" in done.stderr
