"""The world's governance state: lockdowns, blocked deliveries, proposals and their policy.

This module holds the state only, typed; the rules that change it are in
:mod:`.security_office` (lockdowns and blocked deliveries) and :mod:`.proposals` (scheduled
changes and the policy that admits them). ``world.governance`` is one :class:`Governance`;
snapshots and forks carry it with the rest of the world.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeAlias

from mypy_extensions import mypyc_attr

from .errors import CommandStatus


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class Hold:
    """Deployments held on ``subject`` since ``since_tick``: a lockdown's scope (a floor id or
    ``"building"``) or a blocked directive's id."""

    subject: str
    reason: str
    actor: str
    since_tick: int
    event: int = 0  # the security.lockdown / security.delivery_blocked event

    def to_dict(self, tick: int, subject_name: str) -> dict[str, Any]:
        return {
            subject_name: self.subject,
            "reason": self.reason,
            "actor": self.actor,
            "since_tick": self.since_tick,
            "age": tick - self.since_tick,
            "event": self.event,
        }


#: A lockdown (subject: the scope) and a blocked delivery (subject: the directive id).
Lockdown: TypeAlias = Hold
DeliveryBlock: TypeAlias = Hold


class ProposalState(str, Enum):
    SCHEDULED = "scheduled"
    REVOKED = "revoked"
    APPLIED = "applied"


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class AppliedStep:
    """What one of the proposal's commands did when it activated."""

    kind: str
    status: CommandStatus  # applied | rejected
    event: int  # its command.applied / command.rejected event
    reason: str | None = None
    created: list[str] = field(default_factory=list)  # ids it created (a hired agent, ...)
    before: str | None = None  # JSON of what it replaced (a setting's old value, ...)


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class Proposal:
    id: str
    title: str
    author: str
    activate_tick: int
    scheduled_tick: int
    commands_json: str  # [{"kind": ..., "payload": ...}], canonical JSON (snapshots keep it)
    preview_id: str | None = None
    preview_tick: int | None = None
    reverts: str | None = None  # the proposal this one undoes
    state: ProposalState = ProposalState.SCHEDULED
    event: int = 0  # proposal.scheduled
    outcome_event: int | None = None  # proposal.activated or proposal.revoked
    revoke_reason: str | None = None
    applied: list[AppliedStep] = field(default_factory=list)

    @property
    def commands(self) -> list[dict[str, Any]]:
        loaded: list[dict[str, Any]] = json.loads(self.commands_json)
        return loaded

    def to_dict(self, tick: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "author": self.author,
            "state": self.state.value,
            "activate_tick": self.activate_tick,
            "ticks_to_activation": max(0, self.activate_tick - tick),
            "scheduled_tick": self.scheduled_tick,
            "commands": self.commands,
            "preview_id": self.preview_id,
            "preview_tick": self.preview_tick,
            "reverts": self.reverts,
            "event": self.event,
            "outcome_event": self.outcome_event,
            "revoke_reason": self.revoke_reason,
            "applied": [
                {
                    "kind": s.kind,
                    "status": s.status.value,
                    "event": s.event,
                    "reason": s.reason,
                    "created": list(s.created),
                }
                for s in self.applied
            ],
        }


#: Policy key: a proposal needs a preview made at most this many ticks ago (0: not required).
PREVIEW_MAX_AGE = "preview_max_age_ticks"


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class SchedulingPolicy:
    """What scheduling a proposal requires (set by ``set_proposal_policy``)."""

    preview_max_age_ticks: int = 0  # a preview made at most this many ticks ago (0: none)

    def to_dict(self) -> dict[str, int]:
        """The policy as snapshots keep it: the rules set, by name (a fresh policy: empty)."""
        return {PREVIEW_MAX_AGE: self.preview_max_age_ticks} if self.preview_max_age_ticks else {}

    @classmethod
    def from_dict(cls, data: dict[str, int]) -> SchedulingPolicy:
        return cls(preview_max_age_ticks=data.get(PREVIEW_MAX_AGE, 0))


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
class Governance:
    """Holds on deployment and scheduled changes, by their keys."""

    def __init__(self) -> None:
        self.lockdowns: dict[str, Lockdown] = {}  # by scope: a floor id or "building"
        self.delivery_blocks: dict[str, DeliveryBlock] = {}  # by directive id
        self.proposals: dict[str, Proposal] = {}  # by id, in every state
        self.policy = SchedulingPolicy()


__all__ = [
    "AppliedStep",
    "DeliveryBlock",
    "Governance",
    "Hold",
    "Lockdown",
    "PREVIEW_MAX_AGE",
    "Proposal",
    "SchedulingPolicy",
    "ProposalState",
]
