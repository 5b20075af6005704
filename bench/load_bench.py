"""Load and soak test: mixed REST reads and writes plus Socket.IO viewers against Gunicorn.

Starts the packaged Gunicorn setup (one eventlet worker) on 127.0.0.1 with a fresh data
directory and its own operator token, then for ``--duration`` seconds:

- sends HTTP requests at a steady ``--rate`` (requests per second, open loop: a request is
  due at its slot whether or not earlier ones have answered), ``--write-share`` of them
  writes (speed changes, and every fifth write a new directive), the rest reads of the
  world, agents, tasks, directives, flow and audit;
- keeps ``--sockets`` Socket.IO clients connected (authenticated with the token), counting
  the ticks each receives and their delivery latency: the fan-out bench's Node client
  (``fanout_client.mjs``, light parsing, no deflate), in its own process, so the viewers
  neither slow the HTTP client nor fall behind and reconnect as Python clients on these two
  cores do;
- samples the worker's resident memory every ``--sample`` seconds, and beside it the world's
  open work (tasks not deployed, and the backlog of offered directives waiting for admission,
  from ``/metrics``): a world that cannot keep up with its demand grows, and its memory with
  it, which is not a leak. The default scenario's backlog fills to its cap (1,000) in about
  8,000 ticks (13 minutes at ``--tick-rate 10``): the warm-up must cover that, and the result
  says how much the world grew after it (``world_growth_after_warmup``);
- with ``--open-limit N``, a directive write becomes a speed write while the world holds N or
  more open tasks (as a team lead stops sending work to a team that cannot keep up), so the
  world reaches a steady size and the memory slope measures the service, not a growing world;
- with ``--preview-every S``, starts a what-if preview (``--preview-futures`` x
  ``--preview-ticks``, "hire one more verifier on python") every S seconds through
  ``POST /api/consigliere/preview``, as a team lead asking a question a minute: each runs in
  the server's job pool, so the memory slope includes what jobs leave behind.

Prints one JSON document (throughput, latency percentiles for reads and writes, errors,
ticks per client, memory over time) and writes it to bench/results/. Usage::

    .venv/bin/python bench/load_bench.py --duration 300 --rate 200 --sockets 100
    .venv/bin/python bench/load_bench.py --duration 1800 --sockets 200 --preview-every 60 \
        --tick-rate 10 --warmup 300 --open-limit 300     # issue 28's memory soak (30 min)
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import secrets
import signal
import subprocess  # nosec B404 - starts our own Gunicorn with a fixed argv
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
from web_bench import ONE_ADDRESS, free_port, node_viewers

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
READS = (
    "/api/world/state",
    "/api/agents",
    "/api/tasks?limit=50",
    "/api/directives",
    "/api/flow",
    "/api/audit/events?limit=20",
    "/api/floors",
    "/api/supply-store",
)


def start_server(
    port: int, token: str, data_dir: str, tick_rate: float = 2.0, probe: str | None = None
) -> subprocess.Popen:
    """Gunicorn on the packaged config; with ``probe`` (a JSON-lines path), on
    ``memory_probe.py``, which adds a memory breakdown every minute to that file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIOFFICE_")}
    env.update(
        MINIOFFICE_HOST=HOST,
        MINIOFFICE_PORT=str(port),
        MINIOFFICE_LOG_LEVEL="WARNING",
        MINIOFFICE_DATA_DIR=data_dir,
        MINIOFFICE_BOOTSTRAP_TOKEN=token,
        MINIOFFICE_BOOTSTRAP_ROLE="operator",
        MINIOFFICE_DEV_TOKEN="false",
        MINIOFFICE_TICK_RATE=str(tick_rate),
        # One client address and one token send everything: lift the per-client budget.
        MINIOFFICE_RATELIMIT_DEFAULT="10000000 per minute",
        **ONE_ADDRESS,
    )
    if probe:
        env["MEMPROBE_OUT"] = probe
    config = str(HERE / "memory_probe.py") if probe else "python:miniature_office.web.gunicorn_conf"
    argv = [
        str(BIN / "gunicorn"),
        "-c",
        config,
        "miniature_office.web.wsgi:app",
        "--access-logfile",
        "/dev/null",
    ]
    process = subprocess.Popen(  # nosec B603
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://{HOST}:{port}/health/ready", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not become ready")


def worker_pid(master: int) -> int:
    """The Gunicorn worker (the master's only child)."""
    for _ in range(50):
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        except OSError:
            children = []
        if children:
            return int(children[0])
        time.sleep(0.1)
    return master


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[index] * 1000, 2)


