"""Fields of version 0.1.0's answers, kept beside today's (additive) so old clients work.

Each function takes today's JSON of one entity and returns it with the 0.1.0 names added,
with the same meaning: ``agent_id`` is the agent's ``id``, ``assigned_agent_id`` the task's
``assignee`` and so on. Nothing is renamed or removed.
"""

from __future__ import annotations

from typing import Any

from ...sim.agents import WORKING_ROLES, Role
from ...sim.tasks import TaskState
from ...sim.world import World

#: Task states after which a task's build precondition (its dependencies) no longer matters.
_DONE = {TaskState.MERGED.value, TaskState.DEPLOYED.value}


def agent(data: dict[str, Any]) -> dict[str, Any]:
    """0.1.0's agent summary: agent_id, name, role, status (name, role, status as today)."""
    return {**data, "agent_id": data["id"]}


def agent_status(world: World, data: dict[str, Any]) -> dict[str, Any]:
    """0.1.0's agent status: department, current task, capabilities and task history."""
    ident = data["id"]
    # Tasks it holds or reviewed, and those it produced an artifact for, in task order.
    authored = {a.subject for a in world.board.artifacts.values() if a.author == ident}
    history = [
        t.id
        for t in world.board.tasks.values()
        if t.assignee == ident or ident in t.reviewers.values() or t.id in authored
    ]
    return {
        **data,
        "agent_id": ident,
        "department_id": data["floor_id"],
        "current_task_id": data["task_id"],
        "capabilities": sorted(data["skills"]),
        "task_history": history,
    }


def task(data: dict[str, Any]) -> dict[str, Any]:
    """0.1.0's task summary: task_id, name, state, assigned_agent_id."""
    return {
        **data,
        "task_id": data["id"],
        "name": data["title"],
        "assigned_agent_id": data["assignee"],
    }


def task_detail(world: World, data: dict[str, Any]) -> dict[str, Any]:
    """0.1.0's task detail: conditions and acceptance criteria as {description, is_*}."""
    deps = [world.board.tasks.get(dep) for dep in data["depends_on"]]
    preconditions = [
        {"description": f"{dep.id} is merged", "is_satisfied": dep.state.value in _DONE}
        for dep in deps
        if dep is not None
    ]
    reviews = data.get("reviews") or {}
    postconditions = [
        {"description": f"{kind} review passed", "is_met": status == "passed"}
        for kind, status in reviews.items()
    ]
    done = data["state"] in _DONE
    criteria = [{"description": text, "is_met": done} for text in data.get("acceptance") or []]
    return {
        **task(data),
        "description": data["title"],
        "ambiguity_score": data["ambiguity"],
        "blocked_reason": data["blocked_reason"],
        "preconditions": preconditions,
        "postconditions": postconditions,
        "acceptance_criteria": criteria,
        "state_history": data.get("history", []),
    }


def department(world: World, data: dict[str, Any]) -> dict[str, Any]:
    """0.1.0's department: department_id, domain, is_fully_staffed, missing_roles."""
    present = {a.role for a in world.building.agents.values() if a.floor_id == data["id"]}
    missing = [r.value for r in (*WORKING_ROLES, Role.MANAGER) if r not in present]
    return {
        **data,
        "department_id": data["id"],
        "domain": data["language"],
        "is_fully_staffed": not missing,
        "missing_roles": missing,
    }


def supply_counts(tools: list[dict[str, Any]]) -> dict[str, int]:
    """0.1.0's supply store counts: free slots and slots checked out, over the tools shown."""
    return {
        "available_count": sum(t["free_slots"] for t in tools),
        "checked_out_count": sum(len(t["holders"]) for t in tools),
    }
