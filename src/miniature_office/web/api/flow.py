"""Flow metrics: the current row, the per-tick history and a CSV export."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response
from pydantic import Field

from ...sim.tasks import BOARD_ORDER
from .common import MAX_INT, Query, json_response, parse_query, read, route

bp = Blueprint("flow", __name__, url_prefix="/api/flow")

SCALAR_COLUMNS = (
    "tick",
    "day",
    "wip",
    "throughput",
    "directives_deployed",
    "deployed_total",
    "throughput_per_day",
    "lead_time_median",
    "lead_time_p85",
    "cycle_time_median",
    "blocked",
    "escaped_defects",
    "defects_found",
    "bottleneck",
)


class HistoryQuery(Query):
    since: int = Field(default=0, ge=0, le=MAX_INT, description="only rows after this tick")
    limit: int = Field(default=500, ge=1, le=5000)


def _history(since: int, limit: int | None = None) -> list[dict[str, Any]]:
    rows = read(lambda e: [r for r in e.flow.history if r["tick"] > since])
    return rows[-limit:] if limit else rows


@route(bp, "", "The latest flow row and the run's headline figures")
def current() -> Response:
    return json_response(read(lambda e: {"latest": e.flow.latest, "summary": e.summary()}))


@route(bp, "/history", "Per-tick flow rows (most recent `limit` after `since`)",
       query=HistoryQuery)  # fmt: skip
def history() -> Response:
    q = parse_query(HistoryQuery)
    rows = _history(q.since, q.limit)
    return json_response({"history": rows, "count": len(rows)})


@route(bp, "/export.csv", "The flow history as CSV (one row per tick)",
       responses={200: "CSV"}, content_type="text/csv")  # fmt: skip
def export_csv() -> Response:
    rows = _history(0)
    states = [s.value for s in BOARD_ORDER]
    roles = sorted(rows[-1]["queue"]) if rows else []
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [*SCALAR_COLUMNS, *(f"state_{s}" for s in states), *(f"queue_{r}" for r in roles),
         *(f"utilisation_{r}" for r in roles)]  # fmt: skip
    )
    for row in rows:
        writer.writerow(
            [_cell(row.get(c)) for c in SCALAR_COLUMNS]
            + [row["states"].get(s, 0) for s in states]
            + [row["queue"].get(r, 0) for r in roles]
            + [row["utilisation"].get(r, 0) for r in roles]
        )
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="flow.csv"'
    return response


def _cell(value: Any) -> Any:
    return "" if value is None else value
