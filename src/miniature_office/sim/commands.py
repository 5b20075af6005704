"""Commands: everything a user does, validated, numbered, recorded and applied in order.

Each kind has a pydantic model for its payload's shape and a domain check against the world.
A command is checked when it is submitted and again when it is applied (the world may have
moved on); a command refused at application is logged and changes nothing else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from . import proposals as props
from . import security_office as sec
from .agents import ROLE_SKILL, AgentStatus, Role
from .assignment import release
from .directives import create_directive
from .errors import CommandRejected, CommandStatus, ScenarioError, TransitionRefused
from .scenario import Settings, ToolSpec, with_overrides
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
    LOCKDOWN = "lockdown"
    LIFT_LOCKDOWN = "lift_lockdown"
    BLOCK_DELIVERY = "block_delivery"
    UNBLOCK_DELIVERY = "unblock_delivery"
    SET_SETTING = "set_setting"
    SCHEDULE_PROPOSAL = "schedule_proposal"
    REVOKE_PROPOSAL = "revoke_proposal"
    SET_PROPOSAL_POLICY = "set_proposal_policy"


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


Ident = Annotated[str, Field(min_length=1, max_length=40)]
Reason = Annotated[str, Field(min_length=3, max_length=500)]
Scope = Annotated[str, Field(min_length=1, max_length=40, description='a floor id, or "building"')]


class LiftLockdown(_Payload):
    scope: Scope


class Lockdown(LiftLockdown):
    reason: Reason


class UnblockDelivery(_Payload):
    directive_id: Ident


class BlockDelivery(UnblockDelivery):
    reason: Reason


#: Settings a command may change on a live world. Left out: the clock's unit
#: (ticks_per_day) and the lift's speed (the elevator copies it when the world is built).
FIXED_SETTINGS = frozenset({"ticks_per_day", "elevator_ticks_per_floor"})
SETTING_PATHS: tuple[str, ...] = (
    *(f"settings.{name}" for name in Settings.model_fields if name not in FIXED_SETTINGS),
    "arrivals.rate_per_day",
    "arrivals.max_open",
    "arrivals.overflow",
)


class SetSetting(_Payload):
    path: str = Field(
        min_length=3,
        max_length=80,
        description="settings.<name>, arrivals.rate_per_day, arrivals.max_open (WIP limit) or "
        "arrivals.overflow",
    )
    value: float | int | str = Field(union_mode="left_to_right")


class ProposedCommand(_Payload):
    kind: str = Field(min_length=1, max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict)


class ScheduleProposal(_Payload):
    title: str = Field(min_length=1, max_length=200)
    activate_tick: int = Field(ge=1, le=2**31 - 1)
    commands: list[ProposedCommand] = Field(min_length=1, max_length=20)
    preview_id: str | None = Field(default=None, max_length=64)
    preview_tick: int | None = Field(default=None, ge=0, le=2**31 - 1)
    reverts: str | None = Field(default=None, max_length=40)


class RevokeProposal(_Payload):
    proposal_id: Ident
    reason: Reason


class ProposalPolicy(_Payload):
    preview_max_age_ticks: int = Field(
        ge=0, le=1_000_000, description="a proposal needs a preview this fresh (0: no need)"
    )


#: Kinds a proposal may carry: changes to the office, not runtime controls or other proposals.
PROPOSABLE = frozenset(
    {
        "create_directive",
        "hire_agent",
        "dismiss_agent",
        "add_tool",
        "block_task",
        "unblock_task",
        "lockdown",
        "lift_lockdown",
        "block_delivery",
        "unblock_delivery",
        "set_setting",
    }
)

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
    CommandKind.LOCKDOWN: Lockdown,
    CommandKind.LIFT_LOCKDOWN: LiftLockdown,
    CommandKind.BLOCK_DELIVERY: BlockDelivery,
    CommandKind.UNBLOCK_DELIVERY: UnblockDelivery,
    CommandKind.SET_SETTING: SetSetting,
    CommandKind.SCHEDULE_PROPOSAL: ScheduleProposal,
    CommandKind.REVOKE_PROPOSAL: RevokeProposal,
    CommandKind.SET_PROPOSAL_POLICY: ProposalPolicy,
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
    status: CommandStatus = CommandStatus.PENDING
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
            "status": self.status.value,
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
            status=CommandStatus(raw.get("status", "pending")),
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
    normalised = validate_shape(kind, payload)
    CHECKS.get(kind, _no_check)(world, normalised)
    return normalised


def validate_shape(kind: CommandKind, payload: Any) -> dict[str, Any]:
    """Check a payload's shape only (no world needed); return it normalised."""
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
    normalised: dict[str, Any] = model.model_dump(mode="json")
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


def _check_lockdown(world: World, p: dict[str, Any]) -> None:
    if p["scope"] != sec.BUILDING:
        _need_floor(world, p["scope"], "scope")
    if p["scope"] in sec.lockdowns(world):
        raise CommandRejected(f"{p['scope']} is already locked down", "scope", "conflict")


