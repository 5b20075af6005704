"""Resuming an engine from a rebuilt world and its command log, through the engine's own API."""

from __future__ import annotations

from miniature_office.sim.engine import Engine
from miniature_office.sim.snapshot import dump_engine

from .builders import engine_with


def _run_with_log() -> tuple[Engine, list]:
    engine = engine_with()
    engine.submit("create_directive", {"title": "First", "floor": "python"})
    engine.step()
    engine.submit("create_directive", {"title": "Second", "floor": "python"})
    engine.step()
    engine.submit("create_directive", {"title": "Queued", "floor": "python"})
    return engine, [*engine.commands, *engine.pending]


def test_resumed_engine_continues_the_log_where_it_stopped() -> None:
    original, log = _run_with_log()
    resumed = Engine.replay(original.scenario, original.seed, log, original.tick)
    resumed.adopt_log(log)
    assert [c.seq for c in resumed.commands] == [1, 2]
    assert [(c.seq, c.applied_tick) for c in resumed.pending] == [(3, None)]
    assert resumed.next_seq == 4
    assert resumed.submit("create_directive", {"title": "Next", "floor": "python"}).seq == 4


def test_resumed_engine_reports_only_the_next_ticks_events() -> None:
    original, log = _run_with_log()
    resumed = Engine.replay(original.scenario, original.seed, log, original.tick)
    resumed.adopt_log(log)
    assert resumed.step().events == original.step().events
    assert resumed.head_hash == original.head_hash


def test_withdrawn_command_gives_back_its_seq() -> None:
    engine = engine_with()
    command = engine.submit("create_directive", {"title": "Lost", "floor": "python"})
    engine.withdraw(command)
    assert engine.pending == []
    assert engine.submit("create_directive", {"title": "Again", "floor": "python"}).seq == 1


def test_replicated_step_applies_the_leaders_commands_at_the_same_boundary() -> None:
    leader, follower = engine_with(), engine_with()
    leader.submit("create_directive", {"title": "Shared", "floor": "python"})
    result = leader.step()
    mirrored = follower.step_replicated([c.as_pending() for c in result.applied])
    assert [c.seq for c in mirrored.applied] == [1]
    assert follower.head_hash == leader.head_hash


def test_resume_from_a_snapshot_queues_the_unapplied_commands_and_keeps_numbering() -> None:
    original, log = _run_with_log()
    resumed = Engine.resume(dump_engine(original), [c for c in log if c.applied_tick is None])
    assert resumed.tick == original.tick and resumed.head_hash == original.head_hash
    assert [(c.seq, c.payload["title"]) for c in resumed.pending] == [(3, "Queued")]
    assert resumed.next_seq == 4
    assert resumed.step().events == original.step().events
    assert resumed.head_hash == original.head_hash


def test_resume_keeps_a_snapshots_numbering_past_a_withdrawn_command() -> None:
    engine = engine_with()
    engine.submit("create_directive", {"title": "Kept", "floor": "python"})
    engine.step()
    engine.withdraw(engine.submit("create_directive", {"title": "Lost", "floor": "python"}))
    engine.submit("create_directive", {"title": "Later", "floor": "python"})
    engine.step()
    resumed = Engine.resume(dump_engine(engine))
    assert resumed.pending == [] and resumed.next_seq == engine.next_seq == 3
