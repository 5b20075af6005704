"""Commands: everything a user does, validated, numbered, recorded and applied in order.

**Adding a command kind:** everything the simulation knows of a kind is here: a member of
:class:`CommandKind`, a section below with its payload model, check and effect, and its
:class:`CommandSpec` in :data:`SPECS` (a test checks every kind has one). Outside sim/ it needs
only a route (web/api/<area>.py) and, when proposable, a case in tests/sim/test_fork.py. The
spec is the whole command:

- ``payload``: the pydantic model of the payload's shape (checked without a world; the web API
  uses the same model as the request body);
- ``check``: the domain rules against the world, raising :class:`CommandRejected`;
- ``effect``: what it does, given the parsed payload model (never a raw dict);
- ``proposable``: whether a proposal (sim/proposals.py) may carry it;
- ``replaces`` and ``undo``: for proposable kinds, what it replaces (read just before the
  effect) and the command that undoes it, from which a proposal's way back is written.

A command is checked when it is submitted and again when it is applied (the world may have
moved on); a command refused at application is logged and changes nothing else. Its payload is
parsed once: the model parsed at submission travels with the command to its application (a
command read back from the store is parsed when it applies). Applying a due proposal's commands
happens here too (:func:`activate`), so sim/proposals.py never imports this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any, Callable, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import proposals as props
from . import security_office as sec
from .agents import ROLE_SKILL, AgentStatus, Role
from .assignment import release
from .directives import create_directive
from .errors import CommandRejected, CommandStatus, ScenarioError, TransitionRefused
from .scenario import DirectiveRequest, Settings, ToolSpec, with_overrides
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


P = TypeVar("P", bound=BaseModel)
#: A command that undoes another: ``{"kind": ..., "payload": ...}``, as a proposal carries it.
CounterCommand = dict[str, Any]


def _no_check(world: World, payload: Any) -> None:
    return None


@dataclass(frozen=True, slots=True)
class CommandSpec(Generic[P]):
    """Everything about one command kind (see the module docstring)."""

    payload: type[P]
    effect: Callable[[World, P, str, int], None]  # (world, payload, actor, command.applied seq)
    check: Callable[[World, P], None] = _no_check
    proposable: bool = False
    #: What the command replaces, as JSON-ready data (None: nothing), read before the effect.
    replaces: Callable[[World, P], Any] | None = None
    #: The command undoing it, from its payload, what it replaced and the ids it created; None
    #: when it cannot be undone by a command.
    undo: Callable[[P, Any, list[str]], CounterCommand | None] | None = None


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


Ident = Annotated[str, Field(min_length=1, max_length=40)]
Reason = Annotated[str, Field(min_length=3, max_length=500)]
Scope = Annotated[str, Field(min_length=1, max_length=40, description='a floor id, or "building"')]


def _counter(kind: CommandKind, payload: dict[str, Any]) -> CounterCommand:
    return {"kind": kind.value, "payload": payload}


def _need_floor(world: World, floor: str, field: str = "floor") -> None:
    if floor not in world.building.floors:
        raise CommandRejected(f"unknown floor {floor!r}", field, "not_found")


@dataclass(slots=True)
class Command:
    """A numbered command; ``applied_tick`` is the tick boundary at which it was applied.

    ``payload`` is the normalised JSON payload (what the store and the audit chain keep);
    ``parsed`` is its payload model, kept from submission so it is not parsed again.
    """

    seq: int
    kind: CommandKind
    payload: dict[str, Any]
    actor: str
    submitted_tick: int
    applied_tick: int | None = None
    status: CommandStatus = CommandStatus.PENDING
    reason: str | None = None
    event_seq: int | None = None
    parsed: BaseModel | None = field(default=None, repr=False, compare=False)

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


# ---- the kinds, one section each (their specs are collected in SPECS below) -------------------

# create_directive ---------------------------------------------------------------------------------


#: The payload is the one directive request scenarios, arrivals and contracts open directives
#: with (sim/scenario.py): ``POST /api/directives`` takes the same fields.
CreateDirective = DirectiveRequest


def _check_directive(world: World, p: CreateDirective) -> None:
    _need_floor(world, p.floor)
    dep = p.depends_on_floor
    if dep is not None:
        _need_floor(world, dep, "depends_on_floor")
        if dep == p.floor:
            raise CommandRejected(
                "a cross-floor dependency must name another floor", "depends_on_floor"
            )


def _create_directive(world: World, p: CreateDirective, actor: str, parent: int) -> None:
    create_directive(world, p, actor=actor, parents=(parent,))


# hire_agent / dismiss_agent -------------------------------------------------------------------


class HireAgent(_Payload):
    floor: str = Field(min_length=1, max_length=40)
    role: Role
    office: str | None = Field(default=None, max_length=40)
    name: str | None = Field(default=None, min_length=1, max_length=80)
    skill: float | None = Field(default=None, ge=0, le=1)
    clearance: int | None = Field(default=None, ge=1, le=5)


def _check_hire(world: World, p: HireAgent) -> None:
    _need_floor(world, p.floor)
    office = p.office
    if office is not None and (
        office not in world.building.offices or world.building.offices[office].floor_id != p.floor
    ):
        raise CommandRejected(
            f"unknown office {office!r} on floor {p.floor!r}", "office", "not_found"
        )


def _hire(world: World, p: HireAgent, actor: str, parent: int) -> None:
    floor = world.building.floors[p.floor]
    office = world.building.offices[p.office or floor.office_ids[0]]
    role = p.role
    skills = {}
    if p.skill is not None:
        skills[ROLE_SKILL[role]] = p.skill
    agent = world.add_agent(office, role, name=p.name, skills=skills, clearance=p.clearance)
    world.log(
        "agent.hired",
        actor,
        agent.id,
        {"office": office.id, "role": role.value, "name": agent.name},
        (parent,),
    )


def _undo_hire(p: HireAgent, before: Any, created: list[str]) -> CounterCommand | None:
    return _counter(CommandKind.DISMISS_AGENT, {"agent_id": created[0]}) if created else None


class DismissAgent(_Payload):
    agent_id: str = Field(min_length=1, max_length=40)


def _check_dismiss(world: World, p: DismissAgent) -> None:
    if p.agent_id not in world.building.agents:
        raise CommandRejected(f"unknown agent {p.agent_id!r}", "agent_id", "not_found")


def _dismissed_as_hire(world: World, p: DismissAgent) -> dict[str, Any]:
    """The hire_agent payload that brings the person back (a revert's way back)."""
    agent = world.building.agents[p.agent_id]
    office = world.building.offices[agent.office_id]
    return {
        "floor": office.floor_id,
        "office": office.id,
        "role": agent.role.value,
        "name": agent.name,
        "clearance": agent.clearance,
    }


def _dismiss(world: World, p: DismissAgent, actor: str, parent: int) -> None:
    agent = world.building.agents[p.agent_id]
    office = world.building.offices[agent.office_id]
    activity = agent.activity
    release(world, agent)
    if activity is not None and activity.cargo is not None:
        office.outbox.insert(0, activity.cargo)  # someone else carries it to the lift
    elif activity is not None:
        _hand_back(world, agent.id, activity.target, parent)
    for vote in world.board.votes.values():
        if (
            vote.outcome is VoteOutcome.OPEN
            and agent.id in vote.weights
            and agent.id not in vote.ballots
        ):
            del vote.weights[agent.id]
            world.changes.votes[vote.id] = None
    agent.status = AgentStatus.OFF_DUTY
    office.agent_ids.remove(agent.id)
    del world.building.agents[agent.id]
    if office.manager_id == agent.id:
        office.manager_id = None
        managers = world.building.office_members(office, Role.MANAGER)
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
        office.manager_id = world.building.office_members(office, Role.MANAGER)[0].id


def _hand_back(world: World, agent_id: str, target: str, parent: int) -> None:
    """Work the dismissed agent held goes back to the queue (or waits blocked)."""
    task = world.board.tasks.get(target)
    meeting = world.board.meetings.get(target)
    if meeting is not None and meeting.open:
        meeting.concluded_tick = world.tick
        meeting.transcript.append(
            {"tick": world.tick, "who": "system", "said": "cancelled: participant dismissed"}
        )
        task = world.board.tasks.get(meeting.task_id)
        if task is not None:
            task.meeting_id = None
            task.assignee = None
        world.changes.meetings[meeting.id] = None
        return
    if task is None:
        directive = world.board.directives.get(target)
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


def _undo_dismiss(p: DismissAgent, before: Any, created: list[str]) -> CounterCommand | None:
    return _counter(CommandKind.HIRE_AGENT, before) if before else None


# add_tool ------------------------------------------------------------------------------------


class AddTool(ToolSpec):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    floor: str = Field(min_length=1, max_length=40)


def _check_tool(world: World, p: AddTool) -> None:
    _need_floor(world, p.floor)
    if any(t.name == p.name for t in world.building.floor_tools(p.floor)):
        raise CommandRejected(
            f"floor {p.floor!r} already has a tool named {p.name!r}; tool names on a "
            "floor are unique (add slots to the existing tool instead)",
            "name",
            "conflict",
        )


def _add_tool(world: World, p: AddTool, actor: str, parent: int) -> None:
    floor = world.building.floors[p.floor]
    tool = world.add_tool(floor, p)  # an AddTool is the tool's spec plus where it goes
    world.log(
        "tool.added",
        actor,
        tool.id,
        {"floor": floor.id, "name": tool.name, "slots": tool.slots},
        (parent,),
    )


# pause / resume / set_speed (runtime controls) -------------------------------------------------


class Empty(_Payload):
    pass


def _pause(world: World, p: Empty, actor: str, parent: int) -> None:
    world.running = False


def _resume(world: World, p: Empty, actor: str, parent: int) -> None:
    world.running = True


class SetSpeed(_Payload):
    speed: float = Field(gt=0, le=100)


def _speed(world: World, p: SetSpeed, actor: str, parent: int) -> None:
    world.speed = p.speed


# override_vote -------------------------------------------------------------------------------


class OverrideVote(_Payload):
    vote_id: str = Field(min_length=1, max_length=40)
    outcome: str = Field(pattern=r"^(carried|failed)$")
    reason: str = Field(min_length=3, max_length=500)


def _check_override(world: World, p: OverrideVote) -> None:
    vote = world.board.votes.get(p.vote_id)
    if vote is None:
        raise CommandRejected(f"unknown vote {p.vote_id!r}", "vote_id", "not_found")
    if vote.outcome is not VoteOutcome.OPEN:
        raise CommandRejected(f"vote {vote.id} is already closed", "vote_id", "conflict")


def _override(world: World, p: OverrideVote, actor: str, parent: int) -> None:
    vote = world.board.votes[p.vote_id]
    outcome = (
        VoteOutcome.OVERRIDDEN_CARRIED if p.outcome == "carried" else VoteOutcome.OVERRIDDEN_FAILED
    )
    settle_vote(world, vote, outcome, actor, p.reason)


# block_task / unblock_task -------------------------------------------------------------------


class UnblockTask(_Payload):
    task_id: str = Field(min_length=1, max_length=40)


class BlockTask(UnblockTask):
    reason: str = Field(min_length=3, max_length=500)


def _check_block(world: World, p: BlockTask) -> None:
    task = world.board.tasks.get(p.task_id)
    if task is None:
        raise CommandRejected(f"unknown task {p.task_id!r}", "task_id", "not_found")
    if task.state in (TaskState.BLOCKED, TaskState.DEPLOYED):
        raise CommandRejected(f"task {task.id} is {task.state.value}", "task_id", "conflict")


def _check_unblock(world: World, p: UnblockTask) -> None:
    task = world.board.tasks.get(p.task_id)
    if task is None:
        raise CommandRejected(f"unknown task {p.task_id!r}", "task_id", "not_found")
    if task.state is not TaskState.BLOCKED:
        raise CommandRejected(f"task {task.id} is not blocked", "task_id", "conflict")
    refusal = world.precondition_failure(task, task.blocked_from or TaskState.SCHEDULED)
    if refusal:
        raise CommandRejected(
            f"task {task.id} cannot be unblocked: {refusal}", "task_id", "conflict"
        )


def _block(world: World, p: BlockTask, actor: str, parent: int) -> None:
    _transition_or_reject(world, p.task_id, TaskState.BLOCKED, p.reason, actor, parent)


def _unblock(world: World, p: UnblockTask, actor: str, parent: int) -> None:
    task = world.board.tasks[p.task_id]
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
        world.transition(world.board.tasks[task_id], target, reason, actor, (parent,))
    except TransitionRefused:
        pass  # already logged as task.transition_refused with its reason


def _undo_block(p: BlockTask, before: Any, created: list[str]) -> CounterCommand | None:
    return _counter(CommandKind.UNBLOCK_TASK, {"task_id": p.task_id})


def _undo_unblock(p: UnblockTask, before: Any, created: list[str]) -> CounterCommand | None:
    return _counter(
        CommandKind.BLOCK_TASK, {"task_id": p.task_id, "reason": "revert of an unblock"}
    )


# lockdown / lift_lockdown --------------------------------------------------------------------


class LiftLockdown(_Payload):
    scope: Scope


class Lockdown(LiftLockdown):
    reason: Reason


def _check_lockdown(world: World, p: Lockdown) -> None:
    if p.scope != sec.BUILDING:
        _need_floor(world, p.scope, "scope")
    if p.scope in sec.lockdowns(world):
        raise CommandRejected(f"{p.scope} is already locked down", "scope", "conflict")


def _check_lift(world: World, p: LiftLockdown) -> None:
    if p.scope not in sec.lockdowns(world):
        raise CommandRejected(f"{p.scope} is not locked down", "scope", "conflict")


def _lockdown(world: World, p: Lockdown, actor: str, parent: int) -> None:
    sec.lock_down(world, p.scope, p.reason, actor, parent)


def _lifted(world: World, p: LiftLockdown) -> dict[str, Any]:
    lockdown = sec.lockdowns(world)[p.scope]
    return {"scope": lockdown.subject, "reason": lockdown.reason}


def _lift(world: World, p: LiftLockdown, actor: str, parent: int) -> None:
    sec.lift(world, p.scope, actor, parent)


def _undo_lockdown(p: Lockdown, before: Any, created: list[str]) -> CounterCommand | None:
    return _counter(CommandKind.LIFT_LOCKDOWN, {"scope": p.scope})


def _undo_lift(p: LiftLockdown, before: Any, created: list[str]) -> CounterCommand | None:
    return _counter(CommandKind.LOCKDOWN, before) if before else None


# block_delivery / unblock_delivery -----------------------------------------------------------


class UnblockDelivery(_Payload):
    directive_id: Ident


class BlockDelivery(UnblockDelivery):
    reason: Reason


def _check_block_delivery(world: World, p: BlockDelivery) -> None:
    directive = world.board.directives.get(p.directive_id)
    if directive is None:
        raise CommandRejected(f"unknown directive {p.directive_id!r}", "directive_id", "not_found")
    if directive.state is DirectiveState.DEPLOYED:
        raise CommandRejected(f"directive {p.directive_id} is deployed", "directive_id", "conflict")
    if p.directive_id in sec.delivery_blocks(world):
        raise CommandRejected(
            f"delivery of {p.directive_id} is already blocked", "directive_id", "conflict"
        )


def _check_unblock_delivery(world: World, p: UnblockDelivery) -> None:
    if p.directive_id not in sec.delivery_blocks(world):
        raise CommandRejected(
            f"delivery of {p.directive_id} is not blocked", "directive_id", "conflict"
        )


def _block_delivery(world: World, p: BlockDelivery, actor: str, parent: int) -> None:
    sec.block_delivery(world, p.directive_id, p.reason, actor, parent)


def _unblocked(world: World, p: UnblockDelivery) -> dict[str, Any]:
    block = sec.delivery_blocks(world)[p.directive_id]
    return {"directive_id": block.subject, "reason": block.reason}


def _unblock_delivery(world: World, p: UnblockDelivery, actor: str, parent: int) -> None:
    sec.unblock_delivery(world, p.directive_id, actor, parent)


def _undo_block_delivery(
    p: BlockDelivery, before: Any, created: list[str]
) -> CounterCommand | None:
    return _counter(CommandKind.UNBLOCK_DELIVERY, {"directive_id": p.directive_id})


def _undo_unblock_delivery(
    p: UnblockDelivery, before: Any, created: list[str]
) -> CounterCommand | None:
    return _counter(CommandKind.BLOCK_DELIVERY, before) if before else None


# set_setting ---------------------------------------------------------------------------------

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


def _check_setting(world: World, p: SetSetting) -> None:
    if p.path not in SETTING_PATHS:
        raise CommandRejected(
            f"{p.path!r} cannot be changed on a live world (one of settings.<name>, "
            "arrivals.rate_per_day, arrivals.max_open, arrivals.overflow)",
            "path",
        )
    try:
        with_overrides(world.scenario, {p.path: p.value})
    except ScenarioError as exc:
        raise CommandRejected(f"value: {exc.problem}", "value") from None


def _setting_now(world: World, p: SetSetting) -> Any:
    head, _, name = p.path.partition(".")
    return getattr(getattr(world.scenario, head), name)


def _set_setting(world: World, p: SetSetting, actor: str, parent: int) -> None:
    # A copy: the scenario object may be shared (a replay starts from it), and snapshots and
    # forks carry the changed scenario.
    world.scenario = with_overrides(world.scenario, {p.path: p.value})
    world.settings = world.scenario.settings


def _undo_setting(p: SetSetting, before: Any, created: list[str]) -> CounterCommand | None:
    if before is None:
        return None
    return _counter(CommandKind.SET_SETTING, {"path": p.path, "value": before})


# schedule_proposal / revoke_proposal / set_proposal_policy -------------------------------------


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


def _check_schedule(world: World, p: ScheduleProposal) -> None:
    if p.activate_tick <= world.tick:
        raise CommandRejected(
            f"activate_tick must be after the current tick {world.tick}", "activate_tick"
        )
    refusal = props.check_policy(world, p.preview_tick)
    if refusal:
        raise CommandRejected(refusal, "preview_id", "policy")
    if p.reverts is not None and p.reverts not in props.proposals(world):
        raise CommandRejected(f"unknown proposal {p.reverts!r}", "reverts", "not_found")
    for index, command in enumerate(p.commands):
        where = f"commands.{index}"
        if command.kind not in PROPOSABLE:
            raise CommandRejected(
                f"{where}.kind: {command.kind!r} cannot be proposed (one of "
                f"{', '.join(sorted(PROPOSABLE))})",
                f"{where}.kind",
            )
        try:  # the proposal keeps each command's payload normalised, as a command's is
            command.payload = _dump(parse(CommandKind(command.kind), command.payload))
        except CommandRejected as exc:
            raise CommandRejected(f"{where}.{exc.reason}", f"{where}.payload") from None


def _schedule(world: World, p: ScheduleProposal, actor: str, parent: int) -> None:
    props.schedule(
        world,
        title=p.title,
        activate_tick=p.activate_tick,
        commands=[c.model_dump(mode="json") for c in p.commands],
        preview_id=p.preview_id,
        preview_tick=p.preview_tick,
        reverts=p.reverts,
        actor=actor,
        parent=parent,
    )


class RevokeProposal(_Payload):
    proposal_id: Ident
    reason: Reason


def _check_revoke(world: World, p: RevokeProposal) -> None:
    proposal = props.proposals(world).get(p.proposal_id)
    if proposal is None:
        raise CommandRejected(f"unknown proposal {p.proposal_id!r}", "proposal_id", "not_found")
    if proposal.state is not props.ProposalState.SCHEDULED:
        raise CommandRejected(
            f"proposal {proposal.id} is {proposal.state.value}; only a scheduled proposal can be "
            "revoked",
            "proposal_id",
            "conflict",
        )


def _revoke(world: World, p: RevokeProposal, actor: str, parent: int) -> None:
    props.revoke(world, p.proposal_id, p.reason, actor, parent)


class ProposalPolicy(_Payload):
    preview_max_age_ticks: int = Field(
        ge=0, le=1_000_000, description="a proposal needs a preview this fresh (0: no need)"
    )


def _policy(world: World, p: ProposalPolicy, actor: str, parent: int) -> None:
    world.governance.policy.preview_max_age_ticks = p.preview_max_age_ticks


# ---- the registry: one spec per kind ----------------------------------------------------------

SPECS: dict[CommandKind, CommandSpec[Any]] = {
    CommandKind.CREATE_DIRECTIVE: CommandSpec(
        CreateDirective, _create_directive, _check_directive, proposable=True
    ),
    CommandKind.HIRE_AGENT: CommandSpec(
        HireAgent, _hire, _check_hire, proposable=True, undo=_undo_hire
    ),
    CommandKind.DISMISS_AGENT: CommandSpec(
        DismissAgent,
        _dismiss,
        _check_dismiss,
        proposable=True,
        replaces=_dismissed_as_hire,
        undo=_undo_dismiss,
    ),
    CommandKind.ADD_TOOL: CommandSpec(AddTool, _add_tool, _check_tool, proposable=True),
    CommandKind.PAUSE: CommandSpec(Empty, _pause),
    CommandKind.RESUME: CommandSpec(Empty, _resume),
    CommandKind.SET_SPEED: CommandSpec(SetSpeed, _speed),
    CommandKind.OVERRIDE_VOTE: CommandSpec(OverrideVote, _override, _check_override),
    CommandKind.BLOCK_TASK: CommandSpec(
        BlockTask, _block, _check_block, proposable=True, undo=_undo_block
    ),
    CommandKind.UNBLOCK_TASK: CommandSpec(
        UnblockTask, _unblock, _check_unblock, proposable=True, undo=_undo_unblock
    ),
    CommandKind.LOCKDOWN: CommandSpec(
        Lockdown, _lockdown, _check_lockdown, proposable=True, undo=_undo_lockdown
    ),
    CommandKind.LIFT_LOCKDOWN: CommandSpec(
        LiftLockdown, _lift, _check_lift, proposable=True, replaces=_lifted, undo=_undo_lift
    ),
    CommandKind.BLOCK_DELIVERY: CommandSpec(
        BlockDelivery,
        _block_delivery,
        _check_block_delivery,
        proposable=True,
        undo=_undo_block_delivery,
    ),
    CommandKind.UNBLOCK_DELIVERY: CommandSpec(
        UnblockDelivery,
        _unblock_delivery,
        _check_unblock_delivery,
        proposable=True,
        replaces=_unblocked,
        undo=_undo_unblock_delivery,
    ),
    CommandKind.SET_SETTING: CommandSpec(
        SetSetting,
        _set_setting,
        _check_setting,
        proposable=True,
        replaces=_setting_now,
        undo=_undo_setting,
    ),
    CommandKind.SCHEDULE_PROPOSAL: CommandSpec(ScheduleProposal, _schedule, _check_schedule),
    CommandKind.REVOKE_PROPOSAL: CommandSpec(RevokeProposal, _revoke, _check_revoke),
    CommandKind.SET_PROPOSAL_POLICY: CommandSpec(ProposalPolicy, _policy),
}

#: Kinds a proposal may carry (their names): changes to the office, not runtime controls or
#: other proposals.
PROPOSABLE = frozenset(kind.value for kind, spec in SPECS.items() if spec.proposable)


# ---- parsing and checking ---------------------------------------------------------------------


def parse_kind(kind: str | CommandKind) -> CommandKind:
    try:
        return CommandKind(kind)
    except ValueError:
        raise CommandRejected(f"unknown command {kind!r}", "kind", "unknown_command") from None


def parse(kind: CommandKind, payload: Any) -> BaseModel:
    """Check a payload's shape only (no world needed); return its payload model."""
    if not isinstance(payload, dict):
        raise CommandRejected("payload must be a JSON object", "payload")
    try:
        return SPECS[kind].payload.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise CommandRejected(
            f"{field}: {first['msg']}" if field else first["msg"], field
        ) from None


def _dump(model: BaseModel) -> dict[str, Any]:
    normalised: dict[str, Any] = model.model_dump(mode="json")
    return normalised


def checked(world: World, kind: CommandKind, payload: Any) -> BaseModel:
    """The payload model, its shape and the domain rules checked (or CommandRejected)."""
    model = parse(kind, payload)
    SPECS[kind].check(world, model)
    return model


def validate(world: World, kind: CommandKind, payload: Any) -> dict[str, Any]:
    """Check shape and domain rules; return the normalised payload or raise CommandRejected."""
    return _dump(checked(world, kind, payload))


def validate_shape(kind: CommandKind, payload: Any) -> dict[str, Any]:
    """Check a payload's shape only (no world needed); return it normalised."""
    return _dump(parse(kind, payload))


def new_command(
    world: World, seq: int, kind: str | CommandKind, payload: Any, actor: str
) -> Command:
    """Command number ``seq``, checked against the world now (raises CommandRejected); it keeps
    its parsed payload for its application."""
    command_kind = parse_kind(kind)
    model = checked(world, command_kind, payload)
    return Command(seq, command_kind, _dump(model), actor, world.tick, parsed=model)


# ---- application ------------------------------------------------------------------------------


def apply(world: World, command: Command) -> None:
    """Apply a validated command at the current tick boundary, recording the outcome on it."""
    command.applied_tick = world.tick
    step = apply_step(
        world,
        command.kind,
        command.payload,
        command.actor,
        f"command:{command.seq}",
        None,
        command.parsed,
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
    parsed: BaseModel | None = None,
) -> props.AppliedStep:
    """Check and apply one command now; logs command.applied (or command.rejected) on
    ``target`` and returns what it did, with the ids it created and what it replaced (a
    proposal's way back is written from these). ``parsed`` is the payload's model when the
    caller has it already (a submitted command); otherwise ``payload`` is parsed."""
    kind = CommandKind(kind)
    spec = SPECS[kind]
    parents = () if parent is None else (parent,)
    try:
        model = parse(kind, payload) if parsed is None else parsed
        spec.check(world, model)
    except CommandRejected as exc:
        event = world.log(
            "command.rejected",
            actor,
            target,
            {"kind": kind.value, "reason": exc.reason, "field": exc.field},
            parents,
        )
        return props.AppliedStep(kind.value, CommandStatus.REJECTED, event, exc.reason)
    normalised = _dump(model)
    replaced = None if spec.replaces is None else spec.replaces(world, model)
    before = None if replaced is None else json.dumps(replaced, sort_keys=True)
    known = [set(registry) for registry in _registries(world)]
    applied = world.log(
        "command.applied", actor, target, {"kind": kind.value, "payload": normalised}, parents
    )
    spec.effect(world, model, actor, applied)
    world.changes.world = True
    created = [
        i for registry, seen in zip(_registries(world), known) for i in registry if i not in seen
    ]
    return props.AppliedStep(kind.value, CommandStatus.APPLIED, applied, None, created, before)


def _registries(world: World) -> tuple[dict[str, Any], ...]:
    """The registries whose new entries a command reports as created (agents, tools,
    directives), read afresh each time."""
    return (world.building.agents, world.building.tools, world.board.directives)


# ---- a proposal's way back ---------------------------------------------------------------------


def counter_commands(proposal: props.Proposal) -> tuple[list[CounterCommand], list[str]]:
    """The commands that undo an applied proposal (last change first, each from its kind's
    ``undo``), and what cannot be undone (sentences)."""
    undo: list[CounterCommand] = []
    cannot: list[str] = []
    pairs = list(zip(proposal.applied, proposal.commands))
    pairs.reverse()  # last change first
    for step, command in pairs:
        if step.status is not CommandStatus.APPLIED:
            continue
        counter = _undo_step(step, command["payload"])
        if counter is None:
            cannot.append(f"{step.kind} (event {step.event}) cannot be undone by a command")
        else:
            undo.append(counter)
    return undo, cannot


def _undo_step(step: props.AppliedStep, payload: dict[str, Any]) -> CounterCommand | None:
    spec = SPECS[CommandKind(step.kind)]
    if spec.undo is None:
        return None
    before = json.loads(step.before) if step.before else None
    # the payload applied (normalised when it was scheduled), so its model always parses
    return spec.undo(spec.payload.model_validate(payload), before, list(step.created))


def counter_proposal(world: World, proposal_id: str, activate_tick: int) -> dict[str, Any]:
    """A ``schedule_proposal`` payload that reverts an applied proposal."""
    proposal = props.proposals(world)[proposal_id]
    if proposal.state is not props.ProposalState.APPLIED:
        raise ValueError(f"proposal {proposal_id} is {proposal.state.value}, not applied")
    undo, cannot = counter_commands(proposal)
    return {
        "payload": {
            "title": f"Revert {proposal.id}: {proposal.title}"[:200],
            "activate_tick": activate_tick,
            "commands": undo,
            "reverts": proposal.id,
        },
        "cannot_revert": cannot,
    }
