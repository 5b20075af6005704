"""The Consigliere: explain, preview, assess, forecast, draft, and scheduled changes (proposals).

Previews, assessments and forecasts are jobs (202 with the job; progress and the result arrive over
Socket.IO as ``consigliere_job`` and at ``GET /api/consigliere/jobs/<id>``); the request only
takes the world's snapshot under the runtime's lock. Explanations and drafts are read from the
live world at once.
"""

from __future__ import annotations

import random
from typing import Any, Literal

from flask import Blueprint, Flask, Response, current_app
from pydantic import BaseModel, ConfigDict, Field

from ...service.advice_jobs import AdviceBoard, Busy
from ...service.events import RuntimeListener
from ...service.previews import MAX_FUTURES, MAX_TICKS, check_bounds
from ...service.progressive import ForecastRefused, check_question
from ...sim.commands import (
    CommandKind,
    CreateDirective,
    ProposalPolicy,
    ProposedCommand,
    counter_proposal,
    validate,
)
from ...sim.drafts import draft_directive
from ...sim.engine import Engine
from ...sim.errors import CommandRejected
from ...sim.explain import explain_decision, explain_waiting
from ...sim.forecast import DEFAULT_HORIZON, start_state
from ...sim.proposals import ProposalState, proposals_view
from ...store.tokens import AccessRole
from ..auth import current_actor
from ..errors import ApiError, not_found
from ..response_schemas import RESPONSES, B, I, N, O, S, arr, obj, opt
from .common import (
    Page,
    Query,
    json_response,
    mutation,
    parse_body,
    parse_query,
    read,
    route,
    runtime,
    submit,
)

bp = Blueprint("consigliere", __name__, url_prefix="/api")
BOARD = "miniature_office.advice"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Explain(_Body):
    subject: str = Field(
        min_length=1,
        max_length=40,
        description="a task, directive or agent id (waiting), or a task or vote id (decision)",
    )
    question: Literal["waiting", "decision"] = "waiting"


class ExplainQuery(Query):
    subject: str = Field(min_length=1, max_length=40)
    question: Literal["waiting", "decision"] = "waiting"


class JobSize(_Body):
    futures: int = Field(default=50, ge=1, le=MAX_FUTURES)
    ticks: int = Field(default=400, ge=1, le=MAX_TICKS)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1, description="default: random")


class Preview(JobSize):
    commands: list[ProposedCommand] = Field(min_length=0, max_length=20)
    label: str | None = Field(default=None, max_length=120)


class Assess(JobSize):
    directive: CreateDirective


class ForecastJob(JobSize):
    futures: int = Field(
        default=200,
        ge=1,
        le=MAX_FUTURES,
        description="at most this many futures: they run in looks until the p85 is precise",
    )
    ticks: int = Field(
        default=DEFAULT_HORIZON, ge=1, le=MAX_TICKS, description="the horizon: ticks a future runs"
    )
    add: list[CreateDirective] = Field(default_factory=list, max_length=20)
    only_added: bool = False
    by_day: int | None = Field(default=None, ge=1, le=1_000_000)


class Draft(_Body):
    goal: str = Field(min_length=3, max_length=200)
    floor: str = Field(min_length=1, max_length=40)


class Schedule(_Body):
    title: str = Field(min_length=1, max_length=200)
    commands: list[ProposedCommand] = Field(min_length=1, max_length=20)
    activate_tick: int | None = Field(default=None, ge=1, le=2**31 - 1)
    in_ticks: int | None = Field(default=None, ge=1, le=1_000_000, description="or: from now")
    preview_id: str | None = Field(default=None, max_length=40)


class Revoke(_Body):
    reason: str = Field(min_length=3, max_length=500)


class Revert(_Body):
    in_ticks: int = Field(default=1, ge=1, le=1_000_000)


class Nothing(_Body):
    pass


def board() -> AdviceBoard:
    """The app's job board (made on first use: it needs Socket.IO and the store)."""
    found = current_app.extensions.get(BOARD)
    if found is None:
        socketio = current_app.extensions["socketio"]
        config = current_app.config["MINIOFFICE"]
        persistence = runtime().persistence
        store = None
        if persistence is not None:
            from ...store.advice import AdviceStore

            store = AdviceStore(persistence.store.db)
        found = current_app.extensions[BOARD] = AdviceBoard(
            spawn=socketio.start_background_task,
            sleep=socketio.sleep,
            emit=lambda event, data: socketio.emit(event, data, to="all"),
            store=store,
            scheduler=config.dask_scheduler_address,
            workers=config.job_workers,
            niceness=config.job_niceness,
            deadline=config.job_deadline,
        )
    return found


