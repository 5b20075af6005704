"""The supply store (tools and checkouts), contracts, the elevator and artifacts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from ...sim.artifacts import ArtifactKind
from ...sim.commands import AddTool, CommandKind
from ...sim.engine import Engine
from . import compat
from .common import (
    Page,
    Query,
    json_response,
    mutation,
    paginate,
    parse_body,
    parse_query,
    read,
    require,
    route,
    submit,
)

bp = Blueprint("supply", __name__, url_prefix="/api")


class FloorFilter(Query):
    floor: str | None = None


class ArtifactFilter(Page):
    kind: ArtifactKind | None = None
    subject: str | None = None
    author: str | None = None


def _tools(engine: Engine, floor: str | None) -> list[dict[str, Any]]:
    return [
        t.to_dict()
        for t in engine.world.building.tools.values()
        if floor is None or t.floor_id == floor
    ]


def _checkouts(engine: Engine, floor: str | None) -> list[dict[str, Any]]:
    out = []
    for tool in engine.world.building.tools.values():
        if floor is not None and tool.floor_id != floor:
            continue
        for holder in tool.holders:
            out.append({"tool_id": tool.id, "tool": tool.name, "agent_id": holder, "held": True})
        for position, waiting in enumerate(tool.queue):
            out.append(
                {
                    "tool_id": tool.id,
                    "tool": tool.name,
                    "agent_id": waiting,
                    "held": False,
                    "queue_position": position + 1,
                }
            )
    return out


@route(bp, "/supply-store", "The supply store: tools per floor and current checkouts",
       query=FloorFilter)  # fmt: skip
def supply_store() -> Response:
    floor = parse_query(FloorFilter).floor
    data = read(lambda e: {"tools": _tools(e, floor), "checkouts": _checkouts(e, floor)})
    return json_response({**data, **compat.supply_counts(data["tools"])})


@route(bp, "/supply-store/tools", "Tools with versions, trust, slots and holders",
       query=FloorFilter)  # fmt: skip
def tools() -> Response:
    floor = parse_query(FloorFilter).floor
    data = read(lambda e: _tools(e, floor))
    return json_response({"tools": data, "count": len(data)})


@mutation(bp, "/supply-store/tools", "Add a tool to a floor's supply room", body=AddTool)
def add_tool() -> Response:
    return submit(CommandKind.ADD_TOOL, parse_body(AddTool).model_dump(mode="json"))


@route(bp, "/supply-store/checkouts", "Who holds which tool and who waits for one",
       query=FloorFilter)  # fmt: skip
def checkouts() -> Response:
    floor = parse_query(FloorFilter).floor
    data = read(lambda e: _checkouts(e, floor))
    return json_response({"checkouts": data, "count": len(data)})


@route(bp, "/contracts", "Cross-floor contracts", query=FloorFilter)
def contracts() -> Response:
    floor = parse_query(FloorFilter).floor
    data = read(
        lambda e: [
            c.to_dict()
            for c in e.world.building.contracts.values()
            if floor is None or floor in (c.consumer_floor, c.provider_floor)
        ]
    )
    return json_response({"contracts": data, "count": len(data)})


@route(bp, "/contracts/<contract_id>", "One contract")
def contract(contract_id: str) -> Response:
    return json_response(
        read(
            lambda e: require(
                e.world.building.contracts.get(contract_id), "contract", contract_id
            ).to_dict()
        )
    )


@route(bp, "/elevator", "The elevator: level, target, cargo and queue")
def elevator() -> Response:
    return json_response(
        read(lambda e: e.world.building.elevator.to_dict(e.world.building.floor_ids))
    )


@route(bp, "/artifacts", "Artifacts, filtered by kind, subject and author, paginated",
       query=ArtifactFilter)  # fmt: skip
def artifacts() -> Response:
    f = parse_query(ArtifactFilter)

    def build(engine: Engine) -> dict[str, Any]:
        found = [
            a
            for a in engine.world.board.artifacts.values()
            if (f.kind is None or a.kind is f.kind)
            and (f.subject is None or a.subject == f.subject)
            and (f.author is None or a.author == f.author)
        ]
        return paginate(found, f, "artifacts", lambda a: a.to_dict())

    return json_response(read(build))


@route(bp, "/artifacts/<artifact_id>", "One artifact with its content and hash")
def artifact(artifact_id: str) -> Response:
    return json_response(
        read(
            lambda e: require(
                e.world.board.artifacts.get(artifact_id), "artifact", artifact_id
            ).to_dict()
        )
    )
