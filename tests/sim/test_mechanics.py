"""Every mechanic changes outcomes: each test shows the effect with the cause and without it."""

from __future__ import annotations

import random
from dataclasses import replace

from miniature_office.runio import read_scenario
from miniature_office.sim.contracts import ContractState
from miniature_office.sim.engine import Engine
from miniature_office.sim.quality import (
    defect_chance,
    detect_chance,
    doc_gap_chance,
    speed_factor,
    yes_chance,
)
from miniature_office.sim.scenario import Settings, with_overrides
from miniature_office.sim.tasks import ReviewKind, TaskState
from miniature_office.sim.votes import MANAGER_WEIGHT, Vote, VoteOutcome

from .builders import default_engine, directive, engine_with, kinds, run_until

S = TaskState
CLEAN = {"complexity": 0.2, "ambiguity": 0.05, "defects_found": 0, "rework_count": 0}
DIRTY = {"complexity": 0.9, "ambiguity": 0.4, "defects_found": 3, "rework_count": 2}


def _task(engine, **fields):
    """A task of ``engine`` with the given quality figures (others as designed)."""
    run_until(engine, lambda e: e.world.board.tasks)
    task = next(iter(engine.world.board.tasks.values()))
    for name, value in fields.items():
        setattr(task, name, value)
    return task


def _failure_rate(settings: Settings, engine, task, votes: int = 600) -> float:
    """Share of votes on ``task`` that fail, with the office's reviewers and manager voting."""
    world = engine.world
    office = world.building.offices[task.office_id]
    voters = [world.building.agents[a] for a in office.agent_ids]
    reviewers = [a for a in voters if a.role.value in ("verifier", "security", "doc_agent")]
    manager = world.building.agents[office.manager_id]
    weights = {a.id: 1 for a in reviewers} | {manager.id: MANAGER_WEIGHT}
    rng = random.Random(5)
    failed = 0
    for _ in range(votes):
        vote = Vote("V-1", task.id, task.floor_id, task.office_id, 0, dict(weights))
        for voter in (*reviewers, manager):
            vote.ballots[voter.id] = rng.random() < yes_chance(settings, task, voter)
        failed += vote.tally() is VoteOutcome.FAILED
    return failed / votes


# ---- votes ------------------------------------------------------------------------------------


def test_low_quality_work_fails_votes_more_often_than_clean_work() -> None:
    engine = engine_with(directives=[directive()])
    settings = engine.world.settings
    clean = _failure_rate(settings, engine, _task(engine, **CLEAN))
    dirty = _failure_rate(settings, engine, _task(engine, **DIRTY))
    assert dirty > clean + 0.2


def test_without_quality_weights_ballots_ignore_the_work() -> None:
    engine = engine_with(directives=[directive()])
    blind = engine.world.settings.model_copy(
        update={"vote_risk_weight": 0, "vote_findings_weight": 0, "vote_rework_weight": 0}
    )
    clean = _failure_rate(blind, engine, _task(engine, **CLEAN))
    dirty = _failure_rate(blind, engine, _task(engine, **DIRTY))
    assert clean == dirty


def test_a_more_skilled_voter_weighs_the_evidence_more() -> None:
    engine = engine_with(directives=[directive()])
    task = _task(engine, **DIRTY)
    voter = next(a for a in engine.world.building.agents.values() if a.role.value == "verifier")
    settings = engine.world.settings
    novice = replace(voter, skills={**voter.skills, "verify": 0.2})
    expert = replace(voter, skills={**voter.skills, "verify": 0.95})
    assert yes_chance(settings, task, expert) < yes_chance(settings, task, novice)


def _vote_failure_rates(engine) -> tuple[float, float]:
    """Failure rate of votes on tasks whose reviews found something, and on the others."""
    found: set[str] = set()
    closed = {True: [0, 0], False: [0, 0]}
    for event in engine.world.audit:
        if event.kind == "review.completed" and event.data["found"]:
            found.add(event.target)
        elif event.kind == "vote.closed":
            tally = closed[event.data["task"] in found]
            tally[0] += 1
            tally[1] += event.data["outcome"] == "failed"
    return closed[True][1] / closed[True][0], closed[False][1] / closed[False][0]


