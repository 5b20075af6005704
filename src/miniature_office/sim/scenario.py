"""Scenarios: floors, offices, staffing, tools and the stream of incoming directives.

A scenario arrives as a mapping (parsed from YAML or JSON by :func:`parse_scenario`); every
problem is reported as a :class:`ScenarioError` naming the dotted field and the problem.
"""

from __future__ import annotations

import copy
import json
import math
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .agents import WORKING_ROLES, Role
from .errors import ScenarioError

#: A task's sensitivity is its directive's times uniform(low, high) (directives.py).
TASK_SENSITIVITY_SPREAD = (0.85, 1.1)
#: Tool capabilities every task needs (build, verification, documentation) and sensitive ones.
WORK_CAPABILITIES = ("build", "test", "docs")
SENSITIVE_CAPABILITY = "scan"
#: Bounds on scenario text (issue 25): a scenario is a few kilobytes; anything far larger,
#: deeper or more repetitive is refused before (or while) it is parsed, in bounded time.
MAX_SCENARIO_CHARS = 1 << 20
MAX_DEPTH = 32
MAX_DIRECTIVES = 10_000
MAX_TICK = 2**31 - 1


# Default factories are plain Python functions, not ``dict``, ``list`` or a model class:
# pydantic asks each factory for its signature (does it take the validated data?), and for a
# builtin that means parsing its text signature with tokenize (compiling tokenize's regex), for a
# model building its signature from the fields: about 2% of a one-tick ``simulate`` process.


def _no_entries() -> dict[Any, Any]:
    return {}


def _no_items() -> list[Any]:
    return []


class FieldProblem(ValueError):
    """A cross-field check failed; ``path`` names the field relative to the model checked."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(problem)
        self.path = path
        self.problem = problem


class _Strict(BaseModel):
    # NaN and the infinities are never a setting: refused by name, not by a range check
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class AgentSpec(_Strict):
    name: str | None = Field(default=None, max_length=80)
    role: Role
    skills: dict[str, float] = Field(default_factory=_no_entries, max_length=64)
    clearance: int = Field(default=3, ge=1, le=5)
    languages: list[str] = Field(default_factory=_no_items, max_length=64)

    @field_validator("skills")
    @classmethod
    def _skills_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for key, level in value.items():
            if not 0.0 <= level <= 1.0:
                raise ValueError(f"skill {key!r} must be between 0 and 1")
        return value


class OfficeSpec(_Strict):
    name: str = Field(min_length=1, max_length=80)
    staff: dict[Role, int] = Field(default_factory=_no_entries)
    agents: list[AgentSpec] = Field(default_factory=_no_items, max_length=1000)

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
    capabilities: list[str] = Field(min_length=1, max_length=64)
    slots: int = Field(default=1, ge=1, le=1000)
    trust: float = Field(default=0.8, ge=0, le=1)
    security_rating: int = Field(default=3, ge=1, le=5)
    sensitive: bool = False


class FloorSpec(_Strict):
    language: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_+-]*$")
    name: str | None = Field(default=None, max_length=80)
    offices: list[OfficeSpec] = Field(min_length=1, max_length=64)
    tools: list[ToolSpec] = Field(default_factory=_no_items, max_length=256)

    @model_validator(mode="after")
    def _tool_names_are_unique(self) -> "FloorSpec":
        seen: set[str] = set()
        for i, tool in enumerate(self.tools):
            if tool.name in seen:
                raise FieldProblem(f"tools.{i}.name", f"duplicate tool name {tool.name!r}")
            seen.add(tool.name)
        return self


class DirectiveRequest(BaseModel):
    """What opens a directive, wherever it comes from, in one shape: a ``create_directive``
    command's payload (sim/commands.py; the body of ``POST /api/directives``), a scenario's
    scripted directive (:class:`DirectiveSpec`: this plus its tick), a random arrival waiting in
    the backlog (``world.Arrival`` holds one) and the directive a contract request opens on the
    provider's floor. :func:`sim.directives.create_directive` takes one.

    ``floor`` names the floor by its id (its language), as commands and scenario files of
    0.1.0 name it; the directive it opens records it as ``floor_id``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

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


class DirectiveSpec(DirectiveRequest):
    """A scripted directive: a request released when the clock passes ``tick``."""

    # a scenario is strict about numbers as every part of it is (its other settings: _Strict)
    model_config = ConfigDict(allow_inf_nan=False)

    tick: int = Field(default=0, ge=0, le=MAX_TICK)


