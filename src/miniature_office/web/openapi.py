"""The OpenAPI 3 document, built from the real URL map and each view's declared operation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from flask import Flask
from markupsafe import escape
from pydantic import BaseModel

from .. import __version__
from ..store.tokens import AccessRole
from .response_schemas import response_schema

#: pydantic's references point into the document's components (not a schema-local $defs).
REF_TEMPLATE = "#/components/schemas/{model}"

F = TypeVar("F", bound=Callable[..., Any])
_ARG = re.compile(r"<(?:([^:<>]+):)?([^<>]+)>")
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
            "required": ["code", "message", "details"],
        }
    },
}


@dataclass(frozen=True, slots=True)
class Operation:
    """What the document says about one view: summary, inputs and the answers it gives."""

    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    path_fields: tuple[str, ...] = ()
    responses: dict[int, str] = field(default_factory=dict)
    mutating: bool = False
    content_type: str = "application/json"
    #: A request body that is not a JSON model (``{"text/csv": {"schema": ...}}``).
    raw_body: dict[str, Any] | None = None


def describe(operation: Operation) -> Callable[[F], F]:
    """Attach ``operation`` to a view function (read by :func:`build_spec`)."""

    def decorate(view: F) -> F:
        view.openapi = operation  # type: ignore[attr-defined]
        return view

    return decorate


def openapi_path(rule: str) -> str:
    """Flask's ``/api/tasks/<task_id>`` as OpenAPI's ``/api/tasks/{task_id}``."""
    return _ARG.sub(lambda m: "{" + m.group(2) + "}", rule)


def build_spec(app: Flask) -> dict[str, Any]:
    """Walk the URL map and describe every route and method (static files excepted)."""
    paths: dict[str, dict[str, Any]] = {}
    defs: dict[str, Any] = {}
    auth = app.extensions.get("miniature_office.auth")
    reads_open = auth is None or not auth.reads_need_token
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        operation: Operation | None = getattr(view, "openapi", None)
        item = paths.setdefault(openapi_path(rule.rule), {})
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            item[method.lower()] = _operation_object(
                rule.rule, rule.endpoint, method, operation, defs
            )
            if operation is not None:
                # The role the request really needs: the same policy the auth hook enforces.
                role = auth.policy(rule.endpoint, method) if auth else None
                open_here = reads_open and not (
                    auth is not None
                    and auth.needs_token(role, getattr(view, "names_actors", False))
                )
                _secure(item[method.lower()], role, open_here, rule.rule.startswith("/api"))
    return {
        "openapi": "3.1.0",  # pydantic writes JSON Schema 2020-12, the dialect of 3.1
        "info": {
            "title": "Miniature Office API",
            "version": __version__,
            "description": "Watch, steer and measure a software company in miniature.",
        },
        "paths": paths,
        "components": {
            "schemas": {**dict(sorted(defs.items())), "Error": ERROR_SCHEMA},
            "securitySchemes": {"bearerAuth": BEARER_SCHEME},
        },
    }


BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "mo_<id>_<secret>",
    "description": (
        "An API token (miniature-office token create). Roles: viewer reads, operator steers "
        "the simulation, admin also overrides votes, resets, replays and manages tokens."
    ),
}
AUTH_RESPONSES = {
    401: "Missing, malformed, unknown or revoked token",
    403: "The token's role is too small",
    429: "Rate limited (see Retry-After)",
}
#: The server refuses a request line longer than its limit before the app sees it.
URI_TOO_LONG = "Request line too long (the server's limit; long query strings)"
MALFORMED_REQUEST = "Malformed or oversized request, refused by the server before the app"


def _secure(op: dict[str, Any], role: AccessRole | None, reads_open: bool, limited: bool) -> None:
    """Document who may call an operation and the 401/403/429 answers it can give."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    answers: dict[int, str] = {}
    if limited:
        answers = {429: AUTH_RESPONSES[429], 414: URI_TOO_LONG, 400: MALFORMED_REQUEST}
    if role is None:
        op["security"] = []
    else:
        optional = role is AccessRole.VIEWER and reads_open
        op["security"] = [{}, {"bearerAuth": []}] if optional else [{"bearerAuth": []}]
        op["x-required-role"] = role.value
        answers[401] = AUTH_RESPONSES[401]
        if role is not AccessRole.VIEWER:
            answers[403] = AUTH_RESPONSES[403]
    for status, description in answers.items():
        op["responses"].setdefault(str(status), {"description": description, "content": error})
    op["responses"] = dict(sorted(op["responses"].items()))


