"""Scheduled changes with a way back (0.1.0's "constitutional mutation").

A proposal is a list of commands, an activation tick in the future, an author and (optionally)
the preview it was judged on. Scheduling and revoking are commands themselves, so a replay
rebuilds every proposal; activation is part of the tick: at the boundary where the world's
clock reaches ``activate_tick`` (before the next tick runs) the engine takes the :func:`due`
proposals and :func:`sim.commands.activate` applies their commands in order, like any command,
and the audit log links them:

    proposal.scheduled -> proposal.activated -> command.applied (one per command) -> effects

A revoked proposal never activates. When a proposal applies, its way back can be written
(:func:`sim.commands.counter_proposal`, from each command kind's ``undo``): the proposal that
undoes it (hire -> dismiss the same person, a setting -> its old value,
lockdown -> lift, ...), naming what cannot be undone (a created directive, an added tool, an
overridden vote).

A policy (``world.proposal_policy["preview_max_age_ticks"]``, set by a command) can require a
preview no older than K ticks before a proposal may be scheduled.

This module knows nothing of command kinds: it holds proposals and their lifecycle, and
sim/commands.py (which imports it, never the reverse) applies and undoes their commands.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .errors import CommandStatus
from .world import World

#: Policy key: a proposal needs a preview made at most this many ticks ago (0: not required).
PREVIEW_MAX_AGE = "preview_max_age_ticks"


class ProposalState(str, Enum):
    SCHEDULED = "scheduled"
    REVOKED = "revoked"
    APPLIED = "applied"


@dataclass(slots=True)
class AppliedStep:
    """What one of the proposal's commands did when it activated."""

    kind: str
    status: CommandStatus  # applied | rejected
    event: int  # its command.applied / command.rejected event
    reason: str | None = None
    created: list[str] = field(default_factory=list)  # ids it created (a hired agent, ...)
    before: str | None = None  # JSON of what it replaced (a setting's old value, ...)


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


def proposals(world: World) -> dict[str, Proposal]:
    """The world's proposals by id (every state)."""
    found: dict[str, Proposal] = world.proposals
    return found


def encode_commands(commands: list[dict[str, Any]]) -> str:
    """Canonical JSON of a proposal's commands."""
    return json.dumps(commands, sort_keys=True, separators=(",", ":"))


def schedule(
    world: World,
    *,
    title: str,
    activate_tick: int,
    commands: list[dict[str, Any]],
    preview_id: str | None,
    preview_tick: int | None,
    reverts: str | None,
    actor: str,
    parent: int,
) -> Proposal:
    """Record a proposal (the schedule_proposal command checked it); it waits for its
    activation tick."""
    proposal = Proposal(
        id=world.next_id("P"),
        title=title,
        author=actor,
        activate_tick=activate_tick,
        scheduled_tick=world.tick,
        commands_json=encode_commands(commands),
        preview_id=preview_id,
        preview_tick=preview_tick,
        reverts=reverts,
    )
    proposal.event = world.log(
        "proposal.scheduled",
        actor,
        proposal.id,
        {
            "title": proposal.title,
            "activate_tick": proposal.activate_tick,
            "commands": commands,
            "preview": proposal.preview_id,
            "preview_tick": proposal.preview_tick,
            "reverts": proposal.reverts,
        },
        (parent,),
    )
    proposals(world)[proposal.id] = proposal
    world.changes.world = True
    return proposal


def revoke(world: World, proposal_id: str, reason: str, actor: str, parent: int) -> None:
    """Revoke a scheduled proposal: it never activates."""
    proposal = proposals(world)[proposal_id]
    proposal.state = ProposalState.REVOKED
    proposal.revoke_reason = reason
    proposal.outcome_event = world.log(
        "proposal.revoked", actor, proposal.id, {"reason": reason}, (parent, proposal.event)
    )
    world.changes.world = True


def due(world: World) -> list[Proposal]:
    """Scheduled proposals whose tick has come, in activation order (tick, then id). The engine
    hands them to :func:`sim.commands.activate` at the tick boundary, after its commands."""
    found = [
        p
        for p in proposals(world).values()
        if p.state is ProposalState.SCHEDULED and p.activate_tick <= world.tick
    ]
    found.sort(key=lambda p: (p.activate_tick, p.id))
    return found


def check_policy(world: World, preview_tick: int | None) -> str | None:
    """Why the proposal policy refuses scheduling now (a sentence), or None."""
    limit = world.proposal_policy.get(PREVIEW_MAX_AGE, 0)
    if not limit:
        return None
    if preview_tick is None:
        return f"policy: a proposal needs a preview made in the last {limit} ticks"
    age = world.tick - preview_tick
    if age > limit or age < 0:
        return (
            f"policy: the attached preview was made at tick {preview_tick}, {age} ticks ago; "
            f"a proposal needs one made in the last {limit} ticks"
        )
    return None


def proposals_view(world: World) -> list[dict[str, Any]]:
    """Every proposal, scheduled first (soonest first), then the rest newest first."""
    tick = world.tick
    rows = sorted(
        proposals(world).values(),
        key=lambda p: (p.state is not ProposalState.SCHEDULED, p.activate_tick, p.id),
    )
    return [p.to_dict(tick) for p in rows]


def scheduled_view(world: World) -> list[dict[str, Any]]:
    """Scheduled proposals only, soonest first (the world header carries these)."""
    return [row for row in proposals_view(world) if row["state"] == "scheduled"]


__all__ = [
    "PREVIEW_MAX_AGE",
    "AppliedStep",
    "Proposal",
    "ProposalState",
    "check_policy",
    "due",
    "proposals",
    "proposals_view",
    "revoke",
    "schedule",
    "scheduled_view",
]
