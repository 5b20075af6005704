"""Each role's work, meetings, votes, rework, tool contention and cross-floor contracts."""

from __future__ import annotations

from miniature_office.sim.agents import AgentStatus, Role
from miniature_office.sim.artifacts import ArtifactKind
from miniature_office.sim.contracts import ContractState
from miniature_office.sim.tasks import DirectiveState, ReviewKind, TaskState

from .builders import default_engine, directive, engine_with, kinds, run_until

S = TaskState


def _deployed(engine, directive_id="D-0001"):
    found = engine.world.board.directives.get(directive_id)
    return found is not None and found.state is DirectiveState.DEPLOYED


def test_a_directive_goes_from_creation_to_deployed_in_the_default_scenario() -> None:
    engine = default_engine()
    engine.submit("create_directive", {"title": "Audit export", "floor": "python", "priority": 1})
    engine.step()
    created = next(d for d in engine.world.board.directives.values() if d.title == "Audit export")
    run_until(engine, lambda e: created.state is DirectiveState.DEPLOYED, limit=600)
    assert created.deployed_tick is not None and created.deployed_tick > created.created_tick
    assert all(engine.world.board.tasks[t].state is S.DEPLOYED for t in created.task_ids)


def test_architect_turns_a_directive_into_a_task_dag_with_a_design_artifact() -> None:
    engine = engine_with(directives=[directive(complexity=0.9)])
    run_until(engine, lambda e: e.world.board.tasks)
    d = engine.world.board.directives["D-0001"]
    assert d.architect and engine.world.building.agents[d.architect].role is Role.ARCHITECT
    assert d.architect_intent and len(d.task_ids) >= 2
    for index, task_id in enumerate(d.task_ids):
        assert set(engine.world.board.tasks[task_id].depends_on) <= set(d.task_ids[:index])
    designs = [a for a in engine.world.board.artifacts.values() if a.kind is ArtifactKind.DESIGN]
    assert designs and len(designs[0].hash) == 64


def test_builder_needs_the_build_tool_and_produces_a_code_change() -> None:
    engine = engine_with(directives=[directive(ambiguity=0.0)])
    run_until(engine, lambda e: any(t.state is S.IN_REVIEW for t in e.world.board.tasks.values()))
    task = next(t for t in engine.world.board.tasks.values() if t.state is S.IN_REVIEW)
    assert task.progress >= task.effort
    change = engine.world.board.artifacts[task.artifacts[-1]]
    assert change.kind is ArtifactKind.CODE_CHANGE and change.author == task.last_builder
    assert "tool.checked_out" in kinds(engine)


def test_sensitive_tasks_need_a_security_review_by_a_cleared_agent() -> None:
    engine = engine_with(directives=[directive(ambiguity=0.0, sensitivity=0.9)])
    run_until(engine, lambda e: _deployed(e), limit=1500)
    for task_id in engine.world.board.directives["D-0001"].task_ids:
        task = engine.world.board.tasks[task_id]
        assert ReviewKind.SECURITY in task.reviews
        reviewer = engine.world.building.agents[task.reviewers[ReviewKind.SECURITY]]
        assert reviewer.role is Role.SECURITY and reviewer.clearance >= task.security_level


def test_security_review_waits_when_nobody_has_the_clearance() -> None:
    engine = engine_with(directives=[directive(ambiguity=0.0, sensitivity=1.0)])
    for agent in engine.world.building.agents.values():
        agent.clearance = 1
    run_until(engine, lambda e: any(t.state is S.IN_REVIEW for t in e.world.board.tasks.values()))
    engine.run(50)
    stuck = [t for t in engine.world.board.tasks.values() if t.state is S.IN_REVIEW]
    assert stuck and all(t.reviews[ReviewKind.SECURITY].value == "pending" for t in stuck)
    assert engine.flow.latest.queue["security"] >= 1


def test_doc_agent_writes_a_document_for_every_merged_task() -> None:
    engine = engine_with(directives=[directive(ambiguity=0.0)])
    run_until(engine, _deployed, limit=1500)
    for task_id in engine.world.board.directives["D-0001"].task_ids:
        task = engine.world.board.tasks[task_id]
        docs = [engine.world.board.artifacts[a] for a in task.artifacts]
        assert any(a.kind is ArtifactKind.DOCUMENT for a in docs)


