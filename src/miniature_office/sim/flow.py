"""Flow analytics computed by the engine each tick (DESIGN.md section 6)."""

from __future__ import annotations

from collections import deque
from statistics import median
from typing import Any

from .agents import BUSY_STATUSES, Role
from .tasks import BOARD_ORDER, DirectiveState, ReviewKind, ReviewStatus, TaskState
from .world import World

ROLES = tuple(r.value for r in Role)
BOTTLENECK_WINDOW = 16
REVIEW_QUEUE_ROLE = {
    ReviewKind.VERIFICATION: "verifier",
    ReviewKind.SECURITY: "security",
    ReviewKind.DOCUMENTATION: "doc_agent",
}


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(round(q / 100 * len(ordered) + 0.5))))
    return float(ordered[rank - 1])


class FlowTracker:
    """Keeps a bounded history of per-tick flow rows and recent lead and cycle times."""

    def __init__(self, history: int = 2000, samples: int = 500) -> None:
        self.history: deque[dict[str, Any]] = deque(maxlen=history)
        self.lead_times: deque[int] = deque(maxlen=samples)
        self.cycle_times: deque[int] = deque(maxlen=samples)
        self.deployed_ticks: deque[int] = deque()
        self._pressure: deque[dict[str, float]] = deque(maxlen=BOTTLENECK_WINDOW)

    @property
    def latest(self) -> dict[str, Any] | None:
        return self.history[-1] if self.history else None

    def record(self, world: World, deployed: list[str]) -> dict[str, Any]:
        """Compute this tick's row, append it to the history and return it."""
        tick = world.tick
        tasks_deployed_now = 0
        for directive_id in deployed:
            directive = world.directives[directive_id]
            self.lead_times.append(tick - directive.created_tick)
            self.deployed_ticks.append(tick)
            for task_id in directive.task_ids:
                task = world.tasks[task_id]
                tasks_deployed_now += 1
                if task.started_tick is not None and task.merged_tick is not None:
                    self.cycle_times.append(task.merged_tick - task.started_tick)
        per_day = world.settings.ticks_per_day
        while self.deployed_ticks and self.deployed_ticks[0] <= tick - per_day:
            self.deployed_ticks.popleft()
        queue, utilisation, blocked_now = self._queues(world)
        pressure = {role: queue[role] / max(1, self._headcount(world, role)) for role in ROLES}
        self._pressure.append(pressure)
        states = {s.value: world.state_counts[s] for s in BOARD_ORDER}
        states[TaskState.DEPLOYED.value] = world.totals["tasks_deployed"]
        leads = list(self.lead_times)
        row = {
            "tick": tick,
            "day": tick // per_day,
            "states": states,
            "wip": sum(
                world.state_counts[s]
                for s in (TaskState.IN_PROGRESS, TaskState.IN_REVIEW, TaskState.APPROVAL)
            ),
            "throughput": tasks_deployed_now,
            "directives_deployed": len(deployed),
            "deployed_total": world.totals["directives_deployed"],
            "throughput_per_day": len(self.deployed_ticks),
            "lead_time_median": median(leads) if leads else None,
            "lead_time_p85": percentile(leads, 85),
            "cycle_time_median": median(self.cycle_times) if self.cycle_times else None,
            "blocked": blocked_now,
            "queue": queue,
            "utilisation": utilisation,
            "escaped_defects": world.totals["escaped_defects"],
            "defects_found": world.totals["defects_found"],
            "bottleneck": self._bottleneck(utilisation),
            "audit_head": world.audit.head,
        }
        self.history.append(row)
        return row

    @staticmethod
    def _headcount(world: World, role: str) -> int:
        return world.headcount.get(role, 0)

    @staticmethod
    def _queues(world: World) -> tuple[dict[str, int], dict[str, float], int]:
        queue = {role: 0 for role in ROLES}
        busy_by_role = {role: 0 for role in Role}
        count_by_role = {role: 0 for role in Role}
        for agent in world.agents.values():
            count_by_role[agent.role] += 1
            if agent.status in BUSY_STATUSES:
                busy_by_role[agent.role] += 1
        busy = {role.value: n for role, n in busy_by_role.items()}
        counts = {role.value: n for role, n in count_by_role.items()}
        world.headcount = counts
        for directive in world.directives.values():
            if directive.state is DirectiveState.AWAITING_DESIGN:
                queue["architect"] += 1
        blocked = 0
        for task in world.tasks.values():
            state = task.state
            if state is TaskState.BLOCKED:
                blocked += 1
            elif state is TaskState.IN_PROGRESS and task.assignee is None:
                queue["builder"] += 1
            elif (
                state is TaskState.SCHEDULED
                and task.assignee is None
                and world.unmerged_dependency(task) is None
            ):
                queue["builder"] += 1
            elif state is TaskState.IN_REVIEW:
                for kind, status in task.reviews.items():
                    if status is ReviewStatus.PENDING:
                        queue[REVIEW_QUEUE_ROLE[kind]] += 1
            elif state is TaskState.APPROVAL:
                queue["manager"] += 1
        utilisation = {
            role: round(busy[role] / counts[role], 4) if counts[role] else 0.0 for role in ROLES
        }
        return queue, utilisation, blocked

    def _bottleneck(self, utilisation: dict[str, float]) -> str | None:
        """The role with the most queued work per head over the recent window."""
        totals = {role: sum(p[role] for p in self._pressure) for role in ROLES}
        best = max(ROLES, key=lambda r: (totals[r], utilisation[r]))
        if totals[best] > 0:
            return best
        busiest = max(ROLES, key=lambda r: utilisation[r])
        return busiest if utilisation[busiest] > 0 else None

    def summary(self, world: World) -> dict[str, Any]:
        """Headline figures for a finished run (CLI summary, sweep rows)."""
        leads = list(self.lead_times)
        latest = self.latest or {}
        days = max(world.tick / world.settings.ticks_per_day, 1e-9)
        return {
            "ticks": world.tick,
            "directives_created": world.totals["directives_created"],
            "directives_deployed": world.totals["directives_deployed"],
            "tasks_deployed": world.totals["tasks_deployed"],
            "throughput_per_day": round(world.totals["directives_deployed"] / days, 4),
            "lead_time_median": median(leads) if leads else None,
            "lead_time_p85": percentile(leads, 85),
            "lead_time_p95": percentile(leads, 95),
            "bottleneck": latest.get("bottleneck"),
            "escaped_defects": world.totals["escaped_defects"],
            "defects_found": world.totals["defects_found"],
            "meetings": world.totals["meetings"],
            "votes_failed": world.totals["votes_failed"],
            "reworks": world.totals["reworks"],
            "audit_events": world.audit.count,
            "audit_head": world.audit.head,
        }
