"""API tokens and the security audit trail, kept in the same database as the run.

A token reads ``mo_<id>_<secret>``: ``id`` is public (it names the token in listings, logs and
rate-limit keys), ``secret`` is 32 random bytes. The store keeps only the SHA-256 of the whole
token, looks a token up by its id and compares hashes in constant time.

Token creation and revocation are written to ``security_events``, an append-only chain where
each event's hash covers its sequence number, time, kind, actor, data and the previous hash.
It is separate from the world's audit chain on purpose: that one is rebuilt from commands and
must be identical on every replay; these events carry wall-clock times and random ids.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.exc import IntegrityError

from ..sim.audit import GENESIS_HASH, ChainVerdict, verify_chain
from .schema import api_tokens, security_events
from .store import canonical_json

TOKEN_PREFIX = "mo"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
_TOKEN = re.compile(r"^mo_([a-z0-9]{4,32})_([A-Za-z0-9_-]{32,128})$")
_NAME = re.compile(NAME_PATTERN)
#: How long a verified token is trusted without asking the database again (seconds). A
#: revocation made through this process takes effect at once; one made elsewhere (the CLI,
#: another worker) within this many seconds.
CACHE_SECONDS = 5.0
#: ``last_used_at`` is written at most this often per token (seconds).
TOUCH_SECONDS = 60.0


class AccessRole(str, enum.Enum):
    """What a token may do (stored with it). The rules (each role includes the ones below
    it) live with the authentication code: :func:`miniature_office.web.auth.covers`."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"


class TokenError(ValueError):
    """A token request that cannot be honoured (bad name, bad format, unknown id)."""


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """One stored token, without its secret."""

    id: str
    name: str
    role: AccessRole
    prefix: str
    created_at: float
    revoked_at: float | None = None
    last_used_at: float | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role.value,
            "prefix": self.prefix,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
            "last_used_at": self.last_used_at,
            "active": self.active,
        }


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """The verdict on the security event chain as the API publishes it (``ok``, ``count``):
    sim.audit's :class:`ChainVerdict` under the names this chain's endpoints have always used."""

    ok: bool
    count: int
    head: str
    first_broken: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "count": self.count,
            "head": self.head,
            "first_broken": self.first_broken,
            "reason": self.reason,
        }

    @classmethod
    def of(cls, verdict: ChainVerdict) -> "ChainCheck":
        return cls(
            verdict.valid, verdict.checked, verdict.head, verdict.first_broken, verdict.reason
        )


