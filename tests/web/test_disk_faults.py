"""Real filesystem faults under the store: a full disk (a 1 MiB tmpfs) and a directory that
turns read-only (remounted). Needs root for mount(8), as in CI and the development container."""

from __future__ import annotations

import errno
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from miniature_office.store import Store
from miniature_office.web.app import get_runtime

from .conftest import build_app
from .test_integrity import DIRECTIVE, _wait


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, unmounted afterwards."""
    where = tmp_path / "disk"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        where.rmdir()


def _fill(disk: Path) -> Path:
    """Write a file until the disk is full; return it (delete it to free the space)."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def _until_refused(client: Any, status: int, attempts: int = 400) -> Any:
    """Post directives until one is refused (free pages and WAL space fill up first)."""
    for _ in range(attempts):
        answer = client.post("/api/directives", json=DIRECTIVE)
        if answer.status_code == status:
            return answer
        assert answer.status_code == 200, answer.get_json()
    raise AssertionError(f"never answered {status}")


def _counts(runtime: Any) -> Callable[[], tuple[int, int]]:
    store = runtime.persistence.store
    return lambda: (len(store.commands_log()), runtime.engine.next_seq)


def test_a_full_disk_refuses_commands_with_507_and_keeps_nothing(small_disk):
    app = build_app(data_dir=small_disk)
    client, runtime = app.test_client(), get_runtime(app)
    client.post("/api/world/step", json={"count": 3})
    filler = _fill(small_disk)
    before = _counts(runtime)()
    refused = _until_refused(client, 507)
    assert refused.get_json()["error"]["code"] == "insufficient_storage"
    assert refused.headers["Retry-After"]
    after = _counts(runtime)()
    assert after[0] == after[1] - 1 >= before[0]  # every stored command acknowledged, no more
    assert client.get("/api/world/state").status_code == 200  # reads still work
    filler.unlink()
    answer = client.post("/api/directives", json=DIRECTIVE)
    assert answer.status_code == 200 and answer.get_json()["command"]["seq"] == after[1]
    assert Store(runtime.persistence.store.url).verify().valid


def test_the_loop_rides_out_a_full_disk_and_resumes_when_space_returns(small_disk):
    app = build_app(data_dir=small_disk, tick_loop=True, autostart=True, tick_rate=100)
    runtime = get_runtime(app)
    client = app.test_client()
    try:
        _wait(lambda: runtime.engine.tick >= 5)
        filler = _fill(small_disk)
        _wait(lambda: runtime.store_problem is not None, timeout=20)
        health = client.get("/health").get_json()
        assert health["engine"]["state"] == "store_unavailable"
        stuck = runtime.engine.tick
        filler.unlink()
        _wait(lambda: runtime.engine.tick > stuck + 5, timeout=10)
        assert client.get("/health").get_json()["engine"]["state"] == "running"
    finally:
        runtime.stop_loop()
    verdict = client.get("/api/audit/verify").get_json()
    assert verdict["valid"], verdict


def test_a_read_only_directory_refuses_commands_with_503_and_recovers(small_disk):
    app = build_app(data_dir=small_disk)
    client, runtime = app.test_client(), get_runtime(app)
    client.post("/api/world/step", json={"count": 3})
    before = _counts(runtime)()
    # A remount read-only needs every file on it closed for writing: drop the pooled
    # connections (the store opens new ones, which then find the directory read-only).
    runtime.persistence.store.db.dispose()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        refused = client.post("/api/directives", json=DIRECTIVE)
        assert refused.status_code == 503, refused.get_json()
        assert refused.get_json()["error"]["code"] == "store_unavailable"
        assert int(refused.headers["Retry-After"]) > 0
        assert client.get("/api/floors").status_code == 200
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert _counts(runtime)() == before
    time.sleep(0.05)
    answer = client.post("/api/directives", json=DIRECTIVE)
    assert answer.status_code == 200 and answer.get_json()["command"]["seq"] == before[1]
