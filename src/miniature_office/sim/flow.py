"""Flow analytics computed by the engine each tick (MODEL.md sections 5 and 6).

Once per tick, after deployments, :class:`FlowTracker` looks at every open directive, task
and agent once and

- classifies each agent-tick exactly once (:data:`TIME_CLASSES`), so utilisation is productive
  time over on-duty time with walking and waiting reported beside it;
- charges each open directive's and task's tick to exactly one flow stage (:data:`STAGES`) and
  counts it as active when someone worked on it, so lead time splits into stages and flow
  efficiency is active time over lead time;
- writes a flow row whose column names carry their units (``..._directives_per_tick``,
  ``..._ticks``) so the exported CSV alone is enough to check Little's law.

Summaries cover every deployment of the run: lead and cycle times go into integer histograms
(tick -> count), exact for integer tick counts and bounded by the longest lead time seen rather
than by the run's length. Windowed figures use the last ``settings.flow_window_ticks``.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from typing import Any, Callable, NamedTuple, Sequence, TypeAlias

from mypy_extensions import mypyc_attr

from .agents import AgentStatus, Role
from .flow_row import FlowRow
from .members import (
    AGENT_BLOCKED,
    AGENT_IDLE,
    AGENT_OFF_DUTY,
    AGENT_WAITING,
    DIRECTIVE_AWAITING_DESIGN,
    DIRECTIVE_IN_PROGRESS,
    REVIEW_PENDING,
    ROLE_MANAGER,
    TASK_BLOCKED,
    TASK_MERGED,
    TASK_SCHEDULED,
)
from .stalls import open_stalls, stalls_by_cause
from .tasks import BOARD_ORDER, DirectiveState, ReviewKind, TaskState
from .world import World

ROLES = tuple(r.value for r in Role)
DEMAND = ("offered", "admitted", "rejected")  # world totals of the demand stream
#: Ticks of the bottleneck window (see :meth:`FlowTracker.bottleneck`).
BOTTLENECK_WINDOW = 64
BOTTLENECK_METHOD = (
    f"window of {BOTTLENECK_WINDOW} ticks: among roles with work waiting for them (mean queue "
    "per head > 0), the highest productive utilisation (working, reviewing, meeting or "
    "dispatching over on-duty agent-ticks); ties broken by mean queue per head"
)
#: The constraint when the intake limit holds work back (see :meth:`FlowTracker.constraint`).
INTAKE = "intake"
INTAKE_SETTING = "arrivals.max_open"
#: Admission binding in at least this share of the window's ticks makes the intake the constraint.
INTAKE_BINDS = 0.5
#: ... while the role bottleneck is productive less than this share of its time (measured at 3
#: arrivals a day: 0.67-0.75 with max_open 12, where raising the limit to 40 adds 10% throughput).
INTAKE_ROLE_BUSY = 0.8
#: Samples kept of the work in the system (see :meth:`FlowTracker.steadiness`).
TREND_POINTS = 256
TREND_GROWTH = 0.5
TREND_SLACK = 3
#: Summary figures that count from the offer, and so grow with the run when work piles up.
GROWS_WITH_RUN = ("lead_time_median", "lead_time_p85", "lead_time_p95", "backlog", "aging_wip")


class Deployed(NamedTuple):
    """What this tick's deployments add to the flow row (sums over what deployed now)."""

    lead_sum: int  # ticks since arrival, over the directives
    tasks: int  # tasks deployed
    task_lead_sum: int  # ticks since creation, over the tasks
    admitted_lead_sum: int  # ticks since admission, over the directives


class Windowed(NamedTuple):
    """Lead times (directives) and cycle times (tasks) over the flow window, in ticks."""

    lead_mean: float | None
    lead_p50: float | None
    lead_p85: float | None
    lead_p95: float | None
    cycle_mean: float | None
    cycle_p50: float | None
    cycle_p85: float | None


class Demand(NamedTuple):
    """The demand stream at this tick: directives offered, admitted and rejected now (their
    totals' growth since the last row), and the work waiting and open."""

    offered: int
    admitted: int
    rejected: int
    backlog: int  # arrivals waiting for admission
    open_directives: int  # admitted, not yet deployed
    intake_bound: int  # 1 when admission holds arrivals back


