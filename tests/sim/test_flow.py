"""Flow measurement: demand, priority aging, lead-time stages, summaries (MODEL.md, section 2-3)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from miniature_office.runio import read_scenario
from miniature_office.sim.board import Arrival
from miniature_office.sim.directives import _best_waiting
from miniature_office.sim.engine import Engine
from miniature_office.sim.flow import BOTTLENECK_METHOD, STAGES
from miniature_office.sim.scenario import DirectiveRequest, with_overrides
from miniature_office.sim.snapshot import dump_engine

from .builders import directive, engine_with, run_until


def _overloaded(**overrides: object) -> Engine:
    """The default office offered three times the work it can ship."""
    load = {"arrivals.rate_per_day": 3, "arrivals.max_open": 6}
    scenario = with_overrides(read_scenario(None), {**load, **overrides})
    return Engine(scenario, 42, headless=True)


def test_strict_priority_starves_low_priority_work_and_aging_prevents_it() -> None:
    strict = _overloaded(**{"settings.priority_aging_ticks": 0})
    aged = _overloaded(**{"settings.priority_aging_ticks": 40})
    strict.run(1200)
    aged.run(1200)
    starved = strict.summary()
    served = aged.summary()
    assert "5" not in starved["lead_time_by_priority"]  # no priority-5 work ever finished
    assert all(o["priority"] >= 4 for o in starved["aging_wip"]["oldest"])  # left behind
    assert served["lead_time_by_priority"]["5"]["count"] > 0
    assert served["aging_wip_max"] < starved["aging_wip_max"]


def test_the_backlog_admits_the_best_aged_priority_then_the_earliest() -> None:
    world = engine_with(priority_aging_ticks=10).world
    world.tick = 100

    def arrival(seq: int, priority: int, offered: int) -> Arrival:
        request = DirectiveRequest(title="x", floor="python", priority=priority)
        return Arrival(seq, f"arrival:{seq}", offered, request)

    fresh_urgent = arrival(3, 1, 99)
    later_minor = arrival(2, 3, 95)
    old_minor = arrival(1, 5, 30)  # waited 70 ticks: 7 levels better, so level 1, and older
    assert _best_waiting(world, [old_minor, later_minor, fresh_urgent]) == 0
    recent_minor = arrival(1, 5, 80)  # waited 20 ticks: level 3
    assert _best_waiting(world, [recent_minor, later_minor, fresh_urgent]) == 2


def test_lead_time_is_split_into_stages_that_add_up_to_it() -> None:
    engine = engine_with(directives=[directive(ambiguity=0.7, sensitivity=0.7)])
    run_until(engine, lambda e: e.world.totals["directives_deployed"] == 1)
    (done,) = engine.world.board.directives.values()
    lead = done.deployed_tick - done.arrived_tick
    assert sum(done.stage_ticks.values()) == lead
    assert {"design", "build", "review", "approval"} <= set(done.stage_ticks)
    summary = engine.summary()
    assert sum(v for v in summary["lead_time_by_stage"].values() if v) == lead
    assert 0 < summary["flow_efficiency"] <= 1
    assert 0 < done.active_ticks < lead  # someone worked on it, and it also waited


def test_summaries_cover_every_deployment_of_the_run() -> None:
    engine = Engine(read_scenario(None), 3, headless=True)
    engine.run(6000)
    summary = engine.summary()
    assert summary["directives_deployed"] > 500  # more than the old 500-sample window held
    counted = sum(v["count"] for v in summary["lead_time_by_priority"].values())
    assert counted == summary["directives_deployed"]
    assert summary["lead_time_mean"] is not None
    assert summary["lead_time_median"] <= summary["lead_time_p85"] <= summary["lead_time_p95"]


def test_the_summary_names_its_figures_and_methods() -> None:
    engine = Engine(read_scenario(None), 9)
    engine.run(300)
    summary = engine.summary()
    for key in (
        "offered",
        "admitted",
        "rejected",
        "backlog",
        "open_directives",
        "lead_time_mean",
        "lead_time_median",
        "lead_time_p85",
        "lead_time_p95",
        "flow_efficiency",
        "lead_time_by_priority",
        "aging_wip_max",
        "bottleneck",
        "bottleneck_method",
        "utilisation",
        "walking_share",
    ):
        assert key in summary, key
    assert summary["bottleneck_method"] == BOTTLENECK_METHOD
    assert set(summary["lead_time_by_stage"]) == set(STAGES)


def test_a_snapshot_with_a_backlog_continues_exactly() -> None:
    engine = _overloaded()
    engine.run(300)
    assert engine.world.board.backlog
    copy = Engine.resume(json.loads(json.dumps(dump_engine(engine))), headless=True)
    engine.run(300)
    copy.run(300)
    assert copy.summary() == engine.summary()
    assert [a.key for a in copy.world.board.backlog] == [a.key for a in engine.world.board.backlog]


def test_a_fork_with_fresh_futures_keeps_the_state_and_diverges() -> None:
    engine = Engine(read_scenario(None), 5)
    engine.run(200)
    fork = Engine.resume(json.loads(json.dumps(dump_engine(engine))))
    fork.world.streams.reseed_futures("future-1")
    assert fork.world.totals == engine.world.totals
    engine.run(400)
    fork.run(400)
    assert fork.head_hash != engine.head_hash


def test_a_format_2_snapshot_with_a_backlog_resumes_exactly() -> None:
    """A run stopped by the previous release (snapshot format 2: a backlog arrival's fields
    flat, made by that release's code from 120 ticks of the overloaded office, seed 42) resumes
    where it stopped, and its future is the future of a run that never stopped."""
    with gzip.open(Path(__file__).parent / "data" / "snapshot_v2.json.gz") as raw:
        data = json.load(raw)
    assert data["format"] == 2 and "floor_id" in data["plain"]["backlog"][0]
    waiting = data["plain"]["backlog"]
    assert any(a["depends_on_floor"] for a in waiting)  # a cross-floor request among them
    resumed = Engine.resume(data)
    assert (resumed.tick, resumed.head_hash) == (120, data["audit"]["head"])
    assert [(a.key, a.request.floor, a.request.title) for a in resumed.world.board.backlog] == [
        (a["key"], a["floor_id"], a["title"]) for a in waiting
    ]
    load = {"arrivals.rate_per_day": 3, "arrivals.max_open": 6}
    straight = Engine(with_overrides(read_scenario(None), load), 42)
    straight.run(220)
    resumed.run(100)
    assert resumed.head_hash == straight.head_hash
    assert resumed.summary() == straight.summary()


def test_a_snapshot_written_before_keyed_streams_resumes_under_the_new_rules() -> None:
    """A run stopped cleanly by the previous release (snapshot format 1, made by that release's
    code from a 60-tick run) resumes at the same tick and head and keeps going."""
    with gzip.open(Path(__file__).parent / "data" / "snapshot_v1.json.gz") as raw:
        data = json.load(raw)
    assert data["format"] == 1
    engine = Engine.resume(data)
    world = engine.world
    assert (engine.tick, engine.head_hash) == (60, data["audit"]["head"])
    created = world.totals["directives_created"]
    assert world.totals["offered"] == world.totals["admitted"] == created
    engine.run(200)
    assert (
        world.totals["directives_deployed"] > dict(data["plain"]["totals"])["directives_deployed"]
    )
    again = Engine.resume(json.loads(json.dumps(dump_engine(engine))))
    engine.run(50)
    again.run(50)
    assert again.head_hash == engine.head_hash


def test_a_snapshot_that_still_carries_the_dropped_headcount_field_resumes_exactly() -> None:
    """Snapshots written before the world stopped keeping ``headcount`` (agents per role, which
    nothing read) carry it in ``plain``; the field is ignored and the run continues the same."""
    engine = Engine(read_scenario(None), 7)
    engine.run(120)
    data = json.loads(json.dumps(dump_engine(engine)))
    assert "headcount" not in data["plain"]
    data["plain"]["headcount"] = [["builder", 3], ["verifier", 2]]
    copy = Engine.resume(data)
    assert not hasattr(copy.world, "headcount")
    engine.run(150)
    copy.run(150)
    assert (copy.tick, copy.head_hash) == (engine.tick, engine.head_hash)
    assert copy.summary() == engine.summary()


def test_a_full_backlog_rejects_and_counts_what_it_cannot_hold() -> None:
    overrides = {"arrivals.rate_per_day": 3, "arrivals.max_open": 6, "arrivals.max_backlog": 20}
    engine = Engine(with_overrides(read_scenario(None), overrides), 42)
    engine.run(400)
    world = engine.world
    assert len(world.board.backlog) <= 20
    assert world.totals["rejected"] > 0
    offered = world.totals["offered"]
    assert offered == world.totals["admitted"] + len(world.board.backlog) + world.totals["rejected"]
    rejected = [e for e in world.audit if e.kind == "directive.rejected"]
    assert len(rejected) == world.totals["rejected"]
    assert {e.data["reason"] for e in rejected} == {"backlog full"}
    assert not any(e.target in world.streams.draw_counts for e in rejected)  # no stream state kept
