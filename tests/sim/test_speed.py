"""What the speed-ups promise besides the hash pins (tests/sim/test_hash_pins.py).

The flow tracker is checked against a from-scratch reference (``flow_reference.py``, the
tracker as it was before it kept any state between ticks): both run beside each other on
identical worlds and must give the same flow row, field for field, and charge the same stage
and active ticks to every task and directive, at every tick.
"""

from __future__ import annotations

import subprocess  # nosec B404 - this interpreter, fixed arguments
import sys
from typing import Any

from miniature_office.cli import forecast as forecast_cli
from miniature_office.runio import read_scenario
from miniature_office.sim.audit import AuditLog
from miniature_office.sim.engine import Engine
from miniature_office.sim.forecast import DEFAULT_HORIZON
from miniature_office.sim.scenario import Scenario

from .flow_reference import ReferenceFlowTracker


def test_the_cli_forecast_horizon_is_the_forecasts_default() -> None:
    assert forecast_cli.FORECAST_HORIZON == DEFAULT_HORIZON


def test_simulate_does_not_load_the_job_runner_or_the_command_models() -> None:
    code = (
        "import sys; from miniature_office.cli import main; "
        "main(['simulate', '--ticks', '5']); "
        "print(sorted(m for m in ('multiprocessing', 'miniature_office.sim.commands', "
        "'miniature_office.service.jobs') if m in sys.modules))"
    )
    out = subprocess.run(  # nosec B603
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.splitlines()[-1] == "[]"


def _side_by_side(scenario: Any, seed: int, ticks: int) -> Engine:
    """Run the tracker and the reference on two identical engines, comparing every tick."""
    fast = Engine(scenario, seed, headless=True)
    slow = Engine(scenario, seed, headless=True)
    slow.flow = ReferenceFlowTracker(history=slow.flow.history.maxlen or 2000)
    compared = 0
    for _ in range(ticks):
        row, expected = fast.step().flow, slow.step().flow
        assert row == expected, _first_difference(row.to_dict(), expected.to_dict())
        # the row's bottleneck is worked out inline (FlowTracker._roles); previews read
        # FlowTracker.bottleneck(), the same rule over the same window
        assert fast.flow.bottleneck() == row.bottleneck
        # the row's fields in the reference's key order
        assert list(row.to_dict()) == list(slow.flow.raw_row)
        for registry in ("tasks", "directives"):
            mine, theirs = getattr(fast.world.board, registry), getattr(slow.world.board, registry)
            assert list(mine) == list(theirs)
            for key, item in mine.items():
                other = theirs[key]
                assert item.stage_ticks == other.stage_ticks, (fast.world.tick, key)
                assert item.active_ticks == other.active_ticks, (fast.world.tick, key)
                assert item.to_dict(fast.world.tick) == other.to_dict(slow.world.tick)
        assert fast.flow.time_totals == slow.flow.time_totals
        compared += 1
    assert compared == ticks
    assert fast.summary() == slow.summary()
    return fast


def _first_difference(row: dict[str, Any], expected: dict[str, Any]) -> str:
    for key in expected:
        if row.get(key) != expected[key]:
            return f"tick {expected['tick']}: {key} = {row.get(key)!r}, expected {expected[key]!r}"
    return f"tick {expected['tick']}: keys differ"


def test_flow_rows_equal_the_from_scratch_reference_in_the_default_office() -> None:
    engine = _side_by_side(read_scenario(None), 3, 400)
    assert engine.world.totals["directives_deployed"] > 5


def test_flow_rows_equal_the_from_scratch_reference_in_an_overloaded_office() -> None:
    raw = read_scenario(None).model_dump(mode="json")
    raw["arrivals"]["rate_per_day"] = 3
    engine = _side_by_side(Scenario.model_validate(raw), 5, 400)
    assert len(engine.world.board.backlog) > 10  # more offered than the office ships


def test_lineage_children_built_on_demand_equal_those_indexed_at_append() -> None:
    log = AuditLog(window=40)
    eager: dict[int, list[int]] = {}  # what the log indexed on every append before
    held: list[int] = []
    for seq in range(1, 161):
        parents = tuple(p for p in (seq - 1, seq - 7, seq - 45, seq // 2) if p > 0)
        event = log.append(seq // 3, "k", "a", "t", {"n": seq}, parents[: 1 + seq % 3])
        if len(held) == 40:
            eager.pop(held.pop(0), None)
        held.append(event.seq)
        for parent in event.parents:
            if parent >= held[0]:
                eager.setdefault(parent, []).append(event.seq)
        if seq % 23 == 0 or seq > 150:
            for start in held:
                expected = _walk_children(log, eager, start)
                assert [e.seq for e in log.descendants(start)] == expected


def _walk_children(log: AuditLog, children: dict[int, list[int]], start: int) -> list[int]:
    seen, queue, found = {start}, [start], []
    while queue:
        for child in children.get(queue.pop(0), []):
            if child not in seen and log.get(child) is not None:
                seen.add(child)
                found.append(child)
                queue.append(child)
    return found


def _indexes(world: Any) -> dict[str, Any]:
    """What the world's indexes say, in the terms the tick reads them."""
    return {
        "order": {
            o.id: world.board.in_office_order(list(o.task_ids))
            for o in world.building.offices.values()
        },
        "states": {
            office: {state.value: set(ids) for state, ids in by_state.items() if ids}
            for office, by_state in world.board.office_tasks.items()
        },
        "meetings": {
            office: {m for m in ids if world.board.meetings[m].open}
            for office, ids in world.board.open_meetings.items()
        },
    }


def test_the_worlds_indexes_always_equal_those_rebuilt_from_its_registries() -> None:
    raw = read_scenario(None).model_dump(mode="json")
    raw["arrivals"]["rate_per_day"] = 3
    engine = Engine(Scenario.model_validate(raw), 11, headless=True)
    for _ in range(12):
        engine.run(50)
        world = engine.world
        live = _indexes(world)
        assert live["order"] == {o.id: list(o.task_ids) for o in world.building.offices.values()}
        world.rebuild_indexes()
        rebuilt = _indexes(world)
        assert {k: {o: s for o, s in v.items() if s} for k, v in live.items()} == {
            k: {o: s for o, s in v.items() if s} for k, v in rebuilt.items()
        }
    assert any(_indexes(engine.world)["states"].values())
