"""Handing work to agents and taking it back: assign, release, abandon, rework.

The lowest behaviour module of a tick; dispatch, acting, reviews, meetings and votes build on it.
"""

from __future__ import annotations

from .agents import Activity, Agent
from .members import ACTIVITY_BUILD, REVIEW_IN_PROGRESS, REVIEW_PENDING, TASK_IN_PROGRESS
from .supply import give_back
from .tasks import Task
from .world import World


def assign(world: World, agent: Agent, activity: Activity) -> None:
    """Give ``agent`` its next activity."""
    agent.activity = activity
    world.changes.agents[agent.id] = None


def release(world: World, agent: Agent) -> None:
    """Finish or abandon the current activity: give back the tool, become free."""
    if agent.held_tool:
        tool = world.building.tools.get(agent.held_tool)
        if tool is not None:
            give_back(tool, agent.id)
            world.log("tool.returned", agent.id, tool.id, {})
            world.changes.tools[tool.id] = None
        agent.held_tool = None
    elif agent.waiting_for and agent.waiting_for in world.building.tools:
        give_back(world.building.tools[agent.waiting_for], agent.id)
        world.changes.tools[agent.waiting_for] = None
    agent.waiting_for = None
    agent.activity = None
    agent.path = []
    # The status keeps what the agent did this tick (finishing a review is a tick of reviewing,
    # not an idle one); acting sets it to idle next tick if no new work comes.
    world.changes.agents[agent.id] = None


def abandon(world: World, agent: Agent) -> None:
    """Drop the agent's activity and hand its share of a task back to the queue."""
    activity = agent.activity
    release(world, agent)
    if activity is None:
        return
    task = world.board.tasks.get(activity.target)
    if task is None:
        return
    if task.assignee == agent.id and activity.kind is ACTIVITY_BUILD:
        task.assignee = None
    for kind, reviewer in task.reviewers.items():
        if reviewer == agent.id and task.reviews.get(kind) is REVIEW_IN_PROGRESS:
            task.reviews[kind] = REVIEW_PENDING
    world.changes.tasks[task.id] = None


def rework(world: World, task: Task, actor: str, reason: str, extra_effort: float) -> None:
    world.transition(task, TASK_IN_PROGRESS, reason, actor)
    task.effort = round(task.effort + extra_effort, 3)
    task.rework_count += 1
    task.reviews = {}
    task.assignee = None
    world.totals["reworks"] += 1