def test_in_a_default_run_work_that_reviews_found_faulty_fails_more_votes() -> None:
    engine = default_engine(seed=5)
    engine.run(1500)
    faulty, clean = _vote_failure_rates(engine)
    assert faulty > clean + 0.1


# ---- residual ambiguity and meetings ---------------------------------------------------------


def test_residual_ambiguity_raises_defect_injection() -> None:
    engine = engine_with(directives=[directive()])
    settings = engine.world.settings
    clear = defect_chance(settings, _task(engine, ambiguity=0.0), 0.7, None)
    unclear = defect_chance(settings, _task(engine, ambiguity=0.45), 0.7, None)
    assert unclear > clear
    flat = settings.model_copy(update={"ambiguity_defect_weight": 0})
    assert defect_chance(flat, _task(engine, ambiguity=0.45), 0.7, None) == clear


def _found_and_reworked(weight: float) -> int:
    """Review findings plus reworks for the same unclear work, ``ambiguity_defect_weight``."""
    engine = engine_with(
        directives=[directive(f"job {i}", ambiguity=0.45, complexity=0.8) for i in range(6)],
        ambiguity_defect_weight=weight,
    )
    engine.run(500)
    totals = engine.world.totals
    return totals["defects_found"] + totals["escaped_defects"] + totals["reworks"]


def test_unclear_work_is_found_faulty_and_reworked_more_than_clear_work() -> None:
    assert _found_and_reworked(10.0) > _found_and_reworked(0.0)


def test_a_meeting_lowers_ambiguity_by_the_documented_factor() -> None:
    for factor in (0.35, 1.0):
        engine = engine_with(directives=[directive(ambiguity=0.9)], meeting_ambiguity_factor=factor)
        run_until(engine, lambda e: "meeting.concluded" in kinds(e))
        meeting = next(iter(engine.world.board.meetings.values()))
        task = engine.world.board.tasks[meeting.task_id]
        assert task.ambiguity == round(meeting.ambiguity_before * factor, 4)


# ---- documentation review --------------------------------------------------------------------


def _doc_failures(rate: float, ticks: int = 400) -> int:
    engine = engine_with(
        directives=[directive(f"job {i}", ambiguity=0.45, complexity=0.9) for i in range(3)],
        doc_gap_rate=rate,
    )
    engine.run(ticks)
    return sum(
        1
        for e in engine.world.audit
        if e.kind == "review.completed" and e.data["review"] == "documentation"
        and not e.data["passed"]
    )  # fmt: skip


def test_documentation_review_can_fail_and_send_work_back() -> None:
    engine = engine_with(directives=[directive(ambiguity=0.45, complexity=0.9)], doc_gap_rate=1.0)
    run_until(
        engine,
        lambda e: any(
            ev.kind == "task.transition" and "under-documented" in ev.data["reason"]
            for ev in e.world.audit
        ),
    )
    assert _doc_failures(1.0) > 0


def test_without_documentation_gaps_documentation_review_always_passes() -> None:
    assert _doc_failures(0.0) == 0


def test_doc_gap_chance_grows_with_ambiguity_and_the_doc_agents_skill() -> None:
    engine = engine_with(directives=[directive()])
    settings = engine.world.settings
    assert doc_gap_chance(settings, _task(engine, ambiguity=0.6), 0.5) > doc_gap_chance(
        settings, _task(engine, ambiguity=0.0), 0.5
    )
    task = _task(engine, ambiguity=0.3)
    assert doc_gap_chance(settings, task, 0.9) > doc_gap_chance(settings, task, 0.3)


# ---- tools: trust, security rating, justification -------------------------------------------


def test_tool_trust_and_scanner_rating_change_detection() -> None:
    engine = engine_with()
    settings = engine.world.settings
    scanner = next(t for t in engine.world.building.tools.values() if "scan" in t.capabilities)
    trusted = replace(scanner, trust=1.0, security_rating=5)
    shaky = replace(scanner, trust=0.4, security_rating=5)
    weak = replace(scanner, trust=1.0, security_rating=1)
    sec = ReviewKind.SECURITY
    assert detect_chance(settings, sec, 0.7, trusted) > detect_chance(settings, sec, 0.7, shaky)
    assert detect_chance(settings, sec, 0.7, trusted) > detect_chance(settings, sec, 0.7, weak)
    indifferent = settings.model_copy(
        update={"tool_trust_detect_weight": 0, "security_rating_detect_weight": 0}
    )
    assert detect_chance(indifferent, sec, 0.7, shaky) == detect_chance(indifferent, sec, 0.7, weak)


