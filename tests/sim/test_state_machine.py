"""The task lifecycle is a table; every transition outside it is refused and logged."""

from __future__ import annotations

import itertools

import pytest

from miniature_office.sim.errors import TransitionRefused
from miniature_office.sim.tasks import TRANSITIONS, TaskState, is_legal

from .builders import directive, engine_with, run_until

S = TaskState
LEGAL = {
    (S.SCHEDULED, S.IN_PROGRESS),
    (S.SCHEDULED, S.BLOCKED),
    (S.IN_PROGRESS, S.IN_REVIEW),
    (S.IN_PROGRESS, S.BLOCKED),
    (S.IN_REVIEW, S.APPROVAL),
    (S.IN_REVIEW, S.IN_PROGRESS),
    (S.IN_REVIEW, S.BLOCKED),
    (S.APPROVAL, S.MERGED),
    (S.APPROVAL, S.IN_PROGRESS),
    (S.APPROVAL, S.BLOCKED),
    (S.MERGED, S.DEPLOYED),
    (S.MERGED, S.BLOCKED),
}


@pytest.mark.parametrize("source,target", list(itertools.product(TaskState, TaskState)))
def test_transition_table_matches_the_design(source: TaskState, target: TaskState) -> None:
    if source is S.BLOCKED:
        assert is_legal(source, target, S.IN_REVIEW) == (target is S.IN_REVIEW)
    else:
        assert is_legal(source, target, None) == ((source, target) in LEGAL)


def test_blocked_returns_only_where_it_came_from() -> None:
    for origin in (S.SCHEDULED, S.IN_PROGRESS, S.IN_REVIEW, S.APPROVAL, S.MERGED):
        allowed = {t for t in TaskState if is_legal(S.BLOCKED, t, origin)}
        assert allowed == {origin}


def test_deployed_is_terminal() -> None:
    assert TRANSITIONS[S.DEPLOYED] == frozenset()


def _first_task(engine):
    run_until(engine, lambda e: e.world.board.tasks)
    return next(iter(engine.world.board.tasks.values()))


@pytest.mark.parametrize("target", [S.IN_REVIEW, S.APPROVAL, S.MERGED, S.DEPLOYED])
def test_illegal_transition_is_refused_and_logged(target: TaskState) -> None:
    engine = engine_with(directives=[directive()])
    task = _first_task(engine)
    assert task.state is S.SCHEDULED
    before = engine.world.audit.count
    with pytest.raises(TransitionRefused) as refused:
        engine.world.transition(task, target, "jump the queue", "test")
    assert refused.value.reason == "illegal transition"
    assert task.state is S.SCHEDULED
    last = engine.world.audit.get(engine.world.audit.count)
    assert engine.world.audit.count == before + 1
    assert last.kind == "task.transition_refused"
    assert last.data == {"from": "scheduled", "to": target.value, "reason": "illegal transition"}


def test_start_without_a_builder_holding_a_tool_is_refused() -> None:
    engine = engine_with(directives=[directive(ambiguity=0.0)])
    task = _first_task(engine)
    with pytest.raises(TransitionRefused) as refused:
        engine.world.transition(task, S.IN_PROGRESS, "start", "test")
    assert refused.value.reason == "no builder assigned"
    assert engine.world.audit.get(engine.world.audit.count).kind == "task.transition_refused"


def test_task_cannot_merge_without_carried_vote() -> None:
    engine = engine_with(directives=[directive(ambiguity=0.0)])
    run_until(engine, lambda e: any(t.state is S.APPROVAL for t in e.world.board.tasks.values()))
    task = next(t for t in engine.world.board.tasks.values() if t.state is S.APPROVAL)
    with pytest.raises(TransitionRefused) as refused:
        engine.world.transition(task, S.MERGED, "merge anyway", "test")
    assert refused.value.reason == "the approval vote has not carried"


def test_review_without_finished_work_is_refused() -> None:
    engine = engine_with(directives=[directive(ambiguity=0.0)])
    run_until(engine, lambda e: any(t.state is S.IN_PROGRESS for t in e.world.board.tasks.values()))
    task = next(t for t in engine.world.board.tasks.values() if t.state is S.IN_PROGRESS)
    task.progress = 0
    with pytest.raises(TransitionRefused) as refused:
        engine.world.transition(task, S.IN_REVIEW, "done?", "test")
    assert refused.value.reason == "work is not finished"


def test_block_and_unblock_return_to_the_same_state() -> None:
    engine = engine_with(directives=[directive(ambiguity=0.0)])
    task = _first_task(engine)
    engine.submit("block_task", {"task_id": task.id, "reason": "waiting on legal"})
    engine.step()
    assert task.state is S.BLOCKED and task.blocked_from is S.SCHEDULED
    engine.submit("unblock_task", {"task_id": task.id})
    engine.step()
    assert task.state is not S.BLOCKED
    assert [h.target for h in task.history][:2] == ["blocked", "scheduled"]