_NO_DEPLOYMENTS = Deployed(0, 0, 0, 0)
REVIEW_QUEUE_ROLE = {
    ReviewKind.VERIFICATION: "verifier",
    ReviewKind.SECURITY: "security",
    ReviewKind.DOCUMENTATION: "doc_agent",
}
#: Every agent-tick falls in exactly one of these.
TIME_CLASSES = (
    "working",
    "reviewing",
    "meeting",
    "dispatching",
    "walking",
    "waiting_tool",
    "waiting_contract",
    "idle",
    "off_duty",
)
PRODUCTIVE = frozenset({"working", "reviewing", "meeting", "dispatching"})
STATUS_CLASS = {
    AgentStatus.WORKING: "working",
    AgentStatus.REVIEWING: "reviewing",
    AgentStatus.IN_MEETING: "meeting",
    AgentStatus.WALKING: "walking",
    AgentStatus.WAITING: "waiting_tool",  # in the queue for a tool slot
    AgentStatus.BLOCKED: "waiting_tool",  # no tool with the capability, or refused one
    AgentStatus.OFF_DUTY: "off_duty",
    AgentStatus.IDLE: "idle",
}
#: Flow stages of a task's (and a directive's) time, least advanced first. A directive's tick is
#: charged to the stage of its least advanced task, not counting tasks that wait for a sibling
#: (the sibling's stage says why); before its tasks exist it is in ``design`` (waiting for an
#: architect or being designed); before admission in ``backlog``.
STAGES = (
    "backlog",
    "design",
    "waiting_dependency",
    "waiting_contract",
    "blocked",
    "waiting_tool",
    "build",
    "review",
    "approval",
    "merged",
)
_STAGE_RANK = {stage: rank for rank, stage in enumerate(STAGES)}
_ACTIVE = frozenset({AgentStatus.WORKING, AgentStatus.REVIEWING, AgentStatus.IN_MEETING})
#: Enum ``.value`` is a descriptor call; the hot loops look names up in these instead.
_ROLE_NAME = {r: r.value for r in Role}
_BOARD_NAMES = tuple((s.value, s) for s in BOARD_ORDER)
_WIP_STATES = (TaskState.IN_PROGRESS, TaskState.IN_REVIEW, TaskState.APPROVAL)
_IN_PROGRESS, _IN_REVIEW, _APPROVAL = _WIP_STATES
_DEPLOYED = TaskState.DEPLOYED.value
#: Fresh per-tick dicts are copies of these (dict.copy of a small dict is several times
#: cheaper than dict.fromkeys, and a copy has room for every key, so filling it never resizes).
_BOARD_ZERO = dict.fromkeys((name for name, _ in _BOARD_NAMES), 0)
_ROLES_ZERO = dict.fromkeys(ROLES, 0)
_TIME_ZERO = dict.fromkeys(TIME_CLASSES, 0.0)
_NOBODY = (0.0, 0, 0)  # productive, on duty, headcount of a role with no agents
_NOBODY_BY_ROLE = dict.fromkeys(ROLES, _NOBODY)
#: One role's bottleneck sample of a tick: (productive agent-ticks, on duty, queue per head).
_Sample: TypeAlias = tuple[float, int, float]
#: The oldest tick of a bottleneck window not yet full: nothing to take away (int zeros, so
#: the sums keep their values and types).
_NO_SAMPLE: _Sample = (0, 0, 0)
_NO_SAMPLES: dict[str, _Sample] = dict.fromkeys(ROLES, _NO_SAMPLE)
#: round(value, n) goes through a decimal conversion (a few microseconds); a run rounds a small
#: set of ratios and fractions again and again, so the results are remembered. The keys are
#: non-negative floats, for which equal keys round alike (as 0.0 and -0.0, or 1 and 1.0, would
#: not); the tables are emptied when they grow past _ROUNDED_MAX.
_ROUNDED_MAX = 1 << 14


def _remembered_round(digits: int) -> tuple[Callable[[float], float], dict[float, float]]:
    """``round(value, digits)`` of a non-negative float, remembered; and its table (hot loops
    read the table first and call the function only on a miss)."""
    table: dict[float, float] = {}

    def rounded(value: float) -> float:
        result = table.get(value)
        if result is None:
            if len(table) >= _ROUNDED_MAX:
                table.clear()
            result = table[value] = round(value, digits)
        return result

    return rounded, table