def _model_schema(model: type[BaseModel], defs: dict[str, Any]) -> dict[str, Any]:
    """``model``'s JSON Schema; its shared parts go to the document's components."""
    schema = model.model_json_schema(ref_template=REF_TEMPLATE)
    renamed: dict[str, str] = {}
    for name, part in schema.pop("$defs", {}).items():
        unique, n = name, 1
        while unique in defs and defs[unique] != part:  # two enums with one name
            n += 1
            unique = f"{name}{n}"
        defs[unique] = part
        if unique != name:
            renamed[REF_TEMPLATE.format(model=name)] = REF_TEMPLATE.format(model=unique)
    return _renamed_refs(schema, renamed) if renamed else schema


def _renamed_refs(schema: Any, renamed: dict[str, str]) -> Any:
    if isinstance(schema, dict):
        return {
            k: renamed.get(v, v) if k == "$ref" else _renamed_refs(v, renamed)
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_renamed_refs(v, renamed) for v in schema]
    return schema


def _operation_object(
    rule: str, endpoint: str, method: str, operation: Operation | None, defs: dict[str, Any]
) -> dict[str, Any]:
    if operation is None:
        return {"operationId": endpoint, "summary": "", "responses": {"200": {"description": ""}}}
    params: list[dict[str, Any]] = []
    for converter, name in _ARG.findall(rule):
        kind = "integer" if converter == "int" else "string"
        params.append({"name": name, "in": "path", "required": True, "schema": {"type": kind}})
    if operation.query is not None:
        schema = _model_schema(operation.query, defs)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            params.append(
                {"name": name, "in": "query", "required": name in required, "schema": prop}
            )
    result: dict[str, Any] = {
        "operationId": endpoint,
        "summary": operation.summary,
        "tags": [operation.tag],
        "parameters": params,
        "responses": _responses(operation, endpoint),
    }
    if operation.body is not None:
        schema = _model_schema(operation.body, defs)
        for name in operation.path_fields:
            schema.get("properties", {}).pop(name, None)
            if name in schema.get("required", []):
                schema["required"] = [r for r in schema["required"] if r != name]
        result["requestBody"] = {
            "required": bool(schema.get("required")),
            "content": {"application/json": {"schema": schema}},
        }
    if operation.raw_body is not None:
        result["requestBody"] = {"required": True, "content": operation.raw_body}
    if operation.mutating:
        result["x-mutating"] = True
    return result


def _responses(operation: Operation, endpoint: str) -> dict[str, Any]:
    answers = operation.responses or {200: "OK"}
    out: dict[str, Any] = {}
    for status, description in sorted(answers.items()):
        if status >= 400:
            content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        else:
            schema = response_schema(endpoint, operation.content_type)
            content = {operation.content_type: {"schema": schema}}
        out[str(status)] = {"description": description, "content": content}
    return out


def render_docs(spec: dict[str, Any]) -> str:
    """A plain HTML page listing every operation (no scripts, no inline styles)."""
    rows: list[str] = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            params = ", ".join(
                f"{p['name']} ({p['in']}{', required' if p.get('required') else ''})"
                for p in op.get("parameters", [])
            )
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            fields = ", ".join(body.get("schema", {}).get("properties", {}))
            answers = ", ".join(op["responses"])
            rows.append(
                "<tr>"
                f"<td><code>{escape(method.upper())}</code></td>"
                f"<td><code>{escape(path)}</code></td>"
                f"<td>{escape(op.get('summary', ''))}</td>"
                f"<td>{escape(params)}</td>"
                f"<td>{escape(fields)}</td>"
                f"<td>{escape(answers)}</td>"
                "</tr>"
            )
    info = spec["info"]
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(info['title'])}</title></head><body>"
        f"<h1>{escape(info['title'])} {escape(info['version'])}</h1>"
        '<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a>. '
        'Errors answer <code>{"error": {"code", "message", "details"}}</code>. '
        "Mutations are commands: 202 when queued for the next tick, 200 when applied at "
        "once because the world is paused.</p>"
        "<table><thead><tr><th>Method</th><th>Path</th><th>Summary</th><th>Parameters</th>"
        "<th>Body fields</th><th>Responses</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></body></html>\n"
    )
