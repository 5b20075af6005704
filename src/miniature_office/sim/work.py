"""One office's tick: the manager dispatches, agents act, meetings advance, votes close.

Then, across the world, merged directives deploy and old finished work leaves memory.
"""

from __future__ import annotations

from .agents import Activity, ActivityKind, Agent, AgentStatus, Role
from .artifacts import ArtifactKind
from .contracts import ContractState
from .directives import complete_design, design_effort, publish_contract
from .errors import TransitionRefused
from .floorplan import advance, waypoints
from .meetings import Meeting
from .supply import checkout, give_back
from .tasks import DirectiveState, ReviewKind, ReviewStatus, Task, TaskState
from .votes import MANAGER_WEIGHT, Vote, VoteOutcome
from .world import Office, World, set_status

REVIEW_ROLE = {
    ReviewKind.VERIFICATION: Role.VERIFIER,
    ReviewKind.SECURITY: Role.SECURITY,
    ReviewKind.DOCUMENTATION: Role.DOC_AGENT,
}
REVIEW_ACTIVITY = {
    ReviewKind.VERIFICATION: (ActivityKind.VERIFY, "test"),
    ReviewKind.SECURITY: (ActivityKind.SECURE, "scan"),
    ReviewKind.DOCUMENTATION: (ActivityKind.DOCUMENT, "docs"),
}
ACTIVITY_REVIEW = {kind: review for review, (kind, _) in REVIEW_ACTIVITY.items()}
#: Who carries contracts to the elevator, in order of preference.
COURIER_ROLES = (Role.ARCHITECT, Role.DOC_AGENT, Role.BUILDER, Role.VERIFIER, Role.SECURITY)
DECISIONS = (
    "narrow the scope to the smallest useful change",
    "agree the interface before building",
    "split out the risky part behind a flag",
    "reuse the existing module instead of a new one",
    "write the acceptance test first",
)


# ---- dispatch ---------------------------------------------------------------------------------