def test_ambiguous_task_calls_a_meeting_that_produces_a_decision_transcript() -> None:
    engine = engine_with(directives=[directive(ambiguity=0.9)])
    run_until(engine, lambda e: any(not m.open for m in e.world.board.meetings.values()))
    meeting = next(m for m in engine.world.board.meetings.values() if not m.open)
    roles = {engine.world.building.agents[p].role for p in meeting.participants}
    assert roles == {Role.ARCHITECT, Role.BUILDER, Role.MANAGER}
    task = engine.world.board.tasks[meeting.task_id]
    assert task.ambiguity < meeting.ambiguity_before and task.meeting_done
    transcript = engine.world.board.artifacts[meeting.artifact_id]
    assert transcript.kind is ArtifactKind.DECISION_TRANSCRIPT
    assert transcript.content["decisions"] and {"who", "when", "what"} <= set(
        transcript.content["decisions"][0]
    )


def test_a_failed_vote_sends_the_task_back_to_rework() -> None:
    engine = default_engine(seed=3)
    run_until(engine, lambda e: e.world.totals["votes_failed"] > 0, limit=1500)
    failed = [v for v in engine.world.board.votes.values() if v.outcome.value == "failed"]
    assert failed
    task = engine.world.board.tasks[failed[0].task_id]
    moves = [(h.source, h.target) for h in task.history]
    assert ("approval", "in_progress") in moves


def test_a_failed_review_sends_the_task_back_to_rework() -> None:
    engine = default_engine(seed=5)
    run_until(engine, lambda e: e.world.totals["defects_found"] > 0, limit=1500)
    reworked = [
        t
        for t in engine.world.board.tasks.values()
        if ("in_review", "in_progress") in [(h.source, h.target) for h in t.history]
    ]
    assert reworked and reworked[0].rework_count >= 1


def test_weighted_vote_carries_at_two_thirds() -> None:
    from miniature_office.sim.votes import Vote, VoteOutcome

    vote = Vote("V-1", "T-1", "f", "o", 0, {"m": 2, "a": 1, "b": 1, "c": 1})
    vote.ballots = {"m": True, "a": True, "b": False, "c": False}
    assert vote.tally() is VoteOutcome.FAILED  # 3 of 5 < 2/3
    vote.ballots["b"] = True
    assert vote.tally() is VoteOutcome.CARRIED  # 4 of 5
    tie = Vote("V-2", "T-1", "f", "o", 0, {"m": 2, "a": 1})
    tie.ballots = {"m": True, "a": False}
    assert tie.tally() is VoteOutcome.CARRIED  # exactly 2/3


def test_override_is_a_logged_event_with_a_reason() -> None:
    # One unit of manager attention: opening the vote spends it, so the vote is still open at
    # the end of that tick whatever the ballots drawn.
    engine = engine_with(
        directives=[directive(ambiguity=0.0)], votes_per_tick=1, manager_attention=1
    )
    run_until(
        engine, lambda e: any(v.outcome.value == "open" for v in e.world.board.votes.values())
    )
    vote = next(v for v in engine.world.board.votes.values() if v.outcome.value == "open")
    engine.submit("override_vote", {"vote_id": vote.id, "outcome": "carried", "reason": "hotfix"})
    engine.step()
    assert vote.outcome.value == "overridden_carried"
    event = next(e for e in engine.world.audit if e.kind == "vote.overridden")
    assert event.data["reason"] == "hotfix"
    assert engine.world.board.tasks[vote.task_id].state in (S.MERGED, S.DEPLOYED)


