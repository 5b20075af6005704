"""Web benchmarks: HTTP throughput against a bare Flask endpoint, and Socket.IO fan-out.

Both servers run under the same Gunicorn settings (the packaged gunicorn_conf: one worker,
eventlet by default, ``--async-mode threading`` for gthread + simple-websocket, bare app
included). Usage::

    .venv/bin/python bench/web_bench.py http --seconds 5 --rounds 5   (needs wrk)
    .venv/bin/python bench/web_bench.py fanout --clients 250 --rate 5 --seconds 60
    .venv/bin/python bench/web_bench.py fanout --clients 1000 --workers 2   (scale-out: Redis)
    .venv/bin/python bench/web_bench.py --async-mode threading http
    .venv/bin/python bench/web_bench.py --async-mode threading fanout --threads 1100

Fan-out with ``--workers N`` (N > 1) runs the scale-out mode: N Gunicorn workers, one engine,
Socket.IO through the Redis at ``--redis`` (default redis://127.0.0.1:6379/0). ``--threads``
sets the gthread worker's threads (each WebSocket holds one). Every fan-out result records the
load average before and after, the server's CPU (all workers) and the load client's CPU per
second of the run, the commit and the UTC date.

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
import urllib.request
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


def node_viewers(
    url: str,
    clients: int,
    seconds: float,
    threads: int,
    *,
    deflate: bool,
    light_parse: bool,
    token: str | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of the Node fan-out client (``fanout_client.mjs``):
    ``clients`` Socket.IO viewers of ``url`` for ``seconds`` over ``threads`` worker threads."""
    env = {
        **os.environ,
        "FANOUT_DEFLATE": "1" if deflate else "0",
        "FANOUT_PARSE": "light" if light_parse else "full",
    }
    if token:
        env["FANOUT_TOKEN"] = token
    command = ["node", str(HERE / "fanout_client.mjs"), url, str(clients), str(seconds)]
    return [*command, str(threads)], env


#: Every viewer of a bench comes from 127.0.0.1: lift the per-address and total websocket
#: caps (SECURITY.md, "Connection limits") so the bench measures fan-out, not the caps.
ONE_ADDRESS = {
    "MINIOFFICE_WORKER_CONNECTIONS": "12000",
    "MINIOFFICE_WS_MAX_CONNECTIONS": "9000",
    "MINIOFFICE_WS_PER_ADDRESS": "9000",
}


