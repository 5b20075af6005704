"""The runtime's roles: solo, leader, follower (the cluster plugs a follower's upstream in)."""

from __future__ import annotations

from typing import Any

import pytest

from miniature_office.runio import read_scenario
from miniature_office.service.runtime import (
    ForwardedReset,
    ForwardedTick,
    LoopState,
    RuntimeRole,
    SimulationRuntime,
    Submission,
)
from miniature_office.sim.commands import Command, CommandKind


class RecordingUpstream:
    """Stands in for the leader: records what a follower sends and answers it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def submit(self, kind: str, payload: Any, actor: str) -> Submission:
        self.sent.append(("submit", (kind, payload, actor)))
        command = Command(7, CommandKind(kind), payload, actor, submitted_tick=3)
        return Submission(command, False, 4)

    def step(self, only_when_paused: bool) -> ForwardedTick:
        self.sent.append(("step", only_when_paused))
        return ForwardedTick(4, {}, {"tick": 4})

    def reset(self, seed: int | None) -> ForwardedReset:
        self.sent.append(("reset", seed))
        return ForwardedReset(0, seed or 1)


@pytest.fixture
def runtime() -> SimulationRuntime:
    return SimulationRuntime(read_scenario(None), 42, autostart=False)


def test_a_runtime_starts_solo_with_an_idle_loop(runtime: SimulationRuntime) -> None:
    assert runtime.role is RuntimeRole.SOLO and runtime.forward is None
    assert runtime.loop_state is LoopState.IDLE
    assert runtime.role == "solo" and f"{runtime.loop_state}" == "idle"  # same JSON as before


def test_a_follower_sends_submit_step_and_reset_upstream_and_leaves_its_engine_alone(
    runtime: SimulationRuntime,
) -> None:
    upstream = RecordingUpstream()
    runtime.follow(upstream)
    assert runtime.role is RuntimeRole.FOLLOWER and runtime.loop_state is LoopState.FOLLOWING
    done = runtime.submit("set_speed", {"speed": 2}, "token:ops")
    tick = runtime.step(only_when_paused=True)
    reset = runtime.reset(9)
    assert upstream.sent == [
        ("submit", ("set_speed", {"speed": 2}, "token:ops")),
        ("step", True),
        ("reset", 9),
    ]
    assert done.command.seq == 7 and done.applies_at_tick == 4
    assert isinstance(tick, ForwardedTick) and tick.tick == 4
    assert isinstance(reset, ForwardedReset) and reset.seed == 9
    assert runtime.engine.tick == 0 and not runtime.engine.pending  # the leader's world moved
    assert runtime.engine_state()["state"] == "following"


def test_a_promoted_follower_leads_runs_its_own_engine_and_forwards_nothing(
    runtime: SimulationRuntime,
) -> None:
    upstream = RecordingUpstream()
    runtime.follow(upstream)
    runtime.lead()
    assert runtime.role is RuntimeRole.LEADER and runtime.forward is None
    assert runtime.loop_state is LoopState.IDLE  # its loop is started separately
    result = runtime.step()
    assert result.tick == 1 and runtime.engine.tick == 1
    assert upstream.sent == []
