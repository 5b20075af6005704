"""One tick's flow figures: the row :class:`~.flow.FlowTracker` appends to its history.

Each figure appears once, named with its units where a chart or the CSV export needs them.
Version 0.1.0's short names for six of them (``lead_time_median`` for ``lead_time_p50_ticks``
and so on) are added where rows leave the service, by ``service/compat.py``.
The field order is the order of the exported columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from mypy_extensions import mypyc_attr


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
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

    # Written out rather than generated: mypyc compiles this one, while the __init__ that
    # @dataclass generates runs interpreted (tests/sim/test_native_init.py holds it to the fields).
    def __init__(
        self,
        tick: int,
        day: int = 0,
        states: dict[str, int] | None = None,
        wip: int = 0,
        deployed_total: int = 0,
        blocked: int = 0,
        queue: dict[str, int] | None = None,
        utilisation: dict[str, float] | None = None,
        escaped_defects: int = 0,
        defects_found: int = 0,
        bottleneck: str | None = None,
        audit_head: str = "",
        offered_directives_per_tick: int = 0,
        admitted_directives_per_tick: int = 0,
        rejected_directives_per_tick: int = 0,
        offered_total: int | None = None,
        admitted_total: int | None = None,
        rejected_total: int | None = None,
        backlog_directives: int = 0,
        open_directives: int = 0,
        in_system_directives: int = 0,
        wip_tasks: int = 0,
        deployed_directives_per_tick: int = 0,
        deployed_tasks_per_tick: int = 0,
        throughput_directives_per_day: int = 0,
        lead_time_sum_ticks: int = 0,
        window_ticks: int = 0,
        lead_time_mean_ticks: float | None = None,
        lead_time_p50_ticks: float | None = None,
        lead_time_p85_ticks: float | None = None,
        lead_time_p95_ticks: float | None = None,
        cycle_time_mean_ticks: float | None = None,
        cycle_time_p50_ticks: float | None = None,
        cycle_time_p85_ticks: float | None = None,
        agent_ticks: dict[str, float] | None = None,
        stalls_open: int = 0,
        stall_episodes_total: int = 0,
        task_lead_time_sum_ticks: int = 0,
        lead_time_from_admission_sum_ticks: int = 0,
        intake_bound: int = 0,
    ) -> None:
        self.tick = tick
        self.day = day
        self.states = {} if states is None else states
        self.wip = wip
        self.deployed_total = deployed_total
        self.blocked = blocked
        self.queue = {} if queue is None else queue
        self.utilisation = {} if utilisation is None else utilisation
        self.escaped_defects = escaped_defects
        self.defects_found = defects_found
        self.bottleneck = bottleneck
        self.audit_head = audit_head
        self.offered_directives_per_tick = offered_directives_per_tick
        self.admitted_directives_per_tick = admitted_directives_per_tick
        self.rejected_directives_per_tick = rejected_directives_per_tick
        self.offered_total = offered_total
        self.admitted_total = admitted_total
        self.rejected_total = rejected_total
        self.backlog_directives = backlog_directives
        self.open_directives = open_directives
        self.in_system_directives = in_system_directives
        self.wip_tasks = wip_tasks
        self.deployed_directives_per_tick = deployed_directives_per_tick
        self.deployed_tasks_per_tick = deployed_tasks_per_tick
        self.throughput_directives_per_day = throughput_directives_per_day
        self.lead_time_sum_ticks = lead_time_sum_ticks
        self.window_ticks = window_ticks
        self.lead_time_mean_ticks = lead_time_mean_ticks
        self.lead_time_p50_ticks = lead_time_p50_ticks
        self.lead_time_p85_ticks = lead_time_p85_ticks
        self.lead_time_p95_ticks = lead_time_p95_ticks
        self.cycle_time_mean_ticks = cycle_time_mean_ticks
        self.cycle_time_p50_ticks = cycle_time_p50_ticks
        self.cycle_time_p85_ticks = cycle_time_p85_ticks
        self.agent_ticks = {} if agent_ticks is None else agent_ticks
        self.stalls_open = stalls_open
        self.stall_episodes_total = stall_episodes_total
        self.task_lead_time_sum_ticks = task_lead_time_sum_ticks
        self.lead_time_from_admission_sum_ticks = lead_time_from_admission_sum_ticks
        self.intake_bound = intake_bound

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
