"""Reviews: which role reviews what with which tool, and a reviewer's tick of review work."""

from __future__ import annotations

from .agents import Activity, ActivityKind, Agent, AgentStatus, Role
from .artifacts import ArtifactKind
from .assignment import release, rework
from .tasks import ReviewKind, ReviewStatus, TaskState
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
    set_status(agent, AgentStatus.REVIEWING, world)
    kind = ACTIVITY_REVIEW[activity.kind]
    activity.remaining -= 0.5 + agent.skill(skill_of(kind))
    if activity.remaining > 0:
        return
    task = world.tasks[activity.target]
    release(world, agent)
    found = 0
    if kind is ReviewKind.VERIFICATION:
        found = sum(
            1 for _ in range(task.defects) if world.chance(0.45 + 0.45 * agent.skill("verify"))
        )
        task.defects -= found
        task.defects_found += found
        world.totals["defects_found"] += found
    elif kind is ReviewKind.SECURITY:
        found = sum(
            1
            for _ in range(task.vulnerabilities)
            if world.chance(0.4 + 0.5 * agent.skill("security"))
        )
        task.vulnerabilities -= found
        task.vulnerabilities_found += found
        world.totals["vulnerabilities_found"] += found
    artifact_kind = (
        ArtifactKind.DOCUMENT if kind is ReviewKind.DOCUMENTATION else ArtifactKind.REVIEW_REPORT
    )
    report = world.add_artifact(
        artifact_kind,
        task.id,
        agent.id,
        {"task": task.id, "review": kind.value, "found": found, "passed": found == 0},
    )
    task.artifacts.append(report.id)
    task.reviews[kind] = ReviewStatus.PASSED if found == 0 else ReviewStatus.FAILED
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
            f"{kind.value} review found {found} issue(s)",
            found * world.uniform(1.0, 2.0),
        )
    elif task.all_reviews_passed():
        world.transition(task, TaskState.APPROVAL, "every required review passed", agent.id)


def skill_of(kind: ReviewKind) -> str:
    return {
        ReviewKind.VERIFICATION: "verify",
        ReviewKind.SECURITY: "security",
        ReviewKind.DOCUMENTATION: "docs",
    }[kind]
