"""The flow tracker's per-tick computation from scratch, as it was before the tracker kept any
state between ticks (commit 37026c1): every agent and every open task visited each tick.

tests/sim/test_speed.py runs it beside :class:`~miniature_office.sim.flow.FlowTracker` on
identical worlds; the two must agree on every field of every row and on every stage tick.
"""

from __future__ import annotations

from typing import Any

from miniature_office.sim.agents import Role
from miniature_office.sim.flow import (
    _ACTIVE,
    _BOARD_NAMES,
    _ROLE_NAME,
    _STAGE_RANK,
    _WIP_STATES,
    DEMAND,
    PRODUCTIVE,
    REVIEW_QUEUE_ROLE,
    ROLES,
    STAGES,
    STATUS_CLASS,
    TIME_CLASSES,
    FlowTracker,
    _ranked,
)
from miniature_office.sim.flow_row import FlowRow
from miniature_office.sim.tasks import DirectiveState, ReviewStatus, TaskState
from miniature_office.sim.world import World


class ReferenceFlowTracker(FlowTracker):
    """FlowTracker with the from-scratch ``record`` (summaries and windows are inherited)."""

    raw_row: dict[str, Any] = {}

    def record(self, world: World, deployed: list[str]) -> FlowRow:  # type: ignore[override]
        """Compute this tick's row, append it to the history and return it."""
        tick = world.tick
        settings = world.settings
        window = settings.flow_window_ticks
        lead_sum, tasks_deployed_now = self._deployments(world, deployed)
        per_day = settings.ticks_per_day
        while self.deployed_ticks and self.deployed_ticks[0] <= tick - per_day:
            self.deployed_ticks.popleft()
        self._expire(tick - window)
        active, tool_waits, time_now, by_role = self._agents(world)
        queue, blocked_now, tasks_open = self._work(world, active, tool_waits)
        utilisation = {}
        sample = {}
        for role in ROLES:
            productive, on_duty, _heads = by_role[role]
            utilisation[role] = round(productive / on_duty, 4) if on_duty else 0.0
            sample[role] = (productive, on_duty, queue[role] / max(1, on_duty))
        self._push_window(sample)
        state_counts = world.board.state_counts
        states = {name: state_counts[s] for name, s in _BOARD_NAMES}
        states[TaskState.DEPLOYED.value] = world.totals["tasks_deployed"]
        stats = self._windowed()
        totals = world.totals
        previous = self.latest.to_dict() if self.latest else {}
        # per-tick counts are differences of totals; a row restored from an older snapshot
        # lacks the totals, and then this tick counts from now (0) rather than from the start
        base = totals if previous else dict.fromkeys(DEMAND, 0)
        now = {k: totals[k] - previous.get(f"{k}_total", base[k]) for k in DEMAND}
        backlog = len(world.board.backlog)
        open_directives = totals["directives_created"] - totals["directives_deployed"]
        row = {
            "tick": tick,
            "day": tick // per_day,
            "states": states,
            "wip": sum(state_counts[s] for s in _WIP_STATES),
            "deployed_total": totals["directives_deployed"],
            "blocked": blocked_now,
            "queue": queue,
            "utilisation": utilisation,
            "escaped_defects": totals["escaped_defects"],
            "defects_found": totals["defects_found"],
            "bottleneck": self.bottleneck(),
            "audit_head": world.audit.head,
            # demand, named with units so the CSV explains itself
            "offered_directives_per_tick": now["offered"],
            "admitted_directives_per_tick": now["admitted"],
            "rejected_directives_per_tick": now["rejected"],
            "offered_total": totals["offered"],
            "admitted_total": totals["admitted"],
            "rejected_total": totals["rejected"],
            "backlog_directives": backlog,
            "open_directives": open_directives,
            "in_system_directives": backlog + open_directives,
            "wip_tasks": tasks_open,
            "deployed_directives_per_tick": len(deployed),
            "deployed_tasks_per_tick": tasks_deployed_now,
            "throughput_directives_per_day": len(self.deployed_ticks),
            "lead_time_sum_ticks": lead_sum,
            "window_ticks": window,
            "lead_time_mean_ticks": stats["lead_mean"],
            "lead_time_p50_ticks": stats["lead_p50"],
            "lead_time_p85_ticks": stats["lead_p85"],
            "lead_time_p95_ticks": stats["lead_p95"],
            "cycle_time_mean_ticks": stats["cycle_mean"],
            "cycle_time_p50_ticks": stats["cycle_p50"],
            "cycle_time_p85_ticks": stats["cycle_p85"],
            "agent_ticks": time_now,
            "stalls_open": len(world.stalls),  # work that cannot progress now (sim/stalls.py)
            "stall_episodes_total": totals["stalls"],
            # issue 24: Little's law for tasks and admitted work, and whether admission binds
            "task_lead_time_sum_ticks": sum(
                tick - world.board.tasks[t].created_tick
                for d in deployed
                for t in world.board.directives[d].task_ids
            ),
            "lead_time_from_admission_sum_ticks": sum(
                tick - world.board.directives[d].created_tick for d in deployed
            ),
            "intake_bound": int(
                backlog > 0 and open_directives >= world.scenario.arrivals.max_open
            ),
        }
        for directive_id in deployed:  # issue 24: lead time from admission, intake, trend
            admitted = tick - world.board.directives[directive_id].created_tick
            self.admitted_hist[admitted] = self.admitted_hist.get(admitted, 0) + 1
        self._note_intake(row["intake_bound"], backlog + open_directives)
        # the row as 37026c1 built it, without 0.1.0's names (service/compat.py adds them)
        self.raw_row = row
        flow_row = FlowRow(**row)
        self.history.append(flow_row)
        return flow_row

    def _deployments(self, world: World, deployed: list[str]) -> tuple[int, int]:
        tick = world.tick
        lead_sum = tasks_now = 0
        for directive_id in deployed:
            directive = world.board.directives[directive_id]
            lead = tick - directive.arrived_tick
            lead_sum += lead
            self.lead_hist[lead] = self.lead_hist.get(lead, 0) + 1
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
                self.task_efficiency_sum += task.active_ticks / age if age else 1.0
                self.tasks_measured += 1
        if deployed:
            self._window_stats = None
        return lead_sum, tasks_now

    def _expire(self, horizon: int) -> None:
        for window in (self.window_leads, self.window_cycles):
            if window.expire(horizon):
                self._window_stats = None

    def _windowed(self) -> dict[str, Any]:
        # From scratch every call: the reference keeps no cache (the tracker's own cache is a
        # typed ``Windowed``, which a compiled base class would not let a dict replace).
        leads, cycles = self.window_leads, self.window_cycles
        return {
            "lead_mean": leads.mean(),
            "lead_p50": leads.median(),
            "lead_p85": _ranked(leads.ordered, 85),
            "lead_p95": _ranked(leads.ordered, 95),
            "cycle_mean": cycles.mean(),
            "cycle_p50": cycles.median(),
            "cycle_p85": _ranked(cycles.ordered, 85),
        }

    def _agents(
        self, world: World
    ) -> tuple[dict[str, None], set[str], dict[str, float], dict[str, list[float]]]:
        """Classify every agent-tick once; note what is being actively worked on.

        A manager's tick outside meetings is split by the attention it spent: spent / budget
        of it is ``dispatching`` (assignments, escalations, ballots, closing votes), the rest
        ``idle``; one unit spent out of four is a quarter of a tick of manager work.
        """
        active: dict[str, None] = {}
        tool_waits: set[str] = set()
        time_now = dict.fromkeys(TIME_CLASSES, 0.0)
        by_role = {role: [0.0, 0, 0] for role in ROLES}  # productive, on duty, headcount
        meetings = world.board.meetings
        time_totals = self.time_totals
        manager_role = Role.MANAGER
        status_class, role_name = STATUS_CLASS, _ROLE_NAME
        for agent in world.building.agents.values():
            status = agent.status
            cls = status_class[status]
            role = role_name[agent.role]
            totals = time_totals[role]
            counts = by_role[role]
            counts[2] += 1
            if cls == "off_duty":
                time_now[cls] += 1
                totals[cls] = totals.get(cls, 0) + 1
                continue
            counts[1] += 1
            if agent.role is manager_role and cls == "idle":
                budget = agent.attention_budget
                share = min(1.0, max(0, budget - agent.attention_left) / budget) if budget else 0
                if share:
                    time_now["dispatching"] += share
                    totals["dispatching"] = totals.get("dispatching", 0) + share
                    counts[0] += share
                    share = 1.0 - share
                    time_now["idle"] += share
                    totals["idle"] = totals.get("idle", 0) + share
                    continue
            elif cls == "waiting_tool":
                if agent.waiting_for == "contract":
                    cls = "waiting_contract"
                elif agent.activity is not None:
                    tool_waits.add(agent.activity.target)
            time_now[cls] += 1
            totals[cls] = totals.get(cls, 0) + 1
            if cls in PRODUCTIVE:
                counts[0] += 1
            if status in _ACTIVE and agent.activity is not None:
                target = agent.activity.target
                meeting = meetings.get(target)
                active[meeting.task_id if meeting is not None else target] = None
        return active, tool_waits, {c: round(v, 3) for c, v in time_now.items()}, by_role

    def _work(
        self, world: World, active: dict[str, None], tool_waits: set[str]
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
        queue = dict.fromkeys(ROLES, 0)
        blocked = tasks_open = 0
        tasks = world.board.tasks
        directives = world.board.directives
        rank = _STAGE_RANK
        unmerged_dependency = world.unmerged_dependency
        review_role = REVIEW_QUEUE_ROLE
        pending = ReviewStatus.PENDING
        in_review, in_build, scheduled = (
            TaskState.IN_REVIEW,
            TaskState.IN_PROGRESS,
            TaskState.SCHEDULED,
        )
        approval, blocked_state = TaskState.APPROVAL, TaskState.BLOCKED
        awaiting, in_progress = DirectiveState.AWAITING_DESIGN, DirectiveState.IN_PROGRESS
        no_stage = len(STAGES)
        for office in world.building.offices.values():
            for directive_id in office.directive_ids:  # admitted and not deployed
                directive = directives[directive_id]
                charged = directive.stage_ticks
                if directive.state is not in_progress:
                    if directive.state is awaiting:
                        queue["architect"] += 1
                    charged["design"] = charged.get("design", 0) + 1
                    if directive_id in active:
                        directive.active_ticks += 1
                    continue
                least = no_stage
                worked = False
                task_ids = directive.task_ids
                tasks_open += len(task_ids)
                for task_id in task_ids:
                    task = tasks[task_id]
                    state = task.state
                    if state is in_review:
                        for kind, status in task.reviews.items():
                            if status is pending:
                                queue[review_role[kind]] += 1
                        stage = "waiting_tool" if task_id in tool_waits else "review"
                    elif state is in_build or state is scheduled:
                        if state is scheduled and unmerged_dependency(task) is not None:
                            stage = "waiting_dependency"
                        else:
                            if task.assignee is None:
                                queue["builder"] += 1
                            stage = "waiting_tool" if task_id in tool_waits else "build"
                    elif state is approval:
                        queue["manager"] += 1
                        stage = "approval"
                    elif state is blocked_state:
                        blocked += 1
                        if (
                            task.requires_contract
                            and task.blocked_from is scheduled
                            and not world.contract_ready(task)
                        ):
                            stage = "waiting_contract"
                        else:
                            stage = "blocked"
                    else:
                        stage = "merged"
                    spent = task.stage_ticks
                    spent[stage] = spent.get(stage, 0) + 1
                    if task_id in active:
                        task.active_ticks += 1
                        worked = True
                    if stage != "waiting_dependency":  # its sibling's stage says why it waits
                        r = rank[stage]
                        if r < least:
                            least = r
                stage = STAGES[least] if least < no_stage else "merged"
                charged[stage] = charged.get(stage, 0) + 1
                if worked:
                    directive.active_ticks += 1
        return queue, blocked, tasks_open

    # ---- bottleneck ------------------------------------------------------------------------

    def _push_window(self, sample: dict[str, tuple[int, int, float]]) -> None:
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

    # ---- summaries -------------------------------------------------------------------------