class _Dispatcher:
    """The manager's dispatch for one office; every assignment costs one unit of attention."""

    def __init__(self, world: World, office: Office) -> None:
        self.world = world
        self.office = office
        self.manager = world.agents[office.manager_id] if office.manager_id else None
        self.free: dict[Role, list[Agent]] = {}
        for agent_id in office.agent_ids:
            agent = world.agents[agent_id]
            if agent.free:
                self.free.setdefault(agent.role, []).append(agent)

    def spend(self) -> bool:
        manager = self.manager
        if manager is None or manager.attention_left <= 0:
            return False
        manager.attention_left -= 1
        return True

    def take(self, role: Role, prefer: str | None = None, clearance: int = 0) -> Agent | None:
        pool = self.free.get(role, [])
        chosen = next((a for a in pool if a.id == prefer and a.clearance >= clearance), None)
        chosen = chosen or next((a for a in pool if a.clearance >= clearance), None)
        if chosen is not None:
            pool.remove(chosen)
        return chosen

    def run(self) -> None:
        if self.manager is None:
            return
        self.manager.attention_left = self.manager.attention_budget
        world = self.world
        for directive_id in self._by_priority_directives():
            directive = world.directives[directive_id]
            if directive.state is DirectiveState.AWAITING_DESIGN and self.free.get(Role.ARCHITECT):
                if not self.spend():
                    return
                architect = self.take(Role.ARCHITECT)
                assert architect is not None  # noqa: S101 - checked just above
                directive.state = DirectiveState.DESIGNING
                directive.architect = architect.id
                assign(
                    world,
                    architect,
                    Activity(ActivityKind.DESIGN, directive.id, design_effort(directive)),
                )
                directive.last_event = world.log(
                    "directive.assigned",
                    self.manager.id,
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
                Activity(ActivityKind.COURIER, shipment.contract_id, 0, None, "elevator", shipment),
            )
        return True

    def _by_priority_directives(self) -> list[str]:
        ds = self.world.directives
        return sorted(self.office.directive_ids, key=lambda d: (ds[d].priority, d))

    def _by_priority_tasks(self) -> list[Task]:
        world = self.world
        tasks = [world.tasks[t] for t in self.office.task_ids]
        return sorted(tasks, key=lambda t: (world.directives[t.directive_id].priority, t.id))

    def _dispatch_task(self, task: Task) -> bool:
        """Dispatch what ``task`` needs next; False once the manager's attention is spent."""
        world = self.world
        state = task.state
        if (
            state is TaskState.SCHEDULED
            and task.assignee is None
            and self.world.unmerged_dependency(task) is None
        ):
            if task.ambiguity >= world.settings.ambiguity_threshold and not task.meeting_done:
                return self._call_meeting(task)
            return self._assign_builder(task)
        if state is TaskState.IN_PROGRESS and task.assignee is None:
            return self._assign_builder(task)
        if state is TaskState.BLOCKED and task.blocked_reason == "assignee dismissed":
            if self.free.get(Role.BUILDER):
                if not self.spend():
                    return False
                world.transition(
                    task, TaskState.IN_PROGRESS, "a builder took over", self.manager.id
                )
                task.assignee = None
                return self._assign_builder(task)
        if state is TaskState.IN_REVIEW:
            return self._assign_reviews(task)
        if state is TaskState.APPROVAL:
            vote = world.votes.get(task.vote_id or "")
            if vote is None or vote.outcome is not VoteOutcome.OPEN:
                return self._open_vote(task)
        return True

    def _assign_builder(self, task: Task) -> bool:
        if not self.free.get(Role.BUILDER):
            return True
        if not self.spend():
            return False
        builder = self.take(Role.BUILDER, prefer=task.last_builder)
        assert builder is not None  # noqa: S101 - checked just above
        self._give_build(task, builder)
        return True

    def _give_build(self, task: Task, builder: Agent) -> None:
        world = self.world
        task.assignee = task.last_builder = builder.id
        assign(world, builder, Activity(ActivityKind.BUILD, task.id, task.effort, "build"))
        task.last_event = world.log(
            "task.assigned",
            self.manager.id if self.manager else "system",
            task.id,
            {"agent": builder.id, "role": "builder"},
            (task.last_event,),
        )
        world.changes.tasks[task.id] = None

    def _call_meeting(self, task: Task) -> bool:
        manager = self.manager
        if manager is None or manager.activity is not None:
            return True
        if not (self.free.get(Role.ARCHITECT) and self.free.get(Role.BUILDER)):
            return True
        if not self.spend():
            return False
        world = self.world
        architect = self.take(Role.ARCHITECT)
        builder = self.take(Role.BUILDER, prefer=task.last_builder)
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
        world.meetings[meeting.id] = meeting
        world.totals["meetings"] += 1
        task.meeting_id = meeting.id
        task.assignee = task.last_builder = builder.id
        for agent in (architect, builder, manager):
            assign(world, agent, Activity(ActivityKind.MEETING, meeting.id, 0, None, "meeting"))
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
            if status is not ReviewStatus.PENDING:
                continue
            role = REVIEW_ROLE[kind]
            clearance = task.security_level if kind is ReviewKind.SECURITY else 0
            if not any(a.clearance >= clearance for a in self.free.get(role, [])):
                continue
            if not self.spend():
                return False
            reviewer = self.take(role, prefer=task.reviewers.get(kind), clearance=clearance)
            assert reviewer is not None  # noqa: S101
            activity_kind, capability = REVIEW_ACTIVITY[kind]
            effort = max(1.0, task.effort / 4)
            assign(world, reviewer, Activity(activity_kind, task.id, effort, capability))
            task.reviews[kind] = ReviewStatus.IN_PROGRESS
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
            if agent_id in world.agents and agent_id != manager.id
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
        world.votes[vote.id] = vote
        task.vote_id = vote.id
        task.vote_carried = False
        task.last_event = world.log(
            "vote.opened",
            manager.id,
            vote.id,
            {"task": task.id, "weights": weights},
            (task.last_event,),
        )
        world.changes.votes[vote.id] = None
        world.changes.tasks[task.id] = None
        return True


