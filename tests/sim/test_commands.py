"""Commands are validated, numbered, recorded and applied at the next tick boundary."""

from __future__ import annotations

import pytest

from miniature_office.runio import read_scenario
from miniature_office.sim import commands
from miniature_office.sim.commands import PROPOSABLE, SPECS, Command, CommandKind
from miniature_office.sim.engine import Engine
from miniature_office.sim.errors import CommandRejected, ScenarioError
from miniature_office.sim.scenario import DirectiveRequest, DirectiveSpec, parse_scenario

from .builders import engine_with


def test_command_applies_at_the_start_of_the_next_tick() -> None:
    engine = engine_with()
    command = engine.submit("create_directive", {"title": "New", "floor": "python"})
    assert command.seq == 1 and command.status == "pending" and not engine.world.board.directives
    engine.step()
    assert command.status == "applied" and command.applied_tick == 0
    assert [d.title for d in engine.world.board.directives.values()] == ["New"]


@pytest.mark.parametrize(
    "kind,payload,field",
    [
        ("create_directive", {"title": "", "floor": "python"}, "title"),
        ("create_directive", {"title": "x", "floor": "cobol"}, "floor"),
        ("create_directive", {"title": "x", "floor": "python", "priority": 9}, "priority"),
        (
            "create_directive",
            {"title": "x", "floor": "python", "depends_on_floor": "python"},
            "depends_on_floor",
        ),
        ("hire_agent", {"floor": "python", "role": "wizard"}, "role"),
        ("dismiss_agent", {"agent_id": "A-9999"}, "agent_id"),
        ("set_speed", {"speed": -1}, "speed"),
        ("override_vote", {"vote_id": "V-1", "outcome": "carried", "reason": "x"}, "reason"),
        (
            "add_tool",
            {"floor": "python", "name": "x", "kind": "k", "capabilities": []},
            "capabilities",
        ),
        ("create_directive", {"title": "x", "floor": "python", "extra": 1}, "extra"),
    ],
)
def test_invalid_command_is_refused_naming_the_field_and_changes_nothing(kind, payload, field):
    engine = engine_with()
    head, count = engine.head_hash, engine.world.audit.count
    with pytest.raises(CommandRejected) as refused:
        engine.submit(kind, payload)
    assert refused.value.field == field
    assert engine.pending == [] and engine.next_seq == 1
    assert (engine.head_hash, engine.world.audit.count) == (head, count)


def test_unknown_command_kind_is_refused() -> None:
    with pytest.raises(CommandRejected) as refused:
        engine_with().submit("launch_rockets", {})
    assert refused.value.code == "unknown_command"


def test_command_that_became_invalid_is_rejected_at_application_and_logged() -> None:
    engine = engine_with()
    agent_id = next(iter(engine.world.building.agents))
    first = engine.submit("dismiss_agent", {"agent_id": agent_id})
    second = engine.submit("dismiss_agent", {"agent_id": agent_id})
    engine.step()
    assert first.status == "applied"
    assert second.status == "rejected" and "unknown agent" in second.reason
    assert [e.kind for e in engine.world.audit if e.target == f"command:{second.seq}"] == [
        "command.rejected"
    ]


def test_pause_resume_and_speed_are_commands() -> None:
    engine = engine_with()
    engine.submit("pause")
    engine.apply_pending()
    assert engine.world.running is False
    engine.submit("set_speed", {"speed": 4})
    engine.submit("resume")
    engine.apply_pending()
    assert engine.world.running is True and engine.world.speed == 4
    assert engine.tick == 0


def test_hire_adds_an_agent_at_a_desk_and_add_tool_adds_a_tool() -> None:
    engine = engine_with()
    before = len(engine.world.building.agents)
    engine.submit("hire_agent", {"floor": "python", "role": "verifier", "name": "Vera"})
    engine.submit(
        "add_tool",
        {"floor": "python", "name": "mypy", "kind": "linter", "capabilities": ["lint"], "slots": 3},
    )
    engine.step()
    vera = next(a for a in engine.world.building.agents.values() if a.name == "Vera")
    assert len(engine.world.building.agents) == before + 1 and vera.role.value == "verifier"
    assert any(t.name == "mypy" and t.slots == 3 for t in engine.world.building.tools.values())


def test_add_tool_refuses_a_name_the_floor_already_has() -> None:
    engine = engine_with()
    with pytest.raises(CommandRejected) as refused:
        engine.submit(
            "add_tool", {"floor": "python", "name": "cc", "kind": "c", "capabilities": ["build"]}
        )
    assert refused.value.field == "name" and refused.value.code == "conflict"
    assert "already has a tool named 'cc'" in refused.value.reason


def test_the_second_of_two_pending_tools_with_one_name_is_rejected_at_application() -> None:
    engine = engine_with()
    payload = {"floor": "python", "name": "mypy", "kind": "linter", "capabilities": ["lint"]}
    first, second = engine.submit("add_tool", payload), engine.submit("add_tool", payload)
    engine.step()
    assert first.status == "applied" and second.status == "rejected"
    assert sum(t.name == "mypy" for t in engine.world.building.tools.values()) == 1


