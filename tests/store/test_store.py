"""Durable commands, the stored chain, snapshots and recovery, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from miniature_office.runio import read_scenario
from miniature_office.sim.engine import Engine
from miniature_office.store import SCHEMA_VERSION, Store, StoreError
from miniature_office.store.persistence import Persistence, recover

pytestmark = pytest.mark.services


def _run(store_url: str, ticks: int, **persistence) -> tuple[Store, Persistence, Engine]:
    store = Store(store_url)
    keeper = Persistence(store, **persistence)
    engine = keeper.open(read_scenario(None), 42, audit_window=2000)
    for _ in range(ticks):
        keeper.tick(engine.step())
    return store, keeper, engine


def test_a_new_store_starts_a_run_with_its_genesis_events(store_url) -> None:
    store, _, engine = _run(store_url, 0)
    info = store.run_info()
    assert info["seed"] == 42 and info["tick"] == 0 and info["head"] == engine.head_hash
    assert store.verify().valid and store.verify().checked == engine.world.audit.count


def test_the_stored_chain_matches_the_engine_after_many_ticks(store_url) -> None:
    store, keeper, engine = _run(store_url, 300, flush_ticks=40)
    keeper.flush()
    verdict = store.verify()
    assert verdict.valid and verdict.head == engine.head_hash
    assert verdict.checked == engine.world.audit.count


def test_a_command_is_durable_before_it_is_applied(store_url) -> None:
    store, keeper, engine = _run(store_url, 5)
    command = engine.submit("create_directive", {"title": "Durable", "floor": "python"})
    keeper.command_accepted(command)
    pending = Store(store_url).commands_log(pending=True)
    assert [c["seq"] for c in pending] == [command.seq]
    assert pending[0]["payload"]["title"] == "Durable"


def test_restart_continues_at_the_same_tick_with_the_same_head(store_url) -> None:
    store, keeper, engine = _run(store_url, 150, snapshot_every=64, flush_ticks=10)
    command = engine.submit("hire_agent", {"floor": "python", "role": "verifier"})
    keeper.command_accepted(command)
    for _ in range(30):
        keeper.tick(engine.step())
    keeper.flush()
    store.close()
    again = recover(Store(store_url), audit_window=2000)
    assert again.tick == engine.tick and again.head_hash == engine.head_hash
    assert [c.seq for c in again.commands] == [c.seq for c in engine.commands]
    for _ in range(20):  # and it goes on exactly as the original would
        assert again.step().flow.audit_head == engine.step().flow.audit_head


def test_acknowledged_but_unapplied_commands_are_applied_once_after_restart(store_url) -> None:
    store, keeper, engine = _run(store_url, 20)
    keeper.flush()
    command = engine.submit("create_directive", {"title": "Once", "floor": "javascript"})
    keeper.command_accepted(command)  # the process dies before the next tick
    again = Persistence(Store(store_url)).open(read_scenario(None), 42, audit_window=2000)
    assert [c.seq for c in again.pending] == [command.seq]
    again.step()
    titles = [d.title for d in again.world.board.directives.values()]
    assert titles.count("Once") == 1


def test_unflushed_ticks_are_recomputed_on_recovery(store_url) -> None:
    store, keeper, engine = _run(store_url, 60, flush_ticks=1000, flush_seconds=1e9)
    keeper.flush()
    for _ in range(25):
        engine.step()  # computed, never written: a crash here loses nothing that was promised
    again = recover(Store(store_url), audit_window=2000)
    assert again.tick == 60
    for _ in range(25):
        again.step()
    assert again.head_hash == engine.head_hash


def test_events_page_and_filter_from_the_store(store_url) -> None:
    store, keeper, engine = _run(store_url, 120)
    keeper.flush()
    page, total = store.events(kind="task.transition", limit=10)
    assert len(page) == 10 and total > 10 and all(e["kind"] == "task.transition" for e in page)
    later, _ = store.events(kind="task.transition", after_seq=page[-1]["seq"], limit=5)
    assert later[0]["seq"] > page[-1]["seq"]
    ranged, _ = store.events(tick_from=10, tick_to=12, limit=1000)
    assert ranged and all(10 <= e["tick"] <= 12 for e in ranged)


def test_a_database_from_a_newer_version_is_refused(store_url) -> None:
    store = Store(store_url)
    with store.db.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO schema_version (version) VALUES (:v)"), {"v": SCHEMA_VERSION + 1}
        )
    store.close()
    with pytest.raises(StoreError, match="newer miniature-office"):
        Store(store_url)


def test_tampering_with_a_stored_event_is_found_by_verification(store_url) -> None:
    store, keeper, engine = _run(store_url, 40)
    keeper.flush()
    with store.db.begin() as conn:
        conn.execute(sa.text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 17"))
    verdict = store.verify()
    assert not verdict.valid and verdict.first_broken == 17


def test_altered_commands_are_detected_on_recovery(store_url) -> None:
    store, keeper, engine = _run(store_url, 10)
    command = engine.submit("create_directive", {"title": "Real", "floor": "python"})
    keeper.command_accepted(command)
    for _ in range(10):
        keeper.tick(engine.step())
    keeper.flush()
    with store.db.begin() as conn:
        conn.execute(
            sa.text("UPDATE commands SET payload = :p"),
            {
                "p": '{"title": "Forged", "floor": "python", "priority": 2, '
                '"ambiguity": 0.3, "sensitivity": 0.2, "complexity": 0.5, '
                '"depends_on_floor": null}'
            },
        )
    with pytest.raises(StoreError, match="altered"):
        recover(Store(store_url), audit_window=2000)


def test_corrupted_sqlite_file_is_reported_not_reset(tmp_path) -> None:
    path = tmp_path / "office.db"
    store, keeper, engine = _run(f"sqlite:///{path}", 30)
    keeper.flush()
    store.close()
    data = path.read_bytes()
    path.write_bytes(b"garbage!" * 8 + data[64:])
    with pytest.raises(StoreError, match="not a SQLite database"):
        Store(f"sqlite:///{path}")
    assert path.read_bytes()[:8] == b"garbage!"  # left as found


def test_truncated_sqlite_file_is_reported_not_reset(tmp_path) -> None:
    path = tmp_path / "office.db"
    store, keeper, engine = _run(f"sqlite:///{path}", 200)
    keeper.flush()
    keeper.snapshot()
    with store.db.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size // 2)
    with pytest.raises(StoreError) as error:
        Store(f"sqlite:///{path}")
    assert "damaged" in str(error.value) or "cannot open" in str(error.value)
    assert path.stat().st_size == size // 2


def test_export_then_import_into_a_fresh_store_reproduces_the_head(store_url, tmp_path) -> None:
    from miniature_office.cli import main

    store, keeper, engine = _run(store_url, 90)
    command = engine.submit("create_directive", {"title": "Shared", "floor": "python"})
    keeper.command_accepted(command)
    for _ in range(20):
        keeper.tick(engine.step())
    keeper.flush()
    out = tmp_path / "run.json"
    assert main(["export", "--out", str(out), "--database", store_url]) == 0
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert main(["import", str(out), "--database", fresh]) == 0
    imported = Store(fresh)
    assert imported.verify().head == engine.head_hash
    assert recover(imported).head_hash == engine.head_hash
    assert main(["verify-audit", "--database", fresh]) == 0
    assert main(["import", str(out), "--database", fresh]) == 2  # refuses to overwrite


def test_a_version_1_database_is_upgraded_in_place(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store, keeper, engine = _run(url, 20)
    keeper.flush()
    with store.db.begin() as conn:  # make it look like a database written by version 1
        conn.exec_driver_sql("DROP TABLE api_tokens")
        conn.exec_driver_sql("DROP TABLE security_events")
        conn.exec_driver_sql("DELETE FROM schema_version")
        conn.exec_driver_sql("INSERT INTO schema_version (version) VALUES (1)")
    store.close()
    upgraded = Store(url)
    tables = sa.inspect(upgraded.db).get_table_names()
    assert {"api_tokens", "security_events"} <= set(tables)
    with upgraded.db.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT max(version) FROM schema_version")).scalar()
            == SCHEMA_VERSION
        )
    assert recover(upgraded).head_hash == engine.head_hash


def test_time_travel_from_the_nearest_snapshot_matches_a_replay_from_the_start(store_url):
    from miniature_office.store.persistence import rebuild

    store, keeper, engine = _run(store_url, 70, snapshot_every=50, flush_ticks=5)
    command = engine.submit("create_directive", {"title": "Travel", "floor": "python"})
    keeper.command_accepted(command)
    heads = {}
    for _ in range(110):
        result = engine.step()
        keeper.tick(result)
        heads[result.tick] = result.flow.audit_head
    keeper.flush()
    log = [c.to_dict() for c in engine.commands]
    for tick in (71, 99, 100, 101, 150, 180):
        travelled = rebuild(store, tick, include_boundary=False)[0]
        assert travelled.head_hash == heads[tick]
        assert Engine.replay(engine.scenario, 42, log, tick).head_hash == heads[tick]


def _all_at_once(action, count: int = 4) -> list[BaseException]:
    """Run ``action`` in ``count`` threads released together; return what they raised."""
    import threading

    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run() -> None:
        start.wait()
        try:
            action()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def test_processes_starting_together_on_an_empty_database_all_open_it(store_url) -> None:
    assert _all_at_once(lambda: Store(store_url).close()) == []
    with Store(store_url).db.connect() as conn:
        versions = conn.execute(sa.text("SELECT version FROM schema_version")).scalars().all()
    assert versions == [SCHEMA_VERSION]


def test_workers_registering_the_same_bootstrap_token_at_once_all_succeed(store_url) -> None:
    from miniature_office.store.tokens import TokenStore

    token = "mo_abcdef012345_" + "x" * 43
    Store(store_url).close()  # the schema exists, as it does once one worker is up
    stores = [TokenStore(Store(store_url).db) for _ in range(4)]
    errors = _all_at_once(
        lambda: stores.pop().register(token, "bootstrap", "admin", actor="config")
    )
    assert errors == []


def test_a_clean_stop_needs_no_replay_so_changed_rules_cannot_break_recovery(store_url) -> None:
    from miniature_office.sim import acting
    from miniature_office.sim.agents import ActivityKind

    store, keeper, engine = _run(store_url, 90)
    keeper.checkpoint()
    head = engine.head_hash
    original = acting.WORK[ActivityKind.BUILD]
    acting.WORK[ActivityKind.BUILD] = lambda world, agent, activity: None  # "new version"
    try:
        again = recover(Store(store_url), audit_window=2000)
    finally:
        acting.WORK[ActivityKind.BUILD] = original
    assert again.tick == 90 and again.head_hash == head


def test_a_follower_store_never_starts_a_run(store_url) -> None:
    store, keeper, engine = _run(store_url, 5)
    keeper.read_only = True
    with pytest.raises(StoreError, match="follower"):
        keeper.start(Engine(read_scenario(None), 1))
    assert Store(store_url).run_info()["seed"] == 42


V2_TABLES = """
CREATE TABLE commands (seq BIGINT PRIMARY KEY, kind VARCHAR(40) NOT NULL, payload TEXT NOT NULL,
  actor VARCHAR(120) NOT NULL, submitted_tick BIGINT NOT NULL, applied_tick BIGINT,
  status VARCHAR(16) NOT NULL, reason TEXT, event_seq BIGINT, recorded_at FLOAT);