def dispatch(world: World, office: Office) -> None:
    _Dispatcher(world, office).run()


def assign(world: World, agent: Agent, activity: Activity) -> None:
    agent.activity = activity
    world.changes.agents[agent.id] = None


# ---- agents act -------------------------------------------------------------------------------


def act(world: World, agent: Agent) -> None:
    """One agent's tick: walk, fetch a tool, or do a tick of its activity."""
    if agent.role is not Role.MANAGER:
        agent.attention_left = agent.attention_budget
    activity = agent.activity
    if activity is not None and not _still_needed(world, agent, activity):
        abandon(world, agent)
        activity = None
    if agent.path:
        _walk(world, agent)
        return
    if activity is None:
        set_status(agent, AgentStatus.IDLE, world)
        return
    if activity.capability and agent.held_tool is None:
        _fetch_tool(world, agent, activity)
        return
    spot = _place(world, agent, activity)
    if (agent.x, agent.y) != spot:
        agent.path = waypoints((agent.x, agent.y), spot)
        _walk(world, agent)
        return
    agent.attention_left -= 1
    agent.busy_ticks += 1
    world.changes.agents[agent.id] = None
    WORK[activity.kind](world, agent, activity)


def _walk(world: World, agent: Agent) -> None:
    agent.x, agent.y = advance((agent.x, agent.y), agent.path, world.settings.walk_speed)
    agent.busy_ticks += 1
    set_status(agent, AgentStatus.WALKING, world)
    world.changes.agents[agent.id] = None


def _place(world: World, agent: Agent, activity: Activity) -> tuple[int, int]:
    if activity.place == "elevator":
        lift_x, lift_y = world.floors[agent.floor_id].plan.elevator
        return (lift_x - 1, lift_y)
    if activity.place == "meeting":
        meeting = world.meetings[activity.target]
        room = world.floors[agent.floor_id].plan.meeting
        seat = meeting.participants.index(agent.id)
        return (room.x + 1 + seat, room.y + 1)
    return agent.desk


def _fetch_tool(world: World, agent: Agent, activity: Activity) -> None:
    plan = world.floors[agent.floor_id].plan
    door = plan.supply_door
    if (agent.x, agent.y) != door:
        agent.path = waypoints((agent.x, agent.y), door)
        _walk(world, agent)
        return
    task = world.tasks.get(activity.target)
    justification = f"{activity.kind.value} of {activity.target}" if task else None
    result = checkout(
        world.floor_tools(agent.floor_id), agent.id, activity.capability or "", justification
    )
    if result.ok:
        agent.held_tool = result.tool.id
        agent.waiting_for = None
        world.log(
            "tool.checked_out",
            agent.id,
            result.tool.id,
            {
                "for": activity.target,
                "capability": activity.capability,
                "justification": justification if result.tool.sensitive else None,
            },
        )
        world.changes.tools[result.tool.id] = None
        agent.path = waypoints(door, _place(world, agent, activity))
        set_status(agent, AgentStatus.WALKING, world)
        return
    tool_id = result.tool.id if result.tool else None
    if agent.waiting_for != (tool_id or result.reason):
        agent.waiting_for = tool_id or result.reason
        world.log(
            "tool.waiting",
            agent.id,
            tool_id or activity.capability or "",
            {"reason": result.reason, "for": activity.target},
        )
        if tool_id:
            world.changes.tools[tool_id] = None
    status = AgentStatus.WAITING if result.reason == "no_slot" else AgentStatus.BLOCKED
    set_status(agent, status, world)


