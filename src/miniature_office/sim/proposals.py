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

A policy (``world.governance.policy.preview_max_age_ticks``, set by a command) can require a
preview no older than K ticks before a proposal may be scheduled.

This module knows nothing of command kinds: it holds proposals and their lifecycle, and
sim/commands.py (which imports it, never the reverse) applies and undoes their commands.
"""

from __future__ import annotations

import json
from typing import Any

from .governance import PREVIEW_MAX_AGE, AppliedStep, Proposal, ProposalState
from .world import World


def proposals(world: World) -> dict[str, Proposal]:
    """The world's proposals by id (every state)."""
    return world.governance.proposals


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
    limit = world.governance.policy.preview_max_age_ticks
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
