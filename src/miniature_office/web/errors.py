"""JSON errors: every failure answers {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from ..service.encoding import dumps
from ..service.runtime import Conflict, StoreWriteFailed
from ..sim.errors import CommandRejected

log = logging.getLogger(__name__)

#: HTTP status -> error code for werkzeug's exceptions.
HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    431: "headers_too_large",
}

#: CommandRejected.code -> HTTP status.
REJECTION_STATUS = {"not_found": 404, "conflict": 409, "unknown_command": 400}


class ApiError(Exception):
    """An error the API answers with; raise it from any view."""

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


def not_found(kind: str, ident: object) -> ApiError:
    """The 404 for an unknown entity."""
    return ApiError(404, "not_found", f"no {kind} {ident!r}", {"kind": kind, "id": str(ident)})


def validation_error(exc: ValidationError, where: str = "body") -> ApiError:
    """A 422 naming the first invalid field (all problems are listed in details)."""
    problems = [
        {"field": ".".join(str(p) for p in e["loc"]) or where, "message": e["msg"]}
        for e in exc.errors()
    ]
    first = problems[0]
    return ApiError(
        422,
        "validation_error",
        f"{first['field']}: {first['message']}",
        {"in": where, "field": first["field"], "problems": problems},
    )


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    """Build the JSON error response."""
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return Response(
        dumps(body),
        status=status,
        mimetype="application/json",
        headers={"Cache-Control": "no-store"},
    )


def register_error_handlers(app: Flask) -> None:
    """Turn every exception into the JSON error shape."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(CommandRejected)
    def _rejected(exc: CommandRejected) -> Response:
        status = REJECTION_STATUS.get(exc.code, 422)
        code = "validation_error" if status == 422 else exc.code
        return error_response(status, code, exc.reason, {"field": exc.field})

    @app.errorhandler(StoreWriteFailed)
    def _store(exc: StoreWriteFailed) -> Response:
        code = "insufficient_storage" if exc.full else "store_unavailable"
        response = error_response(exc.status, code, str(exc), {"retry_after": exc.retry_after})
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(RecursionError)
    def _too_deep(exc: RecursionError) -> Response:
        return error_response(400, "malformed_json", "the body is nested too deeply")

    @app.errorhandler(Conflict)
    def _conflict(exc: Conflict) -> Response:
        return error_response(409, "conflict", str(exc))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        response = error_response(
            status, HTTP_CODES.get(status, "http_error"), exc.description or exc.name
        )
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "internal server error")
