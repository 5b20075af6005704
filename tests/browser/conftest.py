"""Browser fixtures: the real service as a subprocess and one headless Chromium per session.

The server runs ``python -m miniature_office.web`` on a free port bound to 127.0.0.1 and is
stopped by its PID. Chromium is Debian's (/usr/bin/chromium), driven through Playwright.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("MINIOFFICE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TICK_RATE = "4"
#: axe-core (an npm dev dependency) checks each view for accessibility problems.
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: Registered by every test server at start (MINIOFFICE_BOOTSTRAP_TOKEN): the pages carry it
#: in sessionStorage and direct API calls send it, as a signed-in operator would.
API_TOKEN = "mo_browsertest_" + "B" * 43  # nosec B105 - a test fixture, not a secret


def _missing_prerequisite() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is not installed (make browser-deps)"
    if not (ROOT / "static" / "vendor" / "socket.io.esm.min.js").exists():
        return "static/vendor is missing (make vendor)"
    if not AXE.exists():
        return "node_modules/axe-core is missing (make vendor runs npm ci)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _missing_prerequisite()
    if reason is None:
        return
    if os.environ.get("MINIOFFICE_REQUIRE_BROWSER") == "1":  # make test: never skip silently
        raise pytest.UsageError(f"browser tests cannot run: {reason}")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


class Server:
    """The web service in a child process; start, stop (by PID) and start again."""

    def __init__(self, port: int, data_dir: Path, log_path: Path, **env: str) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.env = {
            **os.environ,
            "MINIOFFICE_HOST": "127.0.0.1",
            "MINIOFFICE_PORT": str(port),
            "MINIOFFICE_TICK_RATE": TICK_RATE,
            "MINIOFFICE_SEED": "7",
            "MINIOFFICE_ENV": "development",
            "MINIOFFICE_LOG_LEVEL": "WARNING",
            "MINIOFFICE_DATA_DIR": str(data_dir),
            "MINIOFFICE_BOOTSTRAP_TOKEN": API_TOKEN,
            "MINIOFFICE_DEV_TOKEN": "false",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> None:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, our own module
            [sys.executable, "-m", "miniature_office.web"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                with urllib.request.urlopen(
                    f"{self.url}/health/ready", timeout=1
                ) as r:  # noqa: S310
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not become ready in {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""


def call(server: Server, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Talk to the API directly (to set the world up, not to test the page)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - our own local server
        server.url + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"} if data else {},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


@pytest.fixture(scope="session", autouse=True)
def api_token_for_direct_calls() -> Iterator[str]:
    """urllib calls to the test servers carry the token (the UI sends its own)."""
    opener = urllib.request.build_opener()
    opener.addheaders.append(("Authorization", f"Bearer {API_TOKEN}"))
    urllib.request.install_opener(opener)
    yield API_TOKEN
    urllib.request.install_opener(None)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def server_factory(
    tmp_path_factory: pytest.TempPathFactory, free_port_factory: Callable[[], int]
) -> Iterator[Callable[[], Server]]:
    started: list[Server] = []

    def make() -> Server:
        base = tmp_path_factory.mktemp("server")
        server = Server(free_port_factory(), base / "data", base / "server.log")
        started.append(server)
        server.start()
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def server(server_factory: Callable[[], Server]) -> Server:
    """One running service per test module, ticking at 4 ticks per second."""
    return server_factory()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def wait_until(page: Any, script: str, arg: Any = None, timeout: float = 15.0) -> Any:
    """Poll a page expression until it is truthy.

    Playwright's own ``wait_for_function`` evaluates its predicate with ``eval`` inside the
    page, which the app's CSP (no unsafe-eval) forbids; ``page.evaluate`` goes through the
    DevTools protocol instead.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(script, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for: {script}")
        page.wait_for_timeout(50)


def axe_violations(page: Any, *, exclude: tuple[str, ...] = ()) -> list[str]:
    """Run axe-core on the page as it is now; one line per violation (empty when clean).

    The page's CSP forbids inline scripts, so axe is evaluated through the DevTools protocol.
    """
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text())
    results = page.evaluate(
        """async (exclude) => {
            const context = exclude.length ? { exclude: exclude.map((s) => [s]) } : document;
            const r = await axe.run(context, { resultTypes: ["violations"] });
            return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} -> ` +
                v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | "));
        }""",
        list(exclude),
    )
    return list(results)


class PageProblems:
    """Console errors, uncaught exceptions, failed requests and HTTP errors seen by a page."""

    def __init__(self) -> None:
        self.console: list[str] = []
        self.exceptions: list[str] = []
        self.failed: list[str] = []
        self.http: list[str] = []

    def attach(self, page: object) -> None:
        page.on("console", lambda m: m.type == "error" and self.console.append(m.text))
        page.on("pageerror", lambda e: self.exceptions.append(str(e)))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url}: {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and self.http.append(f"{r.status} {r.url}"))

    def all(self) -> list[str]:
        return [*self.console, *self.exceptions, *self.failed, *self.http]


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser: object, problems: PageProblems) -> Iterator[object]:
    """A fresh 1280x720 page; uncaught script exceptions fail any test."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.add_init_script(f"sessionStorage.setItem('miniatureOffice.apiToken', '{API_TOKEN}')")
    page = context.new_page()
    page.set_default_timeout(15000)
    problems.attach(page)
    yield page
    context.close()
    assert not problems.exceptions, problems.exceptions
