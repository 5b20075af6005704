"""Web benchmarks: HTTP throughput against a bare Flask endpoint, and Socket.IO fan-out.

Both servers run under the same Gunicorn settings (the packaged gunicorn_conf: one eventlet
worker). Usage::

    .venv/bin/python bench/web_bench.py http --seconds 10
    .venv/bin/python bench/web_bench.py fanout --clients 250 --rate 5 --seconds 60

Results print as JSON (and go to bench/results/, which git ignores).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import signal
import socket
import statistics
import subprocess  # nosec B404
import sys
import tempfile
import threading
import time
from pathlib import Path

TICK = re.compile(r'^42\["tick_end",\{"tick":(\d+)')
RECORDED = re.compile(r'"recorded_at":([0-9.]+)')
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def bare_app():  # pragma: no cover - served by gunicorn
    """The baseline: Flask returning a small JSON document, nothing else."""
    from flask import Flask, jsonify

    app = Flask("bare")

    @app.get("/bare")
    def bare():
        return jsonify(status="ok", service="bare")

    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(app: str, port: int, **env: str) -> subprocess.Popen:
    environ = {
        **os.environ,
        "MINIOFFICE_PORT": str(port),
        "MINIOFFICE_LOG_LEVEL": "WARNING",
        # A fresh store per run, and a limit high enough that the limiter runs on every API
        # request (its cost is part of what is measured) without refusing the benchmark.
        "MINIOFFICE_DATA_DIR": tempfile.mkdtemp(prefix="minioffice-bench-"),
        "MINIOFFICE_RATELIMIT_DEFAULT": "100000000 per minute",
    }
    environ.update(env)
    environ["PYTHONPATH"] = f"{HERE}{os.pathsep}{environ.get('PYTHONPATH', '')}"
    argv = [str(BIN / "gunicorn"), "-c", "python:miniature_office.web.gunicorn_conf", app]
    argv += ["--access-logfile", "/dev/null"]
    process = subprocess.Popen(  # nosec B603
        argv, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                time.sleep(0.5)
                return process
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{app} did not start")


def stop(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGTERM)
    process.wait(timeout=20)


# ---- HTTP ---------------------------------------------------------------------------------


def _keepalive_loop(port: int, path: str, until: float, counts: list[int]) -> None:
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    sock = socket.create_connection(("127.0.0.1", port))
    done = 0
    buffer = b""
    while time.monotonic() < until:
        sock.sendall(request)
        while b"\r\n\r\n" not in buffer:
            buffer += sock.recv(65536)
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        while len(buffer) < length:
            buffer += sock.recv(65536)
        buffer = buffer[length:]
        done += 1
    sock.close()
    counts.append(done)


def _client_process(port: int, path: str, seconds: float, connections: int, out) -> None:
    until = time.monotonic() + seconds
    counts: list[int] = []
    threads = [
        threading.Thread(target=_keepalive_loop, args=(port, path, until, counts))
        for _ in range(connections)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put(sum(counts))


def requests_per_second(port: int, path: str, seconds: float, processes: int = 2) -> float:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_client_process, args=(port, path, seconds, 8, queue))
        for _ in range(processes)
    ]
    for w in workers:
        w.start()
    total = sum(queue.get() for _ in workers)
    for w in workers:
        w.join()
    return total / seconds


def bench_http(seconds: float, **extra: str) -> dict:
    bare_port, app_port = free_port(), free_port()
    bare = start("web_bench:bare_app()", bare_port)
    app = start("miniature_office.web.wsgi:app", app_port, MINIOFFICE_TICK_RATE="2", **extra)
    try:
        requests_per_second(app_port, "/api/world/state", 1)  # warm up
        results = {
            "bare_json": requests_per_second(bare_port, "/bare", seconds),
            "health": requests_per_second(app_port, "/health", seconds),
            "world_state": requests_per_second(app_port, "/api/world/state", seconds),
        }
    finally:
        stop(bare)
        stop(app)
    results["health_ratio"] = results["health"] / results["bare_json"]
    results["state_ratio"] = results["world_state"] / results["bare_json"]
    return {k: round(v, 3) for k, v in results.items()}


# ---- Socket.IO fan-out ----------------------------------------------------------------------


def _subscriber(port: int, until: float, ticks: list, latencies: list, ready) -> None:
    import websocket

    ws = websocket.create_connection(
        f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket", timeout=30
    )
    ws.recv()  # engine.io open
    ws.send("40")
    seen: list[int] = []
    lags: list[float] = []
    ready.release()
    while time.monotonic() < until:
        try:
            message = ws.recv()
        except websocket.WebSocketTimeoutException:
            break
        if message == "2":
            ws.send("3")
            continue
        if not message.startswith('42["tick_end"'):
            continue
        received = time.time()
        tick = TICK.search(message)
        stamps = [float(x) for x in RECORDED.findall(message)]
        if tick:
            seen.append(int(tick.group(1)))
        if stamps:
            lags.append(received - max(stamps))
    ws.close()
    ticks.append(seen)
    latencies.extend(lags)


def bench_fanout(clients: int, rate: float, seconds: float) -> dict:
    port = free_port()
    server = start("miniature_office.web.wsgi:app", port, MINIOFFICE_TICK_RATE=str(rate))
    ticks: list[list[int]] = []
    latencies: list[float] = []
    ready = threading.Semaphore(0)
    until = time.monotonic() + seconds + 10
    threads = [
        threading.Thread(target=_subscriber, args=(port, until, ticks, latencies, ready))
        for _ in range(clients)
    ]
    try:
        for t in threads:
            t.start()
            time.sleep(0.01)
        for _ in threads:
            ready.acquire()
        for t in threads:
            t.join()
    finally:
        stop(server)
    lost = 0
    for seen in ticks:
        if seen:
            lost += (seen[-1] - seen[0] + 1) - len(set(seen))
    latencies.sort()
    return {
        "clients": clients,
        "connected": len([s for s in ticks if s]),
        "tick_rate": rate,
        "seconds": seconds,
        "messages": sum(len(s) for s in ticks),
        "lost_ticks": lost,
        "latency_p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "latency_p99_ms": (
            round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1) if latencies else None
        ),
    }


def bench_fanout_node(clients: int, rate: float, seconds: float) -> dict:
    """Fan-out with the clients in one Node.js process (socket.io-client from node_modules)."""
    port = free_port()
    server = start("miniature_office.web.wsgi:app", port, MINIOFFICE_TICK_RATE=str(rate))
    try:
        output = subprocess.run(  # nosec B603 B607 - our own script, fixed arguments
            ["node", str(HERE / "fanout_client.mjs"), f"http://127.0.0.1:{port}", str(clients),
             str(seconds)],
            capture_output=True, text=True, timeout=seconds + 120, check=True,
            cwd=HERE.parent,
        )  # fmt: skip
    finally:
        stop(server)
    result = json.loads(output.stdout.strip().splitlines()[-1])
    return {**result, "tick_rate": rate, "seconds": seconds, "client": "node"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="which", required=True)
    http = sub.add_parser("http")
    http.add_argument("--seconds", type=float, default=10)
    http.add_argument(
        "--paused", action="store_true", help="world paused: no tick loop beside the requests"
    )
    fan = sub.add_parser("fanout")
    fan.add_argument("--clients", type=int, default=250)
    fan.add_argument("--rate", type=float, default=5)
    fan.add_argument("--seconds", type=float, default=60)
    fan.add_argument("--client", choices=("node", "python"), default="node")
    args = parser.parse_args()
    if args.which == "http":
        extra = {"MINIOFFICE_AUTOSTART": "false"} if args.paused else {}
        result = {**bench_http(args.seconds, **extra), "paused": args.paused}
    elif args.client == "node":
        result = bench_fanout_node(args.clients, args.rate, args.seconds)
    else:
        result = bench_fanout(args.clients, args.rate, args.seconds)
    print(json.dumps(result, indent=2))
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"web_{args.which}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
