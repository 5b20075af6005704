"""The manager's dispatch: who works on what next, one unit of attention per assignment."""

from __future__ import annotations

from .agents import Activity, Agent, Role
from .assignment import assign
from .directives import design_effort
from .meetings import Meeting
from .members import (
    ACTIVITY_BUILD,
    ACTIVITY_COURIER,
    ACTIVITY_DESIGN,
    ACTIVITY_MEETING,
    AGENT_OFF_DUTY,
    DIRECTIVE_AWAITING_DESIGN,
    DIRECTIVE_DESIGNING,
    REVIEW_IN_PROGRESS,
    REVIEW_KIND_SECURITY,
    REVIEW_PENDING,
    ROLE_ARCHITECT,
    ROLE_BUILDER,
    TASK_APPROVAL,
    TASK_BLOCKED,
    TASK_IN_PROGRESS,
    TASK_IN_REVIEW,
    TASK_SCHEDULED,
    VOTE_OPEN,
)
from .reviews import REVIEW_ACTIVITY, REVIEW_ROLE
from .tasks import Task
from .votes import MANAGER_WEIGHT, Vote
from .world import Office, World

#: Who carries contracts to the elevator, in order of preference.
COURIER_ROLES = (Role.ARCHITECT, Role.DOC_AGENT, Role.BUILDER, Role.VERIFIER, Role.SECURITY)


