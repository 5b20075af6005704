"""Commands: everything a user does, validated, numbered, recorded and applied in order.

Each kind has a pydantic model for its payload's shape and a domain check against the world.
A command is checked when it is submitted and again when it is applied (the world may have
moved on); a command refused at application is logged and changes nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .agents import ROLE_SKILL, AgentStatus, Role
from .assignment import release
from .directives import create_directive
from .errors import CommandRejected, TransitionRefused
from .scenario import ToolSpec
from .tasks import DirectiveState, ReviewStatus, TaskState
from .votes import VoteOutcome
from .voting import settle_vote
from .world import World


class CommandKind(str, Enum):
    CREATE_DIRECTIVE = "create_directive"
    HIRE_AGENT = "hire_agent"
    DISMISS_AGENT = "dismiss_agent"
    ADD_TOOL = "add_tool"
    PAUSE = "pause"
    RESUME = "resume"
    SET_SPEED = "set_speed"
    OVERRIDE_VOTE = "override_vote"
    BLOCK_TASK = "block_task"
    UNBLOCK_TASK = "unblock_task"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CreateDirective(_Payload):
    title: str = Field(min_length=1, max_length=200)
    floor: str = Field(min_length=1, max_length=40)
    priority: int = Field(default=2, ge=1, le=5)
    ambiguity: float = Field(default=0.3, ge=0, le=1)
    sensitivity: float = Field(default=0.2, ge=0, le=1)
    complexity: float = Field(default=0.5, ge=0, le=1)
    depends_on_floor: str | None = Field(default=None, max_length=40)

    @field_validator("depends_on_floor", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value


class HireAgent(_Payload):
    floor: str = Field(min_length=1, max_length=40)
    role: Role
    office: str | None = Field(default=None, max_length=40)
    name: str | None = Field(default=None, min_length=1, max_length=80)
    skill: float | None = Field(default=None, ge=0, le=1)
    clearance: int | None = Field(default=None, ge=1, le=5)


class DismissAgent(_Payload):
    agent_id: str = Field(min_length=1, max_length=40)


class AddTool(ToolSpec):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    floor: str = Field(min_length=1, max_length=40)


class Empty(_Payload):
    pass


class SetSpeed(_Payload):
    speed: float = Field(gt=0, le=100)


class OverrideVote(_Payload):
    vote_id: str = Field(min_length=1, max_length=40)
    outcome: str = Field(pattern=r"^(carried|failed)$")
    reason: str = Field(min_length=3, max_length=500)


class BlockTask(_Payload):
    task_id: str = Field(min_length=1, max_length=40)
    reason: str = Field(min_length=3, max_length=500)


class UnblockTask(_Payload):
    task_id: str = Field(min_length=1, max_length=40)


PAYLOADS: dict[CommandKind, type[_Payload] | type[ToolSpec]] = {
    CommandKind.CREATE_DIRECTIVE: CreateDirective,
    CommandKind.HIRE_AGENT: HireAgent,
    CommandKind.DISMISS_AGENT: DismissAgent,
    CommandKind.ADD_TOOL: AddTool,
    CommandKind.PAUSE: Empty,
    CommandKind.RESUME: Empty,
    CommandKind.SET_SPEED: SetSpeed,
    CommandKind.OVERRIDE_VOTE: OverrideVote,
    CommandKind.BLOCK_TASK: BlockTask,
    CommandKind.UNBLOCK_TASK: UnblockTask,
}


@dataclass(slots=True)
class Command:
    """A numbered command; ``applied_tick`` is the tick boundary at which it was applied."""

    seq: int
    kind: CommandKind
    payload: dict[str, Any]
    actor: str
    submitted_tick: int
    applied_tick: int | None = None
    status: str = "pending"  # pending | applied | rejected
    reason: str | None = None
    event_seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": self.kind.value,
            "payload": self.payload,
            "actor": self.actor,
            "submitted_tick": self.submitted_tick,
            "applied_tick": self.applied_tick,
            "status": self.status,
            "reason": self.reason,
            "event_seq": self.event_seq,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "Command":
        return cls(
            seq=int(raw["seq"]),
            kind=CommandKind(raw["kind"]),
            payload=dict(raw["payload"]),
            actor=str(raw.get("actor", "user")),
            submitted_tick=int(raw.get("submitted_tick", 0)),
            applied_tick=raw.get("applied_tick"),
            status=raw.get("status", "pending"),
            reason=raw.get("reason"),
            event_seq=raw.get("event_seq"),
        )

    def as_pending(self) -> "Command":
        """This command as it was before it applied (to apply it again in a replay)."""
        return Command(self.seq, self.kind, self.payload, self.actor, self.submitted_tick)


def parse_kind(kind: str | CommandKind) -> CommandKind:
    try:
        return CommandKind(kind)
    except ValueError:
        raise CommandRejected(f"unknown command {kind!r}", "kind", "unknown_command") from None


def validate(world: World, kind: CommandKind, payload: Any) -> dict[str, Any]:
    """Check shape and domain rules; return the normalised payload or raise CommandRejected."""
    if not isinstance(payload, dict):
        raise CommandRejected("payload must be a JSON object", "payload")
    try:
        model = PAYLOADS[kind].model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise CommandRejected(
            f"{field}: {first['msg']}" if field else first["msg"], field
        ) from None
    normalised = model.model_dump(mode="json")
    CHECKS.get(kind, _no_check)(world, normalised)
    return normalised


def _no_check(world: World, payload: dict[str, Any]) -> None:
    return None


def _need_floor(world: World, floor: str, field: str = "floor") -> None:
    if floor not in world.floors:
        raise CommandRejected(f"unknown floor {floor!r}", field, "not_found")


def _check_directive(world: World, p: dict[str, Any]) -> None:
    _need_floor(world, p["floor"])
    dep = p.get("depends_on_floor")
    if dep is not None:
        _need_floor(world, dep, "depends_on_floor")
        if dep == p["floor"]:
            raise CommandRejected(
                "a cross-floor dependency must name another floor", "depends_on_floor"
            )


def _check_hire(world: World, p: dict[str, Any]) -> None:
    _need_floor(world, p["floor"])
    office = p.get("office")
    if office is not None and (
        office not in world.offices or world.offices[office].floor_id != p["floor"]
    ):
        raise CommandRejected(
            f"unknown office {office!r} on floor {p['floor']!r}", "office", "not_found"
        )


def _check_dismiss(world: World, p: dict[str, Any]) -> None:
    if p["agent_id"] not in world.agents:
        raise CommandRejected(f"unknown agent {p['agent_id']!r}", "agent_id", "not_found")


def _check_tool(world: World, p: dict[str, Any]) -> None:
    _need_floor(world, p["floor"])
    if any(t.name == p["name"] for t in world.floor_tools(p["floor"])):
        raise CommandRejected(
            f"floor {p['floor']!r} already has a tool named {p['name']!r}; tool names on a "
            "floor are unique (add slots to the existing tool instead)",
            "name",
            "conflict",
        )


def _check_override(world: World, p: dict[str, Any]) -> None:
    vote = world.votes.get(p["vote_id"])
    if vote is None:
        raise CommandRejected(f"unknown vote {p['vote_id']!r}", "vote_id", "not_found")
    if vote.outcome is not VoteOutcome.OPEN:
        raise CommandRejected(f"vote {vote.id} is already closed", "vote_id", "conflict")


def _check_block(world: World, p: dict[str, Any]) -> None:
    task = world.tasks.get(p["task_id"])
    if task is None:
        raise CommandRejected(f"unknown task {p['task_id']!r}", "task_id", "not_found")
    if task.state in (TaskState.BLOCKED, TaskState.DEPLOYED):
        raise CommandRejected(f"task {task.id} is {task.state.value}", "task_id", "conflict")


def _check_unblock(world: World, p: dict[str, Any]) -> None:
    task = world.tasks.get(p["task_id"])
    if task is None:
        raise CommandRejected(f"unknown task {p['task_id']!r}", "task_id", "not_found")
    if task.state is not TaskState.BLOCKED:
        raise CommandRejected(f"task {task.id} is not blocked", "task_id", "conflict")
    refusal = world.precondition_failure(task, task.blocked_from or TaskState.SCHEDULED)
    if refusal:
        raise CommandRejected(
            f"task {task.id} cannot be unblocked: {refusal}", "task_id", "conflict"
        )


CHECKS: dict[CommandKind, Callable[[World, dict[str, Any]], None]] = {
    CommandKind.CREATE_DIRECTIVE: _check_directive,
    CommandKind.HIRE_AGENT: _check_hire,
    CommandKind.DISMISS_AGENT: _check_dismiss,
    CommandKind.ADD_TOOL: _check_tool,
    CommandKind.OVERRIDE_VOTE: _check_override,
    CommandKind.BLOCK_TASK: _check_block,
    CommandKind.UNBLOCK_TASK: _check_unblock,
}


# ---- application ------------------------------------------------------------------------------


def apply(world: World, command: Command) -> None:
    """Apply a validated command at the current tick boundary, recording the outcome on it."""
    command.applied_tick = world.tick
    try:
        payload = validate(world, command.kind, command.payload)
    except CommandRejected as exc:
        command.status, command.reason = "rejected", exc.reason
        command.event_seq = world.log(
            "command.rejected",
            command.actor,
            f"command:{command.seq}",
            {"kind": command.kind.value, "reason": exc.reason, "field": exc.field},
        )
        return
    applied = world.log(
        "command.applied",
        command.actor,
        f"command:{command.seq}",
        {"kind": command.kind.value, "payload": payload},
    )
    command.status, command.event_seq = "applied", applied
    EFFECTS[command.kind](world, payload, command.actor, applied)
    world.changes.world = True


def _create_directive(world: World, p: dict[str, Any], actor: str, parent: int) -> None:
    create_directive(
        world,
        title=p["title"],
        floor_id=p["floor"],
        priority=p["priority"],
        ambiguity=p["ambiguity"],
        sensitivity=p["sensitivity"],
        complexity=p["complexity"],
        depends_on_floor=p.get("depends_on_floor"),
        actor=actor,
        parents=(parent,),
    )


def _hire(world: World, p: dict[str, Any], actor: str, parent: int) -> None:
    floor = world.floors[p["floor"]]
    office = world.offices[p.get("office") or floor.office_ids[0]]
    role = Role(p["role"])
    skills = {}
    if p.get("skill") is not None:
        skills[ROLE_SKILL[role]] = p["skill"]
    agent = world.add_agent(
        office, role, name=p.get("name"), skills=skills, clearance=p.get("clearance")
    )
    world.log(
        "agent.hired",
        actor,
        agent.id,
        {"office": office.id, "role": role.value, "name": agent.name},
        (parent,),
    )


def _dismiss(world: World, p: dict[str, Any], actor: str, parent: int) -> None:
    agent = world.agents[p["agent_id"]]
    office = world.offices[agent.office_id]
    activity = agent.activity
    release(world, agent)
    if activity is not None and activity.cargo is not None:
        office.outbox.insert(0, activity.cargo)  # someone else carries it to the lift
    elif activity is not None:
        _hand_back(world, agent.id, activity.target, parent)
    for vote in world.votes.values():
        if (
            vote.outcome is VoteOutcome.OPEN
            and agent.id in vote.weights
            and agent.id not in vote.ballots
        ):
            del vote.weights[agent.id]
            world.changes.votes[vote.id] = None
    agent.status = AgentStatus.OFF_DUTY
    office.agent_ids.remove(agent.id)
    del world.agents[agent.id]
    if office.manager_id == agent.id:
        office.manager_id = None
        managers = world.office_members(office, Role.MANAGER)
        office.manager_id = managers[0].id if managers else None
    world.changes.removed.setdefault("agents", []).append(agent.id)
    dismissed = world.log(
        "agent.dismissed",
        actor,
        agent.id,
        {"office": office.id, "role": agent.role.value},
        (parent,),
    )
    world.auto_staff(office, (dismissed,))
    if office.manager_id is None:
        office.manager_id = world.office_members(office, Role.MANAGER)[0].id


def _hand_back(world: World, agent_id: str, target: str, parent: int) -> None:
    """Work the dismissed agent held goes back to the queue (or waits blocked)."""
    task = world.tasks.get(target)
    meeting = world.meetings.get(target)
    if meeting is not None and meeting.open:
        meeting.concluded_tick = world.tick
        meeting.transcript.append(
            {"tick": world.tick, "who": "system", "said": "cancelled: participant dismissed"}
        )
        task = world.tasks.get(meeting.task_id)
        if task is not None:
            task.meeting_id = None
            task.assignee = None
        world.changes.meetings[meeting.id] = None
        return
    if task is None:
        directive = world.directives.get(target)
        if directive is not None:
            directive.state = DirectiveState.AWAITING_DESIGN
            directive.architect = None
            world.changes.directives[directive.id] = None
        return
    for kind, reviewer in list(task.reviewers.items()):
        if reviewer == agent_id and task.reviews.get(kind) is ReviewStatus.IN_PROGRESS:
            task.reviews[kind] = ReviewStatus.PENDING
    if task.assignee == agent_id:
        task.assignee = None
        if task.state is TaskState.IN_PROGRESS:
            world.transition(task, TaskState.BLOCKED, "assignee dismissed", "system", (parent,))
    world.changes.tasks[task.id] = None


def _add_tool(world: World, p: dict[str, Any], actor: str, parent: int) -> None:
    floor = world.floors[p["floor"]]
    spec = ToolSpec.model_validate({k: v for k, v in p.items() if k != "floor"})
    tool = world.add_tool(floor, spec)
    world.log(
        "tool.added",
        actor,
        tool.id,
        {"floor": floor.id, "name": tool.name, "slots": tool.slots},
        (parent,),
    )


def _pause(world: World, p: dict[str, Any], actor: str, parent: int) -> None:
    world.running = False


def _resume(world: World, p: dict[str, Any], actor: str, parent: int) -> None:
    world.running = True


def _speed(world: World, p: dict[str, Any], actor: str, parent: int) -> None:
    world.speed = p["speed"]


def _override(world: World, p: dict[str, Any], actor: str, parent: int) -> None:
    vote = world.votes[p["vote_id"]]
    outcome = (
        VoteOutcome.OVERRIDDEN_CARRIED
        if p["outcome"] == "carried"
        else VoteOutcome.OVERRIDDEN_FAILED
    )
    settle_vote(world, vote, outcome, actor, p["reason"])


def _block(world: World, p: dict[str, Any], actor: str, parent: int) -> None:
    _transition_or_reject(world, p["task_id"], TaskState.BLOCKED, p["reason"], actor, parent)


def _unblock(world: World, p: dict[str, Any], actor: str, parent: int) -> None:
    task = world.tasks[p["task_id"]]
    _transition_or_reject(
        world,
        task.id,
        task.blocked_from or TaskState.SCHEDULED,
        "unblocked by operator",
        actor,
        parent,
    )


def _transition_or_reject(
    world: World, task_id: str, target: TaskState, reason: str, actor: str, parent: int
) -> None:
    try:
        world.transition(world.tasks[task_id], target, reason, actor, (parent,))
    except TransitionRefused:
        pass  # already logged as task.transition_refused with its reason


EFFECTS: dict[CommandKind, Callable[[World, dict[str, Any], str, int], None]] = {
    CommandKind.CREATE_DIRECTIVE: _create_directive,
    CommandKind.HIRE_AGENT: _hire,
    CommandKind.DISMISS_AGENT: _dismiss,
    CommandKind.ADD_TOOL: _add_tool,
    CommandKind.PAUSE: _pause,
    CommandKind.RESUME: _resume,
    CommandKind.SET_SPEED: _speed,
    CommandKind.OVERRIDE_VOTE: _override,
    CommandKind.BLOCK_TASK: _block,
    CommandKind.UNBLOCK_TASK: _unblock,
}