CREATE TABLE audit_events (seq BIGINT PRIMARY KEY, tick BIGINT NOT NULL, kind VARCHAR(64) NOT NULL,
  actor VARCHAR(120) NOT NULL, target VARCHAR(120) NOT NULL, data TEXT NOT NULL,
  parents TEXT NOT NULL, prev VARCHAR(64) NOT NULL, hash VARCHAR(64) NOT NULL, recorded_at FLOAT);
CREATE INDEX ix_audit_tick ON audit_events (tick);
CREATE TABLE snapshots (tick BIGINT PRIMARY KEY, event_count BIGINT NOT NULL,
  head VARCHAR(64) NOT NULL, data BLOB NOT NULL, created_at FLOAT);
"""


def test_a_version_2_database_keeps_its_run_as_run_1(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'v2.db'}"
    store, keeper, engine = _run(url, 20)
    keeper.flush()
    head, count = engine.head_hash, engine.world.audit.count
    with store.db.begin() as conn:  # rebuild the tables as version 2 laid them out
        for table in ("commands", "audit_events", "snapshots"):
            conn.exec_driver_sql(f"ALTER TABLE {table} RENAME TO {table}_old")
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS ix_audit_{table}")
        for name in ("ix_audit_tick", "ix_audit_kind", "ix_audit_target", "ix_audit_actor"):
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
        for statement in V2_TABLES.split(";"):
            if statement.strip():
                conn.exec_driver_sql(statement)
        conn.exec_driver_sql(
            "INSERT INTO audit_events SELECT seq, tick, kind, actor, target, data, parents, prev, "
            "hash, recorded_at FROM audit_events_old"
        )
        conn.exec_driver_sql(
            "INSERT INTO commands SELECT seq, kind, payload, actor, submitted_tick, applied_tick, "
            "status, reason, event_seq, recorded_at FROM commands_old"
        )
        for table in ("commands", "audit_events", "snapshots"):
            conn.exec_driver_sql(f"DROP TABLE {table}_old")
        conn.exec_driver_sql("DROP TABLE runs")
        conn.exec_driver_sql("DELETE FROM run_meta WHERE key = 'run_id'")
        conn.exec_driver_sql("DELETE FROM schema_version")
        conn.exec_driver_sql("INSERT INTO schema_version (version) VALUES (2)")
    store.close()
    upgraded = Store(url)
    assert upgraded.run_info()["run_id"] == 1
    assert [r["id"] for r in upgraded.runs()] == [1]
    verdict = upgraded.verify()
    assert verdict.valid and (verdict.head, verdict.checked) == (head, count)
    assert recover(upgraded).head_hash == head


def test_verification_while_the_tick_loop_writes_is_not_mistaken_for_truncation(
    store_url, monkeypatch
) -> None:
    """A walk of the stored chain races the tick loop's flushes: events and the recorded head
    are written together, but read apart. Both verifiers stop at the recorded end they read
    first, so events written during the walk are left for the next check."""
    store, keeper, engine = _run(store_url, 40)
    keeper.flush()
    walk = Store.iter_events

    def writes_during_the_walk(self, *args, **kwargs):
        yield from walk(self, *args, **kwargs)
        for _ in range(10):  # the walk has read the last row; the tick loop writes more
            keeper.tick(engine.step())
        keeper.flush()

    monkeypatch.setattr(Store, "iter_events", writes_during_the_walk)
    whole, incremental = store.verify(), keeper.verify(flush=False)
    monkeypatch.undo()
    assert whole.valid, whole.reason
    assert incremental.valid, incremental.reason
    assert keeper.verify(flush=False).checked == engine.world.audit.count  # caught up
