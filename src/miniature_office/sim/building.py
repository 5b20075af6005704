"""The building: floors, offices, the people at their desks, tools, contracts and the lift.

``world.building`` is one :class:`Building`. A floor is a language department with its offices
and tools; an office has its staff, desks and outbox; contracts are what floors publish to each
other, carried by the elevator. Hiring and adding tools (which log and draw) are
``World.add_agent`` / ``World.add_tool``; this part answers where things are and who is there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mypy_extensions import mypyc_attr

from .agents import Agent, Role
from .contracts import Contract, Elevator, Shipment
from .floorplan import FloorPlan, Rect, desk_position, spare_desk
from .supply import Tool, find_tools


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class Office:
    id: str
    floor_id: str
    name: str
    rect: Rect
    manager_id: str | None = None
    agent_ids: list[str] = field(default_factory=list)
    directive_ids: list[str] = field(default_factory=list)
    task_ids: list[str] = field(default_factory=list)
    desks_used: int = 0
    hires: dict[str, int] = field(default_factory=dict)  # role -> ordinals handed out so far
    bays: int = 1  # desk bays the office was planned with (one desk per role per bay)
    outbox: list[Shipment] = field(default_factory=list)  # waiting for a courier to the lift

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "floor_id": self.floor_id,
            "name": self.name,
            "rect": self.rect.to_dict(),
            "manager_id": self.manager_id,
            "agent_ids": list(self.agent_ids),
            "outbox": [s.to_dict() for s in self.outbox],
        }


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class Floor:
    id: str
    language: str
    name: str
    level: int
    plan: FloorPlan
    office_ids: list[str] = field(default_factory=list)
    tool_ids: list[str] = field(default_factory=list)
    contracts_available: dict[str, str] = field(default_factory=dict)  # name -> version

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "language": self.language,
            "name": self.name,
            "level": self.level,
            "plan": self.plan.to_dict(),
            "office_ids": list(self.office_ids),
            "tool_ids": list(self.tool_ids),
            "contracts_available": dict(self.contracts_available),
        }


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
class Building:
    """Floors, offices, agents, tools, contracts and the elevator, by id."""

    def __init__(self, elevator_ticks_per_floor: int) -> None:
        self.floors: dict[str, Floor] = {}
        self.offices: dict[str, Office] = {}
        self.agents: dict[str, Agent] = {}
        self.tools: dict[str, Tool] = {}
        self.contracts: dict[str, Contract] = {}
        self.releases: dict[str, int] = {}  # "floor:contract" -> releases published
        self.elevator = Elevator(ticks_per_floor=elevator_ticks_per_floor)
        self.next_contract_prune = 0  # no settled contract can leave memory before this tick
        # Floor tools per capability (derived, not part of a snapshot).
        self._tools_for: dict[tuple[str, str], tuple[int, list[Tool], bool]] = {}

    @property
    def floor_ids(self) -> list[str]:
        return list(self.floors)

    def desk_for(self, office: Office, role: Role, ordinal: int) -> tuple[int, int]:
        """The desk of bay ``ordinal``; past the planned bays, any free tile in the office."""
        desk = desk_position(office.rect, role.value, ordinal)
        taken = {self.agents[a].desk for a in office.agent_ids}
        if desk is None or desk in taken:
            desk = spare_desk(office.rect, taken) or desk or (office.rect.x + 1, office.rect.y + 1)
        return desk

    def office_members(self, office: Office, role: Role) -> list[Agent]:
        return [a for a in (self.agents[i] for i in office.agent_ids) if a.role is role]

    def floor_tools(self, floor_id: str) -> list[Tool]:
        return [self.tools[t] for t in self.floors[floor_id].tool_ids]

    def tools_for(self, floor_id: str, capability: str) -> tuple[list[Tool], bool]:
        """The floor's tools offering ``capability``, most trusted first (``supply.find_tools``),
        and whether a sensitive one is among them. Tools never change what they offer, so the
        answer is kept until the floor gets another tool."""
        have = len(self.floors[floor_id].tool_ids)
        cached = self._tools_for.get((floor_id, capability))
        if cached is None or cached[0] != have:
            matching = find_tools(self.floor_tools(floor_id), capability)
            cached = (have, matching, any(t.sensitive for t in matching))
            self._tools_for[(floor_id, capability)] = cached
        return cached[1], cached[2]

    def rebuild_indexes(self) -> None:
        """Forget what is derived (after a snapshot was loaded: the tools were rebuilt too)."""
        self._tools_for = {}
        self.next_contract_prune = 0


__all__ = ["Building", "Floor", "Office"]
