"""The world: the root of all domain state, with its clock, its audit log and four parts.

``world.streams`` (sim/streams.py: every random draw), ``world.board`` (sim/board.py: the work,
from arrival to deployment), ``world.building`` (sim/building.py: floors, offices, people,
tools, contracts, the lift) and ``world.governance`` (sim/governance.py: holds and proposals).
Everything that changes goes through a method here or in the tick modules (dispatch, acting,
reviews, meeting_flow, voting, deployment), so every change is logged and marked for the
tick's delta.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mypy_extensions import mypyc_attr

from .agents import ROLE_LETTER, ROLE_SKILL, WORKING_ROLES, Agent, AgentStatus, Role
from .artifacts import Artifact, ArtifactKind, content_hash
from .audit import AuditLog
from .board import TaskBoard
from .building import Building, Floor, Office
from .contracts import satisfies
from .errors import TransitionRefused
from .floorplan import office_bays, plan_floor
from .governance import Governance
from .members import (
    REVIEW_FAILED,
    REVIEW_KIND_DOCUMENTATION,
    REVIEW_KIND_SECURITY,
    REVIEW_KIND_VERIFICATION,
    REVIEW_PENDING,
    ROLE_BUILDER,
    ROLE_MANAGER,
    ROLE_SECURITY,
    TASK_APPROVAL,
    TASK_BLOCKED,
    TASK_DEPLOYED,
    TASK_IN_PROGRESS,
    TASK_IN_REVIEW,
    TASK_MERGED,
    TASK_SCHEDULED,
)
from .scenario import AgentSpec, Scenario, ToolSpec, staff_counts
from .streams import RandomStreams
from .supply import Tool
from .tasks import ReviewKind, ReviewStatus, Task, TaskState, Transition, is_legal

FIRST_NAMES = (
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Guido",
    "Barbara",
    "Ken",
    "Dennis",
    "Margaret",
    "Donald",
    "Edsger",
    "Frances",
    "John",
    "Radia",
    "Tim",
    "Brendan",
    "Anders",
    "Bjarne",
    "Yukihiro",
    "Katherine",
    "Hedy",
    "Sophie",
    "Leslie",
    "Niklaus",
    "Shafi",
    "Fran",
    "Jean",
    "Karen",
)


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class ChangeSet:
    """Ids touched during the current tick: the tick's delta is built from these."""

    agents: dict[str, None] = field(default_factory=dict)
    tasks: dict[str, None] = field(default_factory=dict)
    directives: dict[str, None] = field(default_factory=dict)
    tools: dict[str, None] = field(default_factory=dict)
    meetings: dict[str, None] = field(default_factory=dict)
    votes: dict[str, None] = field(default_factory=dict)
    contracts: dict[str, None] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)
    elevator: bool = False
    world: bool = False


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
class World:
    """All domain state: the clock, the audit log, the tick's changes, counters and totals, and
    the parts (ARCHITECTURE.md, "The world's parts"). Build one with :func:`build_world`."""

    def __init__(self, scenario: Scenario, seed: int, audit: AuditLog) -> None:
        self.scenario = scenario
        self.settings = scenario.settings
        self.seed = seed
        # Every draw of the run (work, arrivals, the keyed streams of agents, directives and
        # tasks) comes from here: see sim/streams.py.
        self.streams = RandomStreams(seed)
        self.audit = audit
        self.tick = 0
        self.running = True
        self.speed = 1.0
        # Floors, offices, staff, tools, contracts and the lift (sim/building.py).
        self.building = Building(scenario.settings.elevator_ticks_per_floor)
        # The work, from arrival to deployment, with its counts and indexes (sim/board.py).
        self.board = TaskBoard(scenario.directives)
        self.counters: dict[str, int] = {}
        self.totals: dict[str, int] = {
            "artifacts": 0,
            "directives_created": 0,
            "directives_deployed": 0,
            "tasks_deployed": 0,
            "escaped_defects": 0,
            "defects_found": 0,
            "vulnerabilities_found": 0,
            "meetings": 0,
            "votes_failed": 0,
            "reworks": 0,
            "transitions_refused": 0,
            "offered": 0,  # every directive that ever arrived: admitted + backlog + rejected
            "admitted": 0,
            "rejected": 0,
            "stalls": 0,  # stall episodes opened (sim/stalls.py)
        }
        self.changes = ChangeSet()
        self.stalls: dict[str, Any] = {}  # open stall episodes by key (sim/stalls.Stall)
        self.stall_marks: dict[str, int] = {}  # stall watcher's counters (elevator pressure)
        # Lockdowns, blocked deliveries, proposals and their policy (sim/governance.py; the
        # rules that change them: sim/security_office.py, sim/proposals.py).
        self.governance = Governance()

    # ---- ids, logging, change tracking ------------------------------------------------------

    def next_id(self, prefix: str) -> str:
        n = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = n
        return f"{prefix}-{n:04d}"

    def log(
        self,
        kind: str,
        actor: str,
        target: str,
        data: dict[str, Any] | None = None,
        parents: tuple[int, ...] | list[int] = (),
    ) -> int:
        """Append an audit event for the current tick; returns its sequence number."""
        return self.audit.record(self.tick, kind, actor, target, data, parents)

    # ---- randomness -------------------------------------------------------------------------

    # The draws the rules take most often, kept one call away (the streams themselves, with the
    # identities that key them, are ``self.streams``).

    def random(self, key: str | None = None) -> float:
        """A float in [0, 1) from ``key``'s stream (see :meth:`RandomStreams.random`)."""
        return self.streams.random(key)

    def chance(self, p: float, key: str | None = None) -> bool:
        """One Bernoulli draw (``key``: whose stream, see :meth:`RandomStreams.random`)."""
        return self.streams.random(key) < p

    def uniform(self, low: float, high: float, key: str | None = None) -> float:
        """A uniform draw in [low, high) (``key``: whose stream)."""
        return low + (high - low) * self.streams.random(key)

    def pick(self, items: list[Any] | tuple[Any, ...], key: str | None = None) -> Any:
        """One of ``items``, uniformly (``key``: whose stream)."""
        return items[int(self.streams.random(key) * len(items))]

    def effective_priority(self, priority: int, since_tick: int) -> int:
        """Priority after aging: one level better (lower) per ``priority_aging_ticks`` waited
        since ``since_tick``, never better than 1. With aging off, the priority itself."""
        every = self.settings.priority_aging_ticks
        if every <= 0:
            return priority
        return max(1, priority - (self.tick - since_tick) // every)

    # ---- people -----------------------------------------------------------------------------

    def add_agent(
        self,
        office: Office,
        role: Role,
        *,
        name: str | None = None,
        skills: dict[str, float] | None = None,
        clearance: int | None = None,
        languages: list[str] | None = None,
        assistant: bool = False,
    ) -> Agent:
        floor = self.building.floors[office.floor_id]
        agent_id = self.next_id("A")
        # Who this is: office, role and ordinal (the n-th of that role ever hired there). Skills,
        # name and desk follow from it alone, so other hires never change them.
        ordinal = office.hires.get(role.value, 0)
        office.hires[role.value] = ordinal + 1
        key = f"agent:{office.id}:{role.value}:{ordinal}"
        self.streams.register_identity(agent_id, key)
        main = ROLE_SKILL[role]
        profile = {s: round(self.uniform(0.3, 0.6, key), 3) for s in ROLE_SKILL.values()}
        main_range = (0.45, 0.7) if assistant else (0.6, 0.95)
        profile[main] = round(self.uniform(*main_range, key), 3)
        profile.update(skills or {})
        first_name = self.pick(FIRST_NAMES, key)
        desk = self.building.desk_for(office, role, ordinal)
        office.desks_used += 1
        agent = Agent(
            id=agent_id,
            name=name or f"{first_name} {ROLE_LETTER[role]}{ordinal + 1}",
            role=role,
            floor_id=floor.id,
            office_id=office.id,
            skills=profile,
            languages=tuple(languages or [floor.language]),
            clearance=clearance if clearance is not None else _default_clearance(role, assistant),
            attention_budget=(
                self.settings.manager_attention
                if role is ROLE_MANAGER
                else self.settings.agent_attention
            ),
            desk=desk,
            x=desk[0],
            y=desk[1],
            assistant=assistant,
            hired_tick=self.tick,
        )
        self.building.agents[agent_id] = agent
        office.agent_ids.append(agent_id)
        if role is ROLE_MANAGER and office.manager_id is None:
            office.manager_id = agent_id
        self.changes.agents[agent_id] = None
        return agent

    def auto_staff(self, office: Office, parents: tuple[int, ...] = ()) -> list[Agent]:
        """Give an office an assistant for every role it lacks, logging each one."""
        hired = []
        for role in (ROLE_MANAGER, *WORKING_ROLES):
            if not self.building.office_members(office, role):
                agent = self.add_agent(office, role, assistant=True, name=f"Assistant {role.value}")
                self.log(
                    "agent.auto_staffed",
                    "system",
                    agent.id,
                    {
                        "office": office.id,
                        "role": role.value,
                        "reason": f"office lacked a {role.value}",
                    },
                    parents,
                )
                hired.append(agent)
        return hired

    # ---- tools ------------------------------------------------------------------------------

    def add_tool(self, floor: Floor, spec: ToolSpec) -> Tool:
        tool = Tool(
            id=self.next_id("TL"),
            floor_id=floor.id,
            name=spec.name,
            kind=spec.kind,
            version=spec.version,
            trust=spec.trust,
            security_rating=spec.security_rating,
            capabilities=tuple(spec.capabilities),
            slots=spec.slots,
            sensitive=spec.sensitive,
        )
        self.building.tools[tool.id] = tool
        floor.tool_ids.append(tool.id)
        self.changes.tools[tool.id] = None
        return tool

    # ---- artifacts --------------------------------------------------------------------------

    def add_artifact(
        self,
        kind: ArtifactKind,
        subject: str,
        author: str,
        content: dict[str, Any],
        version: int = 1,
    ) -> Artifact:
        artifact = Artifact(
            id=self.next_id("AR"),
            kind=kind,
            subject=subject,
            author=author,
            version=version,
            tick=self.tick,
            content=content,
            hash=content_hash(content),
        )
        self.board.artifacts[artifact.id] = artifact
        self.totals["artifacts"] += 1
        return artifact

    # ---- the task state machine -------------------------------------------------------------

    def precondition_failure(self, task: Task, target: TaskState) -> str | None:
        """Why ``task`` may not enter ``target`` now, or None when every precondition holds."""
        source = task.state
        if target is TASK_BLOCKED:
            return None if task.blocked_reason else "a block needs a reason"
        if source is TASK_BLOCKED:
            return self._unblock_failure(task)
        if target is TASK_IN_PROGRESS:
            if source is TASK_SCHEDULED:
                return self._start_failure(task)
            if source is TASK_IN_REVIEW and not any(
                s is REVIEW_FAILED for s in task.reviews.values()
            ):
                return "rework needs a failed review"
            if source is TASK_APPROVAL and (task.vote_id is None or task.vote_carried):
                return "rework from approval needs a failed vote"
            return None
        if target is TASK_IN_REVIEW:
            if task.progress < task.effort:
                return "work is not finished"
            return None
        if target is TASK_APPROVAL:
            return None if task.all_reviews_passed() else "not every required review passed"
        if target is TASK_MERGED:
            if not task.vote_carried:
                return "the approval vote has not carried"
            return self._acceptance_failure(task)
        if target is TASK_DEPLOYED:
            tasks = self.board.tasks
            directive = self.board.directives[task.directive_id]
            if any(tasks[t].state not in (TASK_MERGED, TASK_DEPLOYED) for t in directive.task_ids):
                return "not every task of the directive is merged"
        return None

    def _start_failure(self, task: Task) -> str | None:
        builder = self.building.agents.get(task.assignee or "")
        if builder is None or builder.role is not ROLE_BUILDER:
            return "no builder assigned"
        tool = self.building.tools.get(builder.held_tool or "")
        if tool is None or "build" not in tool.capabilities:
            return "the builder does not hold a build tool"
        unmerged = self.unmerged_dependency(task)
        if unmerged is not None:
            return f"dependency {unmerged} is not merged"
        if task.ambiguity >= self.settings.ambiguity_threshold and not task.meeting_done:
            return "ambiguity is above the threshold and no meeting was held"
        if task.requires_contract and not self.contract_ready(task):
            return f"contract {task.requires_contract} has not arrived"
        return None

    def _acceptance_failure(self, task: Task) -> str | None:
        """Acceptance: every required review passed on the change being merged."""
        if not task.all_reviews_passed():
            return "acceptance criteria: not every required review passed"
        return None

    def _unblock_failure(self, task: Task) -> str | None:
        if task.requires_contract and task.blocked_from is TASK_SCHEDULED:
            if not self.contract_ready(task):
                return f"contract {task.requires_contract} has not arrived"
        return None

    def unmerged_dependency(self, task: Task) -> str | None:
        """The first dependency of ``task`` not merged (or deployed) yet, if any."""
        for dep in task.depends_on:
            dep_task = self.board.tasks.get(dep)
            if dep_task is not None and dep_task.state not in (
                TASK_MERGED,
                TASK_DEPLOYED,
            ):
                return dep
        return None

    def contract_ready(self, task: Task) -> bool:
        floor = self.building.floors[task.floor_id]
        version = floor.contracts_available.get(task.requires_contract or "")
        return version is not None and satisfies(version, task.contract_range or "^1.0.0")

    def transition(
        self,
        task: Task,
        target: TaskState,
        reason: str,
        actor: str,
        parents: tuple[int, ...] = (),
    ) -> int:
        """Move ``task`` to ``target`` or raise :class:`TransitionRefused` (logged either way)."""
        source = task.state
        if target is TASK_BLOCKED:
            task.blocked_reason = reason
        refusal = None
        if not is_legal(source, target, task.blocked_from):
            refusal = "illegal transition"
        else:
            refusal = self.precondition_failure(task, target)
        if refusal is not None:
            if target is TASK_BLOCKED and source is not TASK_BLOCKED:
                task.blocked_reason = None
            self.totals["transitions_refused"] += 1
            self.log(
                "task.transition_refused",
                actor,
                task.id,
                {"from": source.value, "to": target.value, "reason": refusal},
                (task.last_event, *parents),
            )
            raise TransitionRefused(task.id, source.value, target.value, refusal)
        self.board.enter(task, source, target, self.tick)
        source_name, target_name = _STATE_NAME[source], _STATE_NAME[target]
        seq = self.log(
            "task.transition",
            actor,
            task.id,
            {"from": source_name, "to": target_name, "reason": reason},
            (task.last_event, *parents),
        )
        task.history.append(Transition(self.tick, source_name, target_name, reason, seq))
        task.last_event = seq
        self.changes.tasks[task.id] = None
        return seq

    def register_task(self, task: Task) -> None:
        self.board.add_task(task)
        self.building.offices[task.office_id].task_ids.append(task.id)
        self.changes.tasks[task.id] = None

    def rebuild_indexes(self) -> None:
        """Derive the indexes from the registries (after a snapshot was loaded)."""
        self.board.rebuild_indexes([o.task_ids for o in self.building.offices.values()])
        self.building.rebuild_indexes()

    def reviews_for(self, task: Task) -> dict[ReviewKind, ReviewStatus]:
        """The reviews a task needs: verification and docs always, security when sensitive."""
        kinds = [REVIEW_KIND_VERIFICATION, REVIEW_KIND_DOCUMENTATION]
        if task.sensitivity >= self.settings.security_threshold:
            kinds.insert(1, REVIEW_KIND_SECURITY)
        return {k: REVIEW_PENDING for k in kinds}


def build_world(
    scenario: Scenario,
    seed: int,
    *,
    audit: AuditLog | None = None,
) -> World:
    """Create a world from a validated scenario, staff it and log its creation."""
    world = World(scenario, seed, audit if audit is not None else AuditLog())
    genesis = world.log(
        "world.created", "system", "world", {"scenario": scenario.name, "seed": seed}
    )
    for level, floor_spec in enumerate(scenario.floors):
        counts = [staff_counts(office_spec) for office_spec in floor_spec.offices]
        bays = [office_bays(max(c.values(), default=1)) for c in counts]
        plan = plan_floor(bays)
        floor = Floor(
            id=floor_spec.language,
            language=floor_spec.language,
            name=floor_spec.name or f"{floor_spec.language.title()} department",
            level=level,
            plan=plan,
        )
        world.building.floors[floor.id] = floor
        for index, office_spec in enumerate(floor_spec.offices):
            office = Office(
                id=world.next_id("O"),
                floor_id=floor.id,
                name=office_spec.name,
                rect=plan.offices[index],
                bays=bays[index],
            )
            world.building.offices[office.id] = office
            floor.office_ids.append(office.id)
            _staff_office(world, office, office_spec.agents, counts[index], genesis)
        for tool_spec in floor_spec.tools:
            world.add_tool(floor, tool_spec)
    return world


def _staff_office(
    world: World,
    office: Office,
    explicit: list[AgentSpec],
    counts: dict[Role, int],
    genesis: int,
) -> None:
    for spec in explicit:
        world.add_agent(
            office,
            spec.role,
            name=spec.name,
            skills=spec.skills,
            clearance=spec.clearance,
            languages=spec.languages or None,
        )
    for role, count in counts.items():
        already = sum(1 for s in explicit if s.role is role)
        for _ in range(count - already):
            world.add_agent(office, role)
    for agent_id in office.agent_ids:
        agent = world.building.agents[agent_id]
        world.log(
            "agent.hired",
            "system",
            agent.id,
            {"office": office.id, "role": agent.role.value, "name": agent.name},
            (genesis,),
        )
    world.auto_staff(office, (genesis,))


def _default_clearance(role: Role, assistant: bool) -> int:
    """Security staff are cleared for everything; assistants for less than regular staff."""
    if role is ROLE_SECURITY:
        return 3 if assistant else 5
    return 2 if assistant else 3


def set_status(agent: Agent, status: AgentStatus, world: World) -> None:
    if agent.status is not status:
        agent.status = status
        world.changes.agents[agent.id] = None


_STATE_NAME = {state: state.value for state in TaskState}  # Enum.value is a property call
