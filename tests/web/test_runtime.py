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
