"""Authentication and authorisation: bearer tokens with roles, on REST and Socket.IO.

Every view declares the role it needs (``required_role``, set by the ``route`` and
``mutation`` helpers in ``api/common.py``). Views that declare nothing fall back to a safe
rule: health, metrics, the page and static files are public; any other read needs a viewer
and any other method an operator.

Reads (and the Socket.IO view) need a token only when MINIOFFICE_AUTH_READS is on (the default
in production). In production, a read that names actors (``names_actors``: the Consigliere's
jobs, which record who asked) needs a viewer token even when reads are open. Where no token
is needed, a presented token that is not valid is ignored (the caller is anonymous, which is
all an open view needs); wherever a token is needed, it must be valid, or the answer is 401.

Order of the request hooks: identify (who is calling) -> rate limit (keyed by token or client
address, so floods of bad tokens are limited too) -> enforce (401/403).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from flask import Flask, Response, current_app, g, request

from ..service.config import Config
from ..store.tokens import AccessRole, TokenError, TokenRecord, TokenStore, token_id
from .errors import error_response

log = logging.getLogger("miniature_office.security")
EXTENSION = "miniature_office.auth"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Blueprints (endpoint prefixes) that never need a token.
PUBLIC_BLUEPRINTS = frozenset({"health", "metrics", "ui"})
PUBLIC_ENDPOINTS = frozenset({"static"})
_UNSET = object()

#: Each access role includes the ones below it.
RANK = {AccessRole.VIEWER: 1, AccessRole.OPERATOR: 2, AccessRole.ADMIN: 3}


def covers(held: AccessRole, needed: AccessRole) -> bool:
    """True when a holder of ``held`` may do what ``needed`` allows."""
    return RANK[held] >= RANK[needed]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a token's record, or nobody (``token`` is None)."""

    token: TokenRecord | None = None

    @property
    def actor(self) -> str:
        """How commands and security events name the caller."""
        return f"token:{self.token.name}" if self.token else "anonymous"

    def can(self, needed: AccessRole) -> bool:
        return self.token is not None and covers(self.token.role, needed)


ANONYMOUS = Principal()


