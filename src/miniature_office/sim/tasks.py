"""Work: directives, tasks and the task state machine as data (MODEL.md section 7)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from mypy_extensions import mypyc_attr


class TaskState(str, Enum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    IN_REVIEW = "in_review"
    APPROVAL = "approval"
    MERGED = "merged"
    DEPLOYED = "deployed"
    BLOCKED = "blocked"


S = TaskState

#: Every legal transition, in one table. ``blocked`` may only return to where it came from,
#: which :func:`is_legal` checks against the task's ``blocked_from``.
TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    S.SCHEDULED: frozenset({S.IN_PROGRESS, S.BLOCKED}),
    S.IN_PROGRESS: frozenset({S.IN_REVIEW, S.BLOCKED}),
    S.IN_REVIEW: frozenset({S.APPROVAL, S.IN_PROGRESS, S.BLOCKED}),
    S.APPROVAL: frozenset({S.MERGED, S.IN_PROGRESS, S.BLOCKED}),
    S.MERGED: frozenset({S.DEPLOYED, S.BLOCKED}),
    S.DEPLOYED: frozenset(),
    S.BLOCKED: frozenset({S.SCHEDULED, S.IN_PROGRESS, S.IN_REVIEW, S.APPROVAL, S.MERGED}),
}

#: Task states in board order (the UI columns and the cumulative flow bands).
BOARD_ORDER: tuple[TaskState, ...] = (
    S.SCHEDULED,
    S.IN_PROGRESS,
    S.IN_REVIEW,
    S.APPROVAL,
    S.MERGED,
    S.DEPLOYED,
    S.BLOCKED,
)


def is_legal(source: TaskState, target: TaskState, blocked_from: TaskState | None) -> bool:
    """True when the state machine allows ``source -> target`` for a task."""
    if source is S.BLOCKED:
        return target is blocked_from
    return target in TRANSITIONS[source]


class ReviewKind(str, Enum):
    VERIFICATION = "verification"
    SECURITY = "security"
    DOCUMENTATION = "documentation"


class ReviewStatus(str, Enum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    PASSED = "passed"
    FAILED = "failed"


class DirectiveState(str, Enum):
    AWAITING_DESIGN = "awaiting_design"
    DESIGNING = "designing"
    IN_PROGRESS = "in_progress"
    DEPLOYED = "deployed"


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class Transition:
    tick: int
    source: str
    target: str
    reason: str
    event_seq: int

    # Written out rather than generated: mypyc compiles this one, while the __init__ that
    # @dataclass generates runs interpreted (tests/sim/test_native_init.py holds it to the fields).
    def __init__(
        self,
        tick: int,
        source: str,
        target: str,
        reason: str,
        event_seq: int,
    ) -> None:
        self.tick = tick
        self.source = source
        self.target = target
        self.reason = reason
        self.event_seq = event_seq

    def to_dict(self) -> dict[str, Any]:
        return {
            "tick": self.tick,
            "from": self.source,
            "to": self.target,
            "reason": self.reason,
            "event": self.event_seq,
        }


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class Task:
    """A unit of change (like a pull request) inside a directive."""

    id: str
    directive_id: str
    floor_id: str
    office_id: str
    title: str
    effort: float
    complexity: float
    ambiguity: float
    sensitivity: float
    created_tick: int
    acceptance: list[str]
    depends_on: list[str] = field(default_factory=list)
    requires_contract: str | None = None  # contract name the task consumes
    contract_range: str | None = None  # e.g. "^1.0.0"
    provides_contract: str | None = None  # contract id this task implements
    state: TaskState = TaskState.SCHEDULED
    blocked_from: TaskState | None = None
    blocked_reason: str | None = None
    assignee: str | None = None
    last_builder: str | None = None
    progress: float = 0.0
    defects: int = 0  # injected and not yet found
    vulnerabilities: int = 0
    defects_found: int = 0
    vulnerabilities_found: int = 0
    rework_count: int = 0
    meeting_id: str | None = None
    meeting_done: bool = False
    reviews: dict[ReviewKind, ReviewStatus] = field(default_factory=dict)
    reviewers: dict[ReviewKind, str] = field(default_factory=dict)
    vote_id: str | None = None
    vote_carried: bool = False
    artifacts: list[str] = field(default_factory=list)
    history: list[Transition] = field(default_factory=list)
    started_tick: int | None = None
    merged_tick: int | None = None
    deployed_tick: int | None = None
    blocked_since: int | None = None
    blocked_ticks: int = 0
    last_event: int = 0
    stage_ticks: dict[str, int] = field(default_factory=dict)  # ticks spent per flow stage
    active_ticks: int = 0  # ticks someone worked on it (flow efficiency = active / age)

    # Written out rather than generated: mypyc compiles this one, while the __init__ that
    # @dataclass generates runs interpreted (tests/sim/test_native_init.py holds it to the fields).
    def __init__(
        self,
        id: str,
        directive_id: str,
        floor_id: str,
        office_id: str,
        title: str,
        effort: float,
        complexity: float,
        ambiguity: float,
        sensitivity: float,
        created_tick: int,
        acceptance: list[str],
        depends_on: list[str] | None = None,
        requires_contract: str | None = None,
        contract_range: str | None = None,
        provides_contract: str | None = None,
        state: TaskState = TaskState.SCHEDULED,
        blocked_from: TaskState | None = None,
        blocked_reason: str | None = None,
        assignee: str | None = None,
        last_builder: str | None = None,
        progress: float = 0.0,
        defects: int = 0,
        vulnerabilities: int = 0,
        defects_found: int = 0,
        vulnerabilities_found: int = 0,
        rework_count: int = 0,
        meeting_id: str | None = None,
        meeting_done: bool = False,
        reviews: dict[ReviewKind, ReviewStatus] | None = None,
        reviewers: dict[ReviewKind, str] | None = None,
        vote_id: str | None = None,
        vote_carried: bool = False,
        artifacts: list[str] | None = None,
        history: list[Transition] | None = None,
        started_tick: int | None = None,
        merged_tick: int | None = None,
        deployed_tick: int | None = None,
        blocked_since: int | None = None,
        blocked_ticks: int = 0,
        last_event: int = 0,
        stage_ticks: dict[str, int] | None = None,
        active_ticks: int = 0,
    ) -> None:
        self.id = id
        self.directive_id = directive_id
        self.floor_id = floor_id
        self.office_id = office_id
        self.title = title
        self.effort = effort
        self.complexity = complexity
        self.ambiguity = ambiguity
        self.sensitivity = sensitivity
        self.created_tick = created_tick
        self.acceptance = acceptance
        self.depends_on = [] if depends_on is None else depends_on
        self.requires_contract = requires_contract
        self.contract_range = contract_range
        self.provides_contract = provides_contract
        self.state = state
        self.blocked_from = blocked_from
        self.blocked_reason = blocked_reason
        self.assignee = assignee
        self.last_builder = last_builder
        self.progress = progress
        self.defects = defects
        self.vulnerabilities = vulnerabilities
        self.defects_found = defects_found
        self.vulnerabilities_found = vulnerabilities_found
        self.rework_count = rework_count
        self.meeting_id = meeting_id
        self.meeting_done = meeting_done
        self.reviews = {} if reviews is None else reviews
        self.reviewers = {} if reviewers is None else reviewers
        self.vote_id = vote_id
        self.vote_carried = vote_carried
        self.artifacts = [] if artifacts is None else artifacts
        self.history = [] if history is None else history
        self.started_tick = started_tick
        self.merged_tick = merged_tick
        self.deployed_tick = deployed_tick
        self.blocked_since = blocked_since
        self.blocked_ticks = blocked_ticks
        self.last_event = last_event
        self.stage_ticks = {} if stage_ticks is None else stage_ticks
        self.active_ticks = active_ticks

    @property
    def security_level(self) -> int:
        """Clearance (1..5) a security reviewer needs for this task."""
        return 1 + min(4, int(self.sensitivity * 5))

    def all_reviews_passed(self) -> bool:
        return bool(self.reviews) and all(s is ReviewStatus.PASSED for s in self.reviews.values())

    def to_dict(self, tick: int, *, history: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "directive_id": self.directive_id,
            "floor_id": self.floor_id,
            "office_id": self.office_id,
            "title": self.title,
            "state": self.state.value,
            "blocked_from": self.blocked_from.value if self.blocked_from else None,
            "blocked_reason": self.blocked_reason,
            "assignee": self.assignee,
            "progress": round(min(self.progress, self.effort), 3),
            "effort": round(self.effort, 3),
            "complexity": round(self.complexity, 3),
            "ambiguity": round(self.ambiguity, 3),
            "sensitivity": round(self.sensitivity, 3),
            "security_level": self.security_level,
            "created_tick": self.created_tick,
            "age": tick - self.created_tick,
            "depends_on": list(self.depends_on),
            "requires_contract": self.requires_contract,
            "contract_range": self.contract_range,
            "provides_contract": self.provides_contract,
            "defects_found": self.defects_found,
            "vulnerabilities_found": self.vulnerabilities_found,
            "rework_count": self.rework_count,
            "meeting_id": self.meeting_id,
            "meeting_done": self.meeting_done,
            "reviews": {k.value: v.value for k, v in self.reviews.items()},
            "reviewers": {k.value: v for k, v in self.reviewers.items()},
            "vote_id": self.vote_id,
            "acceptance": list(self.acceptance),
            "artifacts": list(self.artifacts),
            "started_tick": self.started_tick,
            "merged_tick": self.merged_tick,
            "deployed_tick": self.deployed_tick,
            "blocked_ticks": self.blocked_ticks,
            "stage_ticks": dict(self.stage_ticks),
            "active_ticks": self.active_ticks,
            "last_event": self.last_event,
        }
        if history:
            data["history"] = [t.to_dict() for t in self.history]
        return data


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class Directive:
    """User intent -> architect intent -> tasks (a small DAG)."""

    id: str
    title: str
    floor_id: str
    office_id: str
    priority: int
    ambiguity: float
    sensitivity: float
    complexity: float
    created_tick: int
    depends_on_floor: str | None = None
    origin_contract: str | None = None  # set when the directive implements a contract request
    state: DirectiveState = DirectiveState.AWAITING_DESIGN
    architect_intent: str | None = None
    architect: str | None = None
    task_ids: list[str] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    deployed_tick: int | None = None
    escaped_defects: int = 0
    last_event: int = 0
    key: str = ""  # stable identity (arrival 17, scenario directive 2, ...): keys its draws
    offered_tick: int | None = None  # when it arrived (before any wait in the backlog)
    designed_tick: int | None = None
    stage_ticks: dict[str, int] = field(default_factory=dict)  # lead time split by stage
    active_ticks: int = 0  # ticks someone worked on it (flow efficiency = active / lead)

    # Written out rather than generated: mypyc compiles this one, while the __init__ that
    # @dataclass generates runs interpreted (tests/sim/test_native_init.py holds it to the fields).
    def __init__(
        self,
        id: str,
        title: str,
        floor_id: str,
        office_id: str,
        priority: int,
        ambiguity: float,
        sensitivity: float,
        complexity: float,
        created_tick: int,
        depends_on_floor: str | None = None,
        origin_contract: str | None = None,
        state: DirectiveState = DirectiveState.AWAITING_DESIGN,
        architect_intent: str | None = None,
        architect: str | None = None,
        task_ids: list[str] | None = None,
        artifacts: list[str] | None = None,
        deployed_tick: int | None = None,
        escaped_defects: int = 0,
        last_event: int = 0,
        key: str = "",
        offered_tick: int | None = None,
        designed_tick: int | None = None,
        stage_ticks: dict[str, int] | None = None,
        active_ticks: int = 0,
    ) -> None:
        self.id = id
        self.title = title
        self.floor_id = floor_id
        self.office_id = office_id
        self.priority = priority
        self.ambiguity = ambiguity
        self.sensitivity = sensitivity
        self.complexity = complexity
        self.created_tick = created_tick
        self.depends_on_floor = depends_on_floor
        self.origin_contract = origin_contract
        self.state = state
        self.architect_intent = architect_intent
        self.architect = architect
        self.task_ids = [] if task_ids is None else task_ids
        self.artifacts = [] if artifacts is None else artifacts
        self.deployed_tick = deployed_tick
        self.escaped_defects = escaped_defects
        self.last_event = last_event
        self.key = key
        self.offered_tick = offered_tick
        self.designed_tick = designed_tick
        self.stage_ticks = {} if stage_ticks is None else stage_ticks
        self.active_ticks = active_ticks

    @property
    def arrived_tick(self) -> int:
        """Start of the lead time: the offer, or creation for work that never queued."""
        return self.created_tick if self.offered_tick is None else self.offered_tick

    def to_dict(self, tick: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "floor_id": self.floor_id,
            "office_id": self.office_id,
            "priority": self.priority,
            "ambiguity": round(self.ambiguity, 3),
            "sensitivity": round(self.sensitivity, 3),
            "complexity": round(self.complexity, 3),
            "created_tick": self.created_tick,
            "age": tick - self.created_tick,
            "depends_on_floor": self.depends_on_floor,
            "origin_contract": self.origin_contract,
            "state": self.state.value,
            "user_intent": self.title,
            "architect_intent": self.architect_intent,
            "architect": self.architect,
            "task_ids": list(self.task_ids),
            "deployed_tick": self.deployed_tick,
            "lead_time": (self.deployed_tick - self.arrived_tick) if self.deployed_tick else None,
            "escaped_defects": self.escaped_defects,
            "offered_tick": self.arrived_tick,
            "stage_ticks": dict(self.stage_ticks),
            "active_ticks": self.active_ticks,
        }
