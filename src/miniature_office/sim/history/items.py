"""Parse a CSV of work items (GitHub pull-request or Jira exports, or plain columns).

Every row is checked before anything is returned: a bad row is reported with its line number
(the header is line 1) and the whole import is refused, so nothing is half-imported.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from mypy_extensions import mypyc_attr

from ..frozen import frozen_state, restore_frozen

#: Rows an import accepts at most (a 100,000-item history takes about a second).
MAX_ITEMS = 200_000
#: Problems reported at most (the rest are counted).
MAX_PROBLEMS = 50
DAY = 86400.0

# Column names are compared lower-cased with spaces, dashes and dots as underscores.
ID_COLUMNS = ("id", "key", "issue_key", "number", "issue_id", "pr", "pull_request", "item")
CREATED_COLUMNS = ("created", "created_at", "created_date", "opened", "opened_at", "submitted")
STARTED_COLUMNS = (
    "started",
    "started_at",
    "start",
    "start_date",
    "in_progress",
    "first_commit_at",
    "first_commit",
)
DONE_COLUMNS = (
    "done",
    "done_at",
    "merged_at",
    "merged",
    "resolved",
    "resolution_date",
    "resolved_at",
    "completed",
    "completed_at",
    "finished",
    "finished_at",
)
CLOSED_COLUMNS = ("closed_at", "closed")
TYPE_COLUMNS = ("type", "issue_type", "kind", "work_type")
ASSIGNEE_COLUMNS = ("assignee", "assignee_login", "user_login", "author", "owner")
STATUS_COLUMNS = ("status", "state")
#: Statuses of items that ended without being done (dropped, not work in progress).
ABANDONED = frozenset({"cancelled", "canceled", "won't do", "wont do", "rejected", "duplicate"})

_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%d/%b/%y %I:%M %p",  # Jira: 12/Mar/24 3:45 PM
    "%d/%b/%Y %I:%M %p",
    "%d/%b/%y %H:%M",
    "%d/%b/%y",
    "%d %b %Y %H:%M",
    "%d %b %Y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)


class HistoryError(ValueError):
    """The file cannot be imported: ``problems`` lists (line, message); line 1 is the header."""

    def __init__(self, problems: list[tuple[int, str]], more: int = 0) -> None:
        self.problems = problems
        self.more = more
        first = "; ".join(f"line {line}: {text}" for line, text in problems[:3])
        extra = len(problems) - 3 + more
        super().__init__(first + (f" (and {extra} more)" if extra > 0 else ""))

    def to_dict(self) -> dict[str, Any]:
        return {
            "problems": [{"line": line, "problem": text} for line, text in self.problems],
            "more": self.more,
        }


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(frozen=True, slots=True)
class Item:
    """One work item; times are seconds since the epoch (UTC), ``done`` None while open."""

    id: str
    start: float
    done: float | None
    type: str = ""
    assignee: str = ""

    @property
    def lead_days(self) -> float | None:
        return None if self.done is None else (self.done - self.start) / DAY

    def __getstate__(self) -> dict[str, Any]:
        return frozen_state(self)  # sim/frozen.py: the same pickle in both builds

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_frozen(self, state)


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(frozen=True, slots=True)
class History:
    """Imported items, sorted by start; ``columns`` says which column fed which field."""

    items: tuple[Item, ...]
    columns: dict[str, str]
    dropped: int = 0  # closed without being done (abandoned): not work, not WIP

    @property
    def done(self) -> list[Item]:
        return [i for i in self.items if i.done is not None]

    @property
    def open(self) -> list[Item]:
        return [i for i in self.items if i.done is None]

    def __getstate__(self) -> dict[str, Any]:
        return frozen_state(self)  # sim/frozen.py: the same pickle in both builds

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_frozen(self, state)


def _normal(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").replace(".", " ").split())


def _pick(header: list[str], names: Iterable[str]) -> int | None:
    normal = [_normal(h) for h in header]
    for name in names:
        if name in normal:
            return normal.index(name)
    return None


def parse_time(text: str) -> float:
    """Seconds since the epoch for ISO 8601 (``Z`` or offsets; naive means UTC) or a common
    date format (the Jira export's ``12/Mar/24 3:45 PM``, ``2024/03/12``, ``03/12/2024``...)."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = _strptime(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _strptime(value: str) -> datetime:
    for fmt in _FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise ValueError(f"not a date: {value[:40]!r}")


def parse_csv(text: str, *, max_items: int = MAX_ITEMS) -> History:
    """Parse a CSV export into a :class:`History`, or raise :class:`HistoryError`.

    Needs an id column and a start (created or started); done is merged_at / resolved / done.
    A row with a closed date but no done date (a pull request closed unmerged) or an abandoned
    status is dropped and counted; a row without an end is work in progress.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=True)
    try:
        return _parse(reader, max_items)
    except csv.Error as exc:  # broken quoting, a NUL byte: not CSV from here on
        raise HistoryError([(reader.line_num or 1, f"not CSV: {exc}")]) from None


def _parse(reader: Any, max_items: int) -> History:
    header = next(reader, None)
    if not header:
        raise HistoryError([(1, "the file is empty: a header row is needed")])
    cols = _columns(header)
    problems: list[tuple[int, str]] = []
    more = 0
    items: list[Item] = []
    seen: dict[str, int] = {}
    dropped = 0
    row_of = _row_reader(cols)
    for number, row in enumerate(reader, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        try:
            item = row_of(row)
        except ValueError as exc:
            if len(problems) < MAX_PROBLEMS:
                problems.append((number, str(exc)))
            else:
                more += 1
            continue
        if item is None:
            dropped += 1
            continue
        if item.id in seen:
            problems.append((number, f"duplicate id {item.id!r} (first on line {seen[item.id]})"))
            continue
        seen[item.id] = number
        items.append(item)
        if len(items) > max_items:
            raise HistoryError([(number, f"more than {max_items} items: split the file")])
    if problems or more:
        raise HistoryError(problems, more)
    if not items:
        raise HistoryError([(1, "no work items in the file")])
    items.sort(key=lambda i: (i.start, i.id))
    names = {field: header[index] for field, index in cols.items() if index is not None}
    return History(tuple(items), names, dropped)


def _columns(header: list[str]) -> dict[str, int | None]:
    cols = {
        "id": _pick(header, ID_COLUMNS),
        "created": _pick(header, CREATED_COLUMNS),
        "started": _pick(header, STARTED_COLUMNS),
        "done": _pick(header, DONE_COLUMNS),
        "closed": _pick(header, CLOSED_COLUMNS),
        "type": _pick(header, TYPE_COLUMNS),
        "assignee": _pick(header, ASSIGNEE_COLUMNS),
        "status": _pick(header, STATUS_COLUMNS),
    }
    missing = []
    if cols["id"] is None:
        missing.append("an id column (id, number, Issue key)")
    if cols["created"] is None and cols["started"] is None:
        missing.append("a start column (created, created_at, Created, started)")
    if cols["done"] is None and cols["closed"] is None:
        missing.append("an end column (done, merged_at, Resolved, closed_at)")
    if missing:
        raise HistoryError([(1, "missing " + " and ".join(missing))])
    if cols["done"] is None:  # closed is the end when there is nothing better
        cols["done"], cols["closed"] = cols["closed"], None
    return cols


def _row_reader(cols: dict[str, int | None]) -> Callable[[list[str]], Item | None]:
    """A function turning one row into an Item (None when it is to be dropped)."""

    def cell(row: list[str], field: str) -> str:
        index = cols[field]
        return row[index].strip() if index is not None and index < len(row) else ""

    def time_of(row: list[str], field: str) -> float | None:
        text = cell(row, field)
        if not text:
            return None
        try:
            return parse_time(text)
        except ValueError:
            raise ValueError(f"{field}: not a date: {text[:40]!r}") from None

    def read(row: list[str]) -> Item | None:
        ident = cell(row, "id")
        if not ident:
            raise ValueError("no id")
        created = time_of(row, "created")
        started = time_of(row, "started")
        start = created if created is not None else started
        if start is None:
            raise ValueError("no created or started date")
        done = time_of(row, "done")
        if done is None and (cell(row, "closed") or cell(row, "status").lower() in ABANDONED):
            return None
        if done is not None and done < start:
            raise ValueError("done is before the start")
        return Item(ident, start, done, cell(row, "type"), cell(row, "assignee"))

    return read
