"""The packaged app starts the way the container starts it, without Docker.

The test follows the Dockerfile: it stages the files the Dockerfile copies, runs the vendor
stage's commands, builds the wheel, installs it into a fresh virtualenv, and starts the image's
CMD with the image's ENV as an unprivileged user. Only what cannot be the same outside a
container is changed: the virtualenv path in PATH, the data directory, and the address (a free
port on 127.0.0.1 instead of 0.0.0.0:8000). It then probes the HEALTHCHECK command until the app
is healthy, loads the UI and every vendor file, and stops the server by its PID.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from ._support import REPO, explain, run

pytestmark = pytest.mark.slow

STARTUP_TIMEOUT = 90


def _stage_build_context(stages, context: Path) -> None:
    """Copy what the Dockerfile's COPY instructions take from the build context."""
    for stage in stages:
        for copy in stage.all("COPY"):
            if copy.startswith("--from="):
                continue
            *sources, _destination = copy.split()
            for source in sources:
                source_path = REPO / source.rstrip("/")
                assert source_path.exists(), f"the Dockerfile copies {source}, which is missing"
                target = context / source.rstrip("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                if source_path.is_dir():
                    shutil.copytree(source_path, target, symlinks=True, dirs_exist_ok=True)
                else:
                    shutil.copy2(source_path, target)


def _build_wheel(stages, workdir: Path) -> tuple[Path, list[str]]:
    """The wheel, and the static/vendor files the vendor stage produced."""
    context = workdir / "context"
    _stage_build_context(stages, context)
    for command in stages[0].all("RUN"):  # the vendor stage: npm ci, copy-vendor.mjs
        result = run(["sh", "-c", command], cwd=context, timeout=600)
        assert result.returncode == 0, explain(result)
    dist = workdir / "dist"
    result = run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(context)],
        timeout=600,
    )
    assert result.returncode == 0, explain(result)
    (wheel,) = dist.glob("miniature_office-*.whl")
    vendor = sorted(p.name for p in (context / "static" / "vendor").iterdir() if p.is_file())
    return wheel, vendor


def _base_python() -> str:
    """An interpreter the unprivileged user can run (a Python under /root is out of reach)."""
    candidates = [os.path.realpath(getattr(sys, "_base_executable", sys.executable))]
    candidates += [p for p in (shutil.which("python3"), "/usr/bin/python3") if p]
    for candidate in dict.fromkeys(candidates):
        try:
            probe = run([candidate, "-c", "import ensurepip, venv"], timeout=30, **_unprivileged())
        except PermissionError:
            continue
        if probe.returncode == 0:
            return candidate
    pytest.fail(f"no Python that the unprivileged user can run among {candidates}")


def _install(wheel: Path, workdir: Path) -> Path:
    """A fresh virtualenv with the wheel, pinned by requirements.txt as in the image."""
    venv = workdir / "venv"
    result = run([_base_python(), "-m", "venv", str(venv)], timeout=120)
    assert result.returncode == 0, explain(result)
    pins = workdir / "context" / "requirements.txt"
    requirements = ["-r", str(pins)] if pins.exists() else []
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", *requirements, str(wheel)]
    result = run(pip, timeout=900)
    assert result.returncode == 0, explain(result)
    return venv


def _container_environment(runtime, venv: Path, data: Path, port: int) -> dict[str, str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(data), "LANG": "C.UTF-8"}
    for key, value in runtime.env().items():
        value = value.replace("/opt/venv/bin", str(venv / "bin"))
        value = value.replace("${PATH}", os.environ["PATH"]).replace("$PATH", os.environ["PATH"])
        env[key] = value
    assert env["MINIOFFICE_DATA_DIR"] == "/data" and env["MINIOFFICE_HOST"] == "0.0.0.0"
    env.update(
        MINIOFFICE_DATA_DIR=str(data),
        MINIOFFICE_HOST="127.0.0.1",
        MINIOFFICE_PORT=str(port),
        # Production refuses to start without it; an operator provides it the same way.
        SECRET_KEY=secrets.token_urlsafe(48),
    )
    return env


def _unprivileged() -> dict:
    """Popen arguments that drop root to `nobody`; as any other user, run as that user."""
    if os.geteuid() != 0:
        return {}
    return {"user": "nobody", "group": "nogroup", "extra_groups": []}


def _healthcheck(runtime, env) -> subprocess.CompletedProcess:
    command = runtime.last("HEALTHCHECK").partition("CMD ")[2]
    return run(json.loads(command), env=env, timeout=10)


def _get(port: int, path: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # Gunicorn's arbiter and its workers
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_packaged_app_starts_like_the_container_and_serves_the_ui(stages, runtime_stage, free_port):
    runtime = runtime_stage
    workdir = Path(tempfile.mkdtemp(prefix="minioffice-smoke-"))
    process = None
    try:
        workdir.chmod(0o755)  # the unprivileged user must reach the virtualenv
        wheel, vendor_files = _build_wheel(stages, workdir)
        assert any(name.startswith("socket.io") for name in vendor_files), vendor_files
        venv = _install(wheel, workdir)
        data = workdir / "data"
        data.mkdir(mode=0o750)
        if os.geteuid() == 0:
            shutil.chown(data, "nobody", "nogroup")
        port = free_port
        env = _container_environment(runtime, venv, data, port)
        log = (workdir / "server.log").open("wb")
        process = subprocess.Popen(
            runtime.exec_form("CMD"),
            cwd=data,  # WORKDIR /data
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **_unprivileged(),
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        health = _healthcheck(runtime, env)
        while health.returncode != 0 and time.monotonic() < deadline:
            assert process.poll() is None, (workdir / "server.log").read_text()
            time.sleep(1)
            health = _healthcheck(runtime, env)
        assert health.returncode == 0, explain(health) + (workdir / "server.log").read_text()
        # the image's wheel is built where a C compiler is (make test installs one): compiled
        status, _, body = _get(port, "/health")
        assert json.loads(body)["build"] == "compiled (mypyc)"

        status, content_type, body = _get(port, "/")
        assert status == 200 and content_type.startswith("text/html")
        for name in vendor_files:
            status, _, body = _get(port, f"/static/vendor/{name}")
            assert status == 200 and body, name
        if os.geteuid() == 0:
            assert {p.owner() for p in data.iterdir()} <= {"nobody"}
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(workdir, ignore_errors=True)
