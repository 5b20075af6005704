"""Web benchmarks: HTTP throughput against a bare Flask endpoint, and Socket.IO fan-out.

Both servers run under the same Gunicorn settings (the packaged gunicorn_conf: one worker,
eventlet by default, ``--async-mode threading`` for gthread + simple-websocket, bare app
included). Usage::

    .venv/bin/python bench/web_bench.py http --seconds 5 --rounds 5   (needs wrk)
    .venv/bin/python bench/web_bench.py fanout --clients 250 --rate 5 --seconds 60
    .venv/bin/python bench/web_bench.py --async-mode threading http

Results print as JSON (and go to bench/results/, which git ignores).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
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
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:  # a busy host: do not lose the results over it
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


# ---- HTTP ---------------------------------------------------------------------------------
#
# The load comes from wrk (C, epoll): a Python client needs about as much CPU per request as
# the server does, and on a 2-core machine it would measure itself. Each target is measured
# in several short rounds, interleaved, and the medians are compared: the machines are noisy.

TARGETS = (
    # (name, server, path)
    ("bare_json", "bare", "/bare"),
    ("health", "app", "/health"),
    ("world_state", "app", "/api/world/state"),
    # A limited API read, with the in-app limiter (as shipped) and without it: the difference
    # is what the in-app layer costs per request (DEPLOYMENT.md, "Rate limits").
    ("floors", "app", "/api/floors"),
    ("floors_no_app_limiter", "app_proxy_limits", "/api/floors"),
)


def worker_pid(master: int, timeout: float = 10.0) -> int:
    """The single Gunicorn worker's PID (the child of ``master``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                return int(entry.name)
        time.sleep(0.1)
    raise RuntimeError(f"no worker under gunicorn master {master}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(port: int, path: str, seconds: float, connections: int = 16) -> dict:
    """Run wrk against one path; requests per second and how many answers were not 2xx."""
    output = subprocess.run(  # nosec B603 B607 - fixed arguments, our own local server
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, check=True, timeout=seconds + 30,
    ).stdout  # fmt: skip
    rate = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    done = re.search(r"(\d+) requests in", output)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if rate is None or done is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return {
        "rps": float(rate.group(1)),
        "requests": int(done.group(1)),
        "non_2xx": int(bad.group(1)) if bad else 0,
    }


def warm_up(port: int, path: str, timeout: float = 60.0) -> None:
    """One short wrk run, retried until the server answers (a busy host starts slowly)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            wrk(port, path, 1)
            return
        except subprocess.CalledProcessError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def bench_http(seconds: float, rounds: int, **extra: str) -> dict:
    """Every target in ``rounds`` interleaved rounds; medians and ratios to the bare endpoint."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (`make bench` installs it)")
    app_env = {"MINIOFFICE_TICK_RATE": "2", **extra}
    mode = {k: v for k, v in extra.items() if k == "MINIOFFICE_ASYNC_MODE"}
    specs = {
        "bare": ("web_bench:bare_app()", mode),
        "app": ("miniature_office.web.wsgi:app", app_env),
        # Rate limits enforced by the reverse proxy instead (DEPLOYMENT.md, "Rate limits").
        "app_proxy_limits": (
            "miniature_office.web.wsgi:app",
            {**app_env, "MINIOFFICE_RATELIMIT_ENABLED": "false"},
        ),
    }
    servers: dict[str, tuple[int, subprocess.Popen, int]] = {}
    samples: dict[str, list[dict]] = {name: [] for name, _, _ in TARGETS}
    try:
        for name, (app, env) in specs.items():
            port = free_port()
            process = start(app, port, **env)
            servers[name] = (port, process, worker_pid(process.pid))
        for _, server, path in TARGETS:  # warm up (a loaded host may still be importing)
            warm_up(servers[server][0], path)
        for _ in range(rounds):
            for name, server, path in TARGETS:
                port, _, worker = servers[server]
                cpu_before = cpu_seconds(worker)
                sample = wrk(port, path, seconds)
                cpu = cpu_seconds(worker) - cpu_before
                sample["worker_cpu_us_per_request"] = 1e6 * cpu / sample["requests"]
                samples[name].append(sample)
    finally:
        for _, process, _ in servers.values():
            stop(process)
    medians = {name: statistics.median(s["rps"] for s in runs) for name, runs in samples.items()}
    bare = medians["bare_json"]
    return {
        "load": f"wrk -t1 -c16, {rounds} interleaved rounds of {seconds:g} s per target",
        "machine": machine(),
        "requests_per_second": {k: round(v, 1) for k, v in medians.items()},
        "ratio_to_bare": {k: round(v / bare, 3) for k, v in medians.items() if k != "bare_json"},
        "worker_cpu_us_per_request": {
            name: round(statistics.median(s["worker_cpu_us_per_request"] for s in runs), 1)
            for name, runs in samples.items()
        },
        "non_2xx": {name: sum(s["non_2xx"] for s in runs) for name, runs in samples.items()},
        "rounds": {name: [round(s["rps"]) for s in runs] for name, runs in samples.items()},
    }


def machine() -> str:
    """CPU model, cores and Python version, for the record in BENCHMARKS.md."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"


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


def bench_fanout(clients: int, rate: float, seconds: float, **extra: str) -> dict:
    port = free_port()
    server = start("miniature_office.web.wsgi:app", port, MINIOFFICE_TICK_RATE=str(rate), **extra)
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


def bench_fanout_node(clients: int, rate: float, seconds: float, **extra: str) -> dict:
    """Fan-out with the clients in one Node.js process (socket.io-client from node_modules)."""
    port = free_port()
    server = start("miniature_office.web.wsgi:app", port, MINIOFFICE_TICK_RATE=str(rate), **extra)
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
    parser.add_argument(
        "--async-mode",
        choices=("eventlet", "threading"),
        default="eventlet",
        help="MINIOFFICE_ASYNC_MODE for every server (threading: Gunicorn gthread)",
    )
    sub = parser.add_subparsers(dest="which", required=True)
    http = sub.add_parser("http")
    http.add_argument("--seconds", type=float, default=5, help="per target and round")
    http.add_argument("--rounds", type=int, default=5)
    http.add_argument(
        "--paused", action="store_true", help="world paused: no tick loop beside the requests"
    )
    fan = sub.add_parser("fanout")
    fan.add_argument("--clients", type=int, default=250)
    fan.add_argument("--rate", type=float, default=5)
    fan.add_argument("--seconds", type=float, default=60)
    fan.add_argument("--client", choices=("node", "python"), default="node")
    args = parser.parse_args()
    mode = {"MINIOFFICE_ASYNC_MODE": args.async_mode}
    if args.which == "http":
        extra = {"MINIOFFICE_AUTOSTART": "false"} if args.paused else {}
        result = {**bench_http(args.seconds, args.rounds, **mode, **extra), "paused": args.paused}
    elif args.client == "node":
        result = bench_fanout_node(args.clients, args.rate, args.seconds, **mode)
    else:
        result = bench_fanout(args.clients, args.rate, args.seconds, **mode)
    result = {**result, "async_mode": args.async_mode}
    print(json.dumps(result, indent=2))
    (HERE / "results").mkdir(exist_ok=True)
    name = f"web_{args.which}_{args.async_mode}.json"
    (HERE / "results" / name).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