def _check_lift(world: World, p: dict[str, Any]) -> None:
    if p["scope"] not in sec.lockdowns(world):
        raise CommandRejected(f"{p['scope']} is not locked down", "scope", "conflict")


def _open_directive(world: World, directive_id: str) -> None:
    directive = world.directives.get(directive_id)
    if directive is None:
        raise CommandRejected(f"unknown directive {directive_id!r}", "directive_id", "not_found")
    if directive.state is DirectiveState.DEPLOYED:
        raise CommandRejected(f"directive {directive_id} is deployed", "directive_id", "conflict")


def _check_block_delivery(world: World, p: dict[str, Any]) -> None:
    _open_directive(world, p["directive_id"])
    if p["directive_id"] in sec.delivery_blocks(world):
        raise CommandRejected(
            f"delivery of {p['directive_id']} is already blocked", "directive_id", "conflict"
        )


def _check_unblock_delivery(world: World, p: dict[str, Any]) -> None:
    if p["directive_id"] not in sec.delivery_blocks(world):
        raise CommandRejected(
            f"delivery of {p['directive_id']} is not blocked", "directive_id", "conflict"
        )


def _check_setting(world: World, p: dict[str, Any]) -> None:
    if p["path"] not in SETTING_PATHS:
        raise CommandRejected(
            f"{p['path']!r} cannot be changed on a live world (one of settings.<name>, "
            "arrivals.rate_per_day, arrivals.max_open, arrivals.overflow)",
            "path",
        )
    try:
        with_overrides(world.scenario, {p["path"]: p["value"]})
    except ScenarioError as exc:
        raise CommandRejected(f"value: {exc.problem}", "value") from None


def _check_schedule(world: World, p: dict[str, Any]) -> None:
    if p["activate_tick"] <= world.tick:
        raise CommandRejected(
            f"activate_tick must be after the current tick {world.tick}", "activate_tick"
        )
    refusal = props.check_policy(world, p.get("preview_tick"))
    if refusal:
        raise CommandRejected(refusal, "preview_id", "policy")
    reverts = p.get("reverts")
    if reverts is not None and reverts not in props.proposals(world):
        raise CommandRejected(f"unknown proposal {reverts!r}", "reverts", "not_found")
    for index, command in enumerate(p["commands"]):
        where = f"commands.{index}"
        if command["kind"] not in PROPOSABLE:
            raise CommandRejected(
                f"{where}.kind: {command['kind']!r} cannot be proposed (one of "
                f"{', '.join(sorted(PROPOSABLE))})",
                f"{where}.kind",
            )
        try:
            command["payload"] = validate_shape(CommandKind(command["kind"]), command["payload"])
        except CommandRejected as exc:
            raise CommandRejected(f"{where}.{exc.reason}", f"{where}.payload") from None


def _check_revoke(world: World, p: dict[str, Any]) -> None:
    proposal = props.proposals(world).get(p["proposal_id"])
    if proposal is None:
        raise CommandRejected(f"unknown proposal {p['proposal_id']!r}", "proposal_id", "not_found")
    if proposal.state is not props.ProposalState.SCHEDULED:
        raise CommandRejected(
            f"proposal {proposal.id} is {proposal.state.value}; only a scheduled proposal can be "
            "revoked",
            "proposal_id",
            "conflict",
        )


CHECKS: dict[CommandKind, Callable[[World, dict[str, Any]], None]] = {
    CommandKind.CREATE_DIRECTIVE: _check_directive,
    CommandKind.HIRE_AGENT: _check_hire,
    CommandKind.DISMISS_AGENT: _check_dismiss,
    CommandKind.ADD_TOOL: _check_tool,
    CommandKind.OVERRIDE_VOTE: _check_override,
    CommandKind.BLOCK_TASK: _check_block,
    CommandKind.UNBLOCK_TASK: _check_unblock,
    CommandKind.LOCKDOWN: _check_lockdown,
    CommandKind.LIFT_LOCKDOWN: _check_lift,
    CommandKind.BLOCK_DELIVERY: _check_block_delivery,
    CommandKind.UNBLOCK_DELIVERY: _check_unblock_delivery,
    CommandKind.SET_SETTING: _check_setting,
    CommandKind.SCHEDULE_PROPOSAL: _check_schedule,
    CommandKind.REVOKE_PROPOSAL: _check_revoke,
}


# ---- application ------------------------------------------------------------------------------


def apply(world: World, command: Command) -> None:
    """Apply a validated command at the current tick boundary, recording the outcome on it."""
    command.applied_tick = world.tick
    step = apply_step(
        world, command.kind, command.payload, command.actor, f"command:{command.seq}", None
    )
    command.status, command.reason, command.event_seq = step.status, step.reason, step.event


