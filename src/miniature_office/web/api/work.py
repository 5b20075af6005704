"""Work: directives with their task trees, tasks, meetings with transcripts, votes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response
from pydantic import Field

from ...sim.agents import Role
from ...sim.commands import BlockTask, CommandKind, CreateDirective, OverrideVote, UnblockTask
from ...sim.engine import Engine
from ...sim.tasks import DirectiveState, ReviewStatus, Task, TaskState
from ...sim.votes import VoteOutcome
from ...sim.world import World
from ...store.tokens import AccessRole
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

bp = Blueprint("work", __name__, url_prefix="/api")


class DirectiveFilter(Query):
    floor: str | None = None
    state: DirectiveState | None = None


class TaskFilter(Page):
    state: TaskState | None = None
    floor: str | None = None
    role: Role | None = Field(
        default=None,
        description=(
            "tasks held by an agent of this role: builder, or verifier, security or "
            "doc_agent for reviews in progress"
        ),
    )
    directive: str | None = None


class MeetingFilter(Query):
    floor: str | None = None
    open: bool | None = None


class VoteFilter(Query):
    floor: str | None = None
    outcome: VoteOutcome | None = None


def _held_by_role(world: World, task: Task, role: Role) -> bool:
    holders = [task.assignee] if task.assignee else []
    holders += [
        agent
        for kind, agent in task.reviewers.items()
        if task.reviews.get(kind) is ReviewStatus.IN_PROGRESS
    ]
    return any(
        (agent := world.building.agents.get(h)) is not None and agent.role is role for h in holders
    )


@route(bp, "/directives", "Directives (user intent), filtered by floor and state",
       query=DirectiveFilter)  # fmt: skip
def directives() -> Response:
    f = parse_query(DirectiveFilter)

    def build(engine: Engine) -> list[dict[str, Any]]:
        return [
            d.to_dict(engine.tick)
            for d in engine.world.board.directives.values()
            if (f.floor is None or d.floor_id == f.floor)
            and (f.state is None or d.state is f.state)
        ]

    data = read(build)
    return json_response({"directives": data, "count": len(data)})


@mutation(bp, "/directives", "Submit a directive to a floor", body=CreateDirective)
def create_directive() -> Response:
    payload = parse_body(CreateDirective).model_dump(mode="json")
    return submit(CommandKind.CREATE_DIRECTIVE, payload)


@route(bp, "/directives/<directive_id>", "One directive with its task tree (tasks and edges)")
def directive(directive_id: str) -> Response:
    def build(engine: Engine) -> dict[str, Any]:
        world, tick = engine.world, engine.tick
        found = require(world.board.directives.get(directive_id), "directive", directive_id)
        tasks = [world.board.tasks[t] for t in found.task_ids if t in world.board.tasks]
        return {
            **found.to_dict(tick),
            "tree": {
                "user_intent": found.title,
                "architect_intent": found.architect_intent,
                "tasks": [t.to_dict(tick) for t in tasks],
                "edges": [[dep, t.id] for t in tasks for dep in t.depends_on],
            },
        }

    return json_response(read(build))


@route(bp, "/tasks", "Tasks, filtered by state, floor, role and directive, paginated",
       query=TaskFilter)  # fmt: skip
def tasks() -> Response:
    f = parse_query(TaskFilter)

    def build(engine: Engine) -> dict[str, Any]:
        world, tick = engine.world, engine.tick
        found = [
            t
            for t in world.board.tasks.values()
            if (f.state is None or t.state is f.state)
            and (f.floor is None or t.floor_id == f.floor)
            and (f.directive is None or t.directive_id == f.directive)
            and (f.role is None or _held_by_role(world, t, f.role))
        ]
        return paginate(found, f, "tasks", lambda t: compat.task(t.to_dict(tick)))

    return json_response(read(build))


@route(bp, "/tasks/<task_id>", "One task with its state history")
def task(task_id: str) -> Response:
    def build(engine: Engine) -> dict[str, Any]:
        found = require(engine.world.board.tasks.get(task_id), "task", task_id)
        return compat.task_detail(engine.world, found.to_dict(engine.tick, history=True))

    return json_response(read(build))


@mutation(bp, "/tasks/<task_id>/block", "Block a task with a reason", body=BlockTask,
          path_fields=("task_id",))  # fmt: skip
def block_task(task_id: str) -> Response:
    payload = parse_body(BlockTask, {"task_id": task_id}).model_dump()
    return submit(CommandKind.BLOCK_TASK, payload, ("task_id",))


@mutation(bp, "/tasks/<task_id>/unblock", "Return a blocked task to where it was",
          body=UnblockTask, path_fields=("task_id",))  # fmt: skip
def unblock_task(task_id: str) -> Response:
    payload = parse_body(UnblockTask, {"task_id": task_id}).model_dump()
    return submit(CommandKind.UNBLOCK_TASK, payload, ("task_id",))


@route(bp, "/meetings", "Meetings, filtered by floor and open/closed", query=MeetingFilter)
def meetings() -> Response:
    f = parse_query(MeetingFilter)

    def build(engine: Engine) -> list[dict[str, Any]]:
        return [
            m.to_dict()
            for m in engine.world.board.meetings.values()
            if (f.floor is None or m.floor_id == f.floor) and (f.open is None or m.open is f.open)
        ]

    data = read(build)
    return json_response({"meetings": data, "count": len(data)})


@route(bp, "/meetings/<meeting_id>", "One meeting with its decision transcript")
def meeting(meeting_id: str) -> Response:
    def build(engine: Engine) -> dict[str, Any]:
        world = engine.world
        found = require(world.board.meetings.get(meeting_id), "meeting", meeting_id)
        artifact = world.board.artifacts.get(found.artifact_id or "")
        return {**found.to_dict(), "decision": artifact.to_dict() if artifact else None}

    return json_response(read(build))


@route(bp, "/votes", "Approval votes, filtered by floor and outcome", query=VoteFilter)
def votes() -> Response:
    f = parse_query(VoteFilter)

    def build(engine: Engine) -> list[dict[str, Any]]:
        return [
            v.to_dict()
            for v in engine.world.board.votes.values()
            if (f.floor is None or v.floor_id == f.floor)
            and (f.outcome is None or v.outcome is f.outcome)
        ]

    data = read(build)
    return json_response({"votes": data, "count": len(data)})


@route(bp, "/votes/<vote_id>", "One vote with its ballots and weights")
def vote(vote_id: str) -> Response:
    return json_response(
        read(lambda e: require(e.world.board.votes.get(vote_id), "vote", vote_id).to_dict())
    )


@mutation(bp, "/votes/<vote_id>/override", "Override an open vote (logged with the reason)",
          body=OverrideVote, path_fields=("vote_id",), role=AccessRole.ADMIN)  # fmt: skip
def override_vote(vote_id: str) -> Response:
    payload = parse_body(OverrideVote, {"vote_id": vote_id}).model_dump()
    return submit(CommandKind.OVERRIDE_VOTE, payload, ("vote_id",))
