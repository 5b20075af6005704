"""Reviews: which role reviews what with which tool, and a reviewer's tick of review work."""

from __future__ import annotations

from .agents import DEFAULT_SKILL, Activity, ActivityKind, Agent, Role
from .assignment import release, rework
from .members import (
    AGENT_REVIEWING,
    ARTIFACT_DOCUMENT,
    ARTIFACT_REVIEW_REPORT,
    REVIEW_FAILED,
    REVIEW_KIND_DOCUMENTATION,
    REVIEW_KIND_VERIFICATION,
    REVIEW_PASSED,
    TASK_APPROVAL,
)
from .quality import REVIEW_SKILL, detect_chance, doc_gap_chance
from .supply import Tool
from .tasks import ReviewKind, Task
from .world import World, set_status

REVIEW_ROLE = {
    ReviewKind.VERIFICATION: Role.VERIFIER,
    ReviewKind.SECURITY: Role.SECURITY,
    ReviewKind.DOCUMENTATION: Role.DOC_AGENT,
}
REVIEW_ACTIVITY = {
    ReviewKind.VERIFICATION: (ActivityKind.VERIFY, "test"),
    ReviewKind.SECURITY: (ActivityKind.SECURE, "scan"),
    ReviewKind.DOCUMENTATION: (ActivityKind.DOCUMENT, "docs"),
}
ACTIVITY_REVIEW = {kind: review for review, (kind, _) in REVIEW_ACTIVITY.items()}


def work_review(world: World, agent: Agent, activity: Activity) -> None:
    """A tick of review; on the last one the reviewer reports what it found."""
    set_status(agent, AGENT_REVIEWING, world)
    kind = ACTIVITY_REVIEW[activity.kind]
    task = world.board.tasks[activity.target]
    settings = world.settings
    language = world.building.floors[task.floor_id].language
    speed = 1.0 if language in agent.languages else settings.foreign_language_speed
    skill = agent.skills.get(REVIEW_SKILL[kind], DEFAULT_SKILL)  # Agent.skill, inline
    activity.remaining -= (settings.review_speed_base + skill) * speed
    if activity.remaining > 0:
        return
    tool = world.building.tools.get(agent.held_tool or "")
    release(world, agent)
    found = _findings(world, task, kind, skill, tool)
    artifact_kind = (
        ARTIFACT_DOCUMENT if kind is REVIEW_KIND_DOCUMENTATION else ARTIFACT_REVIEW_REPORT
    )
    report = world.add_artifact(
        artifact_kind,
        task.id,
        agent.id,
        {"task": task.id, "review": kind.value, "found": found, "passed": found == 0},
    )
    task.artifacts.append(report.id)
    task.reviews[kind] = REVIEW_PASSED if found == 0 else REVIEW_FAILED
    task.last_event = world.log(
        "review.completed",
        agent.id,
        task.id,
        {"review": kind.value, "found": found, "passed": found == 0, "artifact": report.id},
        (task.last_event,),
    )
    world.changes.tasks[task.id] = None
    if found:
        rework(
            world,
            task,
            agent.id,
            _failure_reason(kind, found),
            _rework_effort(world, kind, found, task.id),
        )
    elif task.all_reviews_passed():
        world.transition(task, TASK_APPROVAL, "every required review passed", agent.id)


def _findings(world: World, task: Task, kind: ReviewKind, skill: float, tool: Tool | None) -> int:
    """What the review finds: defects, vulnerabilities, or a documentation gap (0 or 1)."""
    settings = world.settings
    if kind is REVIEW_KIND_DOCUMENTATION:
        return 1 if world.chance(doc_gap_chance(settings, task, skill), key=task.id) else 0
    p = detect_chance(settings, kind, skill, tool)
    if kind is REVIEW_KIND_VERIFICATION:
        found = sum(1 for _ in range(task.defects) if world.chance(p, key=task.id))
        task.defects -= found
        task.defects_found += found
        world.totals["defects_found"] += found
        return found
    found = sum(1 for _ in range(task.vulnerabilities) if world.chance(p, key=task.id))
    task.vulnerabilities -= found
    task.vulnerabilities_found += found
    world.totals["vulnerabilities_found"] += found
    return found


def _failure_reason(kind: ReviewKind, found: int) -> str:
    if kind is REVIEW_KIND_DOCUMENTATION:
        return "documentation review found the change under-documented"
    return f"{kind.value} review found {found} issue(s)"


def _rework_effort(world: World, kind: ReviewKind, found: int, key: str) -> float:
    settings = world.settings
    if kind is REVIEW_KIND_DOCUMENTATION:
        return settings.doc_rework_effort
    return found * world.uniform(settings.rework_effort_min, settings.rework_effort_max, key=key)
