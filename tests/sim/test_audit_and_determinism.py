"""The audit chain detects tampering; runs are deterministic and replayable."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from miniature_office.sim.audit import HASHED_FIELDS, AuditLog, verify_chain
from miniature_office.sim.engine import Engine
from miniature_office.sim.tasks import TRANSITIONS, TaskState

from .builders import default_engine, engine_with


@pytest.fixture(scope="module")
def chain() -> list[dict]:
    engine = default_engine(seed=11)
    engine.run(120)
    return [e.to_dict() for e in engine.world.audit]


def test_a_fresh_chain_verifies_and_names_its_head(chain) -> None:
    verdict = verify_chain(chain)
    assert verdict.valid and verdict.checked == len(chain) and verdict.head == chain[-1]["hash"]


def _tamper(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, list):
        return value + [1]
    if isinstance(value, dict):
        return {**value, "tampered": True}
    return "x"


@settings(
    max_examples=150,
    deadline=None,  # a deep copy of the chain per example: slow on a loaded host, not wrong
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_tampering_with_any_field_of_any_event_is_detected_at_that_event(chain, data) -> None:
    index = data.draw(st.integers(0, len(chain) - 1))
    field = data.draw(st.sampled_from([*HASHED_FIELDS, "hash"]))
    forged = copy.deepcopy(chain)
    forged[index][field] = _tamper(forged[index][field])
    verdict = verify_chain(forged)
    assert not verdict.valid
    assert verdict.first_broken == chain[index]["seq"]


def test_deleting_an_event_is_detected_where_the_gap_is(chain) -> None:
    forged = chain[:10] + chain[11:]
    verdict = verify_chain(forged)
    assert not verdict.valid and verdict.first_broken == chain[10]["seq"]


def test_wall_clock_time_is_kept_outside_the_hash() -> None:
    first = AuditLog(clock=lambda: 1.0)
    second = AuditLog(clock=lambda: 2.0)
    a = first.append(0, "k", "x", "y", {"n": 1})
    b = second.append(0, "k", "x", "y", {"n": 1})
    assert a.hash == b.hash and a.recorded_at != b.recorded_at


def test_lineage_follows_parents_backwards_and_children_forwards() -> None:
    engine = default_engine()
    engine.run(200)
    deployed = next(e for e in engine.world.audit if e.kind == "directive.deployed")
    ancestors = engine.world.audit.ancestors(deployed.seq)
    assert any(e.kind == "directive.created" and e.target == deployed.target for e in ancestors)
    created = next(e for e in ancestors if e.kind == "directive.created")
    descendants = engine.world.audit.descendants(created.seq)
    assert deployed.seq in {e.seq for e in descendants}


def test_same_seed_gives_the_same_head_hash_tick_for_tick() -> None:
    a, b = default_engine(seed=9), default_engine(seed=9)
    for _ in range(150):
        assert a.step().flow.audit_head == b.step().flow.audit_head


def test_different_seeds_diverge() -> None:
    a, b = default_engine(seed=1), default_engine(seed=2)
    a.run(100)
    b.run(100)
    assert a.head_hash != b.head_hash


def test_replay_rebuilds_the_world_at_any_tick() -> None:
    engine = default_engine(seed=4)
    heads = {}
    for tick in range(1, 161):
        if tick == 30:
            engine.submit("create_directive", {"title": "Mid-run", "floor": "javascript"})
        if tick == 70:
            engine.submit("pause")
            engine.apply_pending()  # applied synchronously while paused
            engine.submit("hire_agent", {"floor": "python", "role": "verifier"})
            engine.submit("resume")
        result = engine.step()
        heads[result.tick] = result.flow.audit_head
    log = [c.to_dict() for c in engine.commands]
    for tick in (1, 29, 30, 31, 70, 71, 160):
        replayed = Engine.replay(engine.scenario, engine.seed, log, tick)
        assert replayed.head_hash == heads[tick], tick


ACTIONS = st.one_of(
    st.tuples(
        st.just("create_directive"),
        st.fixed_dictionaries(
            {
                "title": st.text(min_size=1, max_size=20).filter(str.strip),
                "floor": st.sampled_from(["python", "javascript", "cobol"]),
                "ambiguity": st.floats(0, 1),
                "sensitivity": st.floats(0, 1),
            }
        ),
    ),
    st.tuples(
        st.just("hire_agent"),
        st.fixed_dictionaries(
            {
                "floor": st.sampled_from(["python", "javascript"]),
                "role": st.sampled_from(
                    ["builder", "verifier", "security", "doc_agent", "architect"]
                ),
            }
        ),
    ),
    st.tuples(
        st.just("dismiss_agent"),
        st.fixed_dictionaries(
            {
                "agent_id": st.sampled_from([f"A-{i:04d}" for i in range(1, 20)]),
            }
        ),
    ),
    st.tuples(
        st.just("block_task"),
        st.fixed_dictionaries(
            {
                "task_id": st.sampled_from([f"T-{i:04d}" for i in range(1, 15)]),
                "reason": st.just("hold"),
            }
        ),
    ),
    st.tuples(
        st.just("unblock_task"),
        st.fixed_dictionaries(
            {
                "task_id": st.sampled_from([f"T-{i:04d}" for i in range(1, 15)]),
            }
        ),
    ),
    st.tuples(st.just("step"), st.integers(1, 15)),
)


def _check_invariants(engine: Engine) -> None:
    world = engine.world
    live_counts = {s: 0 for s in TaskState}
    for task in world.board.tasks.values():
        live_counts[task.state] += 1
        moves = [(h.source, h.target) for h in task.history]
        for source, target in moves:
            assert source == "blocked" or TaskState(target) in TRANSITIONS[TaskState(source)]
        if task.state is TaskState.BLOCKED:
            assert task.blocked_from is not None
        if task.state in (TaskState.MERGED, TaskState.DEPLOYED):
            assert task.vote_carried and task.progress >= task.effort
    for state in TaskState:
        if state is not TaskState.DEPLOYED:
            assert live_counts[state] == world.board.state_counts[state]
    for tool in world.building.tools.values():
        assert len(tool.holders) <= tool.slots
        assert all(world.building.agents[h].held_tool == tool.id for h in tool.holders)
    assert engine.world.audit.verify().valid


@settings(max_examples=40, deadline=None)
@given(actions=st.lists(ACTIONS, max_size=25), seed=st.integers(0, 10_000))
def test_random_command_sequences_keep_every_invariant(actions, seed) -> None:
    engine = engine_with(seed=seed, floors=("python", "javascript"), rate=4.0)
    for kind, arg in actions:
        if kind == "step":
            for _ in range(arg):
                engine.step()
                _check_invariants(engine)
            continue
        try:
            engine.submit(kind, arg)
        except Exception as exc:  # noqa: BLE001 - only CommandRejected is allowed
            assert type(exc).__name__ == "CommandRejected"
    engine.step()
    _check_invariants(engine)


def test_a_snapshot_continues_exactly_like_the_original() -> None:
    import json

    from miniature_office.sim.snapshot import dump_engine

    original = default_engine(seed=8)
    original.run(250)
    copy_ = Engine.resume(json.loads(json.dumps(dump_engine(original))))
    assert copy_.tick == original.tick and copy_.head_hash == original.head_hash
    for _ in range(150):
        assert copy_.step().flow.audit_head == original.step().flow.audit_head


def test_long_runs_keep_memory_bounded() -> None:
    engine = Engine(default_engine().scenario, 42, audit_window=1000)
    sizes = []
    for _ in range(3):
        engine.run(1500)
        world = engine.world
        sizes.append(
            (
                len(world.audit),
                len(world.audit._children),
                len(world.board.artifacts),
                len(world.building.contracts),
                len(world.board.directives),
            )
        )
    events, children, artifacts, contracts, directives = sizes[-1]
    assert events == 1000 and children <= 1000
    assert artifacts < 2 * sizes[0][2] + 50 and contracts < 20 and directives < 80
    assert engine.world.audit.verify().valid  # the window still verifies from its first link