class BoardShutdown(RuntimeListener):
    """At shutdown, the app's job board (if one was made) ends its running jobs."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def shutdown(self) -> None:
        found = self.app.extensions.get(BOARD)
        if found is not None:
            found.shutdown()


def _job_answer(job: dict[str, Any], status: int = 202) -> Response:
    shown = {k: v for k, v in job.items() if k != "result"}
    return json_response({**shown, "url": f"/api/consigliere/jobs/{job['id']}"}, status)


def _start(kind: str, params: dict[str, Any], check: Any) -> Response:
    def freeze(engine: Engine) -> tuple[dict[str, Any], int]:
        refusal = check_bounds(engine, params["futures"], params["ticks"])
        if refusal:
            raise ApiError(422, "validation_error", refusal)
        check(engine)
        return start_state(engine), engine.tick

    if params.get("seed") is None:
        params["seed"] = random.SystemRandom().randrange(2**31)  # noqa: S311 - a job label
    state, tick = read(freeze)
    try:
        job = board().start(kind, params, state, tick, current_actor())
    except Busy as exc:
        raise ApiError(429, "busy", str(exc)) from None
    return _job_answer(job)


def _commands_ok(commands: list[dict[str, Any]], field: str = "commands") -> Any:
    """A check that every command is valid on the live world; a refusal names
    ``<field>.<index>.<what>`` (``field``: where in the body the commands came from)."""

    def check(engine: Engine) -> None:
        for index, command in enumerate(commands):
            try:
                validate(engine.world, CommandKind(command["kind"]), command["payload"])
            except ValueError:
                raise ApiError(
                    422,
                    "validation_error",
                    f"{field}.{index}.kind: unknown " f"command {command['kind']!r}",
                ) from None
            except CommandRejected as exc:
                raise ApiError(
                    422,
                    "validation_error",
                    f"{field}.{index}.{exc.reason}",
                    {"field": f"{field}.{index}.{exc.field}"},
                ) from None

    return check


@route(bp, "/consigliere", "Recent advice, running jobs and scheduled changes", names_actors=True)
def overview() -> Response:
    jobs = board()
    proposals = read(lambda e: proposals_view(e.world))
    return json_response(
        {
            "recent": list(jobs.recent),
            "running": jobs.running(),
            "jobs": jobs.list(10),
            "scheduled": [p for p in proposals if p["state"] == ProposalState.SCHEDULED.value],
            "proposals": proposals,
        }
    )


def _explain(body: Explain | ExplainQuery) -> Response:
    ask = explain_waiting if body.question == "waiting" else explain_decision

    def answer(engine: Engine) -> dict[str, Any]:
        try:
            return ask(engine.world, body.subject)
        except KeyError:
            raise not_found("subject", body.subject) from None

    result = read(answer)
    board().remember(f"explain:{body.question}", body.subject, result)
    return json_response(result)


EXPLAIN = {200: "The answer", 404: "Unknown subject", 422: "Validation failed"}


@mutation(
    bp,
    "/consigliere/explain",
    "Why is this waiting / why was this decided (from the "
    "model's state, with options as commands)",
    body=Explain,
    responses=EXPLAIN,
)
def explain() -> Response:
    return _explain(parse_body(Explain))


@route(
    bp,
    "/consigliere/why",
    "Explain for viewers (the same answer as POST explain)",
    query=ExplainQuery,
    responses=EXPLAIN,
)
def why() -> Response:
    return _explain(parse_query(ExplainQuery))


JOB_STARTED = {
    202: "The job started (see its url)",
    422: "Validation failed",
    429: "Too many jobs running, or the rate budget is spent",
}


@mutation(
    bp,
    "/consigliere/preview",
    "Preview a change: paired futures with and without it (a job)",
    body=Preview,
    responses=JOB_STARTED,
)
def preview() -> Response:
    body = parse_body(Preview)
    commands = [c.model_dump() for c in body.commands]
    params = {**body.model_dump(exclude={"commands"}), "commands": commands}
    return _start("preview", params, _commands_ok(commands))


@mutation(
    bp,
    "/consigliere/assess",
    "When would this directive deploy if created now (a job)",
    body=Assess,
    responses=JOB_STARTED,
)
def assess() -> Response:
    body = parse_body(Assess)
    directive = body.directive.model_dump(mode="json")
    params = {**body.model_dump(exclude={"directive"}), "directive": directive}
    return _start(
        "assess", params, _commands_ok([{"kind": "create_directive", "payload": directive}])
    )


@mutation(
    bp,
    "/consigliere/forecast",
    "When will the open work be done: a progressive forecast (a job)",
    body=ForecastJob,
    responses=JOB_STARTED,
)
def forecast() -> Response:
    body = parse_body(ForecastJob)
    added = [d.model_dump(mode="json") for d in body.add]
    params = {**body.model_dump(exclude={"add"}), "add": added}

    directives_ok = _commands_ok(
        [{"kind": CommandKind.CREATE_DIRECTIVE.value, "payload": d} for d in added], field="add"
    )

    def check(engine: Engine) -> None:
        directives_ok(engine)
        try:
            check_question(engine, len(added), only_added=body.only_added, by_day=body.by_day)
        except ForecastRefused as exc:
            field = exc.option or "add"
            raise ApiError(
                422, "validation_error", f"{field}: {exc.message}", {"field": field}
            ) from None

    return _start("forecast", params, check)


@mutation(
    bp,
    "/consigliere/draft",
    "Draft a directive from a goal and a floor (parameters from similar work of this run)",
    body=Draft,
    responses={200: "The draft", 422: "Validation failed"},
)
def draft() -> Response:
    body = parse_body(Draft)

    def make(engine: Engine) -> dict[str, Any]:
        if body.floor not in engine.world.building.floors:
            raise ApiError(
                422, "validation_error", f"floor: unknown floor {body.floor!r}", {"field": "floor"}
            )
        return draft_directive(engine.world, body.goal, body.floor)

    result = read(make)
    board().remember("draft", body.goal, result)
    return json_response(result)


@route(
    bp,
    "/consigliere/jobs",
    "Preview, assessment and audit jobs, newest first",
    query=Page,
    names_actors=True,
)
def jobs() -> Response:
    page = parse_query(Page)
    found = board().list(page.offset + page.limit)[page.offset :]
    return json_response(
        {"jobs": found, "total": len(board().jobs), "limit": page.limit, "offset": page.offset}
    )


@route(bp, "/consigliere/jobs/<job_id>", "One job with its progress and result", names_actors=True)
def job(job_id: str) -> Response:
    found = board().get(job_id[:40])
    if found is None:
        raise not_found("job", job_id[:40])
    return json_response(found)


@mutation(
    bp,
    "/consigliere/jobs/<job_id>/cancel",
    "Cancel a running job",
    body=Nothing,
    path_fields=("job_id",),
    responses={200: "Cancelled (or already final)", 404: "Unknown job"},
)
def cancel_job(job_id: str) -> Response:
    parse_body(Nothing)
    found = board().cancel(job_id[:40])
    if found is None:
        raise not_found("job", job_id[:40])
    return _job_answer(found, 200)


@mutation(
    bp,
    "/consigliere/proposals",
    "Schedule a change for a future tick with its preview attached",
    body=Schedule,
)
def schedule_proposal() -> Response:
    body = parse_body(Schedule)
    tick = read(lambda e: e.tick)
    activate = body.activate_tick or (tick + body.in_ticks if body.in_ticks else None)
    if activate is None:
        raise ApiError(
            422,
            "validation_error",
            "activate_tick: give activate_tick or in_ticks",
            {"field": "activate_tick"},
        )
    payload: dict[str, Any] = {
        "title": body.title,
        "activate_tick": activate,
        "commands": [c.model_dump() for c in body.commands],
    }
    if body.preview_id:
        found = board().get(body.preview_id)
        if found is None or found["kind"] != "preview":
            raise ApiError(
                422,
                "validation_error",
                f"preview_id: no preview {body.preview_id!r}",
                {"field": "preview_id"},
            )
        # The tick the preview forked at comes from the job, never from the caller.
        payload.update(preview_id=found["id"], preview_tick=found["tick"])
    return submit(CommandKind.SCHEDULE_PROPOSAL, payload)


@mutation(
    bp,
    "/consigliere/proposals/<proposal_id>/revoke",
    "Revoke a scheduled proposal",
    body=Revoke,
    path_fields=("proposal_id",),
)
def revoke_proposal(proposal_id: str) -> Response:
    body = parse_body(Revoke)
    return submit(
        CommandKind.REVOKE_PROPOSAL,
        {"proposal_id": proposal_id[:40], "reason": body.reason},
        ("proposal_id",),
    )


@mutation(
    bp,
    "/consigliere/proposals/<proposal_id>/revert",
    "Schedule the counter-proposal that undoes an applied proposal",
    body=Revert,
    path_fields=("proposal_id",),
)
def revert_proposal(proposal_id: str) -> Response:
    body = parse_body(Revert)

    def write(engine: Engine) -> dict[str, Any]:
        if proposal_id[:40] not in engine.world.governance.proposals:
            raise not_found("proposal", proposal_id[:40])
        try:
            return counter_proposal(engine.world, proposal_id[:40], engine.tick + body.in_ticks)
        except ValueError as exc:
            raise ApiError(409, "conflict", str(exc)) from None

    counter = read(write)
    if not counter["payload"]["commands"]:
        raise ApiError(
            409,
            "conflict",
            "nothing in it can be undone by a command: " + "; ".join(counter["cannot_revert"]),
        )
    return submit(CommandKind.SCHEDULE_PROPOSAL, counter["payload"])


def command_route(
    blueprint: Blueprint,
    rule: str,
    summary: str,
    model: type[BaseModel],
    kind: CommandKind,
    role: AccessRole = AccessRole.OPERATOR,
) -> Any:
    """A route whose body is one command's payload, submitted as that command."""

    def view() -> Response:
        return submit(kind, parse_body(model).model_dump())

    view.__name__ = view.__qualname__ = kind.value
    return mutation(blueprint, rule, summary, body=model, role=role)(view)