def hash_token(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_id(token: str) -> str | None:
    """The public id of a well-formed token, or None (never returns any part of the secret)."""
    match = _TOKEN.match(token)
    return match.group(1) if match else None


def is_well_formed(token: str) -> bool:
    return _TOKEN.match(token) is not None


def new_token() -> tuple[str, str]:
    """A fresh ``(id, token)``."""
    ident = secrets.token_hex(6)
    return ident, f"{TOKEN_PREFIX}_{ident}_{secrets.token_urlsafe(32)}"


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise TokenError(
            "name: 1-64 characters, letters, digits and . _ : - (starting with a letter or digit)"
        )
    return name


def event_hash(seq: int, at: float, kind: str, actor: str, data: str, prev: str) -> str:
    """The hash of one security event over a canonical encoding of all its fields."""
    canonical = json.dumps(
        [seq, repr(float(at)), kind, actor, data, prev], separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class TokenStore:
    """Tokens and security events in a SQLAlchemy database (the run's store)."""

    def __init__(self, db: SqlEngine, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self._clock = clock
        self._cache: dict[str, tuple[float, TokenRecord]] = {}
        self._touched: dict[str, float] = {}
        self._lock = threading.Lock()

    # ---- tokens -----------------------------------------------------------------------------

    def create(self, name: str, role: AccessRole | str, *, actor: str) -> tuple[TokenRecord, str]:
        """Make a token; returns its record and the token itself (shown once, never stored)."""
        ident, token = new_token()
        return (
            self._insert(ident, token, check_name(name), AccessRole(role), actor, "token.created"),
            token,
        )

    def register(self, token: str, name: str, role: AccessRole | str, *, actor: str) -> TokenRecord:
        """Store a token chosen elsewhere (MINIOFFICE_BOOTSTRAP_TOKEN); idempotent."""
        ident = token_id(token)
        if ident is None:
            raise TokenError("token: must look like mo_<id>_<secret> (secret of 32+ characters)")
        existing = self._registered(ident, token, role)
        if existing is not None:
            return existing
        try:
            return self._insert(
                ident, token, check_name(name), AccessRole(role), actor, "token.registered"
            )
        except IntegrityError:  # another process (a second worker) registered it first
            existing = self._registered(ident, token, role)
            if existing is None:
                raise
            return existing

    def _registered(self, ident: str, token: str, role: AccessRole | str) -> TokenRecord | None:
        """The same token already stored with the same role, or None if it is not stored."""
        existing = self.get(ident)
        if existing is None:
            return None
        stored = self._stored_hash(ident)
        if stored is None or not hmac.compare_digest(stored, hash_token(token)):
            raise TokenError(f"token: id {ident} is already taken by another token")
        if existing.active and existing.role is AccessRole(role):
            return existing
        raise TokenError(f"token: {ident} exists with role {existing.role.value} or revoked")

    def _insert(
        self, ident: str, token: str, name: str, role: AccessRole, actor: str, kind: str
    ) -> TokenRecord:
        record = TokenRecord(ident, name, role, f"{TOKEN_PREFIX}_{ident}", self._clock())
        with self.db.begin() as conn:
            conn.execute(
                api_tokens.insert().values(
                    id=record.id,
                    name=record.name,
                    role=record.role.value,
                    hash=hash_token(token),
                    prefix=record.prefix,
                    created_at=record.created_at,
                )
            )
        self.record_event(kind, actor, {"id": ident, "name": name, "role": role.value})
        return record

    def _stored_hash(self, ident: str) -> str | None:
        with self.db.connect() as conn:
            return conn.execute(
                sa.select(api_tokens.c.hash).where(api_tokens.c.id == ident)
            ).scalar()

    def get(self, ident: str) -> TokenRecord | None:
        with self.db.connect() as conn:
            row = conn.execute(sa.select(api_tokens).where(api_tokens.c.id == ident)).first()
        return _record(row) if row is not None else None

    def inactive(self, idents: Iterable[str]) -> set[str]:
        """Those of ``idents`` that are revoked or no longer exist (one query, no cache)."""
        wanted = set(idents)
        if not wanted:
            return set()
        query = sa.select(api_tokens.c.id).where(
            api_tokens.c.id.in_(sorted(wanted)), api_tokens.c.revoked_at.is_(None)
        )
        with self.db.connect() as conn:
            active = {row.id for row in conn.execute(query)}
        return wanted - active

    def list(self, *, include_revoked: bool = True) -> list[TokenRecord]:
        query = sa.select(api_tokens).order_by(api_tokens.c.created_at, api_tokens.c.id)
        if not include_revoked:
            query = query.where(api_tokens.c.revoked_at.is_(None))
        with self.db.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    def revoke(self, ident: str, *, actor: str) -> TokenRecord:
        """Revoke a token by id (idempotent: revoking twice keeps the first time)."""
        found = self.get(ident)
        if found is None:
            raise TokenError(f"no token {ident!r}")
        if found.revoked_at is not None:
            return found
        at = self._clock()
        with self.db.begin() as conn:
            conn.execute(
                api_tokens.update()
                .where(api_tokens.c.id == ident, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
        with self._lock:
            self._cache = {h: v for h, v in self._cache.items() if v[1].id != ident}
        self.record_event("token.revoked", actor, {"id": ident, "name": found.name})
        return self.get(ident) or found

    def authenticate(self, token: str) -> TokenRecord | None:
        """The active token record for ``token``, or None (unknown, revoked, malformed)."""
        ident = token_id(token)
        if ident is None:
            return None
        digest = hash_token(token)
        now = self._clock()
        with self._lock:
            cached = self._cache.get(digest)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            record = cached[1]
        else:
            with self.db.connect() as conn:
                row = conn.execute(sa.select(api_tokens).where(api_tokens.c.id == ident)).first()
            if row is None or not hmac.compare_digest(row.hash, digest):
                return None
            record = _record(row)
            if not record.active:
                return None
            with self._lock:
                self._cache[digest] = (now, record)
        self._touch(record.id, now)
        return record

    def _touch(self, ident: str, now: float) -> None:
        with self._lock:
            if now - self._touched.get(ident, 0.0) < TOUCH_SECONDS:
                return
            self._touched[ident] = now
        with self.db.begin() as conn:
            conn.execute(
                api_tokens.update().where(api_tokens.c.id == ident).values(last_used_at=now)
            )

    # ---- the security event chain -----------------------------------------------------------

    def record_event(self, kind: str, actor: str, data: dict[str, Any]) -> dict[str, Any]:
        """Append one event to the chain (retries if another process appended first)."""
        encoded = canonical_json(data)  # the store's canonical JSON (the hash covers it)
        for _ in range(20):
            with self.db.connect() as conn:
                last = conn.execute(
                    sa.select(security_events.c.seq, security_events.c.hash)
                    .order_by(security_events.c.seq.desc())
                    .limit(1)
                ).first()
            seq, prev = (last.seq + 1, last.hash) if last is not None else (1, GENESIS_HASH)
            at = self._clock()
            row = {
                "seq": seq,
                "at": at,
                "kind": kind,
                "actor": actor[:120],
                "data": encoded,
                "prev": prev,
                "hash": event_hash(seq, at, kind, actor[:120], encoded, prev),
            }
            try:
                with self.db.begin() as conn:
                    conn.execute(security_events.insert().values(**row))
            except IntegrityError:
                continue
            return _event_dict(row)
        raise RuntimeError("could not append to the security event chain")

    def events(self, *, limit: int = 100, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Newest first: a page of security events and how many there are."""
        query = (
            sa.select(security_events)
            .order_by(security_events.c.seq.desc())
            .limit(limit)
            .offset(offset)
        )
        with self.db.connect() as conn:
            rows = conn.execute(query).mappings().all()
            total = conn.execute(sa.select(sa.func.count()).select_from(security_events)).scalar()
        return [_event_dict(row) for row in rows], int(total or 0)

    def verify_events(self) -> ChainCheck:
        """Walk the chain from the first event; name the first one whose link or hash is wrong.

        The walk is sim.audit's :func:`verify_chain` (the world's chain uses the same one), with
        this chain's hash function."""
        with self.db.connect() as conn:
            rows = conn.execute(sa.select(security_events).order_by(security_events.c.seq))
            verdict = verify_chain((row._mapping for row in rows), hash_of=_row_hash)
        return ChainCheck.of(verdict)


def _row_hash(row: Mapping[str, Any]) -> str:
    return event_hash(row["seq"], row["at"], row["kind"], row["actor"], row["data"], row["prev"])


def _record(row: Any) -> TokenRecord:
    return TokenRecord(
        id=row.id,
        name=row.name,
        role=AccessRole(row.role),
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def _event_dict(row: Any) -> dict[str, Any]:
    return {
        "seq": row["seq"],
        "at": row["at"],
        "kind": row["kind"],
        "actor": row["actor"],
        "data": json.loads(row["data"]),
        "prev": row["prev"],
        "hash": row["hash"],
    }
