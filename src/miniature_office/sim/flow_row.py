"""One tick's flow figures: the row :class:`~.flow.FlowTracker` appends to its history.

Each figure appears once, named with its units where a chart or the CSV export needs them.
Version 0.1.0's short names for six of them (``lead_time_median`` for ``lead_time_p50_ticks``
and so on) are added where rows leave the service, by ``service/compat.py``.
The field order is the order of the exported columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(slots=True)
class FlowRow:
    """Figures of one tick. Every field has a default only so a row from an older snapshot,
    which lacks the newer fields, loads (:meth:`from_dict`); the tracker always sets them all."""

    tick: int
    day: int = 0
    #: tasks per board state now (``deployed``: all time)
    states: dict[str, int] = field(default_factory=dict)
    wip: int = 0  # tasks in progress, review or approval
    deployed_total: int = 0  # directives, whole run
    blocked: int = 0  # tasks blocked now
    queue: dict[str, int] = field(default_factory=dict)  # work waiting per role
    utilisation: dict[str, float] = field(default_factory=dict)  # productive / on duty, per role
    escaped_defects: int = 0
    defects_found: int = 0
    bottleneck: str | None = None  # the role limiting flow over the bottleneck window
    audit_head: str = ""  # the audit chain's head after this tick
    # demand, named with units so the CSV explains itself
    offered_directives_per_tick: int = 0
    admitted_directives_per_tick: int = 0
    rejected_directives_per_tick: int = 0
    #: whole-run totals (None in a row restored from a snapshot older than these fields)
    offered_total: int | None = None
    admitted_total: int | None = None
    rejected_total: int | None = None
    backlog_directives: int = 0  # arrivals waiting for admission
    open_directives: int = 0  # admitted, not yet deployed
    in_system_directives: int = 0  # backlog + open
    wip_tasks: int = 0  # open tasks
    deployed_directives_per_tick: int = 0
    deployed_tasks_per_tick: int = 0
    throughput_directives_per_day: int = 0
    lead_time_sum_ticks: int = 0  # of the directives deployed this tick
    window_ticks: int = 0  # the window the lead/cycle figures below cover
    lead_time_mean_ticks: float | None = None
    lead_time_p50_ticks: float | None = None
    lead_time_p85_ticks: float | None = None
    lead_time_p95_ticks: float | None = None
    cycle_time_mean_ticks: float | None = None
    cycle_time_p50_ticks: float | None = None
    cycle_time_p85_ticks: float | None = None
    agent_ticks: dict[str, float] = field(default_factory=dict)  # agent-ticks per time class
    stalls_open: int = 0  # work that cannot progress now (sim/stalls.py)
    stall_episodes_total: int = 0
    #: of the tasks deployed this tick, ticks since each was created (its time in the system:
    #: with ``wip_tasks`` and ``deployed_tasks_per_tick``, Little's law for tasks)
    task_lead_time_sum_ticks: int = 0
    #: of the directives deployed this tick, ticks since admission (lead time without the
    #: backlog wait; with ``open_directives``, Little's law for admitted work)
    lead_time_from_admission_sum_ticks: int = 0
    #: 1 when admission binds this tick: arrivals wait while ``arrivals.max_open`` are open
    intake_bound: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON-ready data, fields in declaration order (nested dicts are shared)."""
        return {name: getattr(self, name) for name in FIELD_NAMES}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "FlowRow":
        """A row from :meth:`to_dict` output or a stored snapshot (unknown keys are ignored,
        missing ones take their defaults)."""
        return cls(**{k: v for k, v in raw.items() if k in _KNOWN})


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(FlowRow))
_KNOWN = frozenset(FIELD_NAMES)