class AuthFailure(Exception):
    """Why a request or connection was refused: 401 (who are you?) or 403 (not allowed)."""

    def __init__(self, status: int, reason: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.details = details


def requires(role: AccessRole | None, *, names_actors: bool = False) -> Callable[[Any], Any]:
    """Declare the role a view needs (None: public).

    ``names_actors``: the answer names who did something (a token's name), so in production
    it needs a token even where reads are open.
    """

    def decorate(view: Any) -> Any:
        view.required_role = role
        view.names_actors = names_actors
        return view

    return decorate


class Authenticator:
    """Checks tokens against the store and applies the role policy."""

    def __init__(self, tokens: TokenStore, config: Config) -> None:
        self.tokens = tokens
        self.config = config
        self._policies: dict[tuple[str, str], AccessRole | None] = {}
        self._naming: dict[str, bool] = {}

    @property
    def reads_need_token(self) -> bool:
        return self.config.reads_need_token

    def identify(self, token: str | None) -> Principal:
        """The principal for a presented token (None: anonymous); raises AuthFailure(401)."""
        if token is None:
            return ANONYMOUS
        record = self.tokens.authenticate(token)
        if record is None:
            reason = "malformed_token" if token_id(token) is None else "unknown_or_revoked_token"
            raise AuthFailure(401, reason, "the API token is not valid (unknown or revoked)")
        return Principal(record)

    def needs_token(self, needed: AccessRole | None, names_actors: bool = False) -> bool:
        """Whether a request needing ``needed`` must carry a valid token.

        ``names_actors``: the view's answer names actors, which production never shows to
        anonymous callers, whatever MINIOFFICE_AUTH_READS says.
        """
        if needed is None:
            return False
        if needed is not AccessRole.VIEWER or self.reads_need_token:
            return True
        return names_actors and self.config.is_production

    def names_actors(self, endpoint: str | None) -> bool:
        """Whether the view behind ``endpoint`` declared that its answer names actors."""
        if endpoint is None:
            return False
        try:
            return self._naming[endpoint]
        except KeyError:
            view = current_app.view_functions.get(endpoint)
            naming = self._naming[endpoint] = bool(getattr(view, "names_actors", False))
            return naming

    def authorize(
        self, principal: Principal, needed: AccessRole | None, names_actors: bool = False
    ) -> None:
        """Raise AuthFailure unless ``principal`` holds ``needed`` (reads may be open)."""
        if needed is None or not self.needs_token(needed, names_actors):
            return
        if principal.token is None:
            raise AuthFailure(
                401,
                "missing_token",
                f"this needs an API token with the {needed.value} role "
                "(send Authorization: Bearer <token>)",
                required_role=needed.value,
            )
        if not principal.can(needed):
            raise AuthFailure(
                403,
                "insufficient_role",
                f"this needs the {needed.value} role; the token has {principal.token.role.value}",
                required_role=needed.value,
                role=principal.token.role.value,
            )

    def policy(self, endpoint: str | None, method: str) -> AccessRole | None:
        """The role a request to ``endpoint`` with ``method`` needs (None: public)."""
        if endpoint is None or method == "OPTIONS":
            return None
        key = (endpoint, method)
        try:
            return self._policies[key]  # views and their roles are fixed once routes exist
        except KeyError:
            needed = self._policies[key] = self._policy(endpoint, method)
            return needed

    def _policy(self, endpoint: str, method: str) -> AccessRole | None:
        view = current_app.view_functions.get(endpoint)
        declared = getattr(view, "required_role", _UNSET)
        if declared is not _UNSET:
            return declared  # type: ignore[return-value]
        if endpoint in PUBLIC_ENDPOINTS or endpoint.partition(".")[0] in PUBLIC_BLUEPRINTS:
            return None
        return AccessRole.VIEWER if method in SAFE_METHODS else AccessRole.OPERATOR


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; raises AuthFailure if garbled."""
    value = headers.get("Authorization")
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        raise AuthFailure(401, "bad_authorization_header", "send Authorization: Bearer <token>")
    return token


def socket_principal(auth: Any, headers: Mapping[str, str]) -> Principal:
    """Authenticate a Socket.IO connection: ``auth: {token}`` in the connect packet, or the
    Authorization header of the handshake. Raises AuthFailure when the view is refused."""
    authenticator = get_authenticator()
    token = auth.get("token") if isinstance(auth, dict) else None
    if token is not None and (not isinstance(token, str) or len(token) > 200):
        raise AuthFailure(401, "malformed_token", "the API token is not valid")
    try:
        if token is None:
            token = bearer_token(headers)
        principal = authenticator.identify(token or None)
    except AuthFailure:
        if authenticator.needs_token(AccessRole.VIEWER):
            raise
        principal = ANONYMOUS  # an open view: a stale token does not matter here
    authenticator.authorize(principal, AccessRole.VIEWER)
    return principal


def authorize_socket(principal: Principal, needed: AccessRole) -> None:
    """Authorise one Socket.IO event exactly like a REST call needing ``needed``."""
    get_authenticator().authorize(principal, needed)


def log_failure(failure: AuthFailure, token: str | None, **context: Any) -> None:
    """One structured JSON line per refusal; the token's public id at most, never a secret."""
    entry = {
        "event": "auth.refused",
        "status": failure.status,
        "reason": failure.reason,
        "token_id": token_id(token) if token else None,
        **context,
    }
    level = logging.INFO if failure.reason == "missing_token" else logging.WARNING
    log.log(level, json.dumps(entry, sort_keys=True))


def refusal(failure: AuthFailure) -> Response:
    """The JSON error for a refused request (with WWW-Authenticate on 401)."""
    code = "unauthorized" if failure.status == 401 else "forbidden"
    response = error_response(failure.status, code, failure.message, failure.details)
    if failure.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="miniature-office"'
    return response


def get_authenticator(app: Flask | None = None) -> Authenticator:
    return (app or current_app).extensions[EXTENSION]


def current_principal() -> Principal:
    """The caller of the current request (anonymous outside a request)."""
    return g.get("principal", ANONYMOUS)


def current_actor() -> str:
    """The actor recorded on commands: ``token:<name>``."""
    return current_principal().actor


def register_auth(
    app: Flask, config: Config, tokens: TokenStore, between: Callable[[Flask], Any]
) -> Authenticator:
    """Install the hooks: identify, then ``between(app)`` (the rate limiter), then enforce."""
    auth = Authenticator(tokens, config)
    app.extensions[EXTENSION] = auth
    _bootstrap(auth, config)

    @app.before_request
    def _identify() -> Response | None:
        g.principal = ANONYMOUS
        if "HTTP_AUTHORIZATION" not in request.environ:
            return None  # anonymous: the common case for open reads, settled without parsing
        token = None
        try:
            token = bearer_token(request.headers)
            g.principal = auth.identify(token)
        except AuthFailure as failure:
            g.auth_failure = (failure, token)
        return None

    between(app)

    @app.before_request
    def _enforce() -> Response | None:
        current = request._get_current_object()  # one proxy lookup for endpoint and method
        needed = auth.policy(current.endpoint, current.method)
        naming = needed is AccessRole.VIEWER and auth.names_actors(current.endpoint)
        if not auth.needs_token(needed, naming):
            return None  # public, or an open read: nothing to check (a bad token included)
        pending = g.pop("auth_failure", None)
        try:
            if pending is not None:  # a garbled or unknown token where one is needed
                raise pending[0]
            auth.authorize(current_principal(), needed, naming)
        except AuthFailure as failure:
            token = pending[1] if pending else None
            log_failure(
                failure,
                token,
                method=request.method,
                path=request.path,
                remote=request.remote_addr,
                transport="http",
            )
            return refusal(failure)
        return None

    return auth


def _bootstrap(auth: Authenticator, config: Config) -> None:
    """Register MINIOFFICE_BOOTSTRAP_TOKEN; in development print a fresh operator token."""
    if config.bootstrap_token:
        try:
            auth.tokens.register(
                config.bootstrap_token, "bootstrap", config.bootstrap_role, actor="config"
            )
        except TokenError as exc:
            raise RuntimeError(f"MINIOFFICE_BOOTSTRAP_TOKEN: {exc}") from None
    if config.prints_dev_token:
        for old in auth.tokens.list(include_revoked=False):
            if old.name.startswith("dev-operator-"):
                auth.tokens.revoke(old.id, actor="startup")
        name = time.strftime("dev-operator-%Y%m%dT%H%M%S", time.gmtime())
        record, token = auth.tokens.create(name, AccessRole.OPERATOR, actor="startup")
        print(  # noqa: T201 - shown once to the developer at the terminal, never in production
            "\n  Development operator token (for the page's controls; valid until the next"
            f" start):\n\n      {token}\n",
            flush=True,
        )
        log.info(json.dumps({"event": "auth.dev_token", "token_id": record.id}))
