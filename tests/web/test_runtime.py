"""SimulationRuntime: when listeners see a tick's delta, and shutdown hooks."""

from __future__ import annotations

from miniature_office.runio import read_scenario
from miniature_office.service.runtime import SimulationRuntime


def _runtime() -> SimulationRuntime:
    return SimulationRuntime(read_scenario(None), 42, autostart=False)


def test_the_delta_is_rendered_under_the_lock_before_listeners_run():
    runtime = _runtime()
    seen = []
    runtime.on_tick.append(lambda result, _: seen.append(result._delta))
    runtime.step()
    assert seen and seen[0] is not None and "agents" in seen[0]


def test_shutdown_hooks_run_once_even_when_stop_is_called_twice():
    runtime = _runtime()
    calls = []
    runtime.on_shutdown.append(lambda: calls.append("hook"))
    runtime.stop_loop(timeout=0.1)
    runtime.stop_loop(timeout=0.1)  # Gunicorn: worker_int, then worker_exit
    assert calls == ["hook"]


def test_with_a_store_the_engine_keeps_only_the_newest_applied_commands(runtime, monkeypatch):
    """The store holds the command log, so memory does not grow with every command."""
    from miniature_office.service import runtime as module

    monkeypatch.setattr(module, "COMMANDS_KEPT", 5)
    assert runtime.persistence is not None
    for n in range(14):
        runtime.submit("set_speed", {"speed": 1 + n % 3})  # paused: applied at once
    kept = runtime.read(lambda e: [c.seq for c in e.commands])
    assert len(kept) <= 10 and kept[-1] == 14
    assert kept == list(range(kept[0], 15))  # the newest, in order
    before = runtime.state()[2]
    runtime.submit("set_speed", {"speed": 3})
    assert runtime.state()[2] != before  # the snapshot still follows every applied command
    runtime.step()
    replayed = runtime.replay(runtime.read(lambda e: e.tick))  # from the store, whole
    assert replayed.world.speed == runtime.read(lambda e: e.world.speed) == 3