def _vulnerabilities_found(rating: int) -> int:
    """Vulnerabilities found in sensitive work when the floor's scanner has ``rating``."""
    tools = [
        {"name": "cc", "kind": "compiler", "capabilities": ["build"], "slots": 2},
        {"name": "t", "kind": "test_framework", "capabilities": ["test"], "slots": 2},
        {"name": "s", "kind": "scanner", "capabilities": ["scan"], "security_rating": rating},
        {"name": "d", "kind": "doc_generator", "capabilities": ["docs"], "slots": 2},
    ]
    engine = engine_with(
        tools=tools,
        directives=[directive(f"job {i}", sensitivity=1.0, ambiguity=0.1) for i in range(6)],
        vulnerability_rate=0.5,
        security_rating_detect_weight=1.0,
    )
    engine.run(400)
    return engine.world.totals["vulnerabilities_found"]


def test_a_scanner_rated_one_finds_nothing_when_rating_counts_fully() -> None:
    assert _vulnerabilities_found(5) > 0
    assert _vulnerabilities_found(1) == 0


def test_a_low_trust_compiler_injects_more_defects() -> None:
    engine = engine_with(directives=[directive()])
    settings = engine.world.settings
    task = _task(engine)
    compiler = next(t for t in engine.world.building.tools.values() if "build" in t.capabilities)
    solid, shaky = replace(compiler, trust=1.0), replace(compiler, trust=0.3)
    assert defect_chance(settings, task, 0.7, shaky) > defect_chance(settings, task, 0.7, solid)
    flat = settings.model_copy(update={"compiler_trust_defect_weight": 0})
    assert defect_chance(flat, task, 0.7, shaky) == defect_chance(flat, task, 0.7, solid)


def _sensitive_work(missing: float):
    engine = engine_with(
        directives=[directive(f"job {i}", sensitivity=0.9, ambiguity=0.1) for i in range(3)],
        justification_missing_chance=missing,
        justification_escalate_after=2,
    )
    return engine


def test_a_missing_justification_is_refused_retried_and_escalated_to_the_manager() -> None:
    engine = _sensitive_work(1.0)
    run_until(engine, lambda e: "tool.justification_escalated" in kinds(e))
    refusals = [e for e in engine.world.audit if e.kind == "tool.checkout_refused"]
    assert refusals and refusals[0].data["reason"] == "justification missing"
    escalation = next(e for e in engine.world.audit if e.kind == "tool.justification_escalated")
    assert escalation.data["refusals"] == 2 and escalation.data["manager"]
    run_until(
        engine,
        lambda e: any(
            ev.kind == "tool.checked_out"
            and "written by the manager" in (ev.data["justification"] or "")
            for ev in e.world.audit
        ),
    )


def test_with_justifications_always_written_no_checkout_is_refused() -> None:
    engine = _sensitive_work(0.0)
    engine.run(300)
    assert "tool.checkout_refused" not in kinds(engine)
    assert any(e.kind == "tool.checked_out" and e.data["justification"] for e in engine.world.audit)


# ---- languages and manager work --------------------------------------------------------------


def _first_code_change_tick(language: str) -> int:
    engine = engine_with(directives=[directive(ambiguity=0.0)])
    for agent in engine.world.building.agents.values():
        agent.languages = (language,)
    return run_until(
        engine, lambda e: any(t.state is S.IN_REVIEW for t in e.world.board.tasks.values())
    )


def test_working_outside_ones_languages_is_slower() -> None:
    assert _first_code_change_tick("go") > _first_code_change_tick("python")
    engine = engine_with()
    agent = next(iter(engine.world.building.agents.values()))
    settings = engine.world.settings
    assert speed_factor(settings, agent, "python") == 1.0
    assert speed_factor(settings, agent, "cobol") == settings.foreign_language_speed


def test_manager_dispatch_spends_attention_and_is_counted_as_manager_work() -> None:
    busy = engine_with(directives=[directive()])
    busy.step()
    manager = next(a for a in busy.world.building.agents.values() if a.role.value == "manager")
    assert manager.dispatched_this_tick >= 1
    assert manager.attention_left == manager.attention_budget - manager.dispatched_this_tick
    idle = engine_with()
    idle.step()
    manager = next(a for a in idle.world.building.agents.values() if a.role.value == "manager")
    assert manager.dispatched_this_tick == 0


