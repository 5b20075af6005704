"""Controlled experiments: a variant changes only what it names (MODEL.md, section 1)."""

from __future__ import annotations

from typing import Any

from miniature_office.runio import read_scenario
from miniature_office.sim.engine import Engine
from miniature_office.sim.scenario import with_overrides
from miniature_office.sim.world import World


def _staff(world: World) -> dict[str, dict[str, Any]]:
    """Every agent by its stable identity (office, role, ordinal)."""
    return {
        world.streams.stable_key(agent.id): {
            "name": agent.name,
            "skills": agent.skills,
            "desk": agent.desk,
            "clearance": agent.clearance,
        }
        for agent in world.building.agents.values()
    }


def _arrivals(engine: Engine, ticks: int) -> list[tuple[Any, ...]]:
    """Each random arrival once, when offered (created at once, or queued in the backlog)."""
    offered: dict[str, tuple[Any, ...]] = {}
    for _ in range(ticks):
        for event in engine.step().events:
            if event.actor == "arrivals" and event.kind in (
                "directive.created",
                "directive.queued",
            ):
                key = event.data.get("key", event.target)
                data = event.data
                offered.setdefault(
                    key, (event.tick, data["title"], data["floor"], data["priority"])
                )
    return list(offered.values())


def test_adding_a_verifier_leaves_everyone_else_exactly_as_they_were() -> None:
    base = read_scenario(None)
    one = Engine(with_overrides(base, {"roles.verifier": 1}), 42).world
    two = Engine(with_overrides(base, {"roles.verifier": 2}), 42).world
    staff_one, staff_two = _staff(one), _staff(two)
    added = set(staff_two) - set(staff_one)
    assert added == {f"agent:{office}:verifier:1" for office in one.building.offices}
    for identity, agent in staff_one.items():
        assert staff_two[identity] == agent, identity


def test_desks_are_unique_and_stay_put_when_staff_is_added() -> None:
    base = read_scenario(None)
    for count in (1, 2, 4, 7):
        world = Engine(with_overrides(base, {"roles.builder": count}), 3).world
        for office in world.building.offices.values():
            desks = [world.building.agents[a].desk for a in office.agent_ids]
            assert len(desks) == len(set(desks)), (count, desks)
            rect = office.rect
            assert all(
                rect.x < x < rect.x + rect.w and rect.y < y < rect.y + rect.h for x, y in desks
            )


def test_the_arrival_stream_does_not_depend_on_staffing() -> None:
    base = read_scenario(None)
    lean = Engine(with_overrides(base, {"roles.verifier": 1, "roles.builder": 1}), 5)
    rich = Engine(with_overrides(base, {"roles.verifier": 3, "roles.builder": 4}), 5)
    assert _arrivals(lean, 300) == _arrivals(rich, 300)


def test_a_task_draws_from_its_own_stream_not_from_the_order_of_ids() -> None:
    world = Engine(read_scenario(None), 1).world
    world.streams.register_identity("T-0001", "arrival:9/1")
    world.streams.register_identity("T-0002", "arrival:4/2")
    first = [world.random("T-0001") for _ in range(3)]
    other = Engine(read_scenario(None), 1).world
    other.streams.register_identity("T-0007", "arrival:9/1")
    other.random("T-0002")  # someone else's draws in between change nothing
    assert [other.random("T-0007") for _ in range(3)] == first


def test_reseeding_futures_keeps_state_and_changes_every_stream() -> None:
    a, b = Engine(read_scenario(None), 11), Engine(read_scenario(None), 11)
    a.run(50)
    b.run(50)
    assert a.head_hash == b.head_hash
    b.world.streams.reseed_futures("fork-1")
    assert a.world.random("T-0001") != b.world.random("T-0001")
    assert a.world.random() != b.world.random()
    assert a.world.streams.arrival_rng.random() != b.world.streams.arrival_rng.random()
