"""Lockdowns, blocked deliveries and scheduled proposals (the Head of Security, the Consigliere)."""

from __future__ import annotations

import pytest

from miniature_office.sim.commands import counter_proposal
from miniature_office.sim.engine import Engine
from miniature_office.sim.errors import CommandRejected
from miniature_office.sim.proposals import ProposalState
from miniature_office.sim.snapshot import dump_engine
from miniature_office.sim.tasks import DirectiveState

from .builders import directive, engine_with, kinds


def _two_floors() -> Engine:
    return engine_with(
        floors=("python", "rust"),
        directives=[directive("py work", floor="python"), directive("rs work", floor="rust")],
    )


def _state(engine: Engine, floor: str) -> DirectiveState:
    return next(d.state for d in engine.world.board.directives.values() if d.floor_id == floor)


def test_lockdown_stops_deployments_on_that_floor_only_and_lifting_resumes_them() -> None:
    engine = _two_floors()
    engine.submit("lockdown", {"scope": "python", "reason": "suspected leak"}, actor="admin")
    engine.run(120)  # both directives finish their work well before this (36 ticks unlocked)
    assert _state(engine, "rust") is DirectiveState.DEPLOYED
    assert _state(engine, "python") is DirectiveState.IN_PROGRESS
    python = next(d for d in engine.world.board.directives.values() if d.floor_id == "python")
    assert all(engine.world.board.tasks[t].state.value == "merged" for t in python.task_ids)
    engine.submit("lift_lockdown", {"scope": "python"}, actor="admin")
    engine.step()
    assert python.state is DirectiveState.DEPLOYED
    assert python.deployed_tick == engine.tick
    assert "security.lockdown_lifted" in kinds(engine)


def test_building_lockdown_holds_every_floor_and_a_delivery_block_holds_one_directive() -> None:
    engine = _two_floors()
    engine.submit("lockdown", {"scope": "building", "reason": "audit"}, actor="admin")
    engine.run(120)
    assert _state(engine, "rust") is DirectiveState.IN_PROGRESS
    assert _state(engine, "python") is DirectiveState.IN_PROGRESS
    rust = next(d for d in engine.world.board.directives.values() if d.floor_id == "rust")
    engine.submit("block_delivery", {"directive_id": rust.id, "reason": "needs sign-off"})
    engine.submit("lift_lockdown", {"scope": "building"})
    engine.step()
    assert _state(engine, "python") is DirectiveState.DEPLOYED
    assert rust.state is DirectiveState.IN_PROGRESS
    engine.submit("unblock_delivery", {"directive_id": rust.id})
    engine.step()
    assert rust.state is DirectiveState.DEPLOYED


def test_lockdown_commands_refuse_unknown_floors_and_double_lockdowns() -> None:
    engine = _two_floors()
    with pytest.raises(CommandRejected, match="unknown floor"):
        engine.submit("lockdown", {"scope": "cobol", "reason": "nope"})
    with pytest.raises(CommandRejected, match="not locked down"):
        engine.submit("lift_lockdown", {"scope": "python"})
    engine.submit("lockdown", {"scope": "python", "reason": "first"})
    engine.apply_pending()
    with pytest.raises(CommandRejected, match="already locked down"):
        engine.submit("lockdown", {"scope": "python", "reason": "second"})


def test_a_lockdown_survives_a_snapshot() -> None:
    engine = _two_floors()
    engine.submit("lockdown", {"scope": "python", "reason": "suspected leak"})
    engine.apply_pending()
    copy = Engine.resume(dump_engine(engine))
    assert copy.world.governance.lockdowns["python"].reason == "suspected leak"
    copy.run(120)
    assert _state(copy, "python") is DirectiveState.IN_PROGRESS


def _hire_proposal(activate_tick: int) -> dict:
    return {
        "title": "One more verifier",
        "activate_tick": activate_tick,
        "commands": [{"kind": "hire_agent", "payload": {"floor": "python", "role": "verifier"}}],
        "preview_id": "J-1",
        "preview_tick": 0,
    }


def test_a_scheduled_proposal_activates_at_its_tick_and_a_revoked_one_never_does() -> None:
    engine = engine_with()

    def verifiers() -> int:
        return sum(a.role.value == "verifier" for a in engine.world.building.agents.values())

    before = verifiers()
    engine.submit("schedule_proposal", _hire_proposal(10), actor="ops")
    engine.submit("schedule_proposal", _hire_proposal(12), actor="ops")
    engine.apply_pending()
    kept, revoked = sorted(engine.world.governance.proposals)
    engine.submit("revoke_proposal", {"proposal_id": revoked, "reason": "changed my mind"})
    engine.run(10)
    assert engine.tick == 10 and verifiers() == before
    engine.step()  # the boundary at tick 10 applies it, then tick 11 runs with the new hire
    assert verifiers() == before + 1
    engine.run(50)
    assert verifiers() == before + 1
    assert engine.world.governance.proposals[kept].state is ProposalState.APPLIED
    assert engine.world.governance.proposals[revoked].state is ProposalState.REVOKED
    with pytest.raises(CommandRejected, match="only a scheduled proposal"):
        engine.submit("revoke_proposal", {"proposal_id": kept, "reason": "too late"})


