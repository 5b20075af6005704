"""Imported team histories: import a CSV, describe it, fit an office, backtest, what-if.

Imports are kept in the app's database (``service.history.HistoryStore`` over
``store.histories``): they survive a restart and every process of the server sees them.
The import parses the whole file before keeping anything: a bad row is a 422 listing the bad
lines and the earlier import of that name stands.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, ConfigDict, Field

from ...service.history import ChildJob, HistoryStore
from ...sim.history.backtest import too_busy
from ...sim.history.items import HistoryError
from ...store.histories import HistoryTable
from ...store.tokens import AccessRole
from ..auth import requires
from ..errors import ApiError, not_found
from ..extension import office
from ..openapi import Operation, describe
from ..response_schemas import RESPONSES, B, I, N, O, S, arr, obj, opt
from .common import json_response, parse_body, parse_query, route

bp = Blueprint("history", __name__, url_prefix="/api/history")
STORE = "miniature_office.history"
JOBS = "miniature_office.history_jobs"
#: The largest CSV an import takes (a 100,000-item export is about 10 MB).
MAX_CSV_BYTES = 16 * 1024 * 1024
CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/vnd.ms-excel")
NAME = r"^[A-Za-z0-9_.-]{1,40}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImportQuery(_Strict):
    name: str = Field(default="team", pattern=NAME, description="name to keep the history under")


class FitBody(_Strict):
    staff: dict[str, int] | None = Field(
        default=None, description="staff by role (default: inferred from the history's WIP)"
    )


class BacktestBody(_Strict):
    cuts: int = Field(default=40, ge=2, le=60, description="past cut dates")
    futures: int = Field(default=30, ge=2, le=60, description="futures per cut and method")


class WhatifBody(_Strict):
    commands: list[dict[str, Any]] = Field(min_length=1, max_length=10)
    futures: int = Field(default=20, ge=1, le=40)
    ticks: int = Field(default=400, ge=1, le=2000)


def history_store() -> HistoryStore:
    store = current_app.extensions.get(STORE)
    if store is None:
        store = HistoryStore(table=HistoryTable(office().store.db))
        current_app.extensions[STORE] = store
    return store


def _imported(name: str) -> Any:
    found = history_store().get(name)
    if found is None:
        raise not_found("history", name)
    return found


def _csv_text() -> str:
    """The CSV from a text/csv body or the ``file`` field of a multipart form."""
    if request.content_length is not None and request.content_length > MAX_CSV_BYTES:
        raise ApiError(413, "payload_too_large", f"a history CSV may be {MAX_CSV_BYTES} bytes")
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ApiError(422, "validation_error", "file: send the CSV in a field named file",
                           {"field": "file"})  # fmt: skip
        raw = upload.read(MAX_CSV_BYTES + 1)
    elif request.mimetype in CSV_TYPES:
        raw = request.get_data(cache=False)
    elif not request.mimetype and not request.content_length:
        raise ApiError(422, "validation_error", "body: send the CSV (text/csv)", {"field": "body"})
    else:
        raise ApiError(
            415,
            "unsupported_media_type",
            "send the history as text/csv or as a multipart form with a file field",
            {"content_type": request.content_type},
        )
    if len(raw) > MAX_CSV_BYTES:
        raise ApiError(413, "payload_too_large", f"a history CSV may be {MAX_CSV_BYTES} bytes")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(
            422, "validation_error", "the file is not UTF-8 text", {"field": "file"}
        ) from None


IMPORT = Operation(
    "Import a team's history (CSV: GitHub or Jira export, or id/created/started/done columns)",
    "history",
    query=ImportQuery,
    responses={201: "Imported and described", 413: "File too large", 415: "Not CSV",
               422: "Bad rows (listed with line numbers); nothing was imported"},  # fmt: skip
    mutating=True,
    raw_body={
        "text/csv": {"schema": {"type": "string", "maxLength": MAX_CSV_BYTES}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
    },
)


@bp.post("")
@requires(AccessRole.OPERATOR)
@describe(IMPORT)
def import_history() -> Response:
    name = parse_query(ImportQuery).name
    text = _csv_text()
    try:
        imported = history_store().import_text(name, text)
    except HistoryError as exc:
        raise ApiError(422, "invalid_history", str(exc), exc.to_dict()) from None
    current_app.extensions.setdefault(JOBS, {}).pop(name, None)
    return json_response({"name": name, "description": imported.description}, 201)


@route(bp, "", "Names of the imported histories", responses={200: "OK"})
def histories() -> Response:
    names = history_store().names()
    return json_response({"histories": names, "count": len(names)})


@route(bp, "/<name>", "An imported history's description (throughput, lead times, WIP, ...)")
def history(name: str) -> Response:
    return json_response({"name": name, "description": _imported(name).description})


def _post(rule: str, summary: str, body: type[BaseModel], responses: dict[int, str]) -> Any:
    operation = Operation(summary, "history", body=body, responses=responses, mutating=True)

    def decorate(view: Any) -> Any:
        view = requires(AccessRole.OPERATOR)(describe(operation)(view))
        bp.add_url_rule(rule, view_func=view, methods=["POST"])
        return view

    return decorate


BODY = {404: "Unknown history", 415: "Body is not JSON", 422: "Invalid body or history"}


def _outcome(job: ChildJob) -> Any:
    """The child's result, or a 422 with the error a user's input caused."""
    outcome = job.wait()
    if not outcome["ok"]:
        raise ApiError(422, "validation_error", outcome["error"], {"field": job.kind})
    return outcome["result"]


def _fit(name: str, staff: dict[str, int] | None = None) -> dict[str, Any]:
    """The history's fit: computed in a child process once (again when staff is given)."""
    imported = _imported(name)
    if imported.fit is None or staff is not None:
        result = _outcome(ChildJob("fit", history=imported.history, staff=staff))
        history_store().set_fit(name, imported, result)
    fitted: dict[str, Any] = imported.fit
    return fitted