def release(world: World, agent: Agent) -> None:
    """Finish or abandon the current activity: give back the tool, become free."""
    if agent.held_tool:
        tool = world.tools.get(agent.held_tool)
        if tool is not None:
            give_back(tool, agent.id)
            world.log("tool.returned", agent.id, tool.id, {})
            world.changes.tools[tool.id] = None
        agent.held_tool = None
    elif agent.waiting_for and agent.waiting_for in world.tools:
        give_back(world.tools[agent.waiting_for], agent.id)
        world.changes.tools[agent.waiting_for] = None
    agent.waiting_for = None
    agent.activity = None
    agent.path = []
    set_status(agent, AgentStatus.IDLE, world)
    world.changes.agents[agent.id] = None


def abandon(world: World, agent: Agent) -> None:
    """Drop the agent's activity and hand its share of a task back to the queue."""
    activity = agent.activity
    release(world, agent)
    task = world.tasks.get(activity.target) if activity else None
    if task is None:
        return
    if task.assignee == agent.id and activity.kind is ActivityKind.BUILD:
        task.assignee = None
    for kind, reviewer in task.reviewers.items():
        if reviewer == agent.id and task.reviews.get(kind) is ReviewStatus.IN_PROGRESS:
            task.reviews[kind] = ReviewStatus.PENDING
    world.changes.tasks[task.id] = None


def _still_needed(world: World, agent: Agent, activity: Activity) -> bool:
    kind = activity.kind
    if kind is ActivityKind.DESIGN:
        directive = world.directives.get(activity.target)
        return directive is not None and directive.state is DirectiveState.DESIGNING
    if kind is ActivityKind.MEETING:
        meeting = world.meetings.get(activity.target)
        return meeting is not None and meeting.open
    if kind is ActivityKind.COURIER:
        return True
    task = world.tasks.get(activity.target)
    if task is None:
        return False
    if kind is ActivityKind.BUILD:
        return task.assignee == agent.id and task.state in (
            TaskState.SCHEDULED,
            TaskState.IN_PROGRESS,
        )
    review = ACTIVITY_REVIEW[kind]
    return (
        task.state is TaskState.IN_REVIEW
        and task.reviews.get(review) is ReviewStatus.IN_PROGRESS
        and task.reviewers.get(review) == agent.id
    )


def _work_design(world: World, agent: Agent, activity: Activity) -> None:
    set_status(agent, AgentStatus.WORKING, world)
    activity.remaining -= 0.5 + agent.skill("design")
    if activity.remaining <= 0:
        directive = world.directives[activity.target]
        release(world, agent)
        complete_design(world, agent, directive)


def _work_build(world: World, agent: Agent, activity: Activity) -> None:
    task = world.tasks[activity.target]
    if task.state is TaskState.SCHEDULED:
        try:
            world.transition(
                task, TaskState.IN_PROGRESS, "builder started with a build tool", agent.id
            )
        except TransitionRefused:
            task.assignee = None
            release(world, agent)
            return
    set_status(agent, AgentStatus.WORKING, world)
    skill = agent.skill("build")
    task.progress += 0.6 + 0.8 * skill
    if world.chance(0.12 * task.complexity * (1.2 - skill)):
        task.defects += 1
    if task.sensitivity > 0 and world.chance(0.08 * task.sensitivity * (1.2 - skill)):
        task.vulnerabilities += 1
    world.changes.tasks[task.id] = None
    if task.progress < task.effort:
        return
    change = world.add_artifact(
        ArtifactKind.CODE_CHANGE,
        task.id,
        agent.id,
        {"task": task.id, "effort": round(task.effort, 3), "revision": task.rework_count + 1},
        version=task.rework_count + 1,
    )
    task.artifacts.append(change.id)
    task.reviews = world.reviews_for(task)
    task.assignee = None
    release(world, agent)
    world.transition(task, TaskState.IN_REVIEW, f"code change {change.id} ready", agent.id)


