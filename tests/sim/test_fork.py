"""The fork is the real thing: a command applied in a copy of the live world at tick T is the
command applied to the live world at tick T.

For every kind a proposal may carry, a future run on the live world's own random streams (not
reseeded) reproduces, event for event, the audit chain of the real run in which the command was
submitted at tick T through the normal command path (as ``simulate --commands`` does: submitted
at the boundary, applied as the next tick starts). Previews and proposals apply commands through
:func:`sim.forecast.branch`; the only thing they change is which random streams the future
draws from.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from miniature_office.runio import read_scenario
from miniature_office.service.previews import arm_engines
from miniature_office.sim.commands import PROPOSABLE
from miniature_office.sim.engine import Engine
from miniature_office.sim.forecast import branch
from miniature_office.sim.security_office import delivery_blocks
from miniature_office.sim.tasks import DirectiveState, TaskState
from miniature_office.sim.world import World

SEED, AT, AFTER = 5, 120, 120
#: A command's payload, read from the live world at the tick it is sent.
Payload = Callable[[World], dict[str, Any]]


def _open_task(world: World) -> str:
    return next(t.id for t in world.board.tasks.values() if t.state is TaskState.IN_PROGRESS)


def _blocked_task(world: World) -> str:
    return next(t.id for t in world.board.tasks.values() if t.state is TaskState.BLOCKED)


def _open_directive(world: World) -> str:
    return next(
        d.id for d in world.board.directives.values() if d.state is not DirectiveState.DEPLOYED
    )


def _blocked_directive(world: World) -> str:
    return next(iter(delivery_blocks(world)))


def _builder(world: World) -> str:
    return next(a.id for a in world.building.agents.values() if a.role.value == "builder")


LOCK = {"scope": "python", "reason": "audit"}
#: kind -> (commands sent 30 ticks earlier, so the command has something to undo; its payload)
CASES: dict[str, tuple[list[tuple[str, Payload]], Payload]] = {
    "create_directive": ([], lambda w: {"title": "Fork check", "floor": "python"}),
    "hire_agent": ([], lambda w: {"floor": "python", "role": "verifier"}),
    "dismiss_agent": ([], lambda w: {"agent_id": _builder(w)}),
    "add_tool": (
        [],
        lambda w: {"floor": "python", "name": "cc2", "kind": "compiler", "capabilities": ["build"]},
    ),
    "block_task": ([], lambda w: {"task_id": _open_task(w), "reason": "hold it"}),
    "unblock_task": (
        [("block_task", lambda w: {"task_id": _open_task(w), "reason": "hold it"})],
        lambda w: {"task_id": _blocked_task(w)},
    ),
    "lockdown": ([], lambda w: LOCK),
    "lift_lockdown": ([("lockdown", lambda w: LOCK)], lambda w: {"scope": "python"}),
    "block_delivery": ([], lambda w: {"directive_id": _open_directive(w), "reason": "audit"}),
    "unblock_delivery": (
        [("block_delivery", lambda w: {"directive_id": _open_directive(w), "reason": "audit"})],
        lambda w: {"directive_id": _blocked_directive(w)},
    ),
    "set_setting": ([], lambda w: {"path": "arrivals.max_open", "value": 20}),
}


def _live(setup: list[tuple[str, Payload]]) -> tuple[Engine, list[tuple[int, str, dict]]]:
    """The live world at tick AT, and the script of what was sent to it (tick, kind, payload)."""
    engine = Engine(read_scenario(None), SEED)
    engine.run(AT - 30)
    script = []
    for kind, payload in setup:
        script.append((engine.tick, kind, payload(engine.world)))
        engine.submit(kind, script[-1][2], actor="user")
    engine.run(30)
    return engine, script


def _real_run(script: list[tuple[int, str, dict]], until: int) -> Engine:
    """A run from scratch with each command submitted at its tick, as ``simulate --commands``."""
    engine = Engine(read_scenario(None), SEED)
    pending = sorted(script, key=lambda row: row[0])
    while engine.tick < until:
        while pending and pending[0][0] <= engine.tick:
            _, kind, payload = pending.pop(0)
            engine.submit(kind, payload, actor="user")
        engine.step()
    return engine


def _events(engine: Engine, since: int) -> list[dict]:
    return [{**e.to_dict(), "recorded_at": None} for e in engine.world.audit.since(since)]


def test_every_proposable_kind_has_a_fork_case() -> None:
    assert set(CASES) == set(PROPOSABLE)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_command_applied_in_the_fork_is_the_command_applied_to_the_live_world(kind: str) -> None:
    setup, payload = CASES[kind]
    live, script = _live(setup)
    command = {"kind": kind, "payload": payload(live.world)}
    mark = live.world.audit.count

    future = branch(live, [command], actor="user", headless=False)
    future.run(AFTER)
    real = _real_run([*script, (AT, kind, command["payload"])], AT + AFTER)

    assert real.world.audit.since(mark)[0].kind == "command.applied"
    assert _events(future, mark) == _events(real, mark)
    assert future.head_hash == real.head_hash
    # The preview's arm (headless, its own actor) has the same figures as the real run.
    _, changed = arm_engines(live, [command])
    changed.run(AFTER)
    assert _figures(changed) == _figures(real)


def test_a_created_directive_is_the_same_whoever_sends_the_command() -> None:
    live, _ = _live([])
    command = {"kind": "create_directive", "payload": {"title": "Same", "floor": "python"}}
    by_user = branch(live, [command], actor="user")
    by_preview = branch(live, [command], actor="consigliere")
    by_user.run(AFTER)
    by_preview.run(AFTER)
    assert _figures(by_user) == _figures(by_preview)


def _figures(engine: Engine) -> dict:
    summary = engine.summary()
    summary.pop("audit_head")
    return summary


@pytest.mark.parametrize("kind", ["create_directive", "hire_agent", "set_setting"])
def test_a_proposal_activating_at_tick_t_makes_the_future_the_fork_showed(kind: str) -> None:
    """The way a previewed change usually reaches the live world: a proposal scheduled for
    tick T applies its commands at that boundary. Its audit trail differs (the proposal's own
    events), but every figure of the future is the fork's."""
    setup, payload = CASES[kind]
    live, _ = _live(setup)
    command = {"kind": kind, "payload": payload(live.world)}
    forked = branch(live, [command])
    forked.run(AFTER)

    real = Engine(read_scenario(None), SEED)
    real.run(AT - 30)
    proposal = {"title": "Try it", "activate_tick": AT, "commands": [command]}
    real.submit("schedule_proposal", proposal, actor="user")
    real.run(30 + AFTER)
    assert any(e.kind == "proposal.activated" for e in real.world.audit.since(0))
    assert _figures(forked) == {**_figures(real), "audit_events": _figures(forked)["audit_events"]}