class ArrivalSpec(_Strict):
    rate_per_day: float = Field(default=0.0, ge=0, le=10000)
    cross_floor_share: float = Field(default=0.15, ge=0, le=1)
    ambiguity: tuple[float, float] = (0.1, 0.8)
    sensitivity: tuple[float, float] = (0.0, 0.9)
    complexity: tuple[float, float] = (0.2, 0.8)
    max_open: int = Field(default=40, ge=1, le=1_000_000)
    #: What happens to an arrival while ``max_open`` directives are open: it waits in the
    #: backlog (admitted later, by effective priority) or is rejected (logged and counted).
    overflow: Literal["backlog", "reject"] = "backlog"
    #: The backlog holds at most this many arrivals; one more is rejected (logged, counted), so
    #: an office that can never catch up keeps bounded memory and snapshots.
    max_backlog: int = Field(default=1000, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _ranges_are_fractions(self) -> "ArrivalSpec":
        for name in ("ambiguity", "sensitivity", "complexity"):
            low, high = getattr(self, name)
            if not (0.0 <= low <= 1.0 and 0.0 <= high <= 1.0):
                raise FieldProblem(name, "both ends must be between 0 and 1")
            if low > high:
                raise FieldProblem(name, f"low ({low}) must not exceed high ({high})")
        return self


def _setting(default: float, low: float, high: float, why: str) -> Any:
    """A tuning number: its default (today's behaviour), its bounds and why it is what it is."""
    return Field(default=default, ge=low, le=high, description=why)


class Settings(_Strict):
    """Every tuning number of the rules, with today's value as the default (MODEL.md explains).

    Each is sweepable: ``sweep --set settings.<name>=a,b,c``.
    """

    ticks_per_day: int = Field(
        default=8, ge=1, le=1000, description="Ticks in a working day (one tick ~ one hour)."
    )
    ambiguity_threshold: float = Field(
        default=0.5, ge=0, le=1, description="Tasks this ambiguous need a meeting before build."
    )
    security_threshold: float = Field(
        default=0.5, ge=0, le=1, description="Tasks this sensitive need a security review."
    )
    meeting_ticks: int = Field(
        default=2, ge=1, le=100, description="Ticks a meeting lasts once everyone is seated."
    )
    elevator_ticks_per_floor: int = Field(
        default=2, ge=1, le=100, description="Ticks the elevator takes to move one floor."
    )
    manager_attention: int = Field(
        default=4,
        ge=1,
        le=100,
        description="A manager's attention per tick: each assignment, escalation or vote close "
        "costs one.",
    )
    agent_attention: int = Field(
        default=2, ge=1, le=100, description="An agent's attention per tick (work, ballots)."
    )
    votes_per_tick: int = Field(
        default=2, ge=1, le=100, description="Votes one manager closes per tick at most."
    )
    walk_speed: int = Field(default=240, ge=1, le=100_000, description="Tiles walked per tick.")
    retention_ticks: int = Field(
        default=240,
        ge=1,
        le=1_000_000,
        description="Deployed work older than this leaves memory (the audit log keeps it).",
    )
    # ---- flow (demand, priority, measurement) ---------------------------------------------
    priority_aging_ticks: int = _setting(
        40,
        0,
        1_000_000,
        "Anti-starvation: waiting work gains one priority level per this many "
        "ticks since it arrived (0 = strict priority, no aging).",
    )
    design_effort_distribution: Literal["fixed", "exponential"] = Field(
        default="fixed",
        description="Design effort: the fixed formula, or an exponential draw with that mean "
        "(queueing checks against M/M/c theory).",
    )
    flow_window_ticks: int = _setting(
        400, 1, 1_000_000, "Window (ticks) of the flow row's mean and percentile lead/cycle times."
    )
    # ---- design (directives) -----------------------------------------------------------
    design_effort_base: float = _setting(
        1.0, 0, 100, "Design effort of any directive, in work units (one skilled tick ~ 1.2)."
    )
    design_effort_ambiguity: float = _setting(
        3.0, 0, 100, "Extra design effort per unit of directive ambiguity (unclear asks)."
    )
    design_effort_complexity: float = _setting(
        2.0, 0, 100, "Extra design effort per unit of directive complexity."
    )
    tasks_per_complexity: float = _setting(
        3.0, 0, 20, "A directive splits into 1 + int(complexity x this) tasks (+1 by chance)."
    )
    extra_task_chance: float = _setting(
        0.5, 0, 1, "Chance the architect splits a directive into one more task."
    )
    max_tasks_per_directive: int = Field(
        default=5, ge=1, le=50, description="The most tasks one directive splits into."
    )
    task_effort_min: float = _setting(
        3.0, 0.1, 1000, "Smallest task effort before the complexity factor (0.6 + complexity)."
    )
    task_effort_max: float = _setting(
        8.0, 0.1, 1000, "Largest task effort before the complexity factor (0.6 + complexity)."
    )
    task_dependency_chance: float = _setting(
        0.5, 0, 1, "Chance that a task depends on each earlier task of its directive."
    )
    # ---- work speed ----------------------------------------------------------------------
    design_speed_base: float = _setting(
        0.5, 0.01, 100, "Design progress per tick is this plus the architect's design skill."
    )
    build_speed_base: float = _setting(
        0.6, 0.01, 100, "Build progress per tick is this plus build_speed_skill x build skill."
    )
    build_speed_skill: float = _setting(
        0.8, 0, 100, "How much build skill adds to build progress per tick."
    )
    review_speed_base: float = _setting(
        0.5, 0.01, 100, "Review progress per tick is this plus the reviewer's skill."
    )
    review_effort_share: float = _setting(
        0.25, 0.01, 10, "A review costs this share of the task's effort (at least 1 unit)."
    )
    foreign_language_speed: float = _setting(
        0.6,
        0.05,
        1,
        "Work speed of an agent on a floor whose language it does not speak (1 = no penalty).",
    )
    # ---- quality: injection -------------------------------------------------------------
    defect_rate: float = _setting(
        0.12, 0, 1, "Per build tick: chance of a defect = rate x complexity x (headroom - skill)."
    )
    vulnerability_rate: float = _setting(
        0.08,
        0,
        1,
        "Per build tick: chance of a vulnerability = rate x sensitivity x the same factors.",
    )
    skill_headroom: float = _setting(
        1.2, 1, 5, "Injection scales with (headroom - skill): even the best builder errs."
    )
    ambiguity_defect_weight: float = _setting(
        1.0, 0, 20, "Injection x (1 + weight x residual ambiguity): unclear work has more bugs."
    )
    compiler_trust_defect_weight: float = _setting(
        1.0, 0, 20, "Injection x (1 + weight x (1 - build tool trust)): shaky toolchains."
    )
    # ---- quality: detection and rework -------------------------------------------------
    verify_detect_base: float = _setting(
        0.45, 0, 1, "Chance a verifier finds each defect: base + skill weight x verify skill."
    )
    verify_detect_skill: float = _setting(0.45, 0, 1, "See verify_detect_base.")
    scan_detect_base: float = _setting(
        0.4, 0, 1, "Chance a security reviewer finds each vulnerability: base + weight x skill."
    )
    scan_detect_skill: float = _setting(0.5, 0, 1, "See scan_detect_base.")
    tool_trust_detect_weight: float = _setting(
        0.5, 0, 1, "Detection x (1 - weight x (1 - trust)) of the test framework / scanner held."
    )
    security_rating_detect_weight: float = _setting(
        0.4, 0, 1, "Scan detection x (1 - weight x (5 - security rating) / 4) of the scanner."
    )
    doc_gap_rate: float = _setting(
        0.15,
        0,
        1,
        "Documentation review fails with chance rate x (ambiguity + complexity / 2) x "
        "(0.5 + docs skill): unclear or complex changes are under-documented, and a skilled "
        "doc agent notices more often.",
    )
    doc_rework_effort: float = _setting(
        0.5, 0, 100, "Effort added to a task whose documentation review failed."
    )
    rework_effort_min: float = _setting(
        1.0, 0, 100, "Effort added per finding of a failed review: uniform(min, max)."
    )
    rework_effort_max: float = _setting(2.0, 0, 100, "See rework_effort_min.")
    # ---- meetings and votes --------------------------------------------------------------
    meeting_ambiguity_factor: float = _setting(
        0.35, 0, 1, "A meeting multiplies the task's ambiguity by this (what stays unclear)."
    )
    vote_yes_base: float = _setting(
        0.97, 0, 1, "A voter's yes chance for clean, simple, clear work."
    )
    vote_risk_weight: float = _setting(
        0.15,
        0,
        10,
        "Yes chance falls by care x this x (complexity + residual ambiguity); care is the "
        "voter's main skill (a skilled voter weighs the evidence more).",
    )
    vote_findings_weight: float = _setting(
        0.04, 0, 1, "Yes chance falls by care x this per defect or vulnerability reviews found."
    )
    vote_rework_weight: float = _setting(
        0.04, 0, 1, "Yes chance falls by care x this per earlier rework of the task."
    )
    vote_evidence_cap: float = _setting(
        0.2,
        0,
        1,
        "The most past findings and rework lower a yes chance (before care): fixed work is "
        "not doubted without end, which would loop failed votes and growing rework.",
    )
    vote_yes_floor: float = _setting(
        0.2, 0, 1, "The lowest yes chance: even doubtful work can carry a vote."
    )
    vote_fail_rework_share: float = _setting(
        0.25, 0, 10, "A failed vote adds this share of the task's effort as rework."
    )
    # ---- tools ---------------------------------------------------------------------------
    justification_missing_chance: float = _setting(
        0.1, 0, 1, "Chance an agent arrives at a sensitive tool without a written justification."
    )
    justification_escalate_after: int = Field(
        default=3,
        ge=1,
        le=100,
        description="Refused checkouts of one activity before its manager writes the case.",
    )
    # ---- contracts -----------------------------------------------------------------------
    breaking_release_chance: float = _setting(
        0.1,
        0,
        1,
        "Chance a provider's release is a new major version (breaking for consumers on ^1): "
        "the provider's API moved on since the consumer last built against it.",
    )
    breaking_adapt_effort: float = _setting(
        2.0, 0, 100, "Effort added to each consumer task that adapts to a breaking release."
    )
    provider_ambiguity: float = _setting(
        0.2, 0, 1, "Ambiguity of the directive a provider floor opens for a contract request."
    )
    provider_sensitivity: float = _setting(
        0.3, 0, 1, "Sensitivity of the directive a provider floor opens for a contract."
    )
    provider_complexity: float = _setting(
        0.4, 0, 1, "Complexity of the directive a provider floor opens for a contract."
    )
    # ---- stalls --------------------------------------------------------------------------
    stall_check_every: int = Field(
        default=8,
        ge=1,
        le=1000,
        description="Ticks between stall scans: a working day, so a stall is named within a "
        "day of starting while scanning costs under 1% of the run's time.",
    )
    stall_elevator_ticks: int = Field(
        default=24,
        ge=1,
        le=100_000,
        description="The elevator is saturated when its queue needs more than this many ticks "
        "to clear (shipments x ticks per trip), for this many ticks in a row.",
    )
    stall_starvation_ticks: int = Field(
        default=480,
        ge=1,
        le=1_000_000,
        description="Scheduled work untouched for this many ticks is starving (60 days).",
    )
    stall_rework_loop: int = Field(
        default=4,
        ge=1,
        le=1000,
        description="A task sent back (failed review or vote) this many times without merging "
        "is cycling without progress: each return costs a full round of reviews and a vote.",
    )

    @model_validator(mode="after")
    def _ranges_are_ordered(self) -> "Settings":
        for low, high in (
            ("task_effort_min", "task_effort_max"),
            ("rework_effort_min", "rework_effort_max"),
            ("vote_yes_floor", "vote_yes_base"),
        ):
            if getattr(self, low) > getattr(self, high):
                raise FieldProblem(high, f"must not be below {low} ({getattr(self, low)})")
        return self


class Scenario(_Strict):
    """A validated scenario. Build one with :func:`parse_scenario` or :func:`load_scenario_text`."""

    name: str = Field(default="scenario", max_length=80)
    description: str = Field(default="", max_length=2000)
    floors: list[FloorSpec] = Field(min_length=1, max_length=64)
    directives: list[DirectiveSpec] = Field(default_factory=_no_items, max_length=MAX_DIRECTIVES)
    arrivals: ArrivalSpec = Field(default_factory=lambda: ArrivalSpec())
    settings: Settings = Field(default_factory=lambda: Settings())

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
        self._floors_can_work()
        return self

    def _floors_can_work(self) -> None:
        """Refuse a floor that gets work but lacks a tool for a capability its tasks need."""
        for index, floor in enumerate(self.floors):
            needed = self.capabilities_needed(floor.language)
            have = {c for tool in floor.tools for c in tool.capabilities}
            missing = [c for c in needed if c not in have]
            if missing:
                raise FieldProblem(
                    f"floors.{index}.tools",
                    f"floor {floor.language!r} gets work needing "
                    f"{', '.join(missing)} but no tool there has "
                    f"{'that capability' if len(missing) == 1 else 'those capabilities'}",
                )

    def capabilities_needed(self, language: str) -> list[str]:
        """Tool capabilities the work that can reach floor ``language`` will need."""
        top = TASK_SENSITIVITY_SPREAD[1]
        threshold = self.settings.security_threshold
        sensitivities = [d.sensitivity for d in self.directives if d.floor == language]
        if any(d.depends_on_floor == language for d in self.directives):
            sensitivities.append(self.settings.provider_sensitivity)
        if self.arrivals.rate_per_day > 0:
            sensitivities.append(self.arrivals.sensitivity[1])
            if len(self.floors) > 1 and self.arrivals.cross_floor_share > 0:
                sensitivities.append(self.settings.provider_sensitivity)
        if not sensitivities:
            return []
        sensitive = max(sensitivities) * top >= threshold
        return [*WORK_CAPABILITIES, *([SENSITIVE_CAPABILITY] if sensitive else [])]

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
        problem = (first.get("ctx") or {}).get("error")
        if isinstance(problem, FieldProblem):
            where = f"{where}.{problem.path}" if where else problem.path
            raise ScenarioError(where, problem.problem) from None
        raise ScenarioError(where or "scenario", first["msg"]) from None


@lru_cache(maxsize=1)
def _bounded_loader() -> Any:
    """PyYAML's safe loader without aliases (a "billion laughs" expands a few hundred bytes
    of anchors into gigabytes) and with a nesting bound (deep nesting recurses). Built on first
    use: PyYAML's import is a tenth of a command's start, and JSON scenarios never need it."""
    import yaml

    class BoundedLoader(yaml.SafeLoader):
        _depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(
                    None, None, "aliases (*name) are not allowed in a scenario", mark
                )
            self._depth += 1
            try:
                if self._depth > MAX_DEPTH:
                    mark = self.peek_event().start_mark
                    raise yaml.composer.ComposerError(
                        None, None, f"nested deeper than {MAX_DEPTH} levels", mark
                    )
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

    return BoundedLoader


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a scenario accepts")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value


def _depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply ``value`` nests (stops counting past ``limit``)."""
    if limit < 0 or not isinstance(value, (dict, list)):
        return 0
    items = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(item, limit - 1) for item in items), default=0)


def load_scenario_text(text: str, fmt: str = "auto") -> Scenario:
    """Parse YAML or JSON text (``fmt`` = yaml | json | auto) into a validated scenario.

    Bad input is a :class:`ScenarioError` in bounded time and memory: text over
    :data:`MAX_SCENARIO_CHARS`, YAML aliases, nesting deeper than :data:`MAX_DEPTH`, NaN or
    infinite numbers, integers too long to convert, and lists over their bounds.
    """
    name = fmt if fmt != "auto" else "YAML/JSON"
    if len(text) > MAX_SCENARIO_CHARS:
        raise ScenarioError("", f"a scenario is at most {MAX_SCENARIO_CHARS} characters "
                                f"(got {len(text)})")  # fmt: skip
    try:
        if fmt == "json" or (fmt == "auto" and text.lstrip().startswith("{")):
            raw = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
            if _depth(raw) > MAX_DEPTH:
                raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
        else:
            import yaml

            try:
                raw = yaml.load(text, Loader=_bounded_loader())  # nosec B506 - a SafeLoader
            except yaml.YAMLError as exc:
                raise ValueError(str(exc)) from None
    except (ValueError, RecursionError) as exc:
        problem = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ScenarioError("", f"not valid {name}: {problem[:300]}") from None
    return parse_scenario(raw)


def with_overrides(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """Return a copy with dotted-path overrides applied.

    ``roles.<role>`` sets that role's staff count in every office; any other path names a field
    (``settings.votes_per_tick``, ``arrivals.rate_per_day``); a number picks an item of a list
    (``floors.0.tools.2.slots``).
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
        node: Any = raw
        parts = path.split(".")
        for part in parts[:-1]:
            node = _child(node, part, path)
        _child(node, parts[-1], path)  # the field must exist: a typo is an error, not a new key
        node[int(parts[-1]) if isinstance(node, list) else parts[-1]] = value
    return parse_scenario(raw)


def _child(node: Any, part: str, path: str) -> Any:
    """``node[part]`` for a mapping key or a list index, or a ScenarioError naming ``path``."""
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    raise ScenarioError(path, "no such field")


def staff_counts(office: OfficeSpec) -> dict[Role, int]:
    """How many of each role an office asks for (explicit agents plus staff counts)."""
    counts = {role: 0 for role in (Role.MANAGER, *WORKING_ROLES)}
    for role, count in office.staff.items():
        counts[role] += count
    for agent in office.agents:
        counts[agent.role] += 1
    return counts
