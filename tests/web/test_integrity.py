"""Integrity under faults: write-ahead commands, store failures, the loop's clock and stalls,
runs kept across resets, truncation detected, one writer per store."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any, Callable

import pytest
import sqlalchemy as sa
from polling import wait_for
from scratch import scratch_dir
from sqlalchemy.exc import OperationalError

from miniature_office.service import runtime as runtime_module
from miniature_office.service.config import load_config
from miniature_office.service.runtime import SPEED_MIN, SimulationRuntime
from miniature_office.store import Store, StoreError
from miniature_office.web.app import create_app, get_runtime, office, start_app

from .conftest import ADMIN_TOKEN, TokenClient, build_app

DIRECTIVE = {"title": "Ship it", "floor": "python"}


def _store_error(message: str) -> OperationalError:
    return OperationalError("INSERT ...", {}, Exception(message))


def _failing(message: str) -> Callable[..., None]:
    def fail(*_: Any, **__: Any) -> None:
        raise _store_error(message)

    return fail


_wait = wait_for


@pytest.fixture
def looping() -> Any:
    """A served app (threading mode) whose loop ticks at 50/s, stopped afterwards."""
    apps = []

    def make(**overrides: Any) -> Any:
        settings = dict(async_mode="threading", tick_rate=50, tick_loop=True,
                        data_dir=scratch_dir(), bootstrap_token=ADMIN_TOKEN,
                        dev_token=False)  # fmt: skip
        settings.update(overrides)
        app = create_app(load_config({}, **settings))
        start_app(app)
        app.test_client_class = TokenClient
        apps.append(app)
        return app

    yield make
    for app in apps:
        get_runtime(app).stop_loop()


# ---- write-ahead: a command exists only once it is stored -----------------------------------


@pytest.mark.parametrize(
    ("message", "status", "code"),
    [
        ("database or disk is full", 507, "insufficient_storage"),
        ("attempt to write a readonly database", 503, "store_unavailable"),
    ],
)
def test_a_command_the_store_refuses_leaves_no_trace_and_says_why(
    client, runtime, monkeypatch, message, status, code
):
    store = runtime.persistence.store
    before = (len(store.commands_log()), runtime.engine.next_seq, len(runtime.engine.pending))
    monkeypatch.setattr(store, "append_command", _failing(message))
    answer = client.post("/api/directives", json=DIRECTIVE)
    assert answer.status_code == status
    assert answer.get_json()["error"]["code"] == code
    assert int(answer.headers["Retry-After"]) > 0
    monkeypatch.undo()
    after = (len(store.commands_log()), runtime.engine.next_seq, len(runtime.engine.pending))
    assert after == before
    assert not any(d.title == "Ship it" for d in runtime.engine.world.board.directives.values())
    retried = client.post("/api/directives", json=DIRECTIVE)
    assert retried.status_code == 200 and retried.get_json()["command"]["seq"] == before[1]
    assert [c["seq"] for c in store.commands_log()][-1] == before[1]


def test_a_refused_reset_keeps_the_world_and_the_run(client, runtime, monkeypatch):
    client.post("/api/world/step", json={"count": 3})
    engine = runtime.engine
    monkeypatch.setattr(runtime.persistence.store, "start_run", _failing("disk is full"))
    answer = client.post("/api/world/reset", json={})
    assert answer.status_code == 507 and answer.headers["Retry-After"]
    assert runtime.engine is engine and runtime.engine.tick == 3


# ---- the loop survives the store, and its clock cannot be frozen ----------------------------


def test_the_loop_waits_out_an_unwritable_store_and_resumes_by_itself(looping, monkeypatch):
    app = looping()
    runtime = get_runtime(app)
    client = app.test_client()
    _wait(lambda: runtime.engine.tick >= 3)
    store = runtime.persistence.store
    monkeypatch.setattr(store, "record", _failing("disk I/O error"))
    _wait(lambda: client.get("/health").get_json()["engine"]["state"] == "store_unavailable")
    body = client.get("/health")
    assert body.status_code == 503 and body.get_json()["status"] == "unhealthy"
    assert body.get_json()["engine"]["reason"] and body.get_json()["engine"]["advice"]
    assert client.get("/health/ready").status_code == 503
    assert client.get("/health/live").status_code == 200
    stuck = runtime.engine.tick
    time.sleep(0.3)
    assert runtime.engine.tick == stuck, "ticks went on while nothing could be stored"
    assert client.get("/api/world/state").status_code == 200  # reads keep working
    monkeypatch.undo()
    _wait(lambda: runtime.engine.tick > stuck + 3)
    assert client.get("/health").get_json()["engine"]["state"] == "running"
    assert client.get("/api/audit/verify").get_json()["valid"]


def test_a_tiny_speed_is_refused_and_never_freezes_the_clock(looping):
    app = looping()
    runtime = get_runtime(app)
    client = app.test_client()
    for bad in (1e-9, 0, -1, True, "1", 101):
        assert client.post("/api/world/speed", json={"speed": bad}).status_code == 422, bad
    # A stored command from elsewhere (an old client, the CLI) may still carry one: the loop
    # clamps it to SPEED_MIN and keeps re-reading the speed.
    with runtime._lock:  # a state no command can make, so the test reaches in
        runtime.engine.world.speed = 1e-9
    start = runtime.engine.tick
    clamped_interval = 1.0 / (50 * SPEED_MIN)
    wait_for(
        lambda: runtime.engine.tick >= start + 1, 2.5 * clamped_interval, "the clamped clock ticks"
    )
    with runtime._lock:
        runtime.engine.world.speed = 1.0
    ticked = runtime.engine.tick
    # Five ticks at 50/s take 0.1 s; at the clamped speed they would take 5 x 0.2 s = 1 s, so a
    # deadline of 0.6 s tells the two apart with room for a loaded host.
    wait_for(lambda: runtime.engine.tick >= ticked + 5, 0.6, "a new speed takes effect at once")


def test_the_loop_never_sleeps_longer_than_a_nap():
    naps: list[float] = []
    runtime = SimulationRuntime(get_runtime(build_app()).scenario, 1,
                                tick_rate=0.01)  # fmt: skip

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) > 20:
            runtime._stop.set()

    runtime._loop(sleep)  # runs in this thread until 20 naps were taken
    assert naps and max(naps) <= runtime_module.MAX_NAP


def test_pause_and_resume_take_effect_within_a_tick_interval(looping):
    app = looping(tick_rate=5)
    client = app.test_client()
    runtime = get_runtime(app)
    _wait(lambda: runtime.engine.tick >= 1)
    assert client.post("/api/world/stop", json={}).status_code in (200, 202)
    _wait(lambda: not runtime.engine.world.running, timeout=0.5)
    assert client.post("/api/world/start", json={}).status_code == 200
    was = runtime.engine.tick
    _wait(lambda: runtime.engine.tick > was, timeout=0.5)


def test_health_says_stalled_when_ticks_stop_while_running(looping, monkeypatch):
    monkeypatch.setattr(runtime_module, "STALL_FLOOR", 0.2)
    app = looping(tick_rate=20)
    runtime = get_runtime(app)
    client = app.test_client()
    _wait(lambda: runtime.engine.tick >= 2)
    blocked = threading.Event()
    real_step = runtime.step

    def stuck_step(**kwargs: Any) -> Any:
        blocked.wait(5)
        return real_step(**kwargs)

    monkeypatch.setattr(runtime, "step", stuck_step)
    _wait(lambda: client.get("/health").get_json()["engine"]["state"] == "stalled", timeout=3)
    health = client.get("/health")
    assert health.status_code == 503 and "no tick for" in health.get_json()["engine"]["reason"]
    assert client.get("/health/ready").status_code == 503
    blocked.set()
    _wait(lambda: client.get("/health").get_json()["engine"]["state"] == "running")


def test_step_while_running_queues_an_extra_tick_for_old_clients(looping):
    app = looping(tick_rate=1)
    client = app.test_client()
    runtime = get_runtime(app)
    _wait(lambda: runtime.engine.tick >= 1)
    before = runtime.engine.tick
    answer = client.post("/api/world/step", json={})
    body = answer.get_json()
    assert answer.status_code == 200 and body["success"] is True and body["queued"] is True
    assert body["tick_count"] == body["time"] == before + 1
    _wait(lambda: runtime.engine.tick >= before + 1, timeout=0.5)  # not a whole second later


def test_a_reset_restarts_a_dead_loop(looping):
    app = looping()
    runtime = get_runtime(app)
    runtime.stop_loop_only()
    runtime.loop_state = "dead"
    assert app.test_client().post("/api/world/reset", json={}).status_code == 200
    _wait(lambda: runtime.loop_state == "running" and runtime.engine.tick >= 2)


# ---- runs are kept; truncation is detected --------------------------------------------------


def test_a_reset_starts_a_new_run_and_keeps_the_old_one_whole(client, runtime):
    client.post("/api/directives", json=DIRECTIVE)
    client.post("/api/world/step", json={"count": 20})
    old = client.get("/api/audit/verify").get_json()
    assert old["valid"] and old["run"] == 1
    assert client.post("/api/world/reset", json={}).get_json()["run"] == 2
    runs = client.get("/api/runs").get_json()["runs"]
    assert [(r["id"], r["current"]) for r in runs] == [(1, False), (2, True)]
    assert (runs[0]["head"], runs[0]["count"]) == (old["head"], old["checked"])
    assert runs[1]["previous_run"] == 1 and runs[1]["previous_head"] == old["head"]
    kept = client.get("/api/runs/1/verify").get_json()
    assert kept["valid"] and (kept["head"], kept["checked"]) == (old["head"], old["checked"])
    exported = client.get("/api/runs/1/export").get_json()
    assert exported["head"] == old["head"] and len(exported["audit"]) == old["checked"]
    assert [c["payload"]["title"] for c in exported["commands"]] == ["Ship it"]
    link = [e for e in runtime.engine.world.audit if e.kind == "run.started"]
    assert len(link) == 1 and link[0].data["previous_head"] == old["head"]
    assert link[0].data["previous_run"] == 1
    assert client.get("/api/audit/verify").get_json()["valid"]
    assert client.get("/api/runs/9/verify").status_code == 404


def test_a_reset_run_is_recovered_with_its_link(tmp_path):
    first = build_app(data_dir=tmp_path).test_client()
    first.post("/api/world/step", json={"count": 5})
    first.post("/api/world/reset", json={})
    first.post("/api/world/step", json={"count": 5})
    head = first.get("/api/audit/verify").get_json()["head"]
    again = build_app(data_dir=tmp_path).test_client()
    assert again.get("/api/audit/verify").get_json()["head"] == head
    assert again.get("/api/world/state").get_json()["tick"] == 5


def test_removing_the_last_events_is_detected(client, runtime):
    client.post("/api/world/step", json={"count": 10})
    good = client.get("/api/audit/verify").get_json()
    store = runtime.persistence.store
    with store.db.begin() as conn:
        last = conn.execute(sa.text("SELECT max(seq) FROM audit_events")).scalar()
        conn.execute(sa.text("DELETE FROM audit_events WHERE seq > :s"), {"s": last - 3})
    assert not Store(store.url).verify().valid
    assert not Store(store.url).verify(expect_head=good["head"]).valid
    verdict = client.get("/api/audit/verify").get_json()
    assert not verdict["valid"] and "events stored" in verdict["reason"]


def test_verify_audit_cli_takes_an_expected_head(client, runtime):
    from miniature_office.cli import main

    client.post("/api/world/step", json={"count": 5})
    head = client.get("/api/audit/verify").get_json()["head"]
    url = runtime.persistence.store.url
    assert main(["verify-audit", "--database", url, "--expect-head", head]) == 0
    assert main(["verify-audit", "--database", url, "--expect-head", "0" * 64]) == 1
    client.post("/api/world/reset", json={})
    assert main(["verify-audit", "--database", url, "--run", "1", "--expect-head", head]) == 0


# ---- one writer per store -------------------------------------------------------------------

HOLDER = """
import sys, time
from miniature_office.store import Store
from miniature_office.store.writer import WriterLock
lock = WriterLock(Store(sys.argv[1]))
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_second_engine_on_one_store_refuses_to_start_naming_the_holder(
    backend, tmp_path, request
):
    url = (
        f"sqlite:///{tmp_path / 'miniature_office.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    Store(url).close()  # the schema exists before two processes race for it
    settings = dict(async_mode="threading", tick_loop=True, database_url=url, data_dir=tmp_path,
                    dev_token=False)  # fmt: skip
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        refused = create_app(load_config({}, **settings))  # building claims nothing
        with pytest.raises(StoreError, match=rf"another engine .*pid {holder.pid} "):
            start_app(refused)
        assert Store(url).run_info() is None  # refused before it read or wrote the run
    finally:
        holder.kill()
        holder.wait()
    app = create_app(load_config({}, **settings))  # the holder is gone: its lock went with it
    start_app(app)
    try:
        assert Store(url).run_info() is not None
    finally:
        get_runtime(app).stop_loop()


def test_building_an_app_claims_nothing_and_starting_it_claims_the_store(tmp_path):
    """create_app only builds (flaskr's rule): the writer lock, the stored run and the threads
    are start_app's, so two apps may be built on one store but only one may start."""
    settings = dict(async_mode="threading", tick_loop=True, tick_rate=50, data_dir=tmp_path,
                    dev_token=False)  # fmt: skip
    first, second = (create_app(load_config({}, **settings)) for _ in range(2))
    runtime = get_runtime(first)
    assert runtime.persistence is None and runtime.loop_state == "idle"
    assert Store(office(first).store.url).run_info() is None  # nothing read or written yet
    start_app(first)
    try:
        assert runtime.persistence is not None
        wait_for(lambda: runtime.read(lambda e: e.tick) >= 1, 5.0, "the started app ticks")
        with pytest.raises(StoreError, match="another engine"):
            start_app(second)
        assert get_runtime(second).loop_state == "idle"
    finally:
        runtime.stop_loop()


def test_many_queued_extra_ticks_neither_starve_nor_push_back_the_schedule(looping):
    """Found by schemathesis: each extra tick moved the schedule one interval later, so 5,000
    queued steps at speed 0.1 silenced the clock for hours (health: stalled)."""
    app = looping(tick_rate=20)
    client, runtime = app.test_client(), get_runtime(app)
    _wait(lambda: runtime.engine.tick >= 1)
    client.post("/api/world/speed", json={"speed": 0.1})  # one tick every 0.5 s
    for _ in range(60):
        client.post("/api/world/step", json={"count": 100})
    assert runtime._extra_ticks <= runtime_module.MAX_EXTRA_TICKS
    _wait(lambda: runtime._extra_ticks == 0, timeout=10)
    after_extras = runtime.engine.tick
    _wait(lambda: runtime.engine.tick > after_extras, timeout=1.5)  # the schedule goes on