def _work_review(world: World, agent: Agent, activity: Activity) -> None:
    set_status(agent, AgentStatus.REVIEWING, world)
    kind = ACTIVITY_REVIEW[activity.kind]
    activity.remaining -= 0.5 + agent.skill(_skill_of(kind))
    if activity.remaining > 0:
        return
    task = world.tasks[activity.target]
    release(world, agent)
    found = 0
    if kind is ReviewKind.VERIFICATION:
        found = sum(
            1 for _ in range(task.defects) if world.chance(0.45 + 0.45 * agent.skill("verify"))
        )
        task.defects -= found
        task.defects_found += found
        world.totals["defects_found"] += found
    elif kind is ReviewKind.SECURITY:
        found = sum(
            1
            for _ in range(task.vulnerabilities)
            if world.chance(0.4 + 0.5 * agent.skill("security"))
        )
        task.vulnerabilities -= found
        task.vulnerabilities_found += found
        world.totals["vulnerabilities_found"] += found
    artifact_kind = (
        ArtifactKind.DOCUMENT if kind is ReviewKind.DOCUMENTATION else ArtifactKind.REVIEW_REPORT
    )
    report = world.add_artifact(
        artifact_kind,
        task.id,
        agent.id,
        {"task": task.id, "review": kind.value, "found": found, "passed": found == 0},
    )
    task.artifacts.append(report.id)
    task.reviews[kind] = ReviewStatus.PASSED if found == 0 else ReviewStatus.FAILED
    task.last_event = world.log(
        "review.completed",
        agent.id,
        task.id,
        {"review": kind.value, "found": found, "passed": found == 0, "artifact": report.id},
        (task.last_event,),
    )
    world.changes.tasks[task.id] = None
    if found:
        _rework(
            world,
            task,
            agent.id,
            f"{kind.value} review found {found} issue(s)",
            found * world.uniform(1.0, 2.0),
        )
    elif task.all_reviews_passed():
        world.transition(task, TaskState.APPROVAL, "every required review passed", agent.id)


def _skill_of(kind: ReviewKind) -> str:
    return {
        ReviewKind.VERIFICATION: "verify",
        ReviewKind.SECURITY: "security",
        ReviewKind.DOCUMENTATION: "docs",
    }[kind]


def _rework(world: World, task: Task, actor: str, reason: str, extra_effort: float) -> None:
    world.transition(task, TaskState.IN_PROGRESS, reason, actor)
    task.effort = round(task.effort + extra_effort, 3)
    task.rework_count += 1
    task.reviews = {}
    task.assignee = None
    world.totals["reworks"] += 1


def _work_meeting(world: World, agent: Agent, activity: Activity) -> None:
    set_status(agent, AgentStatus.IN_MEETING, world)


def _work_courier(world: World, agent: Agent, activity: Activity) -> None:
    """At the elevator: hand the contract over; the car takes it from here."""
    shipment = activity.cargo
    release(world, agent)
    if shipment is None:
        return
    world.elevator.queue.append(shipment)
    world.changes.elevator = True
    contract = world.contracts.get(shipment.contract_id)
    if contract is not None:
        contract.last_event = world.log(
            "contract.handed_over",
            agent.id,
            contract.id,
            {"kind": shipment.kind, "from": shipment.origin, "to": shipment.destination},
            (contract.last_event,),
        )
        world.changes.contracts[contract.id] = None


WORK = {
    ActivityKind.DESIGN: _work_design,
    ActivityKind.BUILD: _work_build,
    ActivityKind.VERIFY: _work_review,
    ActivityKind.SECURE: _work_review,
    ActivityKind.DOCUMENT: _work_review,
    ActivityKind.MEETING: _work_meeting,
    ActivityKind.COURIER: _work_courier,
}


# ---- meetings and votes -----------------------------------------------------------------------


def advance_meetings(world: World, office: Office) -> None:
    for meeting in [world.meetings[m] for m in _open_meetings(world, office)]:
        present = all(
            (a := world.agents.get(p)) is not None and a.status is AgentStatus.IN_MEETING
            for p in meeting.participants
        )
        if not present:
            continue
        if meeting.started_tick is None:
            meeting.started_tick = world.tick
        meeting.progress += 1
        speaker = meeting.participants[meeting.progress % len(meeting.participants)]
        meeting.transcript.append(
            {"tick": world.tick, "who": speaker, "said": world.pick(list(DECISIONS))}
        )
        world.changes.meetings[meeting.id] = None
        if meeting.progress >= meeting.duration:
            _conclude(world, meeting)


