"""Work that cannot progress is named once per episode with its cause and a remedy."""

from __future__ import annotations

import json

from miniature_office.sim.contracts import ContractState
from miniature_office.sim.engine import Engine
from miniature_office.sim.snapshot import dump_engine
from miniature_office.sim.stalls import STALL_CAUSES, detect
from miniature_office.sim.tasks import TaskState

from .builders import STAFF, directive, engine_with, run_until

NO_SECURITY = {role: n for role, n in STAFF.items() if role != "security"}
SENSITIVE = [directive(f"job {i}", sensitivity=0.9, ambiguity=0.1) for i in range(2)]


def _events(engine, kind: str, cause: str | None = None) -> list:
    return [
        e
        for e in engine.world.audit
        if e.kind == kind and (cause is None or e.data.get("cause") == cause)
    ]


def _stalled(engine, cause: str) -> bool:
    return any(s.cause.value == cause for s in engine.world.stalls.values())


def test_an_assistant_without_clearance_stalls_sensitive_review_and_names_the_remedy() -> None:
    engine = engine_with(staff=NO_SECURITY, directives=SENSITIVE)
    run_until(engine, lambda e: _stalled(e, "clearance"))
    event = _events(engine, "flow.stalled", "clearance")[0]
    task = engine.world.board.tasks[event.target]
    assert task.state is TaskState.IN_REVIEW
    assert event.data["remedy"].startswith(
        f"hire a Security agent with clearance >= {task.security_level}"
    )
    engine.run(100)
    subjects = [e.target for e in _events(engine, "flow.stalled")]
    assert len(subjects) == len(set(subjects))  # once per episode, however long it lasts
    summary = engine.summary()
    assert summary["stalls"] == len(subjects) and summary["stalls_by_cause"]["clearance"] >= 1
    assert engine.flow.latest.stalls_open == len(engine.world.stalls)


def test_hiring_a_cleared_security_agent_ends_the_stall() -> None:
    engine = engine_with(staff=NO_SECURITY, directives=SENSITIVE)
    run_until(engine, lambda e: _stalled(e, "clearance"))
    engine.submit("hire_agent", {"floor": "python", "role": "security", "clearance": 5})
    run_until(engine, lambda e: _events(e, "flow.unstalled", "clearance"))
    run_until(engine, lambda e: not e.world.stalls)
    stalled = _events(engine, "flow.stalled")[0]
    cleared = next(e for e in _events(engine, "flow.unstalled") if e.target == stalled.target)
    assert stalled.seq in cleared.parents and cleared.data["stalled_ticks"] > 0


def test_a_cleared_security_agent_means_no_stall() -> None:
    engine = engine_with(directives=SENSITIVE)
    engine.run(300)
    assert engine.world.totals["stalls"] == 0 and not _events(engine, "flow.stalled")


def test_a_floor_without_the_needed_tool_stalls_until_one_is_added() -> None:
    engine = engine_with(directives=[directive(ambiguity=0.1)])
    floor = engine.world.building.floors["python"]
    floor.tool_ids = [
        t for t in floor.tool_ids if "docs" not in engine.world.building.tools[t].capabilities
    ]
    run_until(engine, lambda e: _stalled(e, "no_tool"))
    assert _events(engine, "flow.stalled", "no_tool")[0].data["remedy"] == (
        "add a tool with capability docs on floor python"
    )
    engine.submit("add_tool", {"floor": "python", "name": "mkdocs", "kind": "d",
                               "capabilities": ["docs"]})  # fmt: skip
    run_until(engine, lambda e: _events(e, "flow.unstalled", "no_tool"))


def _elevator_stalls(ticks_per_floor: int) -> int:
    engine = engine_with(
        floors=("python", "javascript", "go"),
        directives=[
            directive(f"dash {i}", "javascript", depends_on_floor="go", ambiguity=0.1)
            for i in range(4)
        ],
        elevator_ticks_per_floor=ticks_per_floor,
        stall_elevator_ticks=16,
    )
    engine.run(300)
    return len(_events(engine, "flow.stalled", "elevator"))


def test_a_saturated_elevator_is_a_stall_and_a_fast_one_is_not() -> None:
    assert _elevator_stalls(40) >= 1
    assert _elevator_stalls(1) == 0


def test_a_contract_whose_provider_work_is_gone_never_arrives_and_says_so() -> None:
    engine = engine_with(
        floors=("python", "javascript"),
        directives=[directive("Live dashboard", "javascript", depends_on_floor="python")],
    )
    run_until(
        engine,
        lambda e: any(
            c.state is ContractState.IN_DEVELOPMENT for c in e.world.building.contracts.values()
        ),
    )
    contract = next(iter(engine.world.building.contracts.values()))
    provider = engine.world.board.directives.pop(contract.provider_directive)
    engine.world.building.offices[provider.office_id].directive_ids.remove(provider.id)
    run_until(engine, lambda e: _stalled(e, "contract"))
    event = _events(engine, "flow.stalled", "contract")[0]
    assert contract.name in event.data["reason"] and "never arrive" in event.data["reason"]


def test_scheduled_work_waiting_past_the_aging_bound_is_starving() -> None:
    work = [directive(f"job {i}", ambiguity=0.1, complexity=0.9) for i in range(6)]
    starving = engine_with(directives=work, stall_starvation_ticks=20)
    starving.run(200)
    assert _events(starving, "flow.stalled", "starvation")
    patient = engine_with(directives=work, stall_starvation_ticks=10_000)
    patient.run(200)
    assert not _events(patient, "flow.stalled", "starvation")


