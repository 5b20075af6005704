"""The supply store: tools with slots, capability checks and a waiting line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mypy_extensions import mypyc_attr


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class Tool:
    id: str
    floor_id: str
    name: str
    kind: str
    version: str
    trust: float
    security_rating: int
    capabilities: tuple[str, ...]
    slots: int
    sensitive: bool = False
    holders: list[str] = field(default_factory=list)
    queue: list[str] = field(default_factory=list)  # agent ids waiting, first come first served
    checkouts_total: int = 0

    @property
    def free_slots(self) -> int:
        return self.slots - len(self.holders)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "floor_id": self.floor_id,
            "name": self.name,
            "kind": self.kind,
            "version": self.version,
            "trust": self.trust,
            "security_rating": self.security_rating,
            "capabilities": list(self.capabilities),
            "slots": self.slots,
            "free_slots": self.free_slots,
            "sensitive": self.sensitive,
            "holders": list(self.holders),
            "queue": list(self.queue),
            "checkouts_total": self.checkouts_total,
        }


@dataclass(frozen=True, slots=True)
class CheckoutResult:
    tool: Tool | None
    reason: str  # "ok" | "no_tool" | "no_slot" | "justification_required"

    @property
    def ok(self) -> bool:
        return self.reason == "ok"


def find_tools(tools: list[Tool], capability: str) -> list[Tool]:
    """Tools on a floor offering ``capability``, most trusted first (ties by id)."""
    return sorted(
        (t for t in tools if capability in t.capabilities), key=lambda t: (-t.trust, t.id)
    )


def checkout(
    tools: list[Tool], agent_id: str, capability: str, justification: str | None
) -> CheckoutResult:
    """Check out a tool with ``capability`` for ``agent_id``.

    Sensitive tools need a justification. An agent queues on the first matching tool when no
    slot is free and keeps its place until a slot opens for it.
    """
    return checkout_from(find_tools(tools, capability), agent_id, justification)


def checkout_from(matching: list[Tool], agent_id: str, justification: str | None) -> CheckoutResult:
    """:func:`checkout` among ``matching``: the floor's tools with the capability, most trusted
    first (:func:`find_tools`)."""
    if not matching:
        return CheckoutResult(None, "no_tool")
    for tool in matching:
        if tool.sensitive and not justification:
            continue
        waiting_ahead = tool.queue and tool.queue[0] != agent_id
        if tool.free_slots > 0 and not waiting_ahead:
            if agent_id in tool.queue:
                tool.queue.remove(agent_id)
            tool.holders.append(agent_id)
            tool.checkouts_total += 1
            return CheckoutResult(tool, "ok")
    usable = [t for t in matching if not t.sensitive or justification]
    if not usable:
        return CheckoutResult(None, "justification_required")
    first = usable[0]
    if agent_id not in first.queue:
        first.queue.append(agent_id)
    return CheckoutResult(first, "no_slot")


def give_back(tool: Tool, agent_id: str) -> None:
    """Return a held tool (idempotent) and leave any waiting line."""
    if agent_id in tool.holders:
        tool.holders.remove(agent_id)
    if agent_id in tool.queue:
        tool.queue.remove(agent_id)
