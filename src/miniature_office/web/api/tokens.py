"""Token management and the security audit trail (admin only)."""

from __future__ import annotations

from flask import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from ...sim.commands import Empty
from ...store.tokens import NAME_PATTERN, AccessRole, TokenError
from ..auth import current_actor, get_authenticator
from ..errors import ApiError
from .common import MAX_INT, Page, json_response, mutation, parse_body, parse_query, route

bp = Blueprint("tokens", __name__, url_prefix="/api")

CREATE_RESPONSES = {
    201: "Created; the token is in the answer and is never shown again",
    400: "Malformed JSON",
    413: "Body too large",
    415: "Body is not JSON",
    422: "Validation failed (the field is named)",
}
REVOKE_RESPONSES = {
    200: "Revoked (revoking again is harmless)",
    400: "Malformed JSON",
    404: "Unknown token",
    415: "Body is not JSON",
    422: "Validation failed",
}
ADMIN_READ = {200: "OK", 422: "Invalid query parameter"}


class CreateToken(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=64, pattern=NAME_PATTERN)
    role: AccessRole = AccessRole.VIEWER


class TokenFilter(Page):
    include_revoked: bool = True


class EventPage(Page):
    offset: int = Field(default=0, ge=0, le=MAX_INT)


@mutation(bp, "/tokens", "Create an API token (shown once)", body=CreateToken,
          responses=CREATE_RESPONSES, role=AccessRole.ADMIN)  # fmt: skip
def create_token() -> Response:
    body = parse_body(CreateToken)
    tokens = get_authenticator().tokens
    record, token = tokens.create(body.name, body.role, actor=current_actor())
    return json_response({**record.to_dict(), "token": token}, 201)


@route(bp, "/tokens", "API tokens (never their secrets)", query=TokenFilter, role=AccessRole.ADMIN,
       responses=ADMIN_READ)  # fmt: skip
def list_tokens() -> Response:
    f = parse_query(TokenFilter)
    found = get_authenticator().tokens.list(include_revoked=f.include_revoked)
    page = [t.to_dict() for t in found[f.offset : f.offset + f.limit]]
    return json_response(
        {"tokens": page, "total": len(found), "limit": f.limit, "offset": f.offset}
    )


@mutation(bp, "/tokens/<token_id>", "Revoke an API token", body=Empty, path_fields=(),
          method="DELETE", responses=REVOKE_RESPONSES, role=AccessRole.ADMIN)  # fmt: skip
def revoke_token(token_id: str) -> Response:
    parse_body(Empty)
    try:
        record = get_authenticator().tokens.revoke(token_id[:64], actor=current_actor())
    except TokenError:
        raise ApiError(
            404, "not_found", f"no token {token_id[:64]!r}", {"kind": "token", "id": token_id[:64]}
        ) from None
    return json_response(record.to_dict())


@route(bp, "/security/events", "Security events (token created, revoked), newest first",
       query=EventPage, role=AccessRole.ADMIN, responses=ADMIN_READ)  # fmt: skip
def security_events() -> Response:
    f = parse_query(EventPage)
    found, total = get_authenticator().tokens.events(limit=f.limit, offset=f.offset)
    return json_response({"events": found, "total": total, "limit": f.limit, "offset": f.offset})


@route(bp, "/security/verify", "Verify the security event chain; names the first broken event",
       role=AccessRole.ADMIN, responses={200: "Verdict"})  # fmt: skip
def security_verify() -> Response:
    return json_response(get_authenticator().tokens.verify_events().to_dict())
