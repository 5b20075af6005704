"""Shared plumbing for the API blueprints: routes, body and query parsing, command answers."""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping, TypeVar

from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ...service.encoding import dumps
from ...service.runtime import SimulationRuntime
from ...sim.commands import CommandKind
from ...sim.engine import Engine
from ...sim.errors import CommandRejected
from ...store.tokens import AccessRole
from ..auth import current_actor, requires
from ..errors import ApiError, not_found, validation_error
from ..extension import get_runtime
from ..openapi import Operation, describe

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])
COMMAND_RESPONSES = {
    200: "Applied at once (the world is paused)",
    202: "Accepted; applies at the start of the next tick",
    400: "Malformed JSON",
    404: "Unknown entity",
    409: "Conflict with the world's state",
    413: "Body too large",
    415: "Body is not JSON",
    422: "Validation failed (the field is named)",
    503: "The store cannot be written: nothing was kept (see Retry-After)",
    507: "The disk holding the store is full: nothing was kept (see Retry-After)",
}
READ_RESPONSES = {200: "OK", 404: "Unknown entity", 422: "Invalid query parameter"}
#: What any route that reads a body can answer, whatever else it documents.
BODY_RESPONSES = {
    400: "Malformed JSON",
    413: "Body too large",
    415: "Body is not JSON",
    422: "Validation failed (the field is named)",
}
#: Upper bound of integer query parameters (well inside a database's signed 64-bit integers).
MAX_INT = 2**53


class Query(BaseModel):
    """Base of query-string models: unknown parameters are ignored (cache busters).

    Every string is bounded; integer parameters are bounded by their own fields.
    """

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, str_max_length=200)


class Page(Query):
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=MAX_INT)


def runtime() -> SimulationRuntime:
    """The app's simulation runtime."""
    return get_runtime(current_app)


def read(query: Callable[[Engine], Any]) -> Any:
    """Run a read against the engine under the runtime's lock."""
    return runtime().read(query)


#: API answers may carry secrets (a new token) or per-caller data: never stored by a cache.
NO_STORE = (("Cache-Control", "no-store"),)


def json_response(data: Any, status: int = 200) -> Response:
    """A JSON answer (``Cache-Control: no-store``, like every API response)."""
    return Response(dumps(data), status=status, mimetype="application/json", headers=NO_STORE)


def route(
    bp: Blueprint,
    rule: str,
    summary: str,
    *,
    query: type[BaseModel] | None = None,
    role: AccessRole = AccessRole.VIEWER,
    names_actors: bool = False,
    **extra: Any,
) -> Callable[[F], F]:
    """Register a read-only GET route with its OpenAPI description.

    ``role`` is what it needs: viewer routes are open unless MINIOFFICE_AUTH_READS is on.
    ``names_actors``: the answer names who asked for something, so in production it needs a
    viewer token even when reads are open (SECURITY.md).
    """
    operation = Operation(
        summary,
        bp.name,
        query=query,
        responses=extra.pop("responses", READ_RESPONSES),
        content_type=extra.pop("content_type", "application/json"),
    )

    def decorate(view: F) -> F:
        view = requires(role, names_actors=names_actors)(describe(operation)(view))
        bp.add_url_rule(rule, view_func=view, methods=["GET"], **extra)
        return view

    return decorate


def mutation(
    bp: Blueprint,
    rule: str,
    summary: str,
    *,
    body: type[BaseModel] | None = None,
    path_fields: tuple[str, ...] = (),
    method: str = "POST",
    responses: dict[int, str] | None = None,
    role: AccessRole = AccessRole.OPERATOR,
) -> Callable[[F], F]:
    """Register a route that changes the world. Every mutating route goes through here.

    It always needs a token: ``role`` operator (the default) or admin; never viewer.
    """
    if role is AccessRole.VIEWER:
        raise ValueError(f"{rule}: a mutating route needs operator or admin")
    operation = Operation(
        summary,
        bp.name,
        body=body,
        path_fields=path_fields,
        responses={**BODY_RESPONSES, **(responses or COMMAND_RESPONSES)},
        mutating=True,
    )

    def decorate(view: F) -> F:
        view = requires(role)(describe(operation)(view))
        bp.add_url_rule(rule, view_func=view, methods=[method])
        return view

    return decorate


def body_json() -> dict[str, Any]:
    """The request body as a JSON object; an empty body is ``{}``."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ApiError(
            415,
            "unsupported_media_type",
            "send the body as application/json",
            {"content_type": request.content_type},
        )
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
    except RecursionError:  # nesting deeper than the parser's stack (no body needs it)
        raise ApiError(400, "malformed_json", "the body is nested too deeply") from None
    if not isinstance(data, dict):
        raise ApiError(
            422, "validation_error", "body: must be a JSON object", {"field": "body", "in": "body"}
        )
    return data


def parse_body(model: type[M], extra: Mapping[str, Any] | None = None) -> M:
    """Validate the JSON body (plus path values in ``extra``) against ``model``.

    Strictly, as JSON: no true for 1.0, no "2" for 2 (an integer still counts as a number).
    """
    data = {**body_json(), **(extra or {})}
    try:
        # json, not orjson: the body may hold integers beyond 64 bits (refused by the model).
        return model.model_validate_json(json.dumps(data), strict=True)
    except ValidationError as exc:
        raise validation_error(exc, "body") from None


def parse_query(model: type[M]) -> M:
    """Validate the query string against ``model``."""
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise validation_error(exc, "query") from None


def submit(
    kind: CommandKind, payload: Mapping[str, Any], path_fields: tuple[str, ...] = ()
) -> Response:
    """Hand ``payload`` (already parsed by the view's model) to the engine, which checks it again.

    Answers 202 with the command and the tick it applies at, or 200 when the world is paused
    and the command was applied at once.
    """
    try:
        submission = runtime().submit(kind.value, dict(payload), actor=current_actor())
    except CommandRejected as exc:
        if exc.code == "not_found" and exc.field not in path_fields:
            raise ApiError(
                422, "validation_error", f"{exc.field}: {exc.reason}", {"field": exc.field}
            ) from None
        raise
    command = submission.command.to_dict()
    if submission.applied:
        return json_response(
            {"command": command, "status": command["status"], "tick": submission.applies_at_tick}
        )
    response = json_response(
        {"command": command, "status": "accepted", "tick": submission.applies_at_tick}, 202
    )
    return response


def paginate(
    items: list[Any], page: Page, name: str, render: Callable[[Any], Any] | None = None
) -> dict[str, Any]:
    """One page of ``items`` under ``name`` with total, limit and offset; ``render`` turns
    only the items of that page into JSON-ready data (call it under the runtime's lock)."""
    shown = items[page.offset : page.offset + page.limit]
    return {
        name: shown if render is None else [render(item) for item in shown],
        "total": len(items),
        "limit": page.limit,
        "offset": page.offset,
    }


def require(entity: Any, kind: str, ident: object) -> Any:
    """``entity`` or a 404 naming what was not found."""
    if entity is None:
        raise not_found(kind, ident)
    return entity
