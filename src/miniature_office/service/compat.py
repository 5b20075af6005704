"""Version 0.1.0's names for today's flow figures, added where a flow row leaves the service.

A ``FlowRow`` (``sim/flow_row.py``) carries each figure once, named with its units. Version
0.1.0's clients (and the browser's charts) read six of them under shorter names; every row the
service sends (REST, Socket.IO, the world snapshot, replays) and the command line exports (JSON,
CSV) is :func:`flow_row`'s, with those names at the places 0.1.0's rows had them, so the
exported columns keep their order. Nothing is renamed or removed. The entities' 0.1.0 fields
are in ``web/api/compat.py``; this table sits here because the command line exports rows too.
"""

from __future__ import annotations

from typing import Any

from ..sim.engine import Engine
from ..sim.flow_row import FIELD_NAMES, FlowRow

#: 0.1.0's name -> today's field with the same value, each placed after the figure named in
#: :data:`_AFTER` (the columns' order in 0.1.0's rows and CSV export).
FLOW_ROW_010: dict[str, str] = {
    "throughput": "deployed_tasks_per_tick",
    "directives_deployed": "deployed_directives_per_tick",
    "throughput_per_day": "throughput_directives_per_day",
    "lead_time_median": "lead_time_p50_ticks",
    "lead_time_p85": "lead_time_p85_ticks",
    "cycle_time_median": "cycle_time_p50_ticks",
}
_AFTER = {"wip": ("throughput", "directives_deployed"),
          "deployed_total": ("throughput_per_day", "lead_time_median", "lead_time_p85",
                             "cycle_time_median")}  # fmt: skip

#: (exported name, the row's field) for every column, in order: worked out once.
COLUMNS: tuple[tuple[str, str], ...] = tuple(
    pair
    for name in FIELD_NAMES
    for pair in ((name, name), *((old, FLOW_ROW_010[old]) for old in _AFTER.get(name, ())))
)


def flow_row(row: FlowRow) -> dict[str, Any]:
    """``row`` as JSON-ready data with 0.1.0's names added (nested dicts are shared)."""
    return {name: getattr(row, field) for name, field in COLUMNS}


def snapshot(engine: Engine) -> dict[str, Any]:
    """The engine's world snapshot, its latest flow row with 0.1.0's names added."""
    data = engine.snapshot()
    latest = engine.flow.latest
    if latest is not None:
        data["flow"] = flow_row(latest)
    return data
