"""People: roles, capability profiles, attention and status (MODEL.md section 1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from mypy_extensions import mypyc_attr

from .contracts import Shipment


class Role(str, Enum):
    """The five working roles every office needs, plus its manager."""

    ARCHITECT = "architect"
    BUILDER = "builder"
    VERIFIER = "verifier"
    SECURITY = "security"
    DOC_AGENT = "doc_agent"
    MANAGER = "manager"


#: Roles an office must have besides its manager; a missing one is auto-staffed.
WORKING_ROLES: tuple[Role, ...] = (
    Role.ARCHITECT,
    Role.BUILDER,
    Role.VERIFIER,
    Role.SECURITY,
    Role.DOC_AGENT,
)

#: The skill a role mostly uses (0..1 in the capability profile).
ROLE_SKILL: dict[Role, str] = {
    Role.ARCHITECT: "design",
    Role.BUILDER: "build",
    Role.VERIFIER: "verify",
    Role.SECURITY: "security",
    Role.DOC_AGENT: "docs",
    Role.MANAGER: "manage",
}

ROLE_LETTER: dict[Role, str] = {
    Role.ARCHITECT: "A",
    Role.BUILDER: "B",
    Role.VERIFIER: "V",
    Role.SECURITY: "S",
    Role.DOC_AGENT: "D",
    Role.MANAGER: "M",
}


class AgentStatus(str, Enum):
    IDLE = "idle"
    WALKING = "walking"
    WORKING = "working"
    REVIEWING = "reviewing"
    IN_MEETING = "in_meeting"
    WAITING = "waiting"
    BLOCKED = "blocked"
    OFF_DUTY = "off_duty"


#: Statuses that count as busy for utilisation.
BUSY_STATUSES = frozenset(
    {AgentStatus.WORKING, AgentStatus.REVIEWING, AgentStatus.IN_MEETING, AgentStatus.WALKING}
)


class ActivityKind(str, Enum):
    DESIGN = "design"
    BUILD = "build"
    VERIFY = "verify"
    SECURE = "secure"
    DOCUMENT = "document"
    MEETING = "meeting"
    COURIER = "courier"  # carry a contract request or release to the elevator


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class Activity:
    """What an agent is doing: the work it owes, where, and the tool capability it needs."""

    kind: ActivityKind
    target: str  # a task id, a directive id (design) or a meeting id
    remaining: float
    capability: str | None = None
    place: str = "desk"  # desk | meeting | elevator
    cargo: Shipment | None = None  # what a courier carries
    refusals: int = 0  # checkouts of a sensitive tool refused for a missing justification

    # Written out rather than generated: mypyc compiles this one, while the __init__ that
    # @dataclass generates runs interpreted (tests/sim/test_native_init.py holds it to the fields).
    def __init__(
        self,
        kind: ActivityKind,
        target: str,
        remaining: float,
        capability: str | None = None,
        place: str = "desk",
        cargo: Shipment | None = None,
        refusals: int = 0,
    ) -> None:
        self.kind = kind
        self.target = target
        self.remaining = remaining
        self.capability = capability
        self.place = place
        self.cargo = cargo
        self.refusals = refusals

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "target": self.target,
            "remaining": round(self.remaining, 3),
            "capability": self.capability,
            "place": self.place,
            "cargo": self.cargo.to_dict() if self.cargo else None,
        }


#: An agent's skill at something its profile does not name (:meth:`Agent.skill`).
DEFAULT_SKILL = 0.3


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class Agent:
    """One member of staff with a capability profile, an attention budget and a tile position."""

    id: str
    name: str
    role: Role
    floor_id: str
    office_id: str
    skills: dict[str, float]
    languages: tuple[str, ...]
    clearance: int
    attention_budget: int
    desk: tuple[int, int]
    x: int
    y: int
    assistant: bool = False
    status: AgentStatus = AgentStatus.IDLE
    attention_left: int = 0
    path: list[tuple[int, int]] = field(default_factory=list)  # corners still to walk
    activity: Activity | None = None
    held_tool: str | None = None
    waiting_for: str | None = None
    busy_ticks: int = 0
    hired_tick: int = 0
    walk_debt: float = 0.0  # walking time owed, in ticks (see acting._walk)
    dispatched_this_tick: int = 0  # manager work this tick: assignments and escalations

    def skill(self, name: str) -> float:
        return self.skills.get(name, DEFAULT_SKILL)

    @property
    def free(self) -> bool:
        """Free to take new work: no activity and not walking somewhere for one."""
        return self.activity is None and self.status is not AgentStatus.OFF_DUTY

    def to_dict(self) -> dict[str, Any]:
        activity = self.activity
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role.value,
            "letter": ROLE_LETTER[self.role],
            "floor_id": self.floor_id,
            "office_id": self.office_id,
            "status": self.status.value,
            "x": self.x,
            "y": self.y,
            "desk": list(self.desk),
            "task_id": activity.target if activity else None,
            "activity": activity.to_dict() if activity else None,
            "held_tool": self.held_tool,
            "waiting_for": self.waiting_for,
            "attention_left": self.attention_left,
            "attention_budget": self.attention_budget,
            "skills": dict(self.skills),
            "languages": list(self.languages),
            "clearance": self.clearance,
            "assistant": self.assistant,
            "busy_ticks": self.busy_ticks,
        }
