"""Scenarios: floors, offices, staffing, tools and the stream of incoming directives.

A scenario arrives as a mapping (parsed from YAML or JSON by :func:`parse_scenario`); every
problem is reported as a :class:`ScenarioError` naming the dotted field and the problem.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .agents import WORKING_ROLES, Role
from .errors import ScenarioError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgentSpec(_Strict):
    name: str | None = Field(default=None, max_length=80)
    role: Role
    skills: dict[str, float] = Field(default_factory=dict)
    clearance: int = Field(default=3, ge=1, le=5)
    languages: list[str] = Field(default_factory=list)

    @field_validator("skills")
    @classmethod
    def _skills_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for key, level in value.items():
            if not 0.0 <= level <= 1.0:
                raise ValueError(f"skill {key!r} must be between 0 and 1")
        return value


class OfficeSpec(_Strict):
    name: str = Field(min_length=1, max_length=80)
    staff: dict[Role, int] = Field(default_factory=dict)
    agents: list[AgentSpec] = Field(default_factory=list)

    @field_validator("staff")
    @classmethod
    def _staff_counts(cls, value: dict[Role, int]) -> dict[Role, int]:
        for role, count in value.items():
            if not 0 <= count <= 200:
                raise ValueError(f"{role.value} count must be between 0 and 200")
        return value


class ToolSpec(_Strict):
    name: str = Field(min_length=1, max_length=80)
    kind: str = Field(min_length=1, max_length=40)
    version: str = Field(default="1.0.0", max_length=40)
    capabilities: list[str] = Field(min_length=1)
    slots: int = Field(default=1, ge=1, le=1000)
    trust: float = Field(default=0.8, ge=0, le=1)
    security_rating: int = Field(default=3, ge=1, le=5)
    sensitive: bool = False


class FloorSpec(_Strict):
    language: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_+-]*$")
    name: str | None = Field(default=None, max_length=80)
    offices: list[OfficeSpec] = Field(min_length=1)
    tools: list[ToolSpec] = Field(default_factory=list)


class DirectiveSpec(_Strict):
    tick: int = Field(default=0, ge=0)
    title: str = Field(min_length=1, max_length=200)
    floor: str
    priority: int = Field(default=2, ge=1, le=5)
    ambiguity: float = Field(default=0.3, ge=0, le=1)
    sensitivity: float = Field(default=0.2, ge=0, le=1)
    complexity: float = Field(default=0.5, ge=0, le=1)
    depends_on_floor: str | None = None


class ArrivalSpec(_Strict):
    rate_per_day: float = Field(default=0.0, ge=0, le=10000)
    cross_floor_share: float = Field(default=0.15, ge=0, le=1)
    ambiguity: tuple[float, float] = (0.1, 0.8)
    sensitivity: tuple[float, float] = (0.0, 0.9)
    complexity: tuple[float, float] = (0.2, 0.8)
    max_open: int = Field(default=40, ge=1, le=1_000_000)


class Settings(_Strict):
    ticks_per_day: int = Field(default=8, ge=1, le=1000)
    ambiguity_threshold: float = Field(default=0.5, ge=0, le=1)
    security_threshold: float = Field(default=0.5, ge=0, le=1)
    meeting_ticks: int = Field(default=2, ge=1, le=100)
    elevator_ticks_per_floor: int = Field(default=2, ge=1, le=100)
    manager_attention: int = Field(default=4, ge=1, le=100)
    agent_attention: int = Field(default=2, ge=1, le=100)
    votes_per_tick: int = Field(default=2, ge=1, le=100)
    walk_speed: int = Field(default=8, ge=1, le=100)
    retention_ticks: int = Field(default=240, ge=1, le=1_000_000)


class Scenario(_Strict):
    """A validated scenario. Build one with :func:`parse_scenario` or :func:`load_scenario_text`."""

    name: str = Field(default="scenario", max_length=80)
    description: str = Field(default="", max_length=2000)
    floors: list[FloorSpec] = Field(min_length=1, max_length=64)
    directives: list[DirectiveSpec] = Field(default_factory=list)
    arrivals: ArrivalSpec = Field(default_factory=ArrivalSpec)
    settings: Settings = Field(default_factory=Settings)

    @model_validator(mode="after")
    def _floors_are_known(self) -> "Scenario":
        languages = [f.language for f in self.floors]
        if len(set(languages)) != len(languages):
            raise ValueError("floor languages must be unique")
        for i, directive in enumerate(self.directives):
            if directive.floor not in languages:
                raise ValueError(f"directives.{i}.floor: unknown floor {directive.floor!r}")
            dep = directive.depends_on_floor
            if dep is not None and (dep not in languages or dep == directive.floor):
                raise ValueError(f"directives.{i}.depends_on_floor: must be another floor")
        return self

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def parse_scenario(raw: Any) -> Scenario:
    """Validate a scenario mapping; raise :class:`ScenarioError` naming the first bad field."""
    if not isinstance(raw, dict):
        raise ScenarioError("", "a scenario must be a mapping at the top level")
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ScenarioError(where or "scenario", first["msg"]) from None


def load_scenario_text(text: str, fmt: str = "auto") -> Scenario:
    """Parse YAML or JSON text (``fmt`` = yaml | json | auto) into a validated scenario."""
    try:
        if fmt == "json" or (fmt == "auto" and text.lstrip().startswith("{")):
            raw = json.loads(text)
        else:
            raw = yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ScenarioError(
            "", f"not valid {fmt if fmt != 'auto' else 'YAML/JSON'}: {exc}"
        ) from None
    return parse_scenario(raw)


def with_overrides(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """Return a copy with dotted-path overrides applied.

    ``roles.<role>`` sets that role's staff count in every office; any other path names a field
    (``settings.votes_per_tick``, ``arrivals.rate_per_day``).
    """
    raw = copy.deepcopy(scenario.to_dict())
    for path, value in overrides.items():
        head, _, rest = path.partition(".")
        if head == "roles":
            try:
                role = Role(rest)
            except ValueError:
                raise ScenarioError(path, f"unknown role {rest!r}") from None
            for floor in raw["floors"]:
                for office in floor["offices"]:
                    office["agents"] = [a for a in office["agents"] if a["role"] != role.value]
                    office["staff"][role.value] = value
            continue
        node = raw
        parts = path.split(".")
        for part in parts[:-1]:
            if not isinstance(node, dict) or part not in node:
                raise ScenarioError(path, "no such field")
            node = node[part]
        if not isinstance(node, dict) or parts[-1] not in node:
            raise ScenarioError(path, "no such field")
        node[parts[-1]] = value
    return parse_scenario(raw)


def staff_counts(office: OfficeSpec) -> dict[Role, int]:
    """How many of each role an office asks for (explicit agents plus staff counts)."""
    counts = {role: 0 for role in (Role.MANAGER, *WORKING_ROLES)}
    for role, count in office.staff.items():
        counts[role] += count
    for agent in office.agents:
        counts[agent.role] += 1
    return counts