@_post("/<name>/fit", "Fit an office to the history and state the fit", FitBody,
       {200: "The fit, with its verdict", **BODY})  # fmt: skip
def fit(name: str) -> Response:
    body = parse_body(FitBody)
    _imported(name)
    staff = body.staff
    if staff is not None and any(not 0 <= n <= 50 for n in staff.values()):
        raise ApiError(
            422, "validation_error", "staff: each count must be 0..50", {"field": "staff"}
        )
    return json_response({"name": name, "fit": _fit(name, staff)})


@_post(
    "/<name>/backtest",
    "Start a backtest: the office vs throughput resampling at past cut dates (poll GET)",
    BacktestBody,
    {202: "Started", 409: "One is running", **BODY},
)
def start(name: str) -> Response:
    body = parse_body(BacktestBody)
    history = _imported(name).history
    refusal = too_busy(history)
    if refusal:
        raise ApiError(422, "validation_error", refusal, {"field": "history"})
    jobs: dict[str, ChildJob] = current_app.extensions.setdefault(JOBS, {})
    if any(job.state == "running" for job in jobs.values()):
        raise ApiError(409, "conflict", "a backtest is already running; poll it first")
    jobs[name] = ChildJob("backtest", history=history, cuts=body.cuts, futures=body.futures)
    return json_response({"name": name, **jobs[name].to_dict()}, 202)


@route(bp, "/<name>/backtest", "The latest backtest of the history (running, done or failed)")
def backtest(name: str) -> Response:
    _imported(name)
    job = current_app.extensions.get(JOBS, {}).get(name)
    if job is None:
        raise not_found("backtest", name)
    return json_response({"name": name, **job.to_dict()})


@_post("/<name>/whatif", "Preview commands on the office fitted to the history", WhatifBody,
       {200: "The preview (as /api/consigliere/preview's result)", **BODY})  # fmt: skip
def whatif(name: str) -> Response:
    body = parse_body(WhatifBody)
    imported = _imported(name)
    fitted = _fit(name)
    job = ChildJob(
        "whatif",
        history=imported.history,
        fit=fitted,
        commands=body.commands,
        futures=body.futures,
        ticks=body.ticks,
    )
    return json_response({"name": name, "fit": fitted, "preview": _outcome(job)})


DESCRIPTION = obj(items=I, done=I, weeks=arr(N), throughput=arr(I))
RESPONSES.update(
    {
        "history.import_history": obj(name=S, description=DESCRIPTION),
        "history.histories": obj(histories=arr(S), count=I),
        "history.history": obj(name=S, description=DESCRIPTION),
        "history.fit": obj(name=S, fit=obj(good=B, verdict=S, shape=O)),
        "history.start": obj(name=S, state=S),
        "history.backtest": obj(name=S, state=S, result=opt(O), error=opt(S)),
        "history.whatif": obj(name=S, fit=O, preview=O),
    }
)