def test_the_audit_log_links_proposal_preview_and_applied_commands() -> None:
    engine = engine_with()
    engine.submit("schedule_proposal", _hire_proposal(3), actor="ops")
    engine.run(5)
    proposal = next(iter(engine.world.governance.proposals.values()))
    events = {e.seq: e for e in engine.world.audit}
    scheduled = events[proposal.event]
    activated = events[proposal.outcome_event]
    applied = events[proposal.applied[0].event]
    assert scheduled.kind == "proposal.scheduled" and scheduled.data["preview"] == "J-1"
    assert activated.kind == "proposal.activated" and proposal.event in activated.parents
    assert applied.kind == "command.applied" and activated.seq in applied.parents
    hired = next(
        e for e in events.values() if e.kind == "agent.hired" and e.actor.startswith("proposal:")
    )
    assert applied.seq in hired.parents


def test_the_counter_proposal_dismisses_the_person_the_proposal_hired() -> None:
    engine = engine_with()
    engine.submit("schedule_proposal", _hire_proposal(2), actor="ops")
    engine.submit(
        "schedule_proposal",
        {
            "title": "faster walking",
            "activate_tick": 2,
            "commands": [
                {"kind": "set_setting", "payload": {"path": "settings.walk_speed", "value": 99}}
            ],
        },
    )
    engine.run(4)
    first, second = sorted(engine.world.governance.proposals)
    hired = engine.world.governance.proposals[first].applied[0].created[0]
    assert engine.world.settings.walk_speed == 99
    revert = counter_proposal(engine.world, first, engine.tick + 1)
    assert revert["payload"]["commands"] == [
        {"kind": "dismiss_agent", "payload": {"agent_id": hired}}
    ]
    setting = counter_proposal(engine.world, second, engine.tick + 1)["payload"]
    assert setting["commands"][0]["payload"] == {"path": "settings.walk_speed", "value": 240}
    engine.submit("schedule_proposal", setting)
    engine.submit("schedule_proposal", revert["payload"])
    engine.run(3)
    assert hired not in engine.world.building.agents
    assert engine.world.settings.walk_speed == 240


def test_policy_refuses_a_proposal_without_a_fresh_preview() -> None:
    engine = engine_with()
    engine.submit("set_proposal_policy", {"preview_max_age_ticks": 5})
    engine.run(10)
    stale = {**_hire_proposal(20), "preview_tick": 2}
    with pytest.raises(CommandRejected, match="8 ticks ago"):
        engine.submit("schedule_proposal", stale)
    with pytest.raises(CommandRejected, match="needs a preview"):
        engine.submit("schedule_proposal", {**stale, "preview_tick": None})
    engine.submit("schedule_proposal", {**stale, "preview_tick": 7})


def test_the_policy_survives_a_snapshot_as_the_name_to_value_table_format_3_keeps() -> None:
    engine = engine_with()
    assert dump_engine(engine)["plain"]["proposal_policy"] == []  # no policy set: no entry
    engine.submit("set_proposal_policy", {"preview_max_age_ticks": 5})
    engine.apply_pending()
    snapshot = dump_engine(engine)
    assert snapshot["plain"]["proposal_policy"] == [["preview_max_age_ticks", 5]]
    copy = Engine.resume(snapshot)
    assert copy.world.governance.policy.preview_max_age_ticks == 5
    copy.run(10)
    with pytest.raises(CommandRejected, match="needs a preview"):
        copy.submit("schedule_proposal", {**_hire_proposal(20), "preview_tick": None})


def test_a_proposal_may_not_carry_runtime_controls_or_unknown_settings() -> None:
    engine = engine_with()
    pause = {**_hire_proposal(5), "commands": [{"kind": "pause", "payload": {}}]}
    with pytest.raises(CommandRejected, match="cannot be proposed"):
        engine.submit("schedule_proposal", pause)
    with pytest.raises(CommandRejected, match="cannot be changed"):
        engine.submit("set_setting", {"path": "settings.ticks_per_day", "value": 3})
    with pytest.raises(CommandRejected, match="value"):
        engine.submit("set_setting", {"path": "settings.walk_speed", "value": -1})


def test_a_run_with_holds_and_proposals_replays_to_the_same_audit_head() -> None:
    engine = _two_floors()
    engine.submit("lockdown", {"scope": "rust", "reason": "drill"}, actor="admin")
    engine.submit("schedule_proposal", _hire_proposal(15), actor="ops")
    engine.run(30)
    engine.submit("lift_lockdown", {"scope": "rust"}, actor="admin")
    engine.submit("set_setting", {"path": "arrivals.max_open", "value": 3})
    engine.run(30)
    again = Engine.replay(engine.scenario, engine.seed, engine.commands, engine.tick)
    assert again.head_hash == engine.head_hash
    assert again.world.scenario.arrivals.max_open == 3
    assert engine.scenario.arrivals.max_open == 40  # the shared scenario object is untouched