def latency_summary(values: list[float]) -> dict[str, Any]:
    return {
        "count": len(values),
        "p50_ms": percentile(values, 50),
        "p90_ms": percentile(values, 90),
        "p99_ms": percentile(values, 99),
        "max_ms": round(max(values) * 1000, 2) if values else None,
    }


def start_viewers(url: str, token: str, count: int, seconds: float) -> subprocess.Popen[str]:
    """``count`` Socket.IO viewers for ``seconds`` after connecting: the Node fan-out client,
    reading each tick lightly and offering no compression (``web_bench.py fanout``)."""
    command, env = node_viewers(
        url, count, seconds, 2, deflate=False, light_parse=True, token=token
    )
    return subprocess.Popen(  # nosec B603 B607 - our own script, fixed arguments
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=HERE.parent,
        env=env,
    )  # fmt: skip


def viewers_report(viewers: subprocess.Popen[str], count: int, wait: float) -> dict[str, Any]:
    """The viewers' JSON line, or a note that they gave none within ``wait`` seconds."""
    try:
        out, _ = viewers.communicate(timeout=wait)
    except subprocess.TimeoutExpired:
        viewers.kill()
        return {"clients": count, "report": f"none within {wait:.0f} s"}
    lines = out.strip().splitlines()
    if viewers.returncode != 0 or not lines:
        return {"clients": count, "report": f"exit {viewers.returncode}, no result"}
    result: dict[str, Any] = json.loads(lines[-1])
    result["client"] = "node"
    # ticks each connected viewer received per second of its window (target: the tick rate)
    result["ticks_per_viewer_per_s"] = round(
        result["messages"] / max(result["connected"], 1) / max(result["window_s"], 1), 2
    )
    return result