def test_every_command_kind_has_exactly_one_spec_and_proposable_is_read_from_them() -> None:
    assert list(SPECS) == list(CommandKind)  # the registry lists every kind, in enum order
    assert PROPOSABLE == {k.value for k, spec in SPECS.items() if spec.proposable}
    # runtime controls and proposals themselves are never carried by a proposal
    for kind in ("pause", "resume", "set_speed", "schedule_proposal", "revoke_proposal"):
        assert kind not in PROPOSABLE
    # a kind that says what it replaces says how it is undone
    assert all(spec.undo is not None for spec in SPECS.values() if spec.replaces is not None)


def test_a_submitted_payload_is_parsed_once_and_its_model_reaches_the_effect(monkeypatch) -> None:
    engine = engine_with()
    command = engine.submit("create_directive", {"title": " Spaced ", "floor": "python"})
    assert isinstance(command.parsed, commands.CreateDirective)
    assert command.payload["title"] == "Spaced"  # normalised once, at submission

    def no_second_parse(kind: CommandKind, payload: object) -> None:
        raise AssertionError(f"{kind.value} parsed again")

    monkeypatch.setattr(commands, "parse", no_second_parse)
    engine.step()
    assert command.status == "applied"
    assert [d.title for d in engine.world.board.directives.values()] == ["Spaced"]


def test_a_command_read_back_from_the_store_is_parsed_when_it_applies() -> None:
    engine = engine_with()
    stored = engine.submit("hire_agent", {"floor": "python", "role": "builder"}).to_dict()
    engine.withdraw(engine.pending[0])
    engine.adopt_log([Command.from_dict(stored)])
    assert engine.pending[0].parsed is None
    engine.step()
    assert engine.commands[-1].status == "applied"
    applied = [e for e in engine.world.audit.since(0) if e.kind == "command.applied"]
    assert [e.data["payload"]["role"] for e in applied] == ["builder"]


@pytest.mark.parametrize(
    "bad,field",
    [
        ({"title": ""}, "title"),
        ({"priority": 9}, "priority"),
        ({"ambiguity": 1.5}, "ambiguity"),
        ({"floor": "x" * 41}, "floor"),
        ({"owner": "me"}, "owner"),  # an unknown field, in either
    ],
)
def test_a_command_and_a_scenario_file_refuse_the_same_directive_request(bad, field) -> None:
    """One directive request type: the API's payload and a scenario's scripted directive are
    the same fields with the same bounds (a scripted one adds only its tick)."""
    assert SPECS[CommandKind.CREATE_DIRECTIVE].payload is DirectiveRequest
    assert set(DirectiveSpec.model_fields) == {*DirectiveRequest.model_fields, "tick"}
    request = {"title": "x", "floor": "python", **bad}
    with pytest.raises(CommandRejected) as refused:
        engine_with().submit("create_directive", request)
    assert refused.value.field == field
    raw = {**read_scenario(None).to_dict(), "directives": [request]}
    with pytest.raises(ScenarioError) as invalid:
        parse_scenario(raw)
    assert invalid.value.field == f"directives.0.{field}"


def test_a_scripted_an_arrived_and_a_commanded_request_open_the_same_kind_of_directive() -> None:
    raw = read_scenario(None).to_dict()
    raw["directives"] = [{"tick": 0, "title": "Scripted", "floor": "python", "priority": 1}]
    raw["arrivals"] = {**raw["arrivals"], "rate_per_day": 8.0}
    engine = Engine(parse_scenario(raw), 3)
    engine.submit("create_directive", {"title": "Commanded", "floor": "python", "priority": 1})
    engine.run(6)
    created = [e for e in engine.world.audit.since(0) if e.kind == "directive.created"]
    by_actor = {e.actor: e.data for e in created}
    assert {"scenario", "user", "arrivals"} <= set(by_actor)
    assert by_actor["scenario"]["title"] == "Scripted"
    assert by_actor["user"]["title"] == "Commanded"
    # the same record whoever asked: the request's fields, the floor named "floor"
    assert len({tuple(sorted(e.data)) for e in created}) == 1
    for event in created:
        assert engine.world.board.directives[event.target].floor_id == event.data["floor"]


def test_dismissing_a_voter_who_has_not_voted_leaves_the_audit_chain_intact() -> None:
    """The vote.opened event keeps the weights it was opened with; the vote itself drops the
    dismissed voter (found by test_audit_and_determinism's random command sequences)."""
    engine = Engine(read_scenario(None), 1)
    engine.run(106)  # vote V-0041 is open and A-0014, a reviewer, has not voted
    vote = engine.world.board.votes["V-0041"]
    assert vote.outcome.value == "open" and "A-0014" in vote.weights
    assert "A-0014" not in vote.ballots
    engine.submit("dismiss_agent", {"agent_id": "A-0014"})
    engine.step()
    assert "A-0014" not in vote.weights
    opened = next(
        e for e in engine.world.audit.since(0) if e.kind == "vote.opened" and e.target == vote.id
    )
    assert "A-0014" in opened.data["weights"]
    assert engine.world.audit.verify().valid
