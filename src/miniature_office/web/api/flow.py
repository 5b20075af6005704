"""Flow metrics: the current row, the per-tick history and a CSV export."""

from __future__ import annotations

import csv
import gzip
import io
from typing import Any

from flask import Blueprint, Response, request
from pydantic import Field

from ...service.compat import flow_row
from ...sim.engine import Engine
from ...sim.stalls import open_stalls, stalls_by_cause
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
    until: int | None = Field(
        default=None, ge=0, le=MAX_INT, description="only rows up to this tick"
    )
    limit: int = Field(default=500, ge=1, le=5000)
    points: int | None = Field(
        default=None,
        ge=10,
        le=5000,
        description="thin the rows (after since/until, ignoring limit) to at most this many: "
        "each point is the last row of a run of ticks, its throughput summed over the run, "
        "utilisation averaged, and `span` the ticks it covers",
    )


def _history(since: int, until: int | None = None) -> list[dict[str, Any]]:
    last = MAX_INT if until is None else until
    return read(lambda e: [flow_row(r) for r in e.flow.history if since < r.tick <= last])


def thin(rows: list[dict[str, Any]], points: int) -> list[dict[str, Any]]:
    """At most ``points`` rows: runs of ``ceil(len / points)`` rows merged into their last.

    A chart never needs more points than it has pixels. Counts per tick (throughput) are
    summed over the run so totals stay right; utilisation is the run's mean; every other
    field (states, queues, cumulative figures) is the run's last value.
    """
    size = -(-len(rows) // points) if points else 1
    if size <= 1:
        return rows
    out = []
    # runs end at the newest row, so the latest tick is always a point of its own run
    for end in range(len(rows), 0, -size):
        run = rows[max(0, end - size) : end]
        last = run[-1]
        roles = last.get("utilisation") or {}
        merged = {
            **last,
            "throughput": sum(r.get("throughput") or 0 for r in run),
            "utilisation": {
                k: sum((r.get("utilisation") or {}).get(k, 0) for r in run) / len(run)
                for k in roles
            },
            "span": len(run),
        }
        out.append(merged)
    out.reverse()
    return out


@route(bp, "", "The latest flow row and the run's headline figures")
def current() -> Response:
    def current(engine: Engine) -> dict[str, Any]:
        latest = engine.flow.latest
        return {"latest": None if latest is None else flow_row(latest), "summary": engine.summary()}

    return json_response(read(current))


@route(bp, "/stalls", "Work that cannot progress now: cause, reason and remedy per stall")
def stalls() -> Response:
    return json_response(read(_stalls))


def _stalls(engine: Any) -> dict[str, Any]:
    world = engine.world
    return {
        "tick": world.tick,
        "open": open_stalls(world),
        "by_cause": stalls_by_cause(world),
        "episodes": world.totals["stalls"],
    }


@route(bp, "/history", "Per-tick flow rows (most recent `limit` after `since`)",
       query=HistoryQuery)  # fmt: skip
def history() -> Response:
    q = parse_query(HistoryQuery)
    rows = _history(q.since, q.until)
    rows = thin(rows, q.points) if q.points else rows[-q.limit :]
    return compressed(json_response({"history": rows, "count": len(rows)}))


def compressed(response: Response) -> Response:
    """gzip a large JSON answer when the client accepts it (the history is ~600 bytes a row)."""
    body = response.get_data()
    if len(body) < 1024 or "gzip" not in request.accept_encodings:
        return response
    response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


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
