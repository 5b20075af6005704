"""Abuse suite: the attacks of issue 25 against a real Gunicorn eventlet server, with figures.

Every attack runs against a fresh server (one eventlet worker, SQLite, 2 ticks/s) on a free
127.0.0.1 port, while a viewer measures the gaps between the ``tick_end`` frames it receives
and a prober times new ``/health`` requests (a fresh connection each). Each loop is bounded in
time and count; the server is stopped by its PID. Figures print as JSON.

    python bench/abuse_bench.py [--seconds 5] [--only flood,mix,hold,idle,connects,plain]

Attacks:

- ``flood``: one anonymous websocket sends ``follow_floor`` with a malformed argument
  (``{"x": [1]*1000}``) as fast as it can.
- ``mix``: one websocket sends the four client events, an unknown event, a binary frame and an
  oversized frame in turn.
- ``oversized``: one websocket sends 200 kB messages.
- ``hold``: 1,100 anonymous websockets held open (the per-address cap raised, so the total cap
  is what refuses), plus 1,200 idle TCP connections reopened as the server closes them.
- ``idle``: the idle churn alone.
- ``connects``: Socket.IO connects (open, connect, close) as fast as one client can.
- ``plain``: no-keep-alive HTTP requests as fast as one client can.
"""

from __future__ import annotations

import argparse
import json
import select
import socket
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import web_bench  # noqa: E402

APP = "miniature_office.web.wsgi:app"
TICK_RATE = 2.0
WS_PATH = "/socket.io/?EIO=4&transport=websocket"
#: The shipped connection settings (web_bench lifts them for its own benches).
SHIPPED = {
    "MINIOFFICE_WORKER_CONNECTIONS": "4000",
    "MINIOFFICE_WS_MAX_CONNECTIONS": "1000",
    "MINIOFFICE_WS_PER_ADDRESS": "50",
}


def _open_ws(port: int, timeout: float = 10.0) -> Any:
    """A raw engine.io websocket that has sent the Socket.IO connect packet."""
    import websocket

    ws = websocket.create_connection(f"ws://127.0.0.1:{port}{WS_PATH}", timeout=timeout)
    ws.recv()  # engine.io open
    ws.send("40")
    return ws


class Viewer(threading.Thread):
    """An existing viewer: the gaps between the tick_end frames it receives."""

    def __init__(self, port: int, until: float) -> None:
        super().__init__(daemon=True)
        self.port, self.until = port, until
        self.times: list[float] = []
        self.error: str | None = None

    def run(self) -> None:
        import websocket

        try:
            ws = _open_ws(self.port)
            ws.settimeout(1.0)
            while time.monotonic() < self.until:
                try:
                    message = ws.recv()
                except websocket.WebSocketTimeoutException:
                    continue
                if message == "2":
                    ws.send("3")
                elif isinstance(message, str) and message.startswith('42["tick_end"'):
                    self.times.append(time.monotonic())
            ws.close()
        except Exception as exc:  # noqa: BLE001 - reported, not raised: it is a figure
            self.error = repr(exc)

    def figures(self) -> dict[str, Any]:
        gaps = [b - a for a, b in zip(self.times, self.times[1:])]
        return {
            "ticks_seen": len(self.times),
            "max_gap_s": round(max(gaps), 3) if gaps else None,
            "error": self.error,
        }


