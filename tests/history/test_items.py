"""Importing a history: column names of GitHub and Jira exports, dates, bad rows, size."""

from __future__ import annotations

import random
import time
from datetime import datetime, timezone

import pytest

from miniature_office.service.history import HistoryStore
from miniature_office.sim.history.items import HistoryError, parse_csv, parse_time


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=timezone.utc).timestamp()


def test_github_export_columns_merged_closed_and_open() -> None:
    text = (
        "number,title,created_at,merged_at,closed_at,user.login\n"
        "10,a,2024-03-01T10:00:00Z,2024-03-02T10:00:00Z,2024-03-02T10:00:00Z,ann\n"
        "11,b,2024-03-01T11:00:00Z,,2024-03-03T00:00:00Z,bob\n"  # closed unmerged: dropped
        "12,c,2024-03-04T09:30:00+02:00,,,cy\n"  # open: work in progress
    )
    history = parse_csv(text)
    assert [i.id for i in history.items] == ["10", "12"]
    assert history.dropped == 1
    assert history.items[0].lead_days == pytest.approx(1.0)
    assert history.items[1].done is None and history.items[1].start == utc(2024, 3, 4, 7, 30)
    assert history.columns == {
        "id": "number",
        "created": "created_at",
        "done": "merged_at",
        "closed": "closed_at",
        "assignee": "user.login",
    }


def test_jira_export_columns_and_dates() -> None:
    text = (
        "Summary,Issue key,Issue Type,Status,Assignee,Created,Resolved\n"
        "Fix,PROJ-1,Bug,Done,ann,12/Mar/24 3:45 PM,14/Mar/24 9:00 AM\n"
        "Add,PROJ-2,Story,In Progress,bob,13/Mar/24 10:00 AM,\n"
        "Old,PROJ-3,Story,Won't Do,bob,13/Mar/24 10:00 AM,\n"
    )
    history = parse_csv(text)
    first = history.items[0]
    assert (first.id, first.type, first.assignee) == ("PROJ-1", "Bug", "ann")
    assert first.start == utc(2024, 3, 12, 15, 45) and first.done == utc(2024, 3, 14, 9)
    assert len(history.open) == 1 and history.dropped == 1


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-03-12", (2024, 3, 12)),
        ("2024-03-12T08:00:00Z", (2024, 3, 12, 8)),
        ("2024-03-12 08:00:00", (2024, 3, 12, 8)),
        ("2024-03-12T10:00:00+02:00", (2024, 3, 12, 8)),
        ("2024/03/12 08:00", (2024, 3, 12, 8)),
        ("12/Mar/24 8:00 AM", (2024, 3, 12, 8)),
        ("03/12/2024", (2024, 3, 12)),
        ("12.03.2024", (2024, 3, 12)),
    ],
)
def test_dates_in_common_formats(text: str, expected: tuple[int, ...]) -> None:
    assert parse_time(text) == utc(*expected)


def test_bad_rows_are_reported_by_line_and_nothing_is_kept() -> None:
    store = HistoryStore()
    store.import_text("team", "id,created,done\n1,2024-01-01,2024-01-02\n")
    bad = (
        "id,created,done\n"
        "1,2024-01-01,2024-01-02\n"
        ",2024-01-01,2024-01-02\n"
        "3,yesterday,2024-01-02\n"
        "4,2024-01-05,2024-01-01\n"
        "1,2024-01-01,2024-01-02\n"
    )
    with pytest.raises(HistoryError) as caught:
        store.import_text("team", bad)
    assert [line for line, _ in caught.value.problems] == [3, 4, 5, 6]
    assert "duplicate id '1' (first on line 2)" in caught.value.problems[3][1]
    kept = store.get("team")
    assert kept is not None and len(kept.history.items) == 1  # the earlier import stands


def test_missing_columns_name_what_is_needed() -> None:
    with pytest.raises(HistoryError) as caught:
        parse_csv("title,owner\nx,y\n")
    ((line, problem),) = caught.value.problems
    assert line == 1 and "an id column" in problem and "a start column" in problem


def _iso(t: float) -> str:
    return f"{datetime.fromtimestamp(t, tz=timezone.utc):%Y-%m-%dT%H:%M:%SZ}"


def test_a_hundred_thousand_items_import_in_seconds() -> None:
    rng = random.Random(7)
    base = utc(2015, 1, 1)
    rows = ["id,created_at,merged_at"]
    for k in range(100_000):
        start = base + rng.random() * 3e8
        done = start + rng.expovariate(1e-5)
        rows.append(f"{k},{_iso(start)},{_iso(done)}")
    text = "\n".join(rows)
    began = time.perf_counter()
    history = parse_csv(text)
    elapsed = time.perf_counter() - began
    assert len(history.items) == 100_000
    assert elapsed < 15, f"{elapsed:.1f} s (a loaded 2-core host takes ~2 s)"


def test_broken_csv_is_a_problem_with_its_line_not_a_crash() -> None:
    with pytest.raises(HistoryError) as caught:
        parse_csv('id,created,done\n1,"2024-01-01\n')
    assert caught.value.problems == [(2, "not CSV: unexpected end of data")]
    with pytest.raises(HistoryError):
        parse_csv("\r\x89\x0b\\")
    crlf = parse_csv("id,created,done\r\n1,2024-01-01,2024-01-02\r\n")
    assert crlf.items[0].lead_days == 1.0