def test_tool_contention_makes_an_agent_wait() -> None:
    tools = [
        {"name": "cc", "kind": "compiler", "capabilities": ["build"], "slots": 1},
        {"name": "t", "kind": "test_framework", "capabilities": ["test"]},
        {"name": "s", "kind": "security_scanner", "capabilities": ["scan"], "sensitive": True},
        {"name": "d", "kind": "doc_generator", "capabilities": ["docs"]},
    ]
    staff = {
        "manager": 1,
        "architect": 1,
        "builder": 3,
        "verifier": 1,
        "security": 1,
        "doc_agent": 1,
    }
    engine = engine_with(
        tools=tools,
        staff=staff,
        directives=[directive(f"job {i}", ambiguity=0.0, complexity=0.1) for i in range(3)],
    )
    run_until(  # fails the test if nobody ever waits
        engine,
        lambda e: any(a.status is AgentStatus.WAITING for a in e.world.building.agents.values()),
    )
    compiler = next(t for t in engine.world.building.tools.values() if t.name == "cc")
    assert len(compiler.holders) == 1 and compiler.queue
    waiting = next(e for e in engine.world.audit if e.kind == "tool.waiting")
    assert waiting.data["reason"] == "no_slot"


def test_sensitive_tool_needs_a_justification() -> None:
    from miniature_office.sim.supply import Tool, checkout

    scanner = Tool("TL-1", "f", "scan", "scanner", "1", 0.9, 5, ("scan",), 1, sensitive=True)
    assert checkout([scanner], "A-1", "scan", None).reason == "justification_required"
    assert checkout([scanner], "A-1", "scan", "security review of T-1").ok


def test_cross_floor_contract_blocks_then_unblocks_the_consumer() -> None:
    engine = engine_with(
        floors=("python", "javascript"),
        directives=[directive("Live dashboard", "javascript", depends_on_floor="python")],
    )
    run_until(engine, lambda e: any(t.state is S.BLOCKED for t in e.world.board.tasks.values()))
    consumer = next(t for t in engine.world.board.tasks.values() if t.state is S.BLOCKED)
    contract = next(iter(engine.world.building.contracts.values()))
    assert consumer.requires_contract == contract.name
    run_until(engine, lambda e: contract.state is ContractState.DELIVERED, limit=2000)
    assert engine.world.building.floors["javascript"].contracts_available[contract.name] == "1.0.0"
    assert consumer.state is not S.BLOCKED
    assert ("blocked", "scheduled") in [(h.source, h.target) for h in consumer.history]
    trail = [e.kind for e in engine.world.audit if e.target == contract.id]
    assert trail[:4] == [
        "contract.requested",
        "contract.handed_over",
        "elevator.loaded",
        "elevator.delivered",
    ]
    assert "contract.published" in trail
    couriers = [e.actor for e in engine.world.audit if e.kind == "contract.handed_over"]
    assert all(engine.world.building.agents[a].role.value != "manager" for a in couriers)
    run_until(engine, lambda e: _deployed(e), limit=2000)


def test_incompatible_contract_release_is_rejected_at_the_elevator() -> None:
    from miniature_office.sim.contracts import satisfies

    assert satisfies("1.4.2", "^1.0.0") and not satisfies("2.0.0", "^1.0.0")
    assert not satisfies("0.2.0", "^0.1.0") and satisfies("0.1.5", "^0.1.0")
    engine = engine_with(
        floors=("python", "javascript"),
        directives=[directive("Live dashboard", "javascript", depends_on_floor="python")],
    )
    run_until(engine, lambda e: e.world.building.contracts)
    contract = next(iter(engine.world.building.contracts.values()))
    contract.requirement = "^2.0.0"  # the consumer now wants a major version nobody builds
    run_until(engine, lambda e: contract.state is ContractState.REJECTED, limit=2000)
    assert any(e.kind == "contract.rejected" for e in engine.world.audit)


def test_missing_roles_are_auto_staffed_and_logged() -> None:
    engine = engine_with(staff={"builder": 1})
    office = next(iter(engine.world.building.offices.values()))
    roles = {engine.world.building.agents[a].role for a in office.agent_ids}
    assert roles == set(Role)
    assistants = [e for e in engine.world.audit if e.kind == "agent.auto_staffed"]
    assert len(assistants) == 5


def test_dismissing_the_last_verifier_brings_an_assistant() -> None:
    engine = engine_with()
    verifier = next(a for a in engine.world.building.agents.values() if a.role is Role.VERIFIER)
    engine.submit("dismiss_agent", {"agent_id": verifier.id})
    engine.step()
    assert verifier.id not in engine.world.building.agents
    replacements = [a for a in engine.world.building.agents.values() if a.role is Role.VERIFIER]
    assert len(replacements) == 1 and replacements[0].assistant