_round3, _ROUNDED_3 = _remembered_round(3)
_round4, _ROUNDED_4 = _remembered_round(4)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of ``values``; None when empty."""
    return _ranked(sorted(values), q)


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
class _Window:
    """Samples (tick, value) of a sliding window, kept sorted too: percentiles by index and the
    mean from a running sum, with no sort per tick."""

    __slots__ = ("samples", "ordered", "total")

    def __init__(self, samples: Any = ()) -> None:
        self.samples: deque[tuple[int, int]] = deque((int(t), int(v)) for t, v in samples)
        self.ordered = sorted(v for _, v in self.samples)
        self.total = sum(self.ordered)

    def add(self, tick: int, value: int) -> None:
        self.samples.append((tick, value))
        insort(self.ordered, value)
        self.total += value

    def expire(self, horizon: int) -> bool:
        """Drop samples at or before ``horizon``; True when any went."""
        samples, ordered = self.samples, self.ordered
        gone = False
        while samples and samples[0][0] <= horizon:
            _, value = samples.popleft()
            del ordered[bisect_left(ordered, value)]
            self.total -= value
            gone = True
        return gone

    def mean(self) -> float | None:
        return round(self.total / len(self.ordered), 3) if self.ordered else None

    def median(self) -> float | None:
        ordered, n = self.ordered, len(self.ordered)
        if not n:
            return None
        half = n // 2
        return ordered[half] if n % 2 else (ordered[half - 1] + ordered[half]) / 2


def _ranked(ordered: Sequence[float], q: float) -> float | None:
    """:func:`percentile` of values already sorted."""
    if not ordered:
        return None
    rank = max(1, min(len(ordered), int(round(q / 100 * len(ordered) + 0.5))))
    return float(ordered[rank - 1])


def hist_percentile(hist: dict[int, int], q: float) -> float | None:
    """Nearest-rank percentile of the values a histogram (value -> count) describes."""
    total = sum(hist.values())
    if not total:
        return None
    rank = max(1, min(total, int(round(q / 100 * total + 0.5))))
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return float(value)
    return None  # pragma: no cover - unreachable: the counts add up to total


def hist_mean(hist: dict[int, int]) -> float | None:
    total = sum(hist.values())
    return round(sum(v * n for v, n in hist.items()) / total, 3) if total else None


def _hist_stats(hist: dict[int, int]) -> dict[str, Any]:
    return {
        "count": sum(hist.values()),
        "mean": hist_mean(hist),
        "median": hist_percentile(hist, 50),
        "p85": hist_percentile(hist, 85),
        "p95": hist_percentile(hist, 95),
        "max": float(max(hist)) if hist else None,
    }


# tests/sim/flow_reference.py subclasses the tracker to check it against a from-scratch
# reference; a compiled build allows that only when asked (the engine's ``flow`` is typed).
@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
class FlowTracker:
    """Per-tick flow rows (bounded history) and whole-run lead, cycle and time accounting."""

    def __init__(self, history: int = 2000, samples: int = 500) -> None:
        self.history: deque[FlowRow] = deque(maxlen=history)
        self.samples = samples  # kept for callers that pass it; summaries use histograms
        self.lead_hist: dict[int, int] = {}  # lead time (ticks) -> deployed directives
        self.admitted_hist: dict[int, int] = {}  # lead time from admission -> directives
        #: ticks admission bound (whole run; and per tick over the bottleneck window)
        self.intake_bound_ticks = 0
        self._intake_window: deque[int] = deque(maxlen=BOTTLENECK_WINDOW)
        #: work in the system (backlog + open directives) sampled every ``_trend_stride`` ticks,
        #: at most TREND_POINTS samples (the stride doubles when full): is it growing?
        self.trend: list[int] = []
        self._trend_stride = 1
        self._trend_ticks = 0
        self.lead_by_priority: dict[int, dict[int, int]] = {}
        self.cycle_hist: dict[int, int] = {}  # task cycle time (start -> merge) -> tasks
        self.window_leads = _Window()  # lead times deployed in the window
        self.window_cycles = _Window()  # task cycle times merged in the window
        self.deployed_ticks: deque[int] = deque()  # deployments in the last day
        self.stage_sums: dict[str, int] = {s: 0 for s in STAGES}  # over deployed directives
        self.efficiency_sum = 0.0  # sum of directive flow efficiencies (active / lead)
        self.task_efficiency_sum = 0.0
        self.tasks_measured = 0
        self.time_totals: dict[str, dict[str, float]] = {r: {} for r in ROLES}
        self._window: deque[dict[str, _Sample]] = deque(maxlen=BOTTLENECK_WINDOW)
        self._sums: dict[str, list[float]] = {r: [0, 0, 0.0] for r in ROLES}
        self._window_stats: Windowed | None = None

    @property
    def latest(self) -> FlowRow | None:
        return self.history[-1] if self.history else None

    # ---- the tick --------------------------------------------------------------------------

    def record(self, world: World, deployed: list[str]) -> FlowRow:
        """Compute this tick's row, append it to the history and return it.

        The figures come from named parts (what deployed now, the windowed times, the demand,
        the agents and the work), and the row is built from them by keyword.
        """
        tick = world.tick
        settings = world.settings
        window = settings.flow_window_ticks
        now = self._deployments(world, deployed) if deployed else _NO_DEPLOYMENTS
        per_day = settings.ticks_per_day
        deployed_ticks = self.deployed_ticks
        while deployed_ticks and deployed_ticks[0] <= tick - per_day:
            deployed_ticks.popleft()
        horizon = tick - window
        # both windows expire (|, not or); the figures are worked out again when either changed
        if self.window_leads.expire(horizon) | self.window_cycles.expire(horizon):
            self._window_stats = None
        active, tool_waits, time_now, by_role = self._agents(world)
        queue, blocked_now, tasks_open = self._work(world, active, tool_waits)
        bottleneck, utilisation = self._roles(by_role, queue)
        state_counts = world.board.state_counts
        states = _BOARD_ZERO.copy()
        for name, state in _BOARD_NAMES:
            states[name] = state_counts[state]
        totals = world.totals
        states[_DEPLOYED] = totals["tasks_deployed"]
        times = self._windowed()
        demand = self._demand(world)
        self._note_intake(demand.intake_bound, demand.backlog + demand.open_directives)
        row = FlowRow(
            tick=tick,
            day=tick // per_day,
            # the board
            states=states,
            wip=state_counts[_IN_PROGRESS] + state_counts[_IN_REVIEW] + state_counts[_APPROVAL],
            deployed_total=totals["directives_deployed"],
            blocked=blocked_now,
            queue=queue,
            utilisation=utilisation,
            escaped_defects=totals["escaped_defects"],
            defects_found=totals["defects_found"],
            bottleneck=bottleneck,
            audit_head=world.audit.head,
            # demand, named with units so the CSV explains itself
            offered_directives_per_tick=demand.offered,
            admitted_directives_per_tick=demand.admitted,
            rejected_directives_per_tick=demand.rejected,
            offered_total=totals["offered"],
            admitted_total=totals["admitted"],
            rejected_total=totals["rejected"],
            backlog_directives=demand.backlog,
            open_directives=demand.open_directives,
            in_system_directives=demand.backlog + demand.open_directives,
            wip_tasks=tasks_open,
            # what deployed
            deployed_directives_per_tick=len(deployed),
            deployed_tasks_per_tick=now.tasks,
            throughput_directives_per_day=len(deployed_ticks),
            lead_time_sum_ticks=now.lead_sum,
            # the window's lead and cycle times
            window_ticks=window,
            lead_time_mean_ticks=times.lead_mean,
            lead_time_p50_ticks=times.lead_p50,
            lead_time_p85_ticks=times.lead_p85,
            lead_time_p95_ticks=times.lead_p95,
            cycle_time_mean_ticks=times.cycle_mean,
            cycle_time_p50_ticks=times.cycle_p50,
            cycle_time_p85_ticks=times.cycle_p85,
            # the agents' time and the stalls
            agent_ticks=time_now,
            stalls_open=len(world.stalls),
            stall_episodes_total=totals["stalls"],
            # Little's law for tasks and admitted work, and whether admission binds
            task_lead_time_sum_ticks=now.task_lead_sum,
            lead_time_from_admission_sum_ticks=now.admitted_lead_sum,
            intake_bound=demand.intake_bound,
        )
        self.history.append(row)
        return row

    def _demand(self, world: World) -> Demand:
        """This tick's demand figures (read before the row is appended)."""
        totals = world.totals
        offered, admitted, rejected = totals["offered"], totals["admitted"], totals["rejected"]
        history = self.history
        if history:
            # per-tick counts are differences of totals; a row restored from an older snapshot
            # lacks the totals, and then this tick counts from now (0) rather than from the start
            previous = history[-1]
            before = previous.offered_total
            offered_now = 0 if before is None else offered - before
            before = previous.admitted_total
            admitted_now = 0 if before is None else admitted - before
            before = previous.rejected_total
            rejected_now = 0 if before is None else rejected - before
        else:
            offered_now, admitted_now, rejected_now = offered, admitted, rejected
        backlog = len(world.board.backlog)
        open_directives = totals["directives_created"] - totals["directives_deployed"]
        intake_bound = int(bool(backlog) and open_directives >= world.scenario.arrivals.max_open)
        return Demand(offered_now, admitted_now, rejected_now, backlog, open_directives,
                      intake_bound)  # fmt: skip

    def _deployments(self, world: World, deployed: list[str]) -> Deployed:
        tick = world.tick
        lead_sum = tasks_now = task_lead_sum = admitted_sum = 0
        for directive_id in deployed:
            directive = world.board.directives[directive_id]
            lead = tick - directive.arrived_tick
            lead_sum += lead
            self.lead_hist[lead] = self.lead_hist.get(lead, 0) + 1
            admitted = tick - directive.created_tick
            admitted_sum += admitted
            self.admitted_hist[admitted] = self.admitted_hist.get(admitted, 0) + 1
            by_priority = self.lead_by_priority.setdefault(directive.priority, {})
            by_priority[lead] = by_priority.get(lead, 0) + 1
            self.window_leads.add(tick, lead)
            self.deployed_ticks.append(tick)
            for stage, ticks in directive.stage_ticks.items():
                self.stage_sums[stage] += ticks
            self.efficiency_sum += directive.active_ticks / lead if lead else 1.0
            for task_id in directive.task_ids:
                task = world.board.tasks[task_id]
                tasks_now += 1
                if task.started_tick is not None and task.merged_tick is not None:
                    cycle = task.merged_tick - task.started_tick
                    self.cycle_hist[cycle] = self.cycle_hist.get(cycle, 0) + 1
                    self.window_cycles.add(tick, cycle)
                age = tick - task.created_tick
                task_lead_sum += age
                self.task_efficiency_sum += task.active_ticks / age if age else 1.0
                self.tasks_measured += 1
        if deployed:
            self._window_stats = None
        return Deployed(lead_sum, tasks_now, task_lead_sum, admitted_sum)

    def _windowed(self) -> Windowed:
        """The window's figures, worked out again only after the window changed."""
        stats = self._window_stats
        if stats is None:
            leads, cycles = self.window_leads, self.window_cycles
            stats = self._window_stats = Windowed(
                lead_mean=leads.mean(),
                lead_p50=leads.median(),
                lead_p85=_ranked(leads.ordered, 85),
                lead_p95=_ranked(leads.ordered, 95),
                cycle_mean=cycles.mean(),
                cycle_p50=cycles.median(),
                cycle_p85=_ranked(cycles.ordered, 85),
            )
        return stats

    def _agents(
        self, world: World
    ) -> tuple[set[str], set[str], dict[str, float], list[tuple[float, int, int]]]:
        """Classify every agent-tick once; note what is being actively worked on.

        A manager's tick outside meetings is split by the attention it spent: spent / budget
        of it is ``dispatching`` (assignments, escalations, ballots, closing votes), the rest
        ``idle``; one unit spent out of four is a quarter of a tick of manager work.

        Returns the targets worked on, the targets waited for with a tool, this tick's
        agent-ticks per time class and, per role in :data:`ROLES` order, (productive, on duty,
        headcount).
        """
        active: set[str] = set()
        tool_waits: set[str] = set()
        meetings = world.board.meetings
        time_totals = self.time_totals
        manager_role = ROLE_MANAGER
        status_class, role_name = STATUS_CLASS, _ROLE_NAME
        idle, waiting, blocked, off_duty = AGENT_IDLE, AGENT_WAITING, AGENT_BLOCKED, AGENT_OFF_DUTY
        # Agent-ticks of the working roles are whole ticks: they are tallied per role and class
        # here and added up after the loop (integer sums, so in any order). Managers' ticks may
        # be split into fractions, so theirs are added in agent order as before (the same
        # floating-point sums), and so is the idle column, which mixes both.
        tallies: dict[Role, dict[str, int]] = {}
        whole: dict[str, int] = {}  # whole agent-ticks per class (the idle column: idle_now)
        idle_now = dispatching_now = 0.0
        manager_totals = time_totals["manager"]
        manager_productive = 0.0
        manager_on_duty = manager_heads = 0
        for agent in world.building.agents.values():
            status = agent.status
            role = agent.role
            if role is manager_role:
                cls = status_class[status]
                totals = manager_totals
                manager_heads += 1
                if status is off_duty:
                    whole[cls] = whole.get(cls, 0) + 1
                    totals[cls] = totals.get(cls, 0) + 1
                    continue
                manager_on_duty += 1
                if status is idle:
                    budget = agent.attention_budget
                    # max(0, spent) and min(1.0, share), without the builtins' argument parsing
                    spent = budget - agent.attention_left
                    if spent <= 0:
                        spent = 0
                    share = spent / budget if budget else 0
                    if share >= 1.0:
                        share = 1.0
                    if share:
                        dispatching_now += share
                        totals["dispatching"] = totals.get("dispatching", 0) + share
                        manager_productive += share
                        share = 1.0 - share
                        idle_now += share
                        totals["idle"] = totals.get("idle", 0) + share
                        continue
                    idle_now += 1
                    totals["idle"] = totals.get("idle", 0) + 1
                    continue
                if status is waiting or status is blocked:
                    if agent.waiting_for == "contract":
                        cls = "waiting_contract"
                    elif agent.activity is not None:
                        tool_waits.add(agent.activity.target)
                whole[cls] = whole.get(cls, 0) + 1
                totals[cls] = totals.get(cls, 0) + 1
                if cls in PRODUCTIVE:
                    manager_productive += 1
                if status in _ACTIVE and agent.activity is not None:
                    target = agent.activity.target
                    meeting = meetings.get(target)
                    active.add(meeting.task_id if meeting is not None else target)
                continue
            tally = tallies.get(role)
            if tally is None:
                tally = tallies[role] = {}
            if status is idle:
                idle_now += 1
                tally["idle"] = tally.get("idle", 0) + 1
                continue
            cls = status_class[status]
            if status is waiting or status is blocked:
                if agent.waiting_for == "contract":
                    cls = "waiting_contract"
                elif agent.activity is not None:
                    tool_waits.add(agent.activity.target)
            elif status in _ACTIVE:
                activity = agent.activity
                if activity is not None:
                    target = activity.target
                    meeting = meetings.get(target)
                    active.add(meeting.task_id if meeting is not None else target)
            tally[cls] = tally.get(cls, 0) + 1
        by_role = _NOBODY_BY_ROLE.copy()
        by_role["manager"] = (manager_productive, manager_on_duty, manager_heads)
        for role, tally in tallies.items():
            name = role_name[role]
            totals = time_totals[name]
            productive = heads = 0
            for cls, n in tally.items():
                whole[cls] = whole.get(cls, 0) + n
                totals[cls] = totals.get(cls, 0) + n
                heads += n
                if cls in PRODUCTIVE:
                    productive += n
            by_role[name] = (productive + 0.0, heads - tally.get("off_duty", 0), heads)
        # whole ticks summed from 0.0 are exact integers (round leaves them be); the idle and
        # dispatching columns may hold fractions of a manager's tick
        time_now = _TIME_ZERO.copy()
        for cls, n in whole.items():
            time_now[cls] = n + 0.0
        time_now["dispatching"] = _round3(dispatching_now) if dispatching_now else 0.0
        time_now["idle"] = _round3(idle_now) if idle_now else 0.0
        return active, tool_waits, time_now, list(by_role.values())

    def _roles(
        self, by_role: list[tuple[float, int, int]], queue: dict[str, int]
    ) -> tuple[str | None, dict[str, float]]:
        """Per role, utilisation now; the tick's sample goes into the bottleneck
        window and the bottleneck is read from it (:meth:`_push_window` then
        :meth:`bottleneck`, in one pass: per role the same operations in the same order)."""
        window, sums = self._window, self._sums
        if len(window) == window.maxlen:
            length = len(window)  # after the push, which drops the oldest tick
            oldest = window[0]
            if len(oldest) < len(ROLES):  # a tick restored from a snapshot without some role
                oldest = {role: oldest.get(role, _NO_SAMPLE) for role in ROLES}
        else:
            length = len(window) + 1
            oldest = _NO_SAMPLES
        utilisation: dict[str, Any] = _ROLES_ZERO.copy()
        sample: dict[str, Any] = _ROLES_ZERO.copy()
        name = None
        best_use = best_pressure = 0.0
        rounded = _ROUNDED_4
        for role, (productive, on_duty, _heads) in zip(ROLES, by_role):
            if on_duty:
                use = productive / on_duty
                try:
                    utilisation[role] = rounded[use]
                except KeyError:
                    utilisation[role] = _round4(use)
                per_head = queue[role] / on_duty
            else:
                utilisation[role] = 0.0
                per_head = queue[role] / 1
            sample[role] = (productive, on_duty, per_head)
            total_productive, total_on_duty, pressure = sums[role]
            old_productive, old_on_duty, old_pressure = oldest[role]
            # (sum - oldest) + newest, as _push_window; taking away an int 0 changes nothing
            total_productive = total_productive - old_productive + productive
            total_on_duty = total_on_duty - old_on_duty + on_duty
            pressure = pressure - old_pressure + per_head
            sums[role] = [total_productive, total_on_duty, pressure]
            if pressure <= 1e-9 or not total_on_duty:
                continue
            use, pressure = total_productive / total_on_duty, pressure / length
            if name is None or use > best_use or (use == best_use and pressure > best_pressure):
                best_use, best_pressure, name = use, pressure, role
        window.append(sample)
        return name, utilisation

    def _work(
        self, world: World, active: set[str], tool_waits: set[str]
    ) -> tuple[dict[str, int], int, int]:
        """Queues per role, and this tick's stage and activity of every open directive/task.

        A task's stage: ``review`` (or ``waiting_tool``) in review, counting each pending review
        in its reviewer role's queue; a scheduled task with an unmerged dependency is
        ``waiting_dependency``; otherwise scheduled or in progress is ``build`` (or
        ``waiting_tool``), unassigned ones queue for a builder; ``approval`` queues for the
        manager; a blocked task that never started and waits for a contract is
        ``waiting_contract``, else ``blocked``. ``waiting_tool``: someone working on it waits
        for a tool this tick. This loop visits every open task each tick, so the rules are
        written inline with enum members and lookups bound to locals.
        """
        queue = _ROLES_ZERO.copy()
        builders = architects = managers = 0
        blocked = tasks_open = 0
        tasks = world.board.tasks
        directives = world.board.directives
        review_role = REVIEW_QUEUE_ROLE
        pending = REVIEW_PENDING
        in_review, in_build, scheduled = _IN_REVIEW, _IN_PROGRESS, TASK_SCHEDULED
        approval, blocked_state, merged = _APPROVAL, TASK_BLOCKED, TASK_MERGED
        unmerged_dependency = world.unmerged_dependency
        in_progress, awaiting = DIRECTIVE_IN_PROGRESS, DIRECTIVE_AWAITING_DESIGN
        # ranks in STAGES: waiting_contract 3, blocked 4, waiting_tool 5, build 6, review 7,
        # approval 8, merged 9 (waiting_dependency never counts for the directive)
        for office in world.building.offices.values():
            for directive_id in office.directive_ids:  # admitted and not deployed
                directive = directives[directive_id]
                charged = directive.stage_ticks
                phase = directive.state
                if phase is not in_progress:
                    if phase is awaiting:
                        architects += 1
                    charged["design"] = charged.get("design", 0) + 1
                    if directive_id in active:
                        directive.active_ticks += 1
                    continue
                least = 10
                worked = False
                task_ids = directive.task_ids
                tasks_open += len(task_ids)
                for task_id in task_ids:
                    task = tasks[task_id]
                    state = task.state
                    # the most common states first (merged tasks wait for their siblings)
                    if state is merged:
                        stage, r = "merged", 9
                    elif state is scheduled or state is in_build:
                        if state is scheduled and unmerged_dependency(task) is not None:
                            stage, r = "waiting_dependency", 10  # its sibling says why
                        else:
                            if task.assignee is None:
                                builders += 1
                            if task_id in tool_waits:
                                stage, r = "waiting_tool", 5
                            else:
                                stage, r = "build", 6
                    elif state is in_review:
                        for kind, status in task.reviews.items():
                            if status is pending:
                                queue[review_role[kind]] += 1
                        if task_id in tool_waits:
                            stage, r = "waiting_tool", 5
                        else:
                            stage, r = "review", 7
                    elif state is approval:
                        managers += 1
                        stage, r = "approval", 8
                    elif state is blocked_state:
                        blocked += 1
                        if (
                            task.requires_contract
                            and task.blocked_from is scheduled
                            and not world.contract_ready(task)
                        ):
                            stage, r = "waiting_contract", 3
                        else:
                            stage, r = "blocked", 4
                    else:
                        stage, r = "merged", 9
                    spent = task.stage_ticks
                    spent[stage] = spent.get(stage, 0) + 1
                    if task_id in active:
                        task.active_ticks += 1
                        worked = True
                    if r < least:
                        least = r
                stage = STAGES[least] if least < 10 else "merged"
                charged[stage] = charged.get(stage, 0) + 1
                if worked:
                    directive.active_ticks += 1
        queue["architect"] += architects
        queue["builder"] += builders
        queue["manager"] += managers
        return queue, blocked, tasks_open

    # ---- bottleneck ------------------------------------------------------------------------

    def _push_window(self, sample: dict[str, _Sample]) -> None:
        """Add one tick to the bottleneck window, keeping running sums per role."""
        sums = self._sums
        if len(self._window) == self._window.maxlen:
            for role, (p, d, q) in self._window[0].items():
                totals = sums[role]
                totals[0] -= p
                totals[1] -= d
                totals[2] -= q
        self._window.append(sample)
        for role, (p, d, q) in sample.items():
            totals = sums[role]
            totals[0] += p
            totals[1] += d
            totals[2] += q

    def bottleneck(self) -> str | None:
        """The role that limits flow now, by :data:`BOTTLENECK_METHOD` (None: nothing waits)."""
        best: tuple[float, float] | None = None
        name = None
        for role in ROLES:
            productive, on_duty, pressure = self._sums[role]
            if pressure <= 1e-9 or not on_duty:
                continue
            score = (productive / on_duty, pressure / len(self._window))
            if best is None or score > best:
                best, name = score, role
        return name

    def _note_intake(self, bound: int, in_system: int) -> None:
        self.intake_bound_ticks += bound
        self._intake_window.append(bound)
        self._trend_ticks += 1
        if self._trend_ticks % self._trend_stride:
            return
        self.trend.append(in_system)
        if len(self.trend) >= TREND_POINTS:  # keep every other sample, sample half as often
            self.trend = self.trend[1::2]
            self._trend_stride *= 2

    def intake_share(self) -> float:
        """Share of the bottleneck window's ticks in which admission bound."""
        window = self._intake_window
        return sum(window) / len(window) if window else 0.0

    def role_busy(self, role: str) -> float:
        """Productive share of ``role``'s on-duty agent-ticks over the bottleneck window."""
        productive, on_duty, _ = self._sums.get(role, (0, 0, 0.0))
        return productive / on_duty if on_duty else 0.0

    def constraint(self) -> str | None:
        """What limits flow now: ``intake`` when admission bound in at least
        :data:`INTAKE_BINDS` of the bottleneck window's ticks while the role bottleneck was
        productive less than :data:`INTAKE_ROLE_BUSY` of its time (work waits outside while the
        people who would do it are not busy: the WIP limit holds it back, and more people in
        that role barely help), else the role :meth:`bottleneck` names."""
        role = self.bottleneck()
        if self.intake_share() >= INTAKE_BINDS and (
            role is None or self.role_busy(role) < INTAKE_ROLE_BUSY
        ):
            return INTAKE
        return role

    def steadiness(self) -> dict[str, Any]:
        """Whether the work in the system (backlog + open directives) is level or growing.

        The samples after a warm-up fifth are split in halves; the run is not steady when the
        later half holds on average more than ``1 + TREND_GROWTH`` times the earlier half plus
        ``TREND_SLACK`` directives. The margin and the slack keep an office near its capacity,
        whose queue wanders widely for long stretches, from flagging on noise. Then
        every figure that counts from the offer grows with the run's length: lead times, the
        backlog and the age of open work describe how long the run was, not the office.
        """
        samples = self.trend[len(self.trend) // 5 :]
        if len(samples) < 8:
            return {"steady": None, "growth": None, "not_steady": [], "reason": "run too short"}
        half = len(samples) // 2
        early = sum(samples[:half]) / half
        late = sum(samples[half:]) / (len(samples) - half)
        growth = round(late / early, 3) if early else None
        steady = late <= early * (1 + TREND_GROWTH) + TREND_SLACK
        return {
            "steady": steady,
            "growth": growth,
            "not_steady": [] if steady else list(GROWS_WITH_RUN),
            "reason": (
                f"work in the system: {early:.1f} directives on average in the earlier half of "
                f"the run, {late:.1f} in the later"
                + ("" if steady else "; it grows with the run, so these figures do too")
            ),
        }

    # ---- summaries -------------------------------------------------------------------------

    def time_shares(self) -> dict[str, dict[str, float]]:
        """Per role: the share of its agent-ticks in each time class over the whole run."""
        shares: dict[str, dict[str, float]] = {}
        for role, totals in self.time_totals.items():
            total = sum(totals.values())
            if total:
                shares[role] = {c: round(totals.get(c, 0) / total, 4) for c in TIME_CLASSES}
        return shares

    def utilisation(self) -> dict[str, float]:
        """Per role: productive agent-ticks over on-duty agent-ticks, whole run."""
        result = {}
        for role, totals in self.time_totals.items():
            on_duty = sum(totals.values()) - totals.get("off_duty", 0)
            if on_duty:
                productive = sum(totals.get(c, 0) for c in PRODUCTIVE)
                result[role] = round(productive / on_duty, 4)
        return result

    def walking_share(self) -> float:
        """Walking agent-ticks over working + reviewing agent-ticks, all roles, whole run."""
        walking = sum(t.get("walking", 0) for t in self.time_totals.values())
        work = sum(t.get("working", 0) + t.get("reviewing", 0) for t in self.time_totals.values())
        return round(walking / work, 4) if work else 0.0

    def aging_wip(self, world: World) -> dict[str, Any]:
        """Open work by age (backlog included): nothing in the summary describes only survivors."""
        tick = world.tick
        ages = [
            (tick - d.arrived_tick, d.id, d.priority, d.state.value)
            for d in world.board.directives.values()
            if d.state is not DirectiveState.DEPLOYED
        ]
        ages += [
            (tick - a.offered_tick, a.key, a.request.priority, "backlog")
            for a in world.board.backlog
        ]
        ages.sort(reverse=True)
        values = [a[0] for a in ages]
        return {
            "count": len(ages),
            "age_mean": round(sum(values) / len(values), 3) if values else None,
            "age_p85": percentile(values, 85),
            "age_max": values[0] if values else None,
            "oldest": [
                {"id": i, "age_ticks": age, "priority": p, "state": s} for age, i, p, s in ages[:5]
            ],
        }

    def summary(self, world: World) -> dict[str, Any]:
        """Headline figures for a finished run (CLI summary, sweep rows): all deployments."""
        latest = self.latest
        days = max(world.tick / world.settings.ticks_per_day, 1e-9)
        totals = world.totals
        deployed = totals["directives_deployed"]
        lead = _hist_stats(self.lead_hist)
        aging = self.aging_wip(world)
        measured = sum(self.lead_hist.values())
        return {
            "ticks": world.tick,
            "directives_created": totals["directives_created"],
            "directives_deployed": deployed,
            "tasks_deployed": totals["tasks_deployed"],
            "throughput_per_day": round(deployed / days, 4),
            "lead_time_median": lead["median"],
            "lead_time_p85": lead["p85"],
            "lead_time_p95": lead["p95"],
            "lead_time_mean": lead["mean"],
            "lead_time_max": lead["max"],
            "lead_time_by_priority": {
                str(p): _hist_stats(h) for p, h in sorted(self.lead_by_priority.items())
            },
            "lead_time_by_stage": {
                s: round(n / measured, 3) if measured else None for s, n in self.stage_sums.items()
            },
            "cycle_time_median": hist_percentile(self.cycle_hist, 50),
            "cycle_time_p85": hist_percentile(self.cycle_hist, 85),
            "flow_efficiency": round(self.efficiency_sum / measured, 4) if measured else None,
            "task_flow_efficiency": (
                round(self.task_efficiency_sum / self.tasks_measured, 4)
                if self.tasks_measured
                else None
            ),
            "offered": totals["offered"],
            "admitted": totals["admitted"],
            "rejected": totals["rejected"],
            "backlog": len(world.board.backlog),
            "open_directives": totals["directives_created"] - deployed,
            "aging_wip": aging,
            "aging_wip_max": aging["age_max"],
            "lead_time_from_admission": _hist_stats(self.admitted_hist),
            "bottleneck": latest.bottleneck if latest is not None else None,
            "constraint": self.constraint(),
            "bottleneck_method": BOTTLENECK_METHOD,
            "intake": self._intake_summary(world),
            "steadiness": self.steadiness(),
            "utilisation": self.utilisation(),
            "time_shares": self.time_shares(),
            "walking_share": self.walking_share(),
            "escaped_defects": totals["escaped_defects"],
            "defects_found": totals["defects_found"],
            "meetings": totals["meetings"],
            "votes_failed": totals["votes_failed"],
            "reworks": totals["reworks"],
            "stalls": totals["stalls"],  # stall episodes over the run
            "stalls_by_cause": stalls_by_cause(world),  # open now, per cause
            "stalls_open": open_stalls(world),
            "audit_events": world.audit.count,
            "audit_head": world.audit.head,
        }

    def _intake_summary(self, world: World) -> dict[str, Any]:
        """How often admission bound, and the setting that would loosen it."""
        share = self.intake_share()
        ticks = max(1, self._trend_ticks)
        return {
            "setting": INTAKE_SETTING,
            "limit": world.scenario.arrivals.max_open,
            "bound_share_window": round(share, 4),
            "bound_share_run": round(self.intake_bound_ticks / ticks, 4),
            "binding": share >= INTAKE_BINDS,
            "constraint": self.constraint() == INTAKE,
        }

    # ---- snapshots -------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """Everything needed to continue measuring exactly where this tracker is."""
        return {
            "history": [row.to_dict() for row in self.history],
            "lead_hist": sorted(self.lead_hist.items()),
            "lead_by_priority": [[p, sorted(h.items())] for p, h in self.lead_by_priority.items()],
            "cycle_hist": sorted(self.cycle_hist.items()),
            "window_leads": list(self.window_leads.samples),
            "window_cycles": list(self.window_cycles.samples),
            "deployed_ticks": list(self.deployed_ticks),
            "stage_sums": self.stage_sums,
            "efficiency": [self.efficiency_sum, self.task_efficiency_sum, self.tasks_measured],
            "time_totals": self.time_totals,
            "window": list(self._window),
            "admitted_hist": sorted(self.admitted_hist.items()),
            "intake": [self.intake_bound_ticks, list(self._intake_window)],
            "trend": [list(self.trend), self._trend_stride, self._trend_ticks],
        }

    def load(self, data: dict[str, Any]) -> None:
        """Inverse of :meth:`dump`."""
        self.history.clear()
        self.history.extend(FlowRow.from_dict(row) for row in data["history"])
        self.lead_hist = {int(k): v for k, v in data["lead_hist"]}
        self.lead_by_priority = {
            int(p): {int(k): v for k, v in h} for p, h in data["lead_by_priority"]
        }
        self.cycle_hist = {int(k): v for k, v in data["cycle_hist"]}
        self.window_leads = _Window(data["window_leads"])
        self.window_cycles = _Window(data["window_cycles"])
        self.deployed_ticks = deque(data["deployed_ticks"])
        self.stage_sums = {s: data["stage_sums"].get(s, 0) for s in STAGES}
        self.efficiency_sum, self.task_efficiency_sum, self.tasks_measured = data["efficiency"]
        self.time_totals = {r: dict(data["time_totals"].get(r, {})) for r in ROLES}
        self._window.clear()
        self._sums = {r: [0, 0, 0.0] for r in ROLES}
        for sample in data["window"]:
            self._push_window({r: tuple(v) for r, v in sample.items()})
        self._window_stats = None
        # figures added in issue 24 (absent from older snapshots: they count from the resume)
        self.admitted_hist = {int(k): v for k, v in data.get("admitted_hist", [])}
        bound, window = data.get("intake", [0, []])
        self.intake_bound_ticks = bound
        self._intake_window = deque(window, maxlen=BOTTLENECK_WINDOW)
        trend, self._trend_stride, self._trend_ticks = data.get("trend", [[], 1, 0])
        self.trend = list(trend)  # a copy: forks of one snapshot must not share it