def start(app: str, port: int, **env: str) -> subprocess.Popen:
    environ = {
        **os.environ,
        "MINIOFFICE_PORT": str(port),
        "MINIOFFICE_LOG_LEVEL": "WARNING",
        # A fresh store per run, and a limit high enough that the limiter runs on every API
        # request (its cost is part of what is measured) without refusing the benchmark.
        "MINIOFFICE_DATA_DIR": tempfile.mkdtemp(prefix="minioffice-bench-"),
        "MINIOFFICE_RATELIMIT_DEFAULT": "100000000 per minute",
        **ONE_ADDRESS,
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
    return workers_of(master, 1, timeout)[0]


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


def workers_of(master: int, count: int, timeout: float = 30.0) -> list[int]:
    """The PIDs of a Gunicorn master's ``count`` workers."""
    deadline = time.monotonic() + timeout
    found: list[int] = []
    while time.monotonic() < deadline:
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                found.append(int(entry.name))
        if len(found) >= count:
            return found
        time.sleep(0.2)
    raise RuntimeError(f"{len(found)} of {count} workers under gunicorn master {master}")


def server_tick(port: int) -> int | None:
    """The engine's tick, from /health (None when the server does not answer in time)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=30) as answer:
            return int(json.load(answer)["tick"])
    except OSError:
        return None


def commit() -> str:
    try:
        return subprocess.run(  # nosec B603 B607 - fixed arguments
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
            cwd=HERE.parent, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def bench_fanout_node(
    clients: int,
    rate: float,
    seconds: float,
    workers: int = 1,
    redis: str = "",
    client_threads: int = 2,
    deflate: bool = True,
    light_parse: bool = False,
    **extra: str,
) -> dict:
    """Fan-out with the clients in one Node.js process (socket.io-client from node_modules).

    ``workers`` > 1: the scale-out mode, one engine and ``workers`` Gunicorn workers sharing
    Socket.IO through Redis (a fresh SQLite store, so a fresh namespace on the Redis)."""
    port = free_port()
    env = {"MINIOFFICE_TICK_RATE": str(rate), **extra}
    if workers > 1:
        env.update(MINIOFFICE_WORKERS=str(workers), MESSAGE_QUEUE=redis)
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    server = start("miniature_office.web.wsgi:app", port, **env)
    try:
        pids = workers_of(server.pid, workers)
        if workers > 1:
            time.sleep(3)  # leader elected, followers caught up
        cpu_before = sum(cpu_seconds(pid) for pid in pids)
        tick_before = server_tick(port)
        wall = time.monotonic()
        command, client_env = node_viewers(
            f"http://127.0.0.1:{port}", clients, seconds, client_threads,
            deflate=deflate, light_parse=light_parse,
        )  # fmt: skip
        output = subprocess.run(  # nosec B603 B607 - our own script, fixed arguments
            command, capture_output=True, text=True, timeout=seconds + 300, check=True,
            cwd=HERE.parent, env=client_env,
        )  # fmt: skip
        wall = time.monotonic() - wall
        server_cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_before
        tick_after = server_tick(port)
    finally:
        stop(server)
    result = json.loads(output.stdout.strip().splitlines()[-1])
    client_cpu = result.pop("client_cpu_s", 0.0)
    return {
        **result,
        "tick_rate": rate,
        "seconds": seconds,
        "client": "node",
        "client_deflate": deflate,
        "workers": workers,
        "message_queue": redis if workers > 1 else None,
        # Ticks each client received per second from its connect to the end (target: the
        # tick rate); elapsed_s is the client's whole run, connects included.
        "ticks_per_client_per_s": round(
            result["messages"] / max(result["connected"], 1) / max(result["elapsed_s"], 1), 2
        ),
        # the engine's own rate meanwhile (None: /health did not answer)
        "server_ticks_per_s": (
            round((tick_after - tick_before) / wall, 2)
            if tick_after is not None and tick_before is not None
            else None
        ),
        "server_cpu_per_s": round(server_cpu / wall, 3),
        "client_cpu_per_s": round(client_cpu / wall, 3),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "date_utc": started,
        "commit": commit(),
        "machine": machine(),
    }


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
    fan.add_argument(
        "--client-threads", type=int, default=2, help="Node worker threads sharing the clients"
    )
    fan.add_argument(
        "--no-deflate",
        action="store_true",
        help="clients do not offer permessage-deflate (inflating every stream in one process "
        "is the load generator's cost)",
    )
    fan.add_argument(
        "--light-parse",
        action="store_true",
        help="clients read a tick's number and newest timestamp without parsing the whole "
        "document (other packets parsed as usual)",
    )
    fan.add_argument("--workers", type=int, default=1, help="> 1: scale-out through Redis")
    fan.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="with --workers > 1")
    fan.add_argument(
        "--threads", type=int, default=0, help="gthread worker threads (0: the packaged config)"
    )
    args = parser.parse_args()
    mode = {"MINIOFFICE_ASYNC_MODE": args.async_mode}
    if args.which == "http":
        extra = {"MINIOFFICE_AUTOSTART": "false"} if args.paused else {}
        result = {**bench_http(args.seconds, args.rounds, **mode, **extra), "paused": args.paused}
    elif args.client == "node":
        if args.threads:
            mode["GUNICORN_CMD_ARGS"] = f"--threads {args.threads}"
        result = bench_fanout_node(
            args.clients, args.rate, args.seconds, args.workers, args.redis,
            args.client_threads, not args.no_deflate, args.light_parse, **mode,
        )  # fmt: skip
    else:
        result = bench_fanout(args.clients, args.rate, args.seconds, **mode)
    result = {**result, "async_mode": args.async_mode}
    print(json.dumps(result, indent=2))
    (HERE / "results").mkdir(exist_ok=True)
    name = f"web_{args.which}_{args.async_mode}.json"
    if args.which == "fanout" and args.workers > 1:
        name = f"web_fanout_{args.async_mode}_{args.workers}workers.json"
    (HERE / "results" / name).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