class _Dispatcher:
    """The manager's dispatch for one office; every assignment costs one unit of attention."""

    def __init__(self, world: World, office: Office, manager: Agent) -> None:
        self.world = world
        self.office = office
        self.manager = manager
        self.free: dict[Role, list[Agent]] = {}
        self._levels: dict[str, int] = {}  # directive id -> aged priority this tick
        agents, free = world.building.agents, self.free
        off_duty = AGENT_OFF_DUTY
        for agent_id in office.agent_ids:
            agent = agents[agent_id]
            if agent.activity is None and agent.status is not off_duty:  # Agent.free
                pool = free.get(agent.role)
                if pool is None:
                    free[agent.role] = [agent]
                else:
                    pool.append(agent)

    def spend(self) -> bool:
        manager = self.manager
        if manager.attention_left <= 0:
            return False
        manager.attention_left -= 1
        manager.dispatched_this_tick += 1
        return True

    def take(self, role: Role, prefer: str | None = None, clearance: int = 0) -> Agent | None:
        """The preferred agent if free and cleared, else the first free one cleared."""
        pool = self.free.get(role)
        if not pool:
            return None
        chosen = None
        for agent in pool:
            if agent.clearance >= clearance:
                if agent.id == prefer:
                    chosen = agent
                    break
                if chosen is None:
                    chosen = agent
                    if prefer is None:
                        break
        if chosen is not None:
            pool.remove(chosen)
        return chosen

    def run(self) -> None:
        manager = self.manager
        manager.attention_left = manager.attention_budget
        manager.dispatched_this_tick = 0
        world = self.world
        for directive_id in self._awaiting_design():
            if not self.free.get(ROLE_ARCHITECT):
                break
            directive = world.board.directives[directive_id]
            if not self.spend():
                return
            architect = self.take(ROLE_ARCHITECT)
            assert architect is not None  # noqa: S101 - checked just above
            directive.state = DIRECTIVE_DESIGNING
            directive.architect = architect.id
            assign(
                world,
                architect,
                Activity(ACTIVITY_DESIGN, directive.id, design_effort(world, directive)),
            )
            directive.last_event = world.log(
                "directive.assigned",
                manager.id,
                directive.id,
                {"architect": architect.id},
                (directive.last_event,),
            )
            world.changes.directives[directive.id] = None
        if not self._send_couriers():
            return
        for task in self._by_priority_tasks():
            if not self._dispatch_task(task):
                return

    def _send_couriers(self) -> bool:
        """Someone free walks each outgoing contract to the elevator (architects first)."""
        outbox = self.office.outbox
        while outbox:
            role = next((r for r in COURIER_ROLES if self.free.get(r)), None)
            if role is None:
                return True
            if not self.spend():
                return False
            courier = self.take(role)
            assert courier is not None  # noqa: S101 - checked just above
            shipment = outbox.pop(0)
            assign(
                self.world,
                courier,
                Activity(ACTIVITY_COURIER, shipment.contract_id, 0, None, "elevator", shipment),
            )
        return True

    def _level(self, directive_id: str) -> int:
        """The directive's aged priority this tick (aging: waiting work gains priority)."""
        level = self._levels.get(directive_id)
        if level is None:
            directive = self.world.board.directives[directive_id]
            level = self.world.effective_priority(directive.priority, directive.arrived_tick)
            self._levels[directive_id] = level
        return level

    def _awaiting_design(self) -> list[str]:
        """Directives waiting for an architect, most urgent first (ties by id); none to look
        at while no architect is free."""
        if not self.free.get(ROLE_ARCHITECT):
            return []
        directives = self.world.board.directives
        awaiting = DIRECTIVE_AWAITING_DESIGN
        ids = [d for d in self.office.directive_ids if directives[d].state is awaiting]
        level = self._level
        return sorted(ids, key=lambda d: (level(d), d))

    def _by_priority_tasks(self) -> list[Task]:
        """The office's tasks dispatch can serve now, most urgent first.

        A task needs nothing from dispatch when it is merged, being built, waiting for a
        sibling to merge, waiting in review only for roles nobody free (and cleared) has, or
        voting; one that needs a builder waits while no builder is free. Those are left out
        before sorting (the free pools only shrink while dispatch runs, and dispatch merges
        nothing, so :meth:`_dispatch_task` would do nothing for them): the candidates
        come from the office's tasks by state (``TaskBoard.tasks_in``), and sorting them by
        (aged priority, id) serves the same tasks in the same order as sorting all of them.
        """
        world, free = self.world, self.free
        tasks, votes = world.board.tasks, world.board.votes
        by_state = world.board.tasks_in(self.office.id)  # the office's tasks by state (World)
        waiting = []
        if free.get(ROLE_BUILDER):
            unmerged_dependency = world.unmerged_dependency
            for task_id in by_state[TASK_SCHEDULED]:
                task = tasks[task_id]
                # one waiting for a sibling to merge needs nothing until it has (dispatch
                # merges nothing, so it would still be waiting when its turn came)
                if task.assignee is None and unmerged_dependency(task) is None:
                    waiting.append(task)
            for task_id in by_state[TASK_IN_PROGRESS]:
                task = tasks[task_id]
                if task.assignee is None:
                    waiting.append(task)
            for task_id in by_state[TASK_BLOCKED]:
                task = tasks[task_id]
                if task.blocked_reason == "assignee dismissed":
                    waiting.append(task)
        reviewer_free = {kind: bool(free.get(role)) for kind, role in REVIEW_ROLE.items()}
        if any(reviewer_free.values()):
            pending, security = REVIEW_PENDING, REVIEW_KIND_SECURITY
            # a security review needs a free reviewer cleared for the task's level
            cleared = max(
                (agent.clearance for agent in free.get(REVIEW_ROLE[security], ())), default=-1
            )
            for task_id in by_state[TASK_IN_REVIEW]:
                task = tasks[task_id]
                for kind, status in task.reviews.items():
                    if (
                        status is pending
                        and reviewer_free[kind]
                        and (kind is not security or cleared >= task.security_level)
                    ):
                        waiting.append(task)
                        break
        open_vote = VOTE_OPEN
        for task_id in by_state[TASK_APPROVAL]:
            task = tasks[task_id]
            vote = votes.get(task.vote_id or "")
            if vote is None or vote.outcome is not open_vote:
                waiting.append(task)
        if len(waiting) > 1:
            level = self._level
            waiting.sort(key=lambda t: (level(t.directive_id), t.id))
        return waiting

    def _dispatch_task(self, task: Task) -> bool:
        """Dispatch what ``task`` needs next; False once the manager's attention is spent."""
        world = self.world
        state = task.state
        if (
            state is TASK_SCHEDULED
            and task.assignee is None
            and self.world.unmerged_dependency(task) is None
        ):
            if task.ambiguity >= world.settings.ambiguity_threshold and not task.meeting_done:
                return self._call_meeting(task)
            return self._assign_builder(task)
        if state is TASK_IN_PROGRESS and task.assignee is None:
            return self._assign_builder(task)
        if state is TASK_BLOCKED and task.blocked_reason == "assignee dismissed":
            if self.free.get(ROLE_BUILDER):
                if not self.spend():
                    return False
                world.transition(task, TASK_IN_PROGRESS, "a builder took over", self.manager.id)
                task.assignee = None
                return self._assign_builder(task)
        if state is TASK_IN_REVIEW:
            return self._assign_reviews(task)
        if state is TASK_APPROVAL:
            vote = world.board.votes.get(task.vote_id or "")
            if vote is None or vote.outcome is not VOTE_OPEN:
                return self._open_vote(task)
        return True

    def _assign_builder(self, task: Task) -> bool:
        if not self.free.get(ROLE_BUILDER):
            return True
        if not self.spend():
            return False
        builder = self.take(ROLE_BUILDER, prefer=task.last_builder)
        assert builder is not None  # noqa: S101 - checked just above
        self._give_build(task, builder)
        return True

    def _give_build(self, task: Task, builder: Agent) -> None:
        world = self.world
        task.assignee = task.last_builder = builder.id
        assign(world, builder, Activity(ACTIVITY_BUILD, task.id, task.effort, "build"))
        task.last_event = world.log(
            "task.assigned",
            self.manager.id,
            task.id,
            {"agent": builder.id, "role": "builder"},
            (task.last_event,),
        )
        world.changes.tasks[task.id] = None

    def _call_meeting(self, task: Task) -> bool:
        manager = self.manager
        if manager.activity is not None:
            return True
        if not (self.free.get(ROLE_ARCHITECT) and self.free.get(ROLE_BUILDER)):
            return True
        if not self.spend():
            return False
        world = self.world
        architect = self.take(ROLE_ARCHITECT)
        builder = self.take(ROLE_BUILDER, prefer=task.last_builder)
        assert architect is not None and builder is not None  # noqa: S101
        meeting = Meeting(
            id=world.next_id("M"),
            task_id=task.id,
            floor_id=task.floor_id,
            office_id=task.office_id,
            participants=[architect.id, builder.id, manager.id],
            called_tick=world.tick,
            duration=world.settings.meeting_ticks,
            ambiguity_before=task.ambiguity,
        )
        world.board.add_meeting(meeting)
        world.totals["meetings"] += 1
        task.meeting_id = meeting.id
        task.assignee = task.last_builder = builder.id
        for agent in (architect, builder, manager):
            assign(world, agent, Activity(ACTIVITY_MEETING, meeting.id, 0, None, "meeting"))
        task.last_event = world.log(
            "meeting.called",
            manager.id,
            meeting.id,
            {
                "task": task.id,
                "participants": meeting.participants,
                "ambiguity": round(task.ambiguity, 3),
            },
            (task.last_event,),
        )
        world.changes.meetings[meeting.id] = None
        world.changes.tasks[task.id] = None
        return True

    def _assign_reviews(self, task: Task) -> bool:
        world = self.world
        for kind, status in task.reviews.items():
            if status is not REVIEW_PENDING:
                continue
            role = REVIEW_ROLE[kind]
            pool = self.free.get(role)
            if not pool:
                continue
            clearance = task.security_level if kind is REVIEW_KIND_SECURITY else 0
            for agent in pool:
                if agent.clearance >= clearance:
                    break
            else:  # nobody free is cleared for it
                continue
            if not self.spend():
                return False
            reviewer = self.take(role, prefer=task.reviewers.get(kind), clearance=clearance)
            assert reviewer is not None  # noqa: S101
            activity_kind, capability = REVIEW_ACTIVITY[kind]
            effort = max(1.0, task.effort * world.settings.review_effort_share)
            assign(world, reviewer, Activity(activity_kind, task.id, effort, capability))
            task.reviews[kind] = REVIEW_IN_PROGRESS
            task.reviewers[kind] = reviewer.id
            task.last_event = world.log(
                "review.assigned",
                self.manager.id,
                task.id,
                {"review": kind.value, "agent": reviewer.id},
                (task.last_event,),
            )
            world.changes.tasks[task.id] = None
        return True

    def _open_vote(self, task: Task) -> bool:
        if not self.spend():
            return False
        world = self.world
        manager = self.manager
        weights = {
            agent_id: 1
            for agent_id in dict.fromkeys(task.reviewers.values())
            if agent_id in world.building.agents and agent_id != manager.id
        }
        weights[manager.id] = MANAGER_WEIGHT
        vote = Vote(
            id=world.next_id("V"),
            task_id=task.id,
            floor_id=task.floor_id,
            office_id=task.office_id,
            opened_tick=world.tick,
            weights=weights,
        )
        world.board.votes[vote.id] = vote
        task.vote_id = vote.id
        task.vote_carried = False
        task.last_event = world.log(
            "vote.opened",
            manager.id,
            vote.id,
            # a copy: the vote's weights change later (a dismissed voter leaves them), the
            # event's data must not (its hash covers what it said then)
            {"task": task.id, "weights": dict(weights)},
            (task.last_event,),
        )
        world.changes.votes[vote.id] = None
        world.changes.tasks[task.id] = None
        return True


def dispatch(world: World, office: Office) -> None:
    """The office manager's dispatch for this tick (an office without a manager has none)."""
    if office.manager_id:
        _Dispatcher(world, office, world.building.agents[office.manager_id]).run()
