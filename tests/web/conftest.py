"""Web fixtures: apps built from a test configuration, test clients and a live server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from scratch import scratch_dir

from miniature_office.service.config import load_config
from miniature_office.service.runtime import SimulationRuntime
from miniature_office.web.app import create_app, get_runtime, start_app

VENV_BIN = Path(sys.executable).parent
#: An admin token every test app and test server registers at start (MINIOFFICE_BOOTSTRAP_TOKEN);
#: the test clients send it, so tests that are not about authentication act as an admin.
ADMIN_TOKEN = "mo_testadmin_" + "A" * 43  # nosec B105 - a test fixture, not a secret
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class TokenClient(FlaskClient):
    """A test client that sends the admin token unless told otherwise (``token=None``)."""

    def __init__(self, *args: Any, token: str | None = ADMIN_TOKEN, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if token is not None:
            self.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"


def build_app(*, start: bool = True, **overrides: Any) -> Flask:
    """An app driven by hand: no tick loop, threading mode, paused unless autostart=True.

    Started as a server starts it (``start_app``) unless ``start`` is false: the stored run is
    attached; with ``tick_loop=True`` the writer lock is taken and the loop runs (stop it with
    ``stop_loop``). An app only built has no store attached and runs nothing.
    """
    settings: dict[str, Any] = {
        "tick_loop": False,
        "async_mode": "threading",
        "autostart": False,
        "data_dir": scratch_dir("minioffice-test-"),
        "bootstrap_token": ADMIN_TOKEN,
        "dev_token": False,
    }
    settings.update(overrides)
    app = create_app(load_config({}, **settings))
    if start:
        start_app(app)
    app.test_client_class = TokenClient
    return app


@pytest.fixture
def app() -> Flask:
    return build_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runtime(app: Flask) -> SimulationRuntime:
    return get_runtime(app)


@pytest.fixture
def make_client() -> Callable[..., FlaskClient]:
    return lambda **overrides: build_app(**overrides).test_client()


@pytest.fixture
def stepped_client(client: FlaskClient) -> FlaskClient:
    """A paused world that has run 40 ticks: tasks, meetings, votes and artifacts exist."""
    response = client.post("/api/world/step", json={"count": 40})
    assert response.status_code == 200
    return client


class Server:
    """A server process on a free port, stopped by its PID."""

    def __init__(
        self, argv: list[str], env: dict[str, str], port: int, cwd: Path | None = None
    ) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = tempfile.TemporaryFile(mode="w+")  # a pipe could fill up and stall it
        self.process = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            try:
                if requests.get(self.url + "/health/ready", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not become ready")

    def stop(self) -> tuple[int, str]:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode, self.output()

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()


def server_env(port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIOFFICE_")}
    env.pop("SECRET_KEY", None)
    env.update(
        MINIOFFICE_HOST="127.0.0.1",
        MINIOFFICE_PORT=str(port),
        MINIOFFICE_TICK_RATE="10",
        MINIOFFICE_LOG_LEVEL="INFO",
        MINIOFFICE_DATA_DIR=str(scratch_dir("minioffice-server-")),
        MINIOFFICE_BOOTSTRAP_TOKEN=ADMIN_TOKEN,
        MINIOFFICE_DEV_TOKEN="false",
    )
    env.update(extra)
    return env


def gunicorn_argv() -> list[str]:
    return [
        str(VENV_BIN / "gunicorn"),
        "-c",
        "python:miniature_office.web.gunicorn_conf",
        "miniature_office.web.wsgi:app",
    ]


@pytest.fixture(scope="module")
def live_server(free_port_factory: Callable[[], int]) -> Iterator[Server]:
    """Gunicorn with the default eventlet worker at 10 ticks/s."""
    port = free_port_factory()
    server = Server(gunicorn_argv(), server_env(port), port)
    server.wait_ready()
    yield server
    server.stop()