class Load:
    """Open-loop HTTP load: one dispatcher paces slots; a pool of threads sends them."""

    def __init__(
        self,
        url: str,
        token: str,
        rate: float,
        write_share: float,
        threads: int,
        open_limit: int | None = None,
    ):
        self.url, self.rate, self.write_share = url, rate, write_share
        self.open_limit = open_limit
        self.open_tasks: int | None = None  # the world's open tasks, last sampled
        self.held_back = 0  # directive writes sent as speed writes (the world at its limit)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.slots: queue.Queue[tuple[int, float] | None] = queue.Queue()
        self.reads: list[float] = []
        self.writes: list[float] = []
        self.lag: list[float] = []
        self.errors: dict[str, int] = {}
        self.sent = 0
        self.dropped = 0  # slots still waiting when the schedule ended (the client fell behind)
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(threads)]

    def run(self, duration: float) -> float:
        for thread in self.threads:
            thread.start()
        start = time.monotonic()
        n = 0
        while True:
            due = start + n / self.rate
            if due - start >= duration:
                break
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.slots.put((n, due))
            n += 1
        # The schedule is over: slots the client never got to are dropped, not sent late (a
        # client that fell behind would otherwise keep the run going long after --duration).
        while True:
            try:
                self.slots.get_nowait()
            except queue.Empty:
                break
            self.dropped += 1
        for _ in self.threads:
            self.slots.put(None)
        for thread in self.threads:
            thread.join(timeout=30)
        return time.monotonic() - start

    def _work(self) -> None:
        session = requests.Session()
        every = max(1, round(1 / self.write_share)) if self.write_share > 0 else 0
        while (slot := self.slots.get()) is not None:
            n, due = slot
            write = every and n % every == 0
            began = time.monotonic()
            directive = write and (n // every) % 5 == 0
            if directive and self._at_limit():
                directive = False
                with self.lock:
                    self.held_back += 1
            try:
                if directive:
                    body = {"title": f"Load {n}", "floor": "python" if n % 2 else "javascript"}
                    response = session.post(
                        self.url + "/api/directives", json=body, headers=self.headers, timeout=10
                    )
                elif write:
                    response = session.post(
                        self.url + "/api/world/speed",
                        json={"speed": 1},
                        headers=self.headers,
                        timeout=10,
                    )
                else:
                    path = READS[n % len(READS)]
                    response = session.get(self.url + path, headers=self.headers, timeout=10)
                ok = response.status_code < 400
                problem = None if ok else f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                problem = type(exc).__name__
            took = time.monotonic() - began
            with self.lock:
                self.sent += 1
                self.lag.append(max(0.0, began - due))
                (self.writes if write else self.reads).append(took)
                if problem:
                    self.errors[problem] = self.errors.get(problem, 0) + 1

    def _at_limit(self) -> bool:
        limit, now = self.open_limit, self.open_tasks
        return limit is not None and now is not None and now >= limit


HIRE = [{"kind": "hire_agent", "payload": {"floor": "python", "role": "verifier"}}]


def ask_previews(
    url: str, token: str, every: float, futures: int, ticks: int, stop: threading.Event
) -> dict[str, Any]:
    """Start a preview every ``every`` seconds until ``stop``; counts by answer status."""
    counts: dict[str, int] = {}
    seed = 0
    while not stop.wait(every if seed else 1.0):
        seed += 1
        try:
            status = str(
                requests.post(
                    url + "/api/consigliere/preview",
                    json={"commands": HIRE, "futures": futures, "ticks": ticks, "seed": seed},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                ).status_code
            )
        except requests.RequestException as exc:
            status = type(exc).__name__
        counts[status] = counts.get(status, 0) + 1
    return counts


def world_size(url: str, token: str) -> tuple[int | None, int | None]:
    """The world's open tasks (not deployed) and its backlog (offered directives waiting for
    admission), from /metrics; None for what could not be read."""
    try:
        text = requests.get(
            url + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).text
    except requests.RequestException:
        return None, None
    total, backlog = 0, None
    for line in text.splitlines():
        if line.startswith("minioffice_tasks{") and 'state="deployed"' not in line:
            total += int(float(line.rsplit(" ", 1)[1]))
        elif line.startswith("minioffice_backlog_directives "):
            backlog = int(float(line.rsplit(" ", 1)[1]))
    return total, backlog


def grew_after(samples: list[tuple[float, int | None]], warmup: float) -> int | None:
    """How much a size grew between the first sample at or after ``warmup`` and the last."""
    known = [(t, n) for t, n in samples if n is not None and t >= warmup]
    return known[-1][1] - known[0][1] if known else None


def rss_slope(samples: list[tuple[float, float]], warmup: float) -> float | None:
    """Resident memory growth in MiB per 10 minutes, fitted to the samples after ``warmup``
    seconds (least squares: one noisy sample does not decide it); None with too few."""
    points = [(t, m) for t, m in samples if t >= warmup]
    if len(points) < 3:
        return None
    mean_t = sum(t for t, _ in points) / len(points)
    mean_m = sum(m for _, m in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if spread == 0:
        return None
    slope = sum((t - mean_t) * (m - mean_m) for t, m in points) / spread
    return round(slope * 600, 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=300.0, help="seconds (default 300)")
    parser.add_argument("--rate", type=float, default=200.0, help="HTTP requests per second")
    parser.add_argument("--sockets", type=int, default=100, help="Socket.IO clients")
    parser.add_argument("--write-share", type=float, default=0.05, help="share of writes")
    parser.add_argument("--threads", type=int, default=32, help="HTTP client threads")
    parser.add_argument("--sample", type=float, default=5.0, help="memory sample interval (s)")
    parser.add_argument(
        "--open-limit",
        type=int,
        default=None,
        help="send no new directive while the world holds this many open tasks or more",
    )
    parser.add_argument(
        "--warmup", type=float, default=120.0, help="seconds left out of the memory slope"
    )
    parser.add_argument(
        "--tick-rate",
        type=float,
        default=2.0,
        help="server ticks per second (a faster clock "
        "fills the bounded in-memory windows sooner, for a memory soak)",
    )
    parser.add_argument(
        "--preview-every", type=float, default=0.0, help="seconds between previews (0: none)"
    )
    parser.add_argument("--preview-futures", type=int, default=20)
    parser.add_argument("--preview-ticks", type=int, default=200)
    parser.add_argument(
        "--probe",
        default=None,
        help="JSON-lines file: the worker writes a memory breakdown to it every minute "
        "(bench/memory_probe.py; MEMPROBE_TRACEMALLOC=1 adds the growing source lines)",
    )
    args = parser.parse_args(argv)
    if not (0 < args.duration <= 3600 and 0 < args.rate <= 2000 and 0 <= args.sockets <= 500):
        parser.error("bounded: duration <= 3600 s, rate <= 2000/s, sockets <= 500")

    port, token = free_port(), f"mo_loadbench_{secrets.token_urlsafe(32)}"
    url = f"http://{HOST}:{port}"
    server = start_server(
        port,
        token,
        tempfile.mkdtemp(prefix="minioffice-load-"),
        tick_rate=args.tick_rate,
        probe=args.probe,
    )
    pid = worker_pid(server.pid)
    memory: list[tuple[float, float]] = []
    world: list[tuple[float, int | None]] = []  # (seconds, open tasks) beside each memory sample
    backlog: list[tuple[float, int | None]] = []  # (seconds, directives waiting for admission)
    try:
        settle = min(10.0, 2 + args.sockets * 0.01)  # let the viewers connect
        # the viewers hold their connections until the HTTP load is over
        viewers = start_viewers(url, token, args.sockets, settle + args.duration + 2)
        time.sleep(settle)
        started = time.monotonic()
        stop = threading.Event()

        load = Load(url, token, args.rate, args.write_share, args.threads, args.open_limit)

        def sample() -> None:
            while not stop.is_set():
                load.open_tasks, waiting = world_size(url, token)
                now = round(time.monotonic() - started, 1)
                memory.append((now, round(rss_mib(pid), 1)))
                world.append((now, load.open_tasks))
                backlog.append((now, waiting))
                stop.wait(args.sample)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        previews: dict[str, int] = {}
        asker = threading.Thread(
            target=lambda: previews.update(
                ask_previews(url, token, args.preview_every, args.preview_futures,
                             args.preview_ticks, stop)  # fmt: skip
            ),
            daemon=True,
        )
        if args.preview_every > 0:
            asker.start()
        elapsed = load.run(args.duration)
        stop.set()
        sampler.join()
        if args.preview_every > 0:
            asker.join(timeout=60)
        memory.append((round(time.monotonic() - started, 1), round(rss_mib(pid), 1)))
        sockets = viewers_report(viewers, args.sockets, wait=120)
    finally:
        os.kill(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)

    result = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "duration_s": round(elapsed, 1),
        "target_rate": args.rate,
        "requests": load.sent,
        "throughput_rps": round(load.sent / elapsed, 1),
        "dropped_slots": load.dropped,
        "errors": load.errors,
        "error_count": sum(load.errors.values()),
        "reads": latency_summary(load.reads),
        "writes": latency_summary(load.writes),
        "schedule_lag_p99_ms": percentile(load.lag, 99),
        "previews": {"every_s": args.preview_every, "answers": previews},
        "sockets": sockets,
        "rss_mib": {
            "start": memory[0][1] if memory else None,
            "min": min(m for _, m in memory) if memory else None,
            "max": max(m for _, m in memory) if memory else None,
            "end": memory[-1][1] if memory else None,
            "warmup_s": args.warmup,
            # least-squares slope of the samples after warm-up (issue 17: < 1 MiB / 10 min)
            "slope_mib_per_10min": rss_slope(memory, args.warmup),
            "samples": memory,
        },
        "open_tasks": {
            "limit": args.open_limit,
            "directive_writes_held_back": load.held_back,
            "at_warmup": next((n for t, n in world if t >= args.warmup), None),
            "end": world[-1][1] if world else None,
            "max": max((n for _, n in world if n is not None), default=None),
            "samples": world,
        },
        # The scenario's own arrivals wait here until admitted (up to its max_backlog, then
        # they are rejected): until it is full the world grows, and its memory with it.
        "backlog": {
            "at_warmup": next((n for t, n in backlog if t >= args.warmup), None),
            "end": backlog[-1][1] if backlog else None,
            "max": max((n for _, n in backlog if n is not None), default=None),
            "samples": backlog,
        },
        # The slope measures the service only if the world did not grow after warm-up.
        "world_growth_after_warmup": {
            "open_tasks": grew_after(world, args.warmup),
            "backlog": grew_after(backlog, args.warmup),
        },
    }
    text = json.dumps(result, indent=2)
    print(text)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / f"load-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(text + "\n")
    return 0 if result["error_count"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