def _open_meetings(world: World, office: Office) -> list[str]:
    ids = []
    for task_id in office.task_ids:
        meeting_id = world.tasks[task_id].meeting_id
        if meeting_id and world.meetings[meeting_id].open:
            ids.append(meeting_id)
    return ids


def _conclude(world: World, meeting: Meeting) -> None:
    task = world.tasks[meeting.task_id]
    meeting.concluded_tick = world.tick
    task.ambiguity = round(task.ambiguity * 0.35, 4)
    task.meeting_done = True
    decisions = [
        {"who": line["who"], "when": line["tick"], "what": line["said"]}
        for line in meeting.transcript
    ]
    transcript = world.add_artifact(
        ArtifactKind.DECISION_TRANSCRIPT,
        meeting.id,
        meeting.participants[0],
        {
            "task": task.id,
            "participants": meeting.participants,
            "decisions": decisions,
            "ambiguity_before": round(meeting.ambiguity_before, 3),
            "ambiguity_after": task.ambiguity,
        },
    )
    meeting.artifact_id = transcript.id
    task.artifacts.append(transcript.id)
    task.last_event = world.log(
        "meeting.concluded",
        meeting.participants[-1],
        meeting.id,
        {
            "task": task.id,
            "artifact": transcript.id,
            "hash": transcript.hash,
            "ambiguity_after": task.ambiguity,
        },
        (task.last_event,),
    )
    builder_id = meeting.participants[1]
    for agent_id in meeting.participants:
        agent = world.agents.get(agent_id)
        if agent is not None and agent.activity and agent.activity.target == meeting.id:
            release(world, agent)
    builder = world.agents.get(builder_id)
    if builder is not None and task.assignee == builder_id:
        assign(world, builder, Activity(ActivityKind.BUILD, task.id, task.effort, "build"))
    else:
        task.assignee = None
    world.changes.tasks[task.id] = None


def close_votes(world: World, office: Office) -> None:
    """Voters cast ballots with the attention they have left; the manager closes full votes."""
    manager = world.agents.get(office.manager_id or "")
    closed = 0
    for task_id in list(office.task_ids):
        task = world.tasks[task_id]
        vote = world.votes.get(task.vote_id or "")
        if (
            vote is None
            or vote.outcome is not VoteOutcome.OPEN
            or task.state is not TaskState.APPROVAL
        ):
            continue
        for voter_id in list(vote.weights):
            voter = world.agents.get(voter_id)
            if voter_id in vote.ballots or voter is None or voter.attention_left <= 0:
                continue
            voter.attention_left -= 1
            yes_chance = 0.95 if voter.role is Role.MANAGER else 0.97 - 0.35 * task.complexity
            vote.ballots[voter_id] = world.chance(yes_chance)
            world.changes.votes[vote.id] = None
        if not vote.complete or manager is None or manager.attention_left <= 0:
            continue
        if closed >= world.settings.votes_per_tick:
            continue
        manager.attention_left -= 1
        closed += 1
        settle_vote(world, vote, vote.tally(), manager.id)


def settle_vote(
    world: World, vote: Vote, outcome: VoteOutcome, actor: str, reason: str | None = None
) -> int:
    """Close ``vote`` with ``outcome`` and move its task on (merge or rework)."""
    task = world.tasks[vote.task_id]
    vote.outcome = outcome
    vote.closed_tick = world.tick
    vote.override_reason = reason
    kind = "vote.overridden" if reason else "vote.closed"
    seq = world.log(
        kind,
        actor,
        vote.id,
        {
            "task": task.id,
            "outcome": outcome.value,
            "yes": vote.yes_weight(),
            "total": vote.total_weight(),
            "reason": reason,
        },
        (task.last_event,),
    )
    task.last_event = seq
    world.changes.votes[vote.id] = None
    if vote.carried:
        task.vote_carried = True
        world.transition(task, TaskState.MERGED, f"vote {vote.id} carried", actor, (seq,))
        directive = world.directives[task.directive_id]
        if all(
            world.tasks[t].state in (TaskState.MERGED, TaskState.DEPLOYED)
            for t in directive.task_ids
        ):
            world.deploy_ready[directive.id] = None
    else:
        world.totals["votes_failed"] += 1
        _rework(world, task, actor, f"vote {vote.id} failed", task.effort * 0.25)
    return seq


