"""The Head of Security: lockdowns and blocked deliveries.

A lockdown freezes deployments on one floor (``scope`` = the floor id) or on the whole
building (``scope`` = ``"building"``) until it is lifted: work goes on (design, build, review,
votes, merges), but nothing ships. A delivery block does the same for one directive. Both are
commands (recorded, replayable) and both live in the world's governance state
(``world.governance.lockdowns``, ``.delivery_blocks``: sim/governance.py), so snapshots and
forks carry them.

Deployment asks :func:`deployment_hold` for each directive that is ready to ship; a held
directive stays ready and ships on the first tick after the hold is lifted.
"""

from __future__ import annotations

from typing import Any

from .governance import DeliveryBlock, Hold, Lockdown
from .tasks import Directive
from .world import World

BUILDING = "building"


def lockdowns(world: World) -> dict[str, Lockdown]:
    """The world's open lockdowns by scope."""
    return world.governance.lockdowns


def delivery_blocks(world: World) -> dict[str, DeliveryBlock]:
    """The world's blocked deliveries by directive id."""
    return world.governance.delivery_blocks


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