def _on_leg(point: tuple[int, int], a: tuple[int, int], b: tuple[int, int]) -> bool:
    return (a[0] == b[0] == point[0] and min(a[1], b[1]) <= point[1] <= max(a[1], b[1])) or (
        a[1] == b[1] == point[1] and min(a[0], b[0]) <= point[0] <= max(a[0], b[0])
    )


def test_agents_walk_along_grid_paths() -> None:
    from miniature_office.sim.floorplan import CORRIDOR_Y, path_length, waypoints

    start, goal = (2, 2), (20, 8)
    corners = waypoints(start, goal)
    legs = zip([start, *corners], corners)
    assert all(a[0] == b[0] or a[1] == b[1] for a, b in legs)  # no diagonals
    assert corners[0] == (2, CORRIDOR_Y) and corners[-1] == goal
    assert path_length(start, corners) == abs(CORRIDOR_Y - 2) + 18 + abs(8 - CORRIDOR_Y)


def test_attention_limits_how_much_a_manager_dispatches_per_tick() -> None:
    engine = engine_with(
        staff={
            "manager": 1,
            "architect": 6,
            "builder": 1,
            "verifier": 1,
            "security": 1,
            "doc_agent": 1,
        },
        directives=[directive(f"d{i}") for i in range(6)],
        manager_attention=2,
    )
    for expected in (2, 4, 6):
        engine.step()
        designing = [d for d in engine.world.board.directives.values() if d.architect]
        assert len(designing) == expected


def test_walking_follows_the_corners_of_the_grid_path() -> None:
    from miniature_office.sim.floorplan import advance, waypoints

    start, goal = (2, 2), (20, 8)
    corners = waypoints(start, goal)
    legs = list(zip([start, *corners], corners))
    here = start
    while corners:
        before, here = here, advance(here, corners, 3)
        assert abs(here[0] - before[0]) + abs(here[1] - before[1]) <= 3
        assert any(_on_leg(here, a, b) for a, b in legs)
    assert here == goal


def test_someone_walks_each_contract_to_the_elevator() -> None:
    engine = engine_with(
        floors=("python", "javascript"),
        directives=[directive("Live dashboard", "javascript", depends_on_floor="python")],
        walk_speed=8,  # a slow walk: the courier is still on its way at a tick boundary
    )
    office = engine.world.building.offices["O-0002"]  # the JavaScript office asks for the contract
    run_until(engine, lambda e: office.outbox or e.world.building.contracts)
    run_until(
        engine,
        lambda e: any(
            a.activity and a.activity.kind.value == "courier"
            for a in e.world.building.agents.values()
        ),
    )
    courier = next(
        a
        for a in engine.world.building.agents.values()
        if a.activity and a.activity.kind.value == "courier"
    )
    lift = engine.world.building.floors[courier.floor_id].plan.elevator
    run_until(engine, lambda e: any(ev.kind == "contract.handed_over" for ev in e.world.audit))
    handed = next(ev for ev in engine.world.audit if ev.kind == "contract.handed_over")
    assert handed.actor == courier.id
    assert (courier.x, courier.y) == (lift[0] - 1, lift[1])  # it walked to the lift door


def test_a_dismissed_courier_leaves_the_contract_for_someone_else() -> None:
    engine = engine_with(
        floors=("python", "javascript"),
        directives=[directive("Live dashboard", "javascript", depends_on_floor="python")],
        walk_speed=8,  # a slow walk: the courier is still on its way at a tick boundary
    )
    run_until(
        engine,
        lambda e: any(
            a.activity and a.activity.kind.value == "courier"
            for a in e.world.building.agents.values()
        ),
    )
    courier = next(
        a
        for a in engine.world.building.agents.values()
        if a.activity and a.activity.kind.value == "courier"
    )
    engine.submit("dismiss_agent", {"agent_id": courier.id})
    engine.step()
    run_until(engine, lambda e: any(ev.kind == "contract.handed_over" for ev in e.world.audit))
    handed = next(ev for ev in engine.world.audit if ev.kind == "contract.handed_over")
    assert handed.actor != courier.id