def activate(world: World, due: list[props.Proposal]) -> None:
    """Apply due proposals (:func:`sim.proposals.due`, in that order): each logs
    proposal.activated, then its commands apply in order, like any command."""
    for proposal in due:
        proposal.outcome_event = world.log(
            "proposal.activated",
            proposal.author,
            proposal.id,
            {"preview": proposal.preview_id, "commands": len(proposal.commands)},
            (proposal.event,),
        )
        for index, command in enumerate(proposal.commands):
            proposal.applied.append(
                apply_step(
                    world,
                    command["kind"],
                    command["payload"],
                    actor=f"proposal:{proposal.id}",
                    target=f"proposal:{proposal.id}:{index + 1}",
                    parent=proposal.outcome_event,
                )
            )
        proposal.state = props.ProposalState.APPLIED
        world.changes.world = True


def apply_step(
    world: World,
    kind: str | CommandKind,
    payload: dict[str, Any],
    actor: str,
    target: str,
    parent: int | None,
) -> props.AppliedStep:
    """Check and apply one command now; logs command.applied (or command.rejected) on
    ``target`` and returns what it did, with the ids it created and what it replaced (a
    proposal's way back is written from these)."""
    kind = CommandKind(kind)
    parents = () if parent is None else (parent,)
    try:
        normalised = validate(world, kind, payload)
    except CommandRejected as exc:
        event = world.log(
            "command.rejected",
            actor,
            target,
            {"kind": kind.value, "reason": exc.reason, "field": exc.field},
            parents,
        )
        return props.AppliedStep(kind.value, CommandStatus.REJECTED, event, exc.reason)
    before = _before(world, kind, normalised)
    known = [set(registry) for registry in _registries(world)]
    applied = world.log(
        "command.applied", actor, target, {"kind": kind.value, "payload": normalised}, parents
    )
    EFFECTS[kind](world, normalised, actor, applied)
    world.changes.world = True
    created = [
        i for registry, seen in zip(_registries(world), known) for i in registry if i not in seen
    ]
    return props.AppliedStep(kind.value, CommandStatus.APPLIED, applied, None, created, before)


def _registries(world: World) -> tuple[dict[str, Any], ...]:
    """The registries whose new entries a command reports as created (agents, tools,
    directives), read afresh each time."""
    return (world.agents, world.tools, world.directives)


def _before(world: World, kind: CommandKind, p: dict[str, Any]) -> str | None:
    """JSON of what the command replaces, so a revert can put it back."""
    value: Any = None
    if kind is CommandKind.SET_SETTING:
        head, _, name = p["path"].partition(".")
        value = getattr(getattr(world.scenario, head), name)
    elif kind is CommandKind.DISMISS_AGENT:
        agent = world.agents[p["agent_id"]]
        office = world.offices[agent.office_id]
        value = {
            "floor": office.floor_id,
            "office": office.id,
            "role": agent.role.value,
            "name": agent.name,
            "clearance": agent.clearance,
        }
    elif kind is CommandKind.LIFT_LOCKDOWN:
        lockdown = sec.lockdowns(world)[p["scope"]]
        value = {"scope": lockdown.subject, "reason": lockdown.reason}
    elif kind is CommandKind.UNBLOCK_DELIVERY:
        block = sec.delivery_blocks(world)[p["directive_id"]]
        value = {"directive_id": block.subject, "reason": block.reason}
    return None if value is None else json.dumps(value, sort_keys=True)


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


def _lockdown(world: World, p: dict[str, Any], actor: str, parent: int) -> None:
    sec.lock_down(world, p["scope"], p["reason"], actor, parent)


def _lift(world: World, p: dict[str, Any], actor: str, parent: int) -> None:
    sec.lift(world, p["scope"], actor, parent)


def _block_delivery(world: World, p: dict[str, Any], actor: str, parent: int) -> None:
    sec.block_delivery(world, p["directive_id"], p["reason"], actor, parent)


def _unblock_delivery(world: World, p: dict[str, Any], actor: str, parent: int) -> None:
    sec.unblock_delivery(world, p["directive_id"], actor, parent)


def _set_setting(world: World, p: dict[str, Any], actor: str, parent: int) -> None:
    # A copy: the scenario object may be shared (a replay starts from it), and snapshots and
    # forks carry the changed scenario.
    world.scenario = with_overrides(world.scenario, {p["path"]: p["value"]})
    world.settings = world.scenario.settings


def _schedule(world: World, p: dict[str, Any], actor: str, parent: int) -> None:
    props.schedule(world, p, actor, parent)


def _revoke(world: World, p: dict[str, Any], actor: str, parent: int) -> None:
    props.revoke(world, p["proposal_id"], p["reason"], actor, parent)


def _policy(world: World, p: dict[str, Any], actor: str, parent: int) -> None:
    world.proposal_policy[props.PREVIEW_MAX_AGE] = p["preview_max_age_ticks"]


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
    CommandKind.LOCKDOWN: _lockdown,
    CommandKind.LIFT_LOCKDOWN: _lift,
    CommandKind.BLOCK_DELIVERY: _block_delivery,
    CommandKind.UNBLOCK_DELIVERY: _unblock_delivery,
    CommandKind.SET_SETTING: _set_setting,
    CommandKind.SCHEDULE_PROPOSAL: _schedule,
    CommandKind.REVOKE_PROPOSAL: _revoke,
    CommandKind.SET_PROPOSAL_POLICY: _policy,
}
