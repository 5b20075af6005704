"""The leader's replication message: its own dataclass, read back the same by a follower."""

from __future__ import annotations

from typing import Any

from miniature_office.runio import read_scenario
from miniature_office.service.cluster import Replication, ReplicationKind
from miniature_office.sim.engine import Engine


class RecordingBus:
    """Stands in for the Redis bus: keeps the messages as a follower would decode them."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def publish_tick(self, tick: int, commands: list[dict[str, Any]], head: str) -> None:
        self.messages.append({"type": "tick", "tick": tick, "commands": commands, "head": head})

    def publish_boundary(self, tick: int, commands: list[dict[str, Any]], head: str) -> None:
        self.messages.append({"type": "boundary", "tick": tick, "commands": commands, "head": head})


def test_a_tick_message_carries_the_audit_head_of_the_tick_without_the_flow_row() -> None:
    engine = Engine(read_scenario(None), 42)
    engine.submit("set_speed", {"speed": 2})
    result = engine.step()
    sent = Replication(
        ReplicationKind.TICK, result.tick, result.head, [c.to_dict() for c in result.applied]
    )
    bus = RecordingBus()
    sent.publish(bus)  # type: ignore[arg-type]
    assert result.head == engine.head_hash
    assert Replication.from_message(bus.messages[0]) == sent
    assert [c["seq"] for c in sent.commands] == [1]


def test_a_boundary_message_is_read_back_as_a_boundary() -> None:
    sent = Replication(ReplicationKind.BOUNDARY, 3, "abc", [])
    bus = RecordingBus()
    sent.publish(bus)  # type: ignore[arg-type]
    assert bus.messages[0]["type"] == "boundary"
    assert Replication.from_message(bus.messages[0]).kind is ReplicationKind.BOUNDARY