class Prober(threading.Thread):
    """New /health requests, one connection each, every ``every`` seconds."""

    def __init__(self, port: int, until: float, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.port, self.until, self.every = port, until, every
        self.latencies: list[float] = []
        self.failures = 0

    def run(self) -> None:
        while time.monotonic() < self.until:
            started = time.monotonic()
            try:
                url = f"http://127.0.0.1:{self.port}/health"
                with urllib.request.urlopen(url, timeout=5) as answer:  # nosec B310
                    answer.read()
                self.latencies.append(time.monotonic() - started)
            except OSError:
                self.failures += 1
                self.latencies.append(5.0)
            time.sleep(max(0.0, self.every - (time.monotonic() - started)))

    def figures(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else None
        return {
            "health_requests": len(ordered),
            "health_p99_s": round(p99, 3) if p99 is not None else None,
            "health_max_s": round(ordered[-1], 3) if ordered else None,
            "health_failures": self.failures,
        }


def _flood(port: int, until: float, frames: list[Any]) -> dict[str, Any]:
    """Send ``frames`` in turn as fast as possible; stop at ``until`` or when closed."""
    import websocket

    ws = _open_ws(port)
    sent, reason = 0, None
    closed_after = None
    started = time.monotonic()
    try:
        while time.monotonic() < until and sent < 1_000_000:
            frame = frames[sent % len(frames)]
            if isinstance(frame, bytes):
                ws.send_binary(frame)
            else:
                ws.send(frame)
            sent += 1
            # read what the server said (acks, errors, the stated reason, the close)
            while select.select([ws.sock], [], [], 0)[0]:
                message = ws.recv()
                if isinstance(message, str) and "closing" in message:
                    reason = message[:300]
                if message == "2":
                    ws.send("3")
    except (websocket.WebSocketConnectionClosedException, OSError):
        closed_after = round(time.monotonic() - started, 3)
        try:  # what the server said before it closed
            while reason is None:
                message = ws.recv()
                if isinstance(message, str) and "closing" in message:
                    reason = message[:300]
        except Exception:  # noqa: BLE001 - the connection is gone: that is the point
            pass
    finally:
        ws.close()
    return {"events_sent": sent, "closed_after_s": closed_after, "reason": reason}


def _hold(port: int, count: int) -> tuple[list[Any], int]:
    """Open up to ``count`` websockets; (the open ones, how many were refused)."""
    held, refused = [], 0
    for _ in range(count):
        try:
            held.append(_open_ws(port, timeout=5))
        except Exception:  # noqa: BLE001 - a refusal is the figure
            refused += 1
    return held, refused


def _idle_churn(port: int, count: int, until: float) -> dict[str, Any]:
    """Keep ``count`` idle TCP connections open, reopening each as the server closes it."""
    socks: list[socket.socket | None] = [None] * count
    reopened = 0
    while time.monotonic() < until:
        for i in range(count):
            sock = socks[i]
            if sock is not None:
                try:
                    sock.setblocking(False)
                    if sock.recv(1) == b"":
                        sock.close()
                        sock = socks[i] = None
                except BlockingIOError:
                    pass
                except OSError:
                    sock.close()
                    sock = socks[i] = None
            if sock is None:
                try:
                    socks[i] = socket.create_connection(("127.0.0.1", port), timeout=2)
                    reopened += 1
                except OSError:
                    pass
        time.sleep(0.2)
    for sock in socks:
        if sock is not None:
            sock.close()
    return {"idle_connections": count, "idle_opened": reopened}


def _connects(port: int, until: float) -> dict[str, Any]:
    done = failed = 0
    while time.monotonic() < until and done + failed < 100_000:
        try:
            _open_ws(port, timeout=5).close()
            done += 1
        except Exception:  # noqa: BLE001
            failed += 1
    return {"connects": done, "connect_failures": failed}


def _plain(port: int, until: float) -> dict[str, Any]:
    done = failed = 0
    while time.monotonic() < until and done + failed < 100_000:
        try:
            url = f"http://127.0.0.1:{port}/api/world/state"
            with urllib.request.urlopen(url, timeout=5) as answer:  # nosec B310
                answer.read()
            done += 1
        except OSError:
            failed += 1
    return {"requests": done, "request_failures": failed}


def follow_floor_bomb() -> str:
    return "42" + json.dumps(["follow_floor", {"x": [1] * 1000}])


def event_mix() -> list[Any]:
    return [
        follow_floor_bomb(),
        '42["resync"]',
        '42["follow_floor",{"floor":"python"}]',
        '42["unfollow_floor"]',
        '42["no_such_event",1,2,3]',
        b"\x04" + b"\x00" * 100,
    ]


def oversized() -> list[Any]:
    return ["42" + json.dumps(["follow_floor", "y" * 200_000])]


def run_attack(name: str, seconds: float, **env: str) -> dict[str, Any]:
    """Start a server, run one attack with a viewer and a prober, stop it."""
    port = web_bench.free_port()
    server = web_bench.start(
        APP,
        port,
        MINIOFFICE_TICK_RATE=str(TICK_RATE),
        MINIOFFICE_RATELIMIT_DEFAULT="600 per minute",
        **env,
    )
    try:
        time.sleep(1.0)
        until = time.monotonic() + seconds + 2.0
        viewer, prober = Viewer(port, until), Prober(port, until)
        viewer.start()
        prober.start()
        time.sleep(1.0)
        attack_until = until - 1.0
        attacks: dict[str, Callable[[], dict[str, Any]]] = {
            "flood": lambda: _flood(port, attack_until, [follow_floor_bomb()]),
            "mix": lambda: _flood(port, attack_until, event_mix()),
            "oversized": lambda: _flood(port, attack_until, oversized()),
            "idle": lambda: _idle_churn(port, 1200, attack_until),
            "connects": lambda: _connects(port, attack_until),
            "plain": lambda: _plain(port, attack_until),
        }
        if name == "hold":
            held, refused = _hold(port, 1100)
            figures = {"websockets_held": len(held), "websockets_refused": refused}
            figures.update(_idle_churn(port, 1200, attack_until))
            for ws in held:
                ws.close()
        else:
            figures = attacks[name]()
        viewer.join(timeout=seconds + 10)
        prober.join(timeout=seconds + 10)
    finally:
        web_bench.stop(server)
    return {
        "attack": name,
        **figures,
        **viewer.figures(),
        **prober.figures(),
        "tick_interval_s": 1 / TICK_RATE,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--only", default="flood,mix,oversized,hold,idle,connects,plain")
    args = parser.parse_args()
    print(json.dumps({"machine": web_bench.machine()}), flush=True)
    for name in args.only.split(","):
        env = dict(SHIPPED)
        if name == "hold":  # every attacker socket comes from 127.0.0.1: test the total cap
            env["MINIOFFICE_WS_PER_ADDRESS"] = "5000"
        print(json.dumps(run_attack(name, args.seconds, **env)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