proposal_policy = command_route(
    bp,
    "/consigliere/policy",
    "Require a preview no older than K ticks before a proposal (0: no need)",
    ProposalPolicy,
    CommandKind.SET_PROPOSAL_POLICY,
    AccessRole.ADMIN,
)


# ---- documented answers ------------------------------------------------------------------------

JOB = obj(
    id=S,
    kind=S,
    state=S,
    actor=S,
    created_at=N,
    tick=I,
    params=O,
    progress={
        **obj(done=I, total=I),
        "description": "answer: the current answer of a sequential preview (after each look)",
    },
    error=opt(S),
)
JOB_DETAIL = {**JOB, "properties": {**JOB["properties"], "result": {"type": ["object", "null"]}}}
OPTION = obj(label=S, command=obj(kind=S, payload=O))
CAUSE = obj(cause=S, sentence=S, options=arr(OPTION))
WAITING = obj(subject=S, tick=I, state=S, waiting=B, causes=arr(CAUSE), sentence=S)
DECISION = obj(
    subject=S,
    task=opt(S),
    vote=opt(S),
    transcript=arr(O),
    ballots=arr(O),
    override=opt(S),
    history=arr(O),
    lineage=arr(O),
    sentences=arr(S),
)
ANSWER = {"type": "object", "anyOf": [WAITING, DECISION]}
PROPOSAL = obj(
    id=S, title=S, author=S, state=S, activate_tick=I, commands=arr(O), preview_id=opt(S), event=I
)
COMMAND_ANSWER = RESPONSES["work.block_task"]
RESPONSES.update(
    {
        "consigliere.overview": obj(
            recent=arr(O),
            running=arr(JOB),
            jobs=arr(JOB),
            scheduled=arr(PROPOSAL),
            proposals=arr(PROPOSAL),
        ),
        "consigliere.explain": ANSWER,
        "consigliere.why": ANSWER,
        "consigliere.preview": {**JOB, "properties": {**JOB["properties"], "url": S}},
        "consigliere.assess": {**JOB, "properties": {**JOB["properties"], "url": S}},
        "consigliere.forecast": {**JOB, "properties": {**JOB["properties"], "url": S}},
        "consigliere.draft": obj(payload=O, basis=O, sentence=S),
        "consigliere.jobs": obj(jobs=arr(JOB), total=I, limit=I, offset=I),
        "consigliere.job": JOB_DETAIL,
        "consigliere.cancel_job": JOB,
        "consigliere.schedule_proposal": COMMAND_ANSWER,
        "consigliere.revoke_proposal": COMMAND_ANSWER,
        "consigliere.revert_proposal": COMMAND_ANSWER,
        "consigliere.set_proposal_policy": COMMAND_ANSWER,
    }
)
