"""Agents act: walk, fetch a tool, or do one tick of their activity."""

from __future__ import annotations

from .agents import DEFAULT_SKILL, Activity, ActivityKind, Agent
from .assignment import abandon, release
from .directives import complete_design
from .errors import TransitionRefused
from .floorplan import waypoints
from .meeting_flow import work_meeting
from .members import (
    ACTIVITY_BUILD,
    ACTIVITY_COURIER,
    ACTIVITY_DESIGN,
    ACTIVITY_MEETING,
    AGENT_BLOCKED,
    AGENT_IDLE,
    AGENT_WAITING,
    AGENT_WALKING,
    AGENT_WORKING,
    ARTIFACT_CODE_CHANGE,
    DIRECTIVE_DESIGNING,
    REVIEW_IN_PROGRESS,
    ROLE_MANAGER,
    TASK_IN_PROGRESS,
    TASK_IN_REVIEW,
    TASK_SCHEDULED,
)
from .quality import injection_chances, speed_factor
from .reviews import ACTIVITY_REVIEW, work_review
from .supply import checkout_from
from .world import World, set_status

_KIND_NAME = {kind: kind.value for kind in ActivityKind}


def act(world: World, agent: Agent) -> None:
    """One agent's tick: walk, fetch a tool, or do a tick of its activity."""
    if agent.role is not ROLE_MANAGER:
        agent.attention_left = agent.attention_budget
    activity = agent.activity
    if activity is not None and not _still_needed(world, agent, activity):
        abandon(world, agent)
        activity = None
    if (agent.path or agent.walk_debt >= 1) and _walk(world, agent):
        return
    if activity is None:
        if agent.status is not AGENT_IDLE:  # set_status, inline: half of all agent-ticks are idle
            agent.status = AGENT_IDLE
            world.changes.agents[agent.id] = None
        return
    if activity.capability and agent.held_tool is None and _fetch_tool(world, agent, activity):
        return
    spot = agent.desk if activity.place == "desk" else _place(world, agent, activity)
    if agent.x != spot[0] or agent.y != spot[1]:
        agent.path = waypoints((agent.x, agent.y), spot)
        if _walk(world, agent):
            return
    agent.attention_left -= 1
    agent.busy_ticks += 1
    world.changes.agents[agent.id] = None  # so the work below may set the status directly
    WORK[activity.kind](world, agent, activity)


def _walk(world: World, agent: Agent) -> bool:
    """Walk the rest of the path; True when this tick is spent walking.

    A walk takes tiles / ``walk_speed`` ticks, usually a fraction of one. The agent arrives at
    once and the time is owed (``walk_debt``); each whole tick owed is then spent walking, so
    over a run walking time is exactly distance over speed and every agent-tick is either a
    walking tick or a tick of something else (MODEL.md, time accounting).
    """
    path = agent.path
    if path:
        tiles = 0  # floorplan.path_length, inline
        x, y = agent.x, agent.y
        for cx, cy in path:
            tiles += abs(cx - x) + abs(cy - y)
            x, y = cx, cy
        agent.x, agent.y = x, y
        agent.path = []
        agent.walk_debt += tiles / world.settings.walk_speed
        world.changes.agents[agent.id] = None
    if agent.walk_debt < 1:
        return False
    agent.walk_debt -= 1
    agent.busy_ticks += 1
    agent.status = AGENT_WALKING
    world.changes.agents[agent.id] = None
    return True


def _place(world: World, agent: Agent, activity: Activity) -> tuple[int, int]:
    if activity.place == "elevator":
        lift_x, lift_y = world.building.floors[agent.floor_id].plan.elevator
        return (lift_x - 1, lift_y)
    if activity.place == "meeting":
        meeting = world.board.meetings[activity.target]
        room = world.building.floors[agent.floor_id].plan.meeting
        seat = meeting.participants.index(agent.id)
        return (room.x + 1 + seat, room.y + 1)
    return agent.desk


def _fetch_tool(world: World, agent: Agent, activity: Activity) -> bool:
    """Walk to the supply room and check a tool out; True when that used up the tick."""
    plan = world.building.floors[agent.floor_id].plan
    door = plan.supply_door
    if (agent.x, agent.y) != door:
        agent.path = waypoints((agent.x, agent.y), door)
        if _walk(world, agent):
            return True
    matching, sensitive = world.building.tools_for(agent.floor_id, activity.capability or "")
    justification = _justification(world, activity, sensitive)
    result = checkout_from(matching, agent.id, justification)
    if result.reason == "justification_required":
        _refused(world, agent, activity)
        return True
    tool = result.tool  # "ok" always names the tool checked out
    if result.ok and tool is not None:
        agent.held_tool = tool.id
        agent.waiting_for = None
        world.log(
            "tool.checked_out",
            agent.id,
            tool.id,
            {
                "for": activity.target,
                "capability": activity.capability,
                "justification": justification if tool.sensitive else None,
            },
        )
        world.changes.tools[tool.id] = None
        agent.path = waypoints(door, _place(world, agent, activity))
        return _walk(world, agent)
    tool_id = tool.id if tool else None
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
    status = AGENT_WAITING if result.reason == "no_slot" else AGENT_BLOCKED
    set_status(agent, status, world)
    return True


