"""Browser UI benchmark (issue 16): headless Chromium against a real server.

Measures, at 1280x720 and 3840x2160, paused and running: canvas frames drawn and the main
thread's busy share over a window (Chrome's TaskDuration metric); bytes transferred on a first
load and on a first load after 5,000 ticks; the time from the page's load event to the first
drawn office.

Targets: no canvas redraws while paused and nothing moves; 4K running at >= 50 fps where the
machine allows, otherwise main-thread busy under 50%; first load under 250 KB transferred; the
office drawn within 1 s of the load event.

    .venv/bin/python bench/ui_bench.py            # 10 s windows, 5,000 ticks
    .venv/bin/python bench/ui_bench.py --quick    # 3 s windows, 1,000 ticks

Prints a Markdown table and writes JSON to bench/results/ui.json (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess  # nosec B404 - starts our own server
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

HERE = Path(__file__).parent
ROOT = HERE.parent
CHROMIUM = os.environ.get("MINIOFFICE_CHROMIUM", "/usr/bin/chromium")
TOKEN = "mo_uibench000_" + "U" * 43  # nosec B105 - a throwaway token for a local server
VIEWPORTS = [(1280, 720), (3840, 2160)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """python -m miniature_office.web on a free local port, stopped by its PID."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "MINIOFFICE_HOST": "127.0.0.1",
            "MINIOFFICE_PORT": str(self.port),
            "MINIOFFICE_TICK_RATE": "4",
            "MINIOFFICE_ENV": "development",
            "MINIOFFICE_LOG_LEVEL": "WARNING",
            "MINIOFFICE_DATA_DIR": str(folder),
            "MINIOFFICE_BOOTSTRAP_TOKEN": TOKEN,
            "MINIOFFICE_DEV_TOKEN": "false",
            "MINIOFFICE_RATELIMIT_ENABLED": "false",
        }
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, our own module
            [sys.executable, "-m", "miniature_office.web"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health/ready", timeout=1):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(  # noqa: S310 - our own local server
            self.url + path,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read() or b"null")

    def stop(self) -> None:
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)


def wait_for(page: Any, script: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(script):
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {script}")
        page.wait_for_timeout(50)


def open_page(browser: Any, server: Server, width: int, height: int) -> tuple[Any, Any, dict]:
    """A fresh context (empty cache) with the page loaded; counts bytes on the wire."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_init_script(f"sessionStorage.setItem('miniatureOffice.apiToken', '{TOKEN}')")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Performance.enable")
    wire = {"bytes": 0}
    cdp.on(
        "Network.loadingFinished",
        lambda e: wire.__setitem__("bytes", wire["bytes"] + e["encodedDataLength"]),
    )
    page.goto(server.url + "/")
    wait_for(page, "window.miniatureOffice && window.miniatureOffice.office.draws > 0")
    page.wait_for_load_state("networkidle")
    return page, cdp, wire


def task_seconds(cdp: Any) -> float:
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return float(metrics["TaskDuration"])


def window(page: Any, cdp: Any, seconds: float) -> dict[str, float]:
    """Frames drawn and main-thread busy share over ``seconds`` of wall time."""
    draws = page.evaluate("window.miniatureOffice.office.draws")
    busy = task_seconds(cdp)
    start = time.monotonic()
    page.wait_for_timeout(seconds * 1000)
    elapsed = time.monotonic() - start
    return {
        "frames": page.evaluate("window.miniatureOffice.office.draws") - draws,
        "fps": round((page.evaluate("window.miniatureOffice.office.draws") - draws) / elapsed, 1),
        "busy_share": round((task_seconds(cdp) - busy) / elapsed, 3),
    }


def first_draw_after_load(page: Any) -> float:
    return page.evaluate("""() => {
            const nav = performance.getEntriesByType('navigation')[0];
            const mark = performance.getEntriesByName('office-first-draw')[0];
            return Math.round(mark.startTime - nav.loadEventEnd);
        }""")


def advance(server: Server, ticks: int) -> None:
    """Step a paused world ``ticks`` ticks (100 per call)."""
    server.call("POST", "/api/world/stop")
    done = server.call("GET", "/api/world/state")["tick"]
    while done < ticks:
        server.call("POST", "/api/world/step", {"count": min(100, ticks - done)})
        done = server.call("GET", "/api/world/state")["tick"]


def measure(seconds: float, ticks: int) -> Iterator[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        server = Server(Path(folder))
        try:
            page, _, wire = open_page(browser, server, 1280, 720)
            yield {
                "measure": "first load",
                "bytes": wire["bytes"],
                "first_draw_after_load_ms": first_draw_after_load(page),
            }
            page.context.close()
            for width, height in VIEWPORTS:
                page, cdp, _ = open_page(browser, server, width, height)
                server.call("POST", "/api/world/resume")
                wait_for(page, "document.querySelector('#run-state').dataset.state === 'running'")
                yield {"measure": f"running {width}x{height}", **window(page, cdp, seconds)}
                server.call("POST", "/api/world/stop")
                wait_for(page, "document.querySelector('#run-state').dataset.state === 'paused'")
                wait_for(page, "!window.miniatureOffice.office.isMoving(performance.now())")
                yield {"measure": f"paused {width}x{height}", **window(page, cdp, seconds)}
                page.context.close()
            advance(server, ticks)
            page, _, wire = open_page(browser, server, 1280, 720)
            yield {
                "measure": f"first load after {ticks} ticks",
                "bytes": wire["bytes"],
                "first_draw_after_load_ms": first_draw_after_load(page),
            }
            page.context.close()
        finally:
            server.stop()
            browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s windows, 1,000 ticks")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--ticks", type=int, default=None)
    args = parser.parse_args()
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    ticks = args.ticks or (1000 if args.quick else 5000)
    rows = []
    print("| measure | frames | fps | main thread busy | bytes | office drawn after load |")
    print("|---|---|---|---|---|---|")
    for row in measure(seconds, ticks):
        rows.append(row)
        cells = [
            row.get(k, "")
            for k in ("frames", "fps", "busy_share", "bytes", "first_draw_after_load_ms")
        ]
        if cells[2] != "":
            cells[2] = f"{cells[2] * 100:.0f}%"
        if cells[3] != "":
            cells[3] = f"{cells[3] / 1024:.0f} KB"
        if cells[4] != "":
            cells[4] = f"{cells[4]} ms"
        print(f"| {row['measure']} | " + " | ".join(str(c) for c in cells) + " |", flush=True)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "ui.json").write_text(
        json.dumps({"seconds": seconds, "ticks": ticks, "rows": rows}, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