# ---- contracts: breaking releases ------------------------------------------------------------


def _cross_floor(chance: float):
    engine = engine_with(
        floors=("python", "javascript"),
        directives=[directive("Live dashboard", "javascript", depends_on_floor="python")],
        breaking_release_chance=chance,
    )
    run_until(engine, lambda e: e.world.building.contracts)
    return engine, next(iter(engine.world.building.contracts.values()))


def test_a_breaking_release_makes_consumers_on_caret_one_rework_against_the_new_major() -> None:
    engine, contract = _cross_floor(1.0)
    consumer = next(t for t in engine.world.board.tasks.values() if t.requires_contract)
    assert consumer.contract_range == "^1.0.0"
    effort = consumer.effort
    run_until(engine, lambda e: "contract.adapted" in kinds(e))
    assert contract.state is ContractState.REJECTED and contract.version == "2.0.0"
    assert consumer.contract_range == "^2.0.0"
    assert consumer.effort == round(effort + engine.world.settings.breaking_adapt_effort, 3)
    assert engine.world.building.floors["javascript"].contracts_available[contract.name] == "2.0.0"
    run_until(engine, lambda e: e.world.board.directives["D-0001"].state.value == "deployed")


def test_a_compatible_release_is_delivered_without_rework() -> None:
    engine, contract = _cross_floor(0.0)
    run_until(engine, lambda e: contract.state is ContractState.DELIVERED)
    assert contract.version == "1.0.0" and "contract.adapted" not in kinds(engine)


def test_incompatible_releases_happen_in_a_long_default_run() -> None:
    engine = default_engine(seed=3)
    engine.run(3000)
    published = [e for e in engine.world.audit if e.kind == "contract.published"]
    assert any(e.data["breaking"] for e in published)
    assert "contract.adapted" in kinds(engine)


# ---- settings ---------------------------------------------------------------------------------


def test_tuning_settings_are_read_by_the_rules() -> None:
    perfect = engine_with(
        directives=[directive(f"job {i}", complexity=0.9) for i in range(3)], defect_rate=0.0
    )
    perfect.run(300)
    sloppy = engine_with(
        directives=[directive(f"job {i}", complexity=0.9) for i in range(3)], defect_rate=0.6
    )
    sloppy.run(300)
    assert perfect.world.totals["defects_found"] == 0
    assert sloppy.world.totals["defects_found"] > 0


def test_where_capacity_binds_failing_votes_cost_throughput() -> None:
    """bench/mechanics_bench.py in miniature: with votes that almost never fail the office
    ships more (paired seeds, the interval of the mean effect above zero); the full table is in
    MODEL.md ("What each mechanic does where capacity binds")."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "bench" / "mechanics_bench.py"
    spec = importlib.util.spec_from_file_location("mechanics_bench", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    (votes,) = bench.measure([1, 2, 3, 4], 600, workers=1, mechanics=("votes",))
    throughput = votes["throughput_per_day"]
    assert throughput["ci95_low"] > 0 and throughput["better_in"] >= 3


def test_the_quality_bench_counts_what_the_runs_record_and_neutralising_removes_the_rework() -> (
    None
):
    """bench/quality_bench.py in miniature (MODEL.md, "What the quality mechanics cost"): its
    event counts agree with the world's own totals, and with every quality weight at 0 the
    office fails fewer votes and reworks less on the same seeds."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "bench" / "quality_bench.py"
    spec = importlib.util.spec_from_file_location("quality_bench", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    counts = bench.rates([1], 600)
    engine = Engine(read_scenario(None), 1)
    engine.run(600)
    assert counts["votes failed"] == engine.world.totals["votes_failed"] > 0
    assert counts["votes"] > counts["votes failed"]
    assert 0 < counts["doc reviews failed"] < counts["doc reviews"]
    assert counts["breaking releases"] == counts["contract.adapted"]
    default = read_scenario(None)
    on = bench.cost(default, [1, 2], 600)
    off = bench.cost(with_overrides(default, dict(bench.NEUTRAL)), [1, 2], 600)
    assert off["failed_votes"] < on["failed_votes"]
    assert off["reworks"] < on["reworks"]
