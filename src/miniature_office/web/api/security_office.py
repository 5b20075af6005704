"""The Head of Security: lockdowns, blocked deliveries, the security audit, permissions.

Lockdowns and blocks are commands (recorded, replayable, audited). The audit runs as a job in
the background (``POST /api/security/audit`` answers 202; the report arrives over Socket.IO and
at ``GET /api/consigliere/jobs/<id>``). Permissions are the API tokens: grant and revoke are
aliases of ``POST /api/tokens`` and ``DELETE /api/tokens/<id>``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app

from ...service.advice_jobs import DONE, FAILED
from ...service.security_audit import audit_events, summary_sentence, tokens_by_role
from ...sim.commands import BlockDelivery, CommandKind, LiftLockdown, Lockdown, UnblockDelivery
from ...sim.engine import Engine
from ...sim.security_office import security_view
from ...store.tokens import AccessRole
from ..auth import current_actor, get_authenticator
from ..response_schemas import RESPONSES, I, O, S, arr, obj, opt
from . import tokens as token_api
from .common import json_response, mutation, parse_body, read, route, runtime
from .consigliere import JOB, Nothing, board, command_route

bp = Blueprint("security_office", __name__, url_prefix="/api")
ADMIN_READ = {200: "OK"}


lockdown = command_route(
    bp,
    "/security/lockdown",
    "Lock down a floor or the building: nothing ships until lifted (work goes on)",
    Lockdown,
    CommandKind.LOCKDOWN,
    AccessRole.ADMIN,
)
lift = command_route(
    bp,
    "/security/lift",
    "Lift a lockdown",
    LiftLockdown,
    CommandKind.LIFT_LOCKDOWN,
    AccessRole.ADMIN,
)
block = command_route(
    bp,
    "/security/block",
    "Block delivery of one directive",
    BlockDelivery,
    CommandKind.BLOCK_DELIVERY,
    AccessRole.ADMIN,
)
unblock = command_route(
    bp,
    "/security/unblock",
    "Let a blocked directive ship again",
    UnblockDelivery,
    CommandKind.UNBLOCK_DELIVERY,
    AccessRole.ADMIN,
)


def _holds(name: str) -> Response:
    rows = read(lambda e: security_view(e.world))[name]
    return json_response({name: rows, "count": len(rows)})


@route(bp, "/security/lockdowns", "Open lockdowns (floor or building)", responses=ADMIN_READ)
def lockdowns() -> Response:
    return _holds("lockdowns")


@route(bp, "/security/blocked", "Directives whose delivery is blocked", responses=ADMIN_READ)
def blocked() -> Response:
    return _holds("blocked")


@route(
    bp,
    "/security/permissions",
    "Tokens by role with their last use (never secrets)",
    role=AccessRole.ADMIN,
    responses=ADMIN_READ,
)
def permissions() -> Response:
    records = get_authenticator().tokens.list(include_revoked=False)
    roles = [r.value for r in AccessRole]
    return json_response({"roles": roles, "tokens": tokens_by_role(records)})


@mutation(
    bp,
    "/security/grant",
    "Grant a role: create a token (alias of POST /api/tokens)",
    body=token_api.CreateToken,
    responses=token_api.CREATE_RESPONSES,
    role=AccessRole.ADMIN,
)
def grant() -> Response:
    return token_api.create_token()


@mutation(
    bp,
    "/security/revoke/<token_id>",
    "Revoke a token (alias of DELETE /api/tokens/<id>)",
    body=Nothing,
    path_fields=(),
    responses=token_api.REVOKE_RESPONSES,
    role=AccessRole.ADMIN,
)
def revoke(token_id: str) -> Response:
    return token_api.revoke_token(token_id)


@mutation(
    bp,
    "/security/audit",
    "Run a security audit (a job): both chains, unsafe shipments, "
    "escapes, unjustified checkouts, tokens",
    body=Nothing,
    role=AccessRole.ADMIN,
    responses={202: "The audit started"},
)
def audit() -> Response:
    parse_body(Nothing)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    job = board().record("audit", {}, read(lambda e: e.tick), current_actor(), total=1)
    current_app.extensions["socketio"].start_background_task(_run_audit, app, job)
    return json_response({**job, "url": f"/api/consigliere/jobs/{job['id']}"}, 202)


def _run_audit(app: Any, job: dict[str, Any]) -> None:
    with app.app_context():
        jobs = board()
        try:
            job["result"] = security_audit()
            job["state"] = DONE
        except Exception as exc:  # noqa: BLE001 - the job reports it
            job["state"], job["error"] = FAILED, str(exc)[:300]
        job["progress"] = {"done": 1, "total": 1}
        jobs.finish(job)


def security_audit() -> dict[str, Any]:
    """The audit report (in an app context)."""
    rt = runtime()
    world_chain = rt.verify_audit().to_dict()
    tokens = get_authenticator().tokens
    security_chain = tokens.verify_events().to_dict()
    persistence = rt.persistence
    if persistence is not None:
        events = list(persistence.store.iter_events())

        def findings(engine: Engine) -> dict[str, Any]:
            return audit_events(events, engine.world)

    else:

        def findings(engine: Engine) -> dict[str, Any]:
            return audit_events((e.to_dict() for e in engine.world.audit), engine.world)

    report = {
        "world_chain": world_chain,
        "security_chain": security_chain,
        "chains_ok": bool(world_chain.get("valid")) and bool(security_chain.get("ok")),
        **read(findings),
        "tokens_by_role": tokens_by_role(tokens.list()),
    }
    report["sentence"] = summary_sentence(report)
    return report


HOLD = obj(reason=S, actor=S, since_tick=I, age=I, event=I)
COMMAND_ANSWER = RESPONSES["work.block_task"]
RESPONSES.update(
    {
        "security_office.lockdown": COMMAND_ANSWER,
        "security_office.lift_lockdown": COMMAND_ANSWER,
        "security_office.block_delivery": COMMAND_ANSWER,
        "security_office.unblock_delivery": COMMAND_ANSWER,
        "security_office.lockdowns": obj(
            lockdowns=arr({**HOLD, "properties": {**HOLD["properties"], "scope": S}}), count=I
        ),
        "security_office.blocked": obj(
            blocked=arr({**HOLD, "properties": {**HOLD["properties"], "directive_id": S}}),
            count=I,
        ),
        "security_office.permissions": obj(roles=arr(S), tokens=O),
        "security_office.grant": RESPONSES["tokens.create_token"],
        "security_office.revoke": RESPONSES["tokens.revoke_token"],
        "security_office.audit": {
            **JOB,
            "properties": {**JOB["properties"], "url": S, "error": opt(S)},
        },
    }
)
