"""The task board: the work in the building, from arrival to deployment, and its indexes.

``world.board`` is one :class:`TaskBoard`: the backlog of offered arrivals, the directives and
their tasks, the meetings and votes held over them, the artifacts they produced, how many tasks
are in each state, and the directives queued to deploy. The rules that move work along live in
the tick modules (sim/directives.py, dispatch, acting, reviews, meeting_flow, voting,
deployment); a task changes state only through ``World.transition``, which keeps the board's
counts and indexes in step.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from mypy_extensions import mypyc_attr

from .artifacts import Artifact
from .meetings import Meeting
from .members import TASK_BLOCKED, TASK_DEPLOYED, TASK_IN_PROGRESS, TASK_MERGED
from .scenario import DirectiveRequest, DirectiveSpec
from .tasks import Directive, Task, TaskState
from .votes import Vote


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class Arrival:
    """A directive offered by the arrival stream and not admitted yet: the visible backlog."""

    seq: int  # offer ordinal: the n-th random arrival of the run
    key: str  # stable identity ("arrival:17"): keys the directive's draws once admitted
    offered_tick: int
    request: DirectiveRequest  # the directive it opens once admitted
    last_event: int = 0

    def to_dict(self, tick: int) -> dict[str, Any]:
        request = self.request
        return {
            "key": self.key,
            "title": request.title,
            "floor_id": request.floor,
            "priority": request.priority,
            "offered_tick": self.offered_tick,
            "age": tick - self.offered_tick,
        }


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
class TaskBoard:
    """Directives, tasks, meetings, votes, artifacts, the backlog and the deploy queue."""

    def __init__(self, scripted: list[DirectiveSpec]) -> None:
        self.backlog: list[Arrival] = []  # offered arrivals waiting for admission, in order
        self.scripted = sorted(scripted, key=lambda d: d.tick)
        self.scripted_released = 0  # scripted scenario directives already created
        self.directives: dict[str, Directive] = {}
        self.tasks: dict[str, Task] = {}
        self.meetings: dict[str, Meeting] = {}
        self.votes: dict[str, Vote] = {}
        self.artifacts: dict[str, Artifact] = {}
        self.state_counts: dict[TaskState, int] = {s: 0 for s in TaskState}
        self.deploy_ready: dict[str, None] = {}  # directives whose last task just merged
        self.deployed_order: deque[str] = deque()  # deployed directives, oldest first
        # Indexes kept up to date as work changes, so the tick reads what it needs instead of
        # scanning every task (not part of a snapshot: :meth:`rebuild_indexes` derives them).
        self.task_order: dict[str, int] = {}  # task id -> registration order
        self._tasks_indexed = 0
        # office id -> task state -> the office's tasks in that state (deployed ones leave)
        self.office_tasks: dict[str, dict[TaskState, dict[str, None]]] = {}
        self.open_meetings: dict[str, dict[str, None]] = {}  # office id -> meetings called

    def enter(self, task: Task, source: TaskState, target: TaskState, tick: int) -> None:
        """Move ``task`` from ``source`` to ``target`` at ``tick`` (``World.transition`` checked
        it): the counts, the office index and the task's own clocks."""
        self.state_counts[source] -= 1
        self.state_counts[target] += 1
        by_state = self.office_tasks.get(task.office_id)
        if by_state is not None:
            by_state[source].pop(task.id, None)
            if target is not TASK_DEPLOYED:
                by_state[target][task.id] = None
        if target is TASK_BLOCKED:
            task.blocked_from = source
            task.blocked_since = tick
        elif source is TASK_BLOCKED:
            task.blocked_ticks += tick - (task.blocked_since or tick)
            task.blocked_from = task.blocked_reason = task.blocked_since = None
        if target is TASK_IN_PROGRESS and task.started_tick is None:
            task.started_tick = tick
        if target is TASK_MERGED:
            task.merged_tick = tick
        if target is TASK_DEPLOYED:
            task.deployed_tick = tick
        task.state = target

    def add_task(self, task: Task) -> None:
        """Put a new task on the board (``World.register_task`` also files it in its office)."""
        self.tasks[task.id] = task
        self.state_counts[task.state] += 1
        self._index_task(task)

    def _index_task(self, task: Task) -> None:
        self.task_order[task.id] = self._tasks_indexed
        self._tasks_indexed += 1
        if task.state is not TASK_DEPLOYED:
            self.tasks_in(task.office_id)[task.state][task.id] = None

    def tasks_in(self, office_id: str) -> dict[TaskState, dict[str, None]]:
        """The office's open tasks by state (ids in the order they entered the state)."""
        by_state = self.office_tasks.get(office_id)
        if by_state is None:
            by_state = self.office_tasks[office_id] = {s: {} for s in TaskState}
        return by_state

    def add_meeting(self, meeting: Meeting) -> None:
        """Record a called meeting (and index it under its office until it concludes)."""
        self.meetings[meeting.id] = meeting
        self.open_meetings.setdefault(meeting.office_id, {})[meeting.id] = None

    def in_office_order(self, task_ids: list[str]) -> list[str]:
        """``task_ids`` in the order of their office's ``task_ids`` (registration order)."""
        if len(task_ids) > 1:
            task_ids.sort(key=self.task_order.__getitem__)
        return task_ids

    def forget_task(self, task_id: str) -> None:
        """Drop a task that left memory from the indexes."""
        self.task_order.pop(task_id, None)

    def rebuild_indexes(self, office_task_ids: list[list[str]]) -> None:
        """Derive the indexes from the registries (after a snapshot was loaded), given every
        office's ``task_ids`` in office order."""
        self.task_order, self.office_tasks, self.open_meetings = {}, {}, {}
        self._tasks_indexed = 0
        for task_ids in office_task_ids:
            for task_id in task_ids:
                self._index_task(self.tasks[task_id])
        for meeting in self.meetings.values():
            if meeting.open:
                self.open_meetings.setdefault(meeting.office_id, {})[meeting.id] = None


__all__ = ["Arrival", "TaskBoard"]
