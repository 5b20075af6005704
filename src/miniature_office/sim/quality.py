"""How good work is: the chances behind defects, detection, documentation gaps and ballots.

Pure functions of the settings and what the people involved could know; the tick modules draw
against them. MODEL.md (mechanics section) states each formula and why.
"""

from __future__ import annotations

from .agents import ROLE_SKILL, Agent
from .members import (
    REVIEW_KIND_SECURITY,
    REVIEW_KIND_VERIFICATION,
)
from .scenario import Settings
from .supply import Tool
from .tasks import ReviewKind, Task

#: The skill each review uses.
REVIEW_SKILL = {
    ReviewKind.VERIFICATION: "verify",
    ReviewKind.SECURITY: "security",
    ReviewKind.DOCUMENTATION: "docs",
}


def speed_factor(settings: Settings, agent: Agent, language: str) -> float:
    """1 on a floor whose language the agent speaks, ``foreign_language_speed`` elsewhere."""
    return 1.0 if language in agent.languages else settings.foreign_language_speed


def _injection_factor(settings: Settings, task: Task, skill: float, tool: Tool | None) -> float:
    """What makes a build tick error-prone: the builder's skill, residual ambiguity, the tool."""
    trust = tool.trust if tool is not None else 1.0
    return (
        (settings.skill_headroom - skill)
        * (1 + settings.ambiguity_defect_weight * task.ambiguity)
        * (1 + settings.compiler_trust_defect_weight * (1 - trust))
    )


def defect_chance(settings: Settings, task: Task, skill: float, tool: Tool | None) -> float:
    """Chance one build tick injects a defect."""
    factor = _injection_factor(settings, task, skill, tool)
    return min(1.0, settings.defect_rate * task.complexity * factor)


def vulnerability_chance(settings: Settings, task: Task, skill: float, tool: Tool | None) -> float:
    """Chance one build tick injects a vulnerability (only sensitive work can have one)."""
    factor = _injection_factor(settings, task, skill, tool)
    return min(1.0, settings.vulnerability_rate * task.sensitivity * factor)


def injection_chances(
    settings: Settings, task: Task, skill: float, tool: Tool | None
) -> tuple[float, float]:
    """:func:`defect_chance` and :func:`vulnerability_chance` of one build tick, the shared
    factor worked out once (the same floats)."""
    factor = _injection_factor(settings, task, skill, tool)
    return (
        min(1.0, settings.defect_rate * task.complexity * factor),
        min(1.0, settings.vulnerability_rate * task.sensitivity * factor),
    )


def detect_chance(settings: Settings, kind: ReviewKind, skill: float, tool: Tool | None) -> float:
    """Chance a reviewer finds each defect (verification) or vulnerability (security)."""
    if kind is REVIEW_KIND_VERIFICATION:
        base = settings.verify_detect_base + settings.verify_detect_skill * skill
    else:
        base = settings.scan_detect_base + settings.scan_detect_skill * skill
    if tool is None:
        return min(1.0, base)
    factor = 1 - settings.tool_trust_detect_weight * (1 - tool.trust)
    if kind is REVIEW_KIND_SECURITY:
        factor *= 1 - settings.security_rating_detect_weight * (5 - tool.security_rating) / 4
    return min(1.0, base * factor)


def doc_gap_chance(settings: Settings, task: Task, skill: float) -> float:
    """Chance a documentation review finds the change under-documented and sends it back."""
    exposure = task.ambiguity + task.complexity / 2
    return min(1.0, settings.doc_gap_rate * exposure * (0.5 + skill))


def yes_chance(settings: Settings, task: Task, voter: Agent) -> float:
    """A ballot's chance of yes, from what a voter can see of the work.

    Voters see what reviews found, how often the task came back, its complexity and the
    ambiguity left after any meeting; they cannot see defects nobody found. A more skilled
    voter (its main skill, ``care``) weighs that evidence more heavily. The history's weight is
    capped (``vote_evidence_cap``): work that was fixed is not doubted without end, which would
    feed a loop of failed votes and ever larger rework.
    """
    care = voter.skill(ROLE_SKILL[voter.role])
    findings = task.defects_found + task.vulnerabilities_found
    history = min(
        settings.vote_evidence_cap,
        settings.vote_findings_weight * findings + settings.vote_rework_weight * task.rework_count,
    )
    doubt = settings.vote_risk_weight * (task.complexity + task.ambiguity) + history
    return max(settings.vote_yes_floor, min(0.99, settings.vote_yes_base - care * doubt))
