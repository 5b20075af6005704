"""Floors (departments), offices and agents: read them, hire and dismiss."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from ...sim.agents import AgentStatus, Role
from ...sim.commands import CommandKind, DismissAgent, HireAgent
from ...sim.engine import Engine
from . import compat
from .common import (
    Query,
    json_response,
    mutation,
    parse_body,
    parse_query,
    read,
    require,
    route,
    submit,
)

bp = Blueprint("org", __name__, url_prefix="/api")


class AgentFilter(Query):
    floor: str | None = None
    office: str | None = None
    role: Role | None = None
    status: AgentStatus | None = None


def _floor_detail(engine: Engine, floor_id: str) -> dict[str, Any]:
    world = engine.world
    floor = require(world.building.floors.get(floor_id), "floor", floor_id)
    agents = [a for a in world.building.agents.values() if a.floor_id == floor.id]
    tasks = [t for t in world.board.tasks.values() if t.floor_id == floor.id]
    return {
        **floor.to_dict(),
        "offices": [world.building.offices[o].to_dict() for o in floor.office_ids],
        "tools": [world.building.tools[t].to_dict() for t in floor.tool_ids],
        "agents": [a.to_dict() for a in agents],
        "task_counts": _count(t.state.value for t in tasks),
    }


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


@route(bp, "/floors", "Every floor (one department per language)")
def floors() -> Response:
    data = read(lambda e: [f.to_dict() for f in e.world.building.floors.values()])
    return json_response({"floors": data, "count": len(data)})


@route(bp, "/floors/<language>", "One floor with its offices, tools, agents and task counts")
def floor(language: str) -> Response:
    return json_response(read(lambda e: _floor_detail(e, language)))


@route(bp, "/departments", "Departments: each floor with its head counts")
def departments() -> Response:
    def build(engine: Engine) -> list[dict[str, Any]]:
        world = engine.world
        out = []
        for floor in world.building.floors.values():
            agents = [a for a in world.building.agents.values() if a.floor_id == floor.id]
            out.append(
                {
                    "id": floor.id,
                    "name": floor.name,
                    "language": floor.language,
                    "offices": list(floor.office_ids),
                    "agents": len(agents),
                    "roles": _count(a.role.value for a in agents),
                    "open_tasks": sum(
                        1
                        for t in world.board.tasks.values()
                        if t.floor_id == floor.id and t.state.value != "deployed"
                    ),
                }
            )
            out[-1] = compat.department(world, out[-1])
        return out

    data = read(build)
    return json_response({"departments": data, "count": len(data)})


@route(bp, "/offices", "Every office (a team: one manager and its agents)")
def offices() -> Response:
    data = read(lambda e: [o.to_dict() for o in e.world.building.offices.values()])
    return json_response({"offices": data, "count": len(data)})


@route(bp, "/offices/<office_id>", "One office with its agents")
def office(office_id: str) -> Response:
    def build(engine: Engine) -> dict[str, Any]:
        world = engine.world
        found = require(world.building.offices.get(office_id), "office", office_id)
        return {
            **found.to_dict(),
            "agents": [world.building.agents[a].to_dict() for a in found.agent_ids],
            "task_ids": list(found.task_ids),
        }

    return json_response(read(build))


@route(bp, "/agents", "Agents, filtered by floor, office, role and status", query=AgentFilter)
def agents() -> Response:
    f = parse_query(AgentFilter)

    def build(engine: Engine) -> list[dict[str, Any]]:
        return [
            compat.agent(a.to_dict())
            for a in engine.world.building.agents.values()
            if (f.floor is None or a.floor_id == f.floor)
            and (f.office is None or a.office_id == f.office)
            and (f.role is None or a.role is f.role)
            and (f.status is None or a.status is f.status)
        ]

    data = read(build)
    return json_response({"agents": data, "count": len(data)})


@route(bp, "/agents/<agent_id>", "One agent: profile, position, activity")
def agent(agent_id: str) -> Response:
    return json_response(
        read(
            lambda e: compat.agent(
                require(e.world.building.agents.get(agent_id), "agent", agent_id).to_dict()
            )
        )
    )


@route(bp, "/agents/<agent_id>/status", "One agent's status, activity and held tool")
def agent_status(agent_id: str) -> Response:
    def build(engine: Engine) -> dict[str, Any]:
        found = require(engine.world.building.agents.get(agent_id), "agent", agent_id).to_dict()
        keys = ("id", "name", "role", "status", "task_id", "activity", "held_tool", "waiting_for",
                "floor_id", "skills")  # fmt: skip
        return compat.agent_status(engine.world, {key: found[key] for key in keys}) | {
            "tick": engine.tick
        }

    return json_response(read(build))


@mutation(bp, "/agents", "Hire an agent into a floor's office", body=HireAgent)
def hire() -> Response:
    return submit(CommandKind.HIRE_AGENT, parse_body(HireAgent).model_dump(mode="json"))


@mutation(bp, "/agents/<agent_id>", "Dismiss an agent (its work goes back to the queue)",
          body=DismissAgent, path_fields=("agent_id",), method="DELETE")  # fmt: skip
def dismiss(agent_id: str) -> Response:
    payload = parse_body(DismissAgent, {"agent_id": agent_id})
    return submit(CommandKind.DISMISS_AGENT, payload.model_dump(), ("agent_id",))
