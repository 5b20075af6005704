"""Imported histories in the database: they survive a restart, whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from miniature_office.service.history import HistoryStore
from miniature_office.sim.history.items import HistoryError
from miniature_office.store import Store
from miniature_office.store.histories import HistoryTable

FLASK = (Path(__file__).parents[1] / "history" / "data" / "flask.csv").read_text()
SMALL = "id,created,done\n1,2024-01-01,2024-01-02\n2,2024-01-03,\n"


def _histories(url: str) -> tuple[Store, HistoryStore]:
    store = Store(url)
    return store, HistoryStore(table=HistoryTable(store.db))


def test_an_import_survives_a_restart(store_url) -> None:
    store, first = _histories(store_url)
    kept = first.import_text("flask", FLASK)
    first.set_fit("flask", kept, {"verdict": "poor fit: example", "good": False})
    store.close()
    store, again = _histories(store_url)  # a new process: nothing in memory
    loaded = again.get("flask")
    assert loaded is not None
    assert loaded.history == kept.history  # every item, column name and count
    assert loaded.description == kept.description
    assert loaded.fit == {"verdict": "poor fit: example", "good": False}
    assert again.names() == ["flask"]
    store.close()


def test_a_bad_file_or_a_failed_write_leaves_the_earlier_import(store_url, monkeypatch) -> None:
    store, histories = _histories(store_url)
    histories.import_text("team", SMALL)
    with pytest.raises(HistoryError):
        histories.import_text("team", "id,created,done\n1,never,2024-01-02\n")
    table = histories.table
    assert table is not None

    # the write fails after the old row was deleted, inside the same transaction
    monkeypatch.setattr(
        sa.engine.Connection, "execute", _fail_on_insert(sa.engine.Connection.execute)
    )
    with pytest.raises(sa.exc.OperationalError):
        histories.import_text("team", FLASK)
    monkeypatch.undo()
    assert len(histories.get("team").history.items) == 2  # memory kept the earlier one too
    store.close()
    store, again = _histories(store_url)
    loaded = again.get("team")
    assert loaded is not None and len(loaded.history.items) == 2
    assert loaded.description["open"] == 1
    store.close()


def _fail_on_insert(execute):
    def run(conn, statement, *args, **kwargs):
        if getattr(statement, "is_insert", False):
            raise sa.exc.OperationalError("INSERT", {}, Exception("disk full"))
        return execute(conn, statement, *args, **kwargs)

    return run


def test_the_oldest_imports_beyond_the_limit_are_dropped(store_url) -> None:
    clock = iter(range(100))
    store = Store(store_url)
    histories = HistoryStore(limit=2, table=HistoryTable(store.db, clock=lambda: next(clock)))
    for name in ("a", "b", "c"):
        histories.import_text(name, SMALL)
    assert histories.names() == ["b", "c"] and histories.get("a") is None
    store.close()


def test_an_import_by_another_process_replaces_the_copy_in_memory(store_url) -> None:
    store, one = _histories(store_url)
    other = HistoryStore(table=HistoryTable(store.db))
    one.import_text("team", SMALL)
    assert one.get("team") is not None
    other.import_text("team", FLASK)
    seen = one.get("team")
    assert seen is not None and len(seen.history.items) == 643
    store.close()