def test_stalls_are_checked_every_few_ticks_only() -> None:
    engine = engine_with(staff=NO_SECURITY, directives=SENSITIVE, stall_check_every=5)
    engine.run(200)
    ticks = {e.tick for e in _events(engine, "flow.stalled")}
    assert ticks and all(t % 5 == 0 for t in ticks)


def test_open_stalls_survive_a_snapshot_without_being_reported_twice() -> None:
    engine = engine_with(staff=NO_SECURITY, directives=SENSITIVE, rate=3)
    run_until(engine, lambda e: e.world.stalls)
    restored = Engine.resume(json.loads(json.dumps(dump_engine(engine))))
    assert restored.world.stalls.keys() == engine.world.stalls.keys()
    engine.run(120)
    restored.run(120)
    assert restored.head_hash == engine.head_hash


def test_the_stall_causes_are_a_closed_set() -> None:
    engine = engine_with()
    assert set(engine.summary()["stalls_by_cause"]) == set(STALL_CAUSES)
    assert STALL_CAUSES == (
        "no_agent",
        "clearance",
        "no_tool",
        "elevator",
        "contract",
        "starvation",
        "rework_loop",
        "intake",
    )


def _without(engine, role: str) -> None:
    """Take every ``role`` out of the office (a situation auto-staffing normally prevents)."""
    world = engine.world
    for office in world.building.offices.values():
        office.agent_ids = [
            a for a in office.agent_ids if world.building.agents[a].role.value != role
        ]


def test_an_office_without_a_builder_stalls_its_tasks_naming_the_role() -> None:
    engine = engine_with(directives=[directive(ambiguity=0.1)])
    run_until(engine, lambda e: e.world.board.tasks)
    _without(engine, "builder")
    stalls = detect(engine.world, 8)
    assert stalls and {s.cause.value for s in stalls} == {"no_agent"}
    assert stalls[0].remedy.startswith("hire a builder in office")


def test_an_office_without_a_manager_stalls_every_directive() -> None:
    engine = engine_with(directives=[directive(f"job {i}") for i in range(2)])
    engine.step()
    _without(engine, "manager")
    stalls = detect(engine.world, 8)
    assert [s.subject for s in stalls] == ["D-0001", "D-0002"]
    assert all("hire a manager" in s.remedy for s in stalls)


def test_a_fully_staffed_office_has_no_stalls() -> None:
    engine = engine_with(directives=[directive(f"job {i}") for i in range(2)])
    engine.run(40)
    assert detect(engine.world, 8) == []


def test_work_that_votes_keep_sending_back_is_a_stall_once_per_episode() -> None:
    doubted = {"vote_yes_base": 0.0, "vote_yes_floor": 0.0}  # every ballot is no
    engine = engine_with(directives=[directive(ambiguity=0.1)], stall_rework_loop=3, **doubted)
    run_until(engine, lambda e: _stalled(e, "rework_loop"))
    stall = next(iter(engine.world.stalls.values()))
    task = engine.world.board.tasks[stall.subject]
    assert task.rework_count >= 3 and task.state is not TaskState.MERGED
    assert "sent back" in stall.reason and "override its vote" in stall.remedy
    engine.run(300)
    assert engine.world.board.tasks[stall.subject].rework_count > 6  # still cycling ...
    assert len(_events(engine, "flow.stalled", "rework_loop")) == 1  # ... reported once


def test_a_rework_loop_ends_when_the_work_merges() -> None:
    engine = engine_with(directives=[directive(ambiguity=0.1)], stall_rework_loop=2)
    for path in ("settings.vote_yes_floor", "settings.vote_yes_base"):
        engine.submit("set_setting", {"path": path, "value": 0.0})  # every ballot is no
        engine.apply_pending()
    run_until(engine, lambda e: _stalled(e, "rework_loop"))
    for path in ("settings.vote_yes_base", "settings.vote_yes_floor"):
        engine.submit("set_setting", {"path": path, "value": 0.99})
        engine.apply_pending()
    run_until(engine, lambda e: _events(e, "flow.unstalled", "rework_loop"))
    subject = _events(engine, "flow.stalled", "rework_loop")[0].target
    assert engine.world.board.tasks[subject].state in (TaskState.MERGED, TaskState.DEPLOYED)


def test_clean_work_that_carries_its_first_vote_never_loops() -> None:
    clean = {"defect_rate": 0.0, "vulnerability_rate": 0.0, "doc_gap_rate": 0.0}
    sure = {"vote_yes_base": 0.99, "vote_yes_floor": 0.99}
    engine = engine_with(directives=[directive(f"job {i}") for i in range(3)], **clean, **sure)
    engine.run(300)
    assert not _events(engine, "flow.stalled", "rework_loop")


def _crowded(max_open: int) -> Engine:
    """Large work on javascript fills the intake limit; arrivals keep coming on both floors."""
    work = [directive(f"big {i}", floor="javascript", complexity=0.9) for i in range(3)]
    return engine_with(
        floors=("python", "javascript"), directives=work, rate=6, max_open=max_open, seed=3
    )


def test_a_floor_idle_while_its_arrivals_wait_behind_the_intake_limit_is_a_stall() -> None:
    engine = _crowded(max_open=3)
    run_until(engine, lambda e: _stalled(e, "intake"))
    stall = engine.world.stalls["intake:intake:python"]
    assert stall.floor_id == "python"
    assert "arrivals.max_open 3" in stall.reason and "javascript 3" in stall.reason
    assert stall.remedy.startswith("raise arrivals.max_open")
    assert not any(d.floor_id == "python" for d in engine.world.board.directives.values())


def test_no_intake_stall_while_the_limit_leaves_room() -> None:
    engine = _crowded(max_open=40)
    engine.run(200)
    assert not _events(engine, "flow.stalled", "intake")