def _justification(world: World, activity: Activity, sensitive: bool) -> str | None:
    """The written case for a sensitive tool, or None when the agent came without one.

    Only work on a task carries a case; an agent forgets it with ``justification_missing_chance``
    each attempt until ``justification_escalate_after`` refusals, when its manager writes it.
    ``sensitive``: a sensitive tool offers the capability on the floor (else the case is
    never asked for and nothing is drawn).
    """
    if activity.target not in world.board.tasks:
        return None
    case = f"{_KIND_NAME[activity.kind]} of {activity.target}"
    if not sensitive:
        return case
    if activity.refusals >= world.settings.justification_escalate_after:
        return f"{case} (written by the manager)"
    missing = world.chance(world.settings.justification_missing_chance, key=activity.target)
    return None if missing else case


def _refused(world: World, agent: Agent, activity: Activity) -> None:
    """A sensitive tool refused for want of a justification: logged, retried, then escalated."""
    activity.refusals += 1
    world.log(
        "tool.checkout_refused",
        agent.id,
        activity.capability or "",
        {"reason": "justification missing", "for": activity.target, "refusals": activity.refusals},
    )
    if activity.refusals == world.settings.justification_escalate_after:
        office = world.building.offices[agent.office_id]
        manager = world.building.agents.get(office.manager_id or "")
        if manager is not None:
            manager.dispatched_this_tick += 1
            manager.attention_left = max(0, manager.attention_left - 1)
        world.log(
            "tool.justification_escalated",
            agent.id,
            activity.target,
            {"manager": office.manager_id, "refusals": activity.refusals},
        )
    agent.waiting_for = "justification_required"
    set_status(agent, AGENT_BLOCKED, world)


def _still_needed(world: World, agent: Agent, activity: Activity) -> bool:
    kind = activity.kind
    if kind is ACTIVITY_DESIGN:
        directive = world.board.directives.get(activity.target)
        return directive is not None and directive.state is DIRECTIVE_DESIGNING
    if kind is ACTIVITY_MEETING:
        meeting = world.board.meetings.get(activity.target)
        return meeting is not None and meeting.open
    if kind is ACTIVITY_COURIER:
        return True
    task = world.board.tasks.get(activity.target)
    if task is None:
        return False
    if kind is ACTIVITY_BUILD:
        state = task.state
        return task.assignee == agent.id and (state is TASK_IN_PROGRESS or state is TASK_SCHEDULED)
    review = ACTIVITY_REVIEW[kind]
    return (
        task.state is TASK_IN_REVIEW
        and task.reviews.get(review) is REVIEW_IN_PROGRESS
        and task.reviewers.get(review) == agent.id
    )


def _work_design(world: World, agent: Agent, activity: Activity) -> None:
    set_status(agent, AGENT_WORKING, world)
    directive = world.board.directives[activity.target]
    speed = speed_factor(world.settings, agent, world.building.floors[directive.floor_id].language)
    activity.remaining -= (world.settings.design_speed_base + agent.skill("design")) * speed
    if activity.remaining <= 0:
        release(world, agent)
        complete_design(world, agent, directive)


def _work_build(world: World, agent: Agent, activity: Activity) -> None:
    task = world.board.tasks[activity.target]
    if task.state is TASK_SCHEDULED:
        try:
            world.transition(task, TASK_IN_PROGRESS, "builder started with a build tool", agent.id)
        except TransitionRefused:
            task.assignee = None
            release(world, agent)
            set_status(agent, AGENT_IDLE, world)  # it could not start: an idle tick
            return
    agent.status = AGENT_WORKING  # act marked the agent changed
    settings = world.settings
    skill = agent.skills.get("build", DEFAULT_SKILL)  # Agent.skill, inline
    language = world.building.floors[task.floor_id].language
    speed = 1.0 if language in agent.languages else settings.foreign_language_speed
    task.progress += (settings.build_speed_base + settings.build_speed_skill * skill) * speed
    tool = world.building.tools.get(agent.held_tool or "")
    defect, vulnerability = injection_chances(settings, task, skill, tool)
    if world.random(task.id) < defect:  # World.chance
        task.defects += 1
    if task.sensitivity > 0 and world.random(task.id) < vulnerability:
        task.vulnerabilities += 1
    world.changes.tasks[task.id] = None
    if task.progress < task.effort:
        return
    change = world.add_artifact(
        ARTIFACT_CODE_CHANGE,
        task.id,
        agent.id,
        {"task": task.id, "effort": round(task.effort, 3), "revision": task.rework_count + 1},
        version=task.rework_count + 1,
    )
    task.artifacts.append(change.id)
    task.reviews = world.reviews_for(task)
    task.assignee = None
    release(world, agent)
    world.transition(task, TASK_IN_REVIEW, f"code change {change.id} ready", agent.id)


def _work_courier(world: World, agent: Agent, activity: Activity) -> None:
    """At the elevator: hand the contract over; the car takes it from here."""
    shipment = activity.cargo
    release(world, agent)
    if shipment is None:
        return
    world.building.elevator.queue.append(shipment)
    world.changes.elevator = True
    contract = world.building.contracts.get(shipment.contract_id)
    if contract is not None:
        contract.last_event = world.log(
            "contract.handed_over",
            agent.id,
            contract.id,
            {"kind": shipment.kind.value, "from": shipment.origin, "to": shipment.destination},
            (contract.last_event,),
        )
        world.changes.contracts[contract.id] = None


WORK = {
    ActivityKind.DESIGN: _work_design,
    ActivityKind.BUILD: _work_build,
    ActivityKind.VERIFY: work_review,
    ActivityKind.SECURE: work_review,
    ActivityKind.DOCUMENT: work_review,
    ActivityKind.MEETING: work_meeting,
    ActivityKind.COURIER: _work_courier,
}
