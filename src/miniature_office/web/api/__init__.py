"""The REST API: one blueprint per concern, plus the index, OpenAPI document and docs page."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app

from ... import __version__
from ..openapi import Operation, build_spec, describe, render_docs
from . import (
    audit,
    consigliere,
    flow,
    history,
    org,
    runs,
    security_office,
    supply,
    tokens,
    work,
    world,
)
from .common import json_response

BLUEPRINTS = (
    world.bp,
    org.bp,
    work.bp,
    supply.bp,
    flow.bp,
    audit.bp,
    tokens.bp,
    runs.bp,
    consigliere.bp,
    security_office.bp,
    history.bp,
)

docs_bp = Blueprint("docs", __name__, url_prefix="/api")


def _spec() -> dict:
    cached = current_app.extensions.get("miniature_office.openapi")
    if cached is None:
        cached = build_spec(current_app)
        current_app.extensions["miniature_office.openapi"] = cached
    return cached


@docs_bp.get("")
@describe(Operation("Index of every endpoint", "docs"))
def index() -> Response:
    spec = _spec()
    # 0.1.0's shape: "METHOD /path" -> summary (the OpenAPI document has the details).
    endpoints = {
        f"{method.upper()} {path}": op.get("summary", "")
        for path, item in spec["paths"].items()
        for method, op in item.items()
    }
    return json_response(
        {
            "name": "miniature-office",
            "service": "miniature-office",
            "version": __version__,
            "description": spec["info"]["description"],
            "openapi": "/api/openapi.json",
            "docs": "/api/docs",
            "endpoints": endpoints,
        }
    )


@docs_bp.get("/openapi.json")
@describe(Operation("The OpenAPI 3 document of this API", "docs"))
def openapi_json() -> Response:
    return json_response(_spec())


@docs_bp.get("/docs")
@describe(Operation("Human-readable API reference", "docs", content_type="text/html"))
def docs() -> Response:
    return Response(render_docs(_spec()), mimetype="text/html")


#: Names of every blueprint under /api (auth and rate limits are scoped to these).
API_BLUEPRINTS: tuple[str, ...] = (*(bp.name for bp in BLUEPRINTS), docs_bp.name)


def register_api(app: Flask) -> None:
    """Register every API blueprint."""
    for bp in (*BLUEPRINTS, docs_bp):
        app.register_blueprint(bp)