# ---- deployment and retention -----------------------------------------------------------------


def deploy(world: World) -> list[str]:
    """Deploy every directive whose tasks are all merged; returns the deployed ids."""
    deployed: list[str] = []
    ready, world.deploy_ready = list(world.deploy_ready), {}
    for directive_id in ready:
        directive = world.directives[directive_id]
        if directive.state is not DirectiveState.IN_PROGRESS or not directive.task_ids:
            continue
        tasks = [world.tasks[t] for t in directive.task_ids]
        if any(t.state is not TaskState.MERGED for t in tasks):
            continue
        parents = []
        for task in tasks:
            parents.append(
                world.transition(task, TaskState.DEPLOYED, "directive deployed", "deployer")
            )
        escaped = sum(t.defects + t.vulnerabilities for t in tasks)
        directive.state = DirectiveState.DEPLOYED
        directive.deployed_tick = world.tick
        directive.escaped_defects = escaped
        world.totals["directives_deployed"] += 1
        world.totals["tasks_deployed"] += len(tasks)
        world.totals["escaped_defects"] += escaped
        seq = world.log(
            "directive.deployed",
            "deployer",
            directive.id,
            {
                "lead_time": world.tick - directive.created_tick,
                "tasks": len(tasks),
                "escaped_defects": escaped,
            },
            (directive.last_event, *parents),
        )
        directive.last_event = seq
        office = world.offices[directive.office_id]
        office.directive_ids.remove(directive.id)
        for task in tasks:
            office.task_ids.remove(task.id)
        world.changes.directives[directive.id] = None
        world.deployed_order.append(directive.id)
        deployed.append(directive.id)
        if directive.origin_contract:
            contract = world.contracts[directive.origin_contract]
            publish_contract(world, contract, directive.architect or "deployer", seq)
    return deployed


def prune(world: World) -> None:
    """Forget deployed work older than the retention window so memory stays flat."""
    horizon = world.tick - world.settings.retention_ticks
    gone: set[str] = set()
    while world.deployed_order:
        directive = world.directives[world.deployed_order[0]]
        if (directive.deployed_tick or 0) > horizon:
            break
        world.deployed_order.popleft()
        for task_id in directive.task_ids:
            task = world.tasks.pop(task_id)
            for artifact_id in task.artifacts:
                world.artifacts.pop(artifact_id, None)
            if task.meeting_id:
                world.meetings.pop(task.meeting_id, None)
            gone.add(task_id)
        for artifact_id in directive.artifacts:
            world.artifacts.pop(artifact_id, None)
        del world.directives[directive.id]
        world.changes.removed.setdefault("directives", []).append(directive.id)
    _prune_contracts(world, horizon)
    if not gone:
        return
    world.changes.removed.setdefault("tasks", []).extend(sorted(gone))
    for vote_id in [v.id for v in world.votes.values() if v.task_id in gone]:
        del world.votes[vote_id]


def _prune_contracts(world: World, horizon: int) -> None:
    """Contracts settled before the horizon leave memory (floors keep the versions they got)."""
    settled = (ContractState.DELIVERED, ContractState.REJECTED)
    for contract in list(world.contracts.values()):
        if (
            contract.state in settled
            and (contract.delivered_tick or contract.requested_tick) <= horizon
        ):
            for artifact_id in contract.artifacts:
                world.artifacts.pop(artifact_id, None)
            del world.contracts[contract.id]
            world.changes.removed.setdefault("contracts", []).append(contract.id)
