"""The Consigliere explains waiting work from the model's state, naming the real cause."""

from __future__ import annotations

from miniature_office.sim.agents import Role
from miniature_office.sim.explain import explain_decision, explain_waiting
from miniature_office.sim.tasks import ReviewStatus, TaskState

from .builders import directive, engine_with, run_until


def _causes(engine, subject: str) -> dict[str, dict]:
    return {c["cause"]: c for c in explain_waiting(engine.world, subject)["causes"]}


def test_a_task_in_a_long_review_queue_names_the_queue_ahead_of_it() -> None:
    staff = {
        "manager": 1,
        "architect": 2,
        "builder": 6,
        "verifier": 1,
        "security": 1,
        "doc_agent": 1,
    }
    engine = engine_with(staff=staff, directives=[directive(f"d{i}") for i in range(6)])

    def queued(e):
        return [
            t
            for t in e.world.board.tasks.values()
            if t.reviews.get(_kind()) is ReviewStatus.PENDING
        ]

    run_until(engine, lambda e: len(queued(e)) >= 3)
    last = max(
        queued(engine), key=lambda t: (engine.world.board.directives[t.directive_id].priority, t.id)
    )
    causes = explain_waiting(engine.world, last.id)["causes"]
    cause = next(c for c in causes if c.get("review") == "verification")
    assert len(cause["queue_ahead"]) >= 2
    assert f"{len(cause['queue_ahead'])} task(s) ahead" in cause["sentence"]
    assert cause["options"][0]["command"] == {
        "kind": "hire_agent",
        "payload": {"floor": "python", "role": "verifier"},
    }


def _kind():
    from miniature_office.sim.tasks import ReviewKind

    return ReviewKind.VERIFICATION


def test_tool_contention_names_the_holders_of_the_slots() -> None:
    tools = [
        {"name": "cc", "kind": "compiler", "capabilities": ["build"], "slots": 1},
        {"name": "tests", "kind": "test_framework", "capabilities": ["test"]},
        {"name": "scan", "kind": "security_scanner", "capabilities": ["scan"]},
        {"name": "docs", "kind": "doc_generator", "capabilities": ["docs"]},
    ]
    staff = {
        "manager": 1,
        "architect": 2,
        "builder": 4,
        "verifier": 1,
        "security": 1,
        "doc_agent": 1,
    }
    engine = engine_with(
        tools=tools, staff=staff, directives=[directive(f"d{i}") for i in range(4)]
    )
    run_until(engine, lambda e: any(a.waiting_for for a in e.world.building.agents.values()))
    waiter = next(a for a in engine.world.building.agents.values() if a.waiting_for)
    cause = _causes(engine, waiter.activity.target)["tool_contention"]
    holder = engine.world.building.tools[waiter.waiting_for].holders[0]
    assert holder in cause["sentence"] and cause["holders"] == [holder]
    assert cause["options"][0]["command"]["kind"] == "add_tool"
    assert _causes(engine, waiter.id)["tool_contention"]["tool"] == waiter.waiting_for


def test_security_review_without_clearance_names_the_clearance_gap() -> None:
    staff = {"manager": 1, "architect": 1, "builder": 2, "verifier": 1, "doc_agent": 1}
    engine = engine_with(staff=staff, directives=[directive(sensitivity=0.95)])
    engine.submit("hire_agent", {"floor": "python", "role": "security", "clearance": 1})
    run_until(
        engine,
        lambda e: any(
            t.reviews.get(_security()) is ReviewStatus.PENDING and t.state is TaskState.IN_REVIEW
            for t in e.world.board.tasks.values()
        ),
    )
    task = next(t for t in engine.world.board.tasks.values() if _security() in t.reviews)
    cause = _causes(engine, task.id)["clearance"]
    assert f"needs clearance {task.security_level}" in cause["sentence"]
    best = max(
        a.clearance for a in engine.world.building.agents.values() if a.role is Role.SECURITY
    )
    assert best < task.security_level and f"has {best}" in cause["sentence"]
    assert cause["options"][0]["command"]["payload"]["clearance"] == task.security_level


def _security():
    from miniature_office.sim.tasks import ReviewKind

    return ReviewKind.SECURITY


def test_a_consumer_waiting_for_an_unreleased_contract_names_the_provider_floor() -> None:
    engine = engine_with(floors=("python", "rust"), directives=[directive(depends_on_floor="rust")])
    run_until(
        engine,
        lambda e: any(
            t.requires_contract and t.state is TaskState.BLOCKED
            for t in e.world.board.tasks.values()
        ),
    )
    task = next(t for t in engine.world.board.tasks.values() if t.requires_contract)
    cause = _causes(engine, task.id)["contract"]
    assert cause["provider_floor"] == "rust"
    assert f"waits for contract {task.requires_contract}" in cause["sentence"]
    assert "floor rust has not released" in cause["sentence"]


def test_a_locked_down_directive_says_why_it_does_not_ship_and_how_to_lift_it() -> None:
    engine = engine_with(directives=[directive()])
    engine.submit("lockdown", {"scope": "python", "reason": "pen test"})

    def all_merged(e) -> bool:
        tasks = list(e.world.board.tasks.values())
        return bool(tasks) and all(t.state is TaskState.MERGED for t in tasks)

    run_until(engine, all_merged)
    engine.run(5)  # ready to ship for several ticks, and held
    did = next(iter(engine.world.board.directives))
    assert engine.world.board.directives[did].state.value == "in_progress"
    cause = _causes(engine, did)["security_hold"]
    assert "pen test" in cause["sentence"]
    answer = explain_waiting(engine.world, did)  # the hold of the directive and of each task
    assert [c["cause"] for c in answer["causes"]].count("security_hold") == 1
    assert cause["options"][0]["command"] == {
        "kind": "lift_lockdown",
        "payload": {"scope": "python"},
    }


def test_why_was_this_decided_lists_ballots_with_weights_and_the_lineage() -> None:
    engine = engine_with(directives=[directive()])
    run_until(
        engine, lambda e: any(v.outcome.value != "open" for v in e.world.board.votes.values())
    )
    vote = next(v for v in engine.world.board.votes.values() if v.outcome.value != "open")
    answer = explain_decision(engine.world, vote.id)
    assert {b["voter"] for b in answer["ballots"]} == set(vote.weights)
    said = next(s for s in answer["sentences"] if s.startswith(f"Vote {vote.id}"))
    for voter, weight in vote.weights.items():
        assert f"{voter} (weight {weight})" in said
    lineage = answer["lineage"]
    task = engine.world.board.tasks[vote.task_id]
    assert lineage[0]["seq"] == task.last_event
    assert lineage[0]["sentence"].startswith(f"event #{task.last_event} (tick ")
