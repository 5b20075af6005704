"""The Head of Security: lockdowns and blocked deliveries.

A lockdown freezes deployments on one floor (``scope`` = the floor id) or on the whole
building (``scope`` = ``"building"``) until it is lifted: work goes on (design, build, review,
votes, merges), but nothing ships. A delivery block does the same for one directive. Both are
commands (recorded, replayable) and both live in the world (``world.lockdowns``,
``world.delivery_blocks``), so snapshots and forks carry them.

Deployment asks :func:`deployment_hold` for each directive that is ready to ship; a held
directive stays ready and ships on the first tick after the hold is lifted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from mypy_extensions import mypyc_attr

from .tasks import Directive
from .world import World

BUILDING = "building"


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


def lockdowns(world: World) -> dict[str, Lockdown]:
    """The world's open lockdowns by scope (created on first use: older snapshots lack it)."""
    found: dict[str, Lockdown] | None = getattr(world, "lockdowns", None)
    if found is None:
        found = world.lockdowns = {}
    return found


def delivery_blocks(world: World) -> dict[str, DeliveryBlock]:
    """The world's blocked deliveries by directive id."""
    found: dict[str, DeliveryBlock] | None = getattr(world, "delivery_blocks", None)
    if found is None:
        found = world.delivery_blocks = {}
    return found


def deployment_hold(world: World, directive: Directive) -> str | None:
    """Why ``directive`` may not ship now (a sentence), or None when nothing holds it."""
    locked = lockdowns(world)
    for scope in (BUILDING, directive.floor_id):
        lockdown = locked.get(scope)
        if lockdown is not None:
            where = "the building" if scope == BUILDING else f"floor {scope}"
            return (
                f"{where} is locked down since tick {lockdown.since_tick} "
                f"(event {lockdown.event}): {lockdown.reason}"
            )
    block = delivery_blocks(world).get(directive.id)
    if block is not None:
        return (
            f"delivery of {directive.id} is blocked since tick {block.since_tick} "
            f"(event {block.event}): {block.reason}"
        )
    return None


def lock_down(world: World, scope: str, reason: str, actor: str, parent: int) -> Lockdown:
    """Freeze deployments on ``scope`` (the command checked it is not locked already)."""
    lockdown = Hold(scope, reason, actor, world.tick)
    lockdown.event = world.log(
        "security.lockdown", actor, scope, {"scope": scope, "reason": reason}, (parent,)
    )
    lockdowns(world)[scope] = lockdown
    world.changes.world = True
    return lockdown


def lift(world: World, scope: str, actor: str, parent: int) -> None:
    """Lift the lockdown on ``scope``; held directives ship on the next tick."""
    _release(world, lockdowns(world), scope, "security.lockdown_lifted", actor, parent)
    world.changes.world = True


def block_delivery(world: World, directive_id: str, reason: str, actor: str, parent: int) -> None:
    """Block delivery of one directive (work on it goes on)."""
    block = Hold(directive_id, reason, actor, world.tick)
    block.event = world.log(
        "security.delivery_blocked", actor, directive_id, {"reason": reason}, (parent,)
    )
    delivery_blocks(world)[directive_id] = block
    world.changes.directives[directive_id] = None


def unblock_delivery(world: World, directive_id: str, actor: str, parent: int) -> None:
    """Let one directive ship again."""
    holds = delivery_blocks(world)
    _release(world, holds, directive_id, "security.delivery_unblocked", actor, parent)
    world.changes.directives[directive_id] = None


def _release(
    world: World, holds: dict[str, Hold], subject: str, kind: str, actor: str, parent: int
) -> None:
    hold = holds.pop(subject)
    world.log(
        kind, actor, subject, {"held_ticks": world.tick - hold.since_tick}, (parent, hold.event)
    )


def forget_directive(world: World, directive_id: str) -> None:
    """A deployed directive leaving memory takes its (lifted) block with it."""
    delivery_blocks(world).pop(directive_id, None)


def security_view(world: World) -> dict[str, Any]:
    """Lockdowns and blocks as JSON-ready rows (for the API, the board and the map)."""
    tick = world.tick
    return {
        "lockdowns": [
            lockdown.to_dict(tick, "scope")
            for lockdown in sorted(lockdowns(world).values(), key=lambda x: x.since_tick)
        ],
        "blocked": [
            block.to_dict(tick, "directive_id")
            for block in sorted(delivery_blocks(world).values(), key=lambda b: b.since_tick)
        ],
    }


__all__ = [
    "BUILDING",
    "DeliveryBlock",
    "Hold",
    "Lockdown",
    "block_delivery",
    "delivery_blocks",
    "deployment_hold",
    "lift",
    "lock_down",
    "lockdowns",
    "security_view",
    "unblock_delivery",
]
