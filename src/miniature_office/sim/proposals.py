"""Scheduled changes with a way back (0.1.0's "constitutional mutation").

A proposal is a list of commands, an activation tick in the future, an author and (optionally)
the preview it was judged on. Scheduling and revoking are commands themselves, so a replay
rebuilds every proposal; activation is part of the tick: at the boundary where the world's
clock reaches ``activate_tick`` (before the next tick runs) the engine applies the proposal's
commands in order, like any command, and the audit log links them:

    proposal.scheduled -> proposal.activated -> command.applied (one per command) -> effects

A revoked proposal never activates. When a proposal applies, :func:`counter_commands` writes
the proposal that undoes it (hire -> dismiss the same person, a setting -> its old value,
lockdown -> lift, ...), naming what cannot be undone (a created directive, an added tool, an
overridden vote).

A policy (``world.proposal_policy["preview_max_age_ticks"]``, set by a command) can require a
preview no older than K ticks before a proposal may be scheduled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from mypy_extensions import mypyc_attr

from .errors import CommandStatus
from .world import World

#: Policy key: a proposal needs a preview made at most this many ticks ago (0: not required).
PREVIEW_MAX_AGE = "preview_max_age_ticks"


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


def proposals(world: World) -> dict[str, Proposal]:
    """The world's proposals by id (every state)."""
    found: dict[str, Proposal] = world.proposals
    return found


def encode_commands(commands: list[dict[str, Any]]) -> str:
    """Canonical JSON of a proposal's commands."""
    return json.dumps(commands, sort_keys=True, separators=(",", ":"))


def schedule(world: World, payload: dict[str, Any], actor: str, parent: int) -> Proposal:
    """Record a proposal (the command checked it); it waits for its activation tick."""
    proposal = Proposal(
        id=world.next_id("P"),
        title=payload["title"],
        author=actor,
        activate_tick=payload["activate_tick"],
        scheduled_tick=world.tick,
        commands_json=encode_commands(payload["commands"]),
        preview_id=payload.get("preview_id"),
        preview_tick=payload.get("preview_tick"),
        reverts=payload.get("reverts"),
    )
    proposal.event = world.log(
        "proposal.scheduled",
        actor,
        proposal.id,
        {
            "title": proposal.title,
            "activate_tick": proposal.activate_tick,
            "commands": payload["commands"],
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


def activate_due(world: World) -> list[Proposal]:
    """Apply every scheduled proposal whose tick has come (called by the engine at the tick
    boundary, after the boundary's commands); returns the proposals applied."""
    due = [
        p
        for p in proposals(world).values()
        if p.state is ProposalState.SCHEDULED and p.activate_tick <= world.tick
    ]
    if not due:
        return []
    from .commands import apply_step  # commands imports this module

    due.sort(key=lambda p: (p.activate_tick, p.id))
    for proposal in due:
        proposal.outcome_event = world.log(
            "proposal.activated",
            proposal.author,
            proposal.id,
            {"preview": proposal.preview_id, "commands": len(proposal.commands)},
            (proposal.event,),
        )
        for index, command in enumerate(proposal.commands):
            proposal.applied.append(
                apply_step(
                    world,
                    command["kind"],
                    command["payload"],
                    actor=f"proposal:{proposal.id}",
                    target=f"proposal:{proposal.id}:{index + 1}",
                    parent=proposal.outcome_event,
                )
            )
        proposal.state = ProposalState.APPLIED
        world.changes.world = True
    return due


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


# ---- the way back ------------------------------------------------------------------------------


def counter_commands(proposal: Proposal) -> tuple[list[dict[str, Any]], list[str]]:
    """The commands that undo an applied proposal (last change first), and what cannot be
    undone (sentences)."""
    undo: list[dict[str, Any]] = []
    cannot: list[str] = []
    pairs = list(zip(proposal.applied, proposal.commands))
    pairs.reverse()  # last change first
    for step, command in pairs:
        if step.status is not CommandStatus.APPLIED:
            continue
        counter = _counter(step, command["payload"])
        if isinstance(counter, str):
            cannot.append(counter)
        else:
            undo.append(counter)
    return undo, cannot


def _counter(step: AppliedStep, payload: dict[str, Any]) -> dict[str, Any] | str:
    kind = step.kind
    before = json.loads(step.before) if step.before else None
    if kind == "hire_agent" and step.created:
        return {"kind": "dismiss_agent", "payload": {"agent_id": step.created[0]}}
    if kind == "dismiss_agent" and before:
        return {"kind": "hire_agent", "payload": before}
    if kind == "set_setting" and before is not None:
        return {"kind": "set_setting", "payload": {"path": payload["path"], "value": before}}
    if kind == "lockdown":
        return {"kind": "lift_lockdown", "payload": {"scope": payload["scope"]}}
    if kind == "lift_lockdown" and before:
        return {"kind": "lockdown", "payload": before}
    if kind == "block_delivery":
        return {"kind": "unblock_delivery", "payload": {"directive_id": payload["directive_id"]}}
    if kind == "unblock_delivery" and before:
        return {"kind": "block_delivery", "payload": before}
    if kind == "block_task":
        return {"kind": "unblock_task", "payload": {"task_id": payload["task_id"]}}
    if kind == "unblock_task":
        return {
            "kind": "block_task",
            "payload": {"task_id": payload["task_id"], "reason": "revert of an unblock"},
        }
    return f"{kind} (event {step.event}) cannot be undone by a command"


def counter_proposal(world: World, proposal_id: str, activate_tick: int) -> dict[str, Any]:
    """A ``schedule_proposal`` payload that reverts an applied proposal."""
    proposal = proposals(world)[proposal_id]
    if proposal.state is not ProposalState.APPLIED:
        raise ValueError(f"proposal {proposal_id} is {proposal.state.value}, not applied")
    undo, cannot = counter_commands(proposal)
    return {
        "payload": {
            "title": f"Revert {proposal.id}: {proposal.title}"[:200],
            "activate_tick": activate_tick,
            "commands": undo,
            "reverts": proposal.id,
        },
        "cannot_revert": cannot,
    }


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
    "activate_due",
    "check_policy",
    "counter_commands",
    "counter_proposal",
    "proposals",
    "proposals_view",
    "revoke",
    "schedule",
    "scheduled_view",
]
