"""SimulationRuntime: its listeners (order, what they see, refusals), shutdown hooks, memory."""

from __future__ import annotations

import pytest

from miniature_office.runio import read_scenario
from miniature_office.service.events import RuntimeListener
from miniature_office.service.runtime import SimulationRuntime, StoreWriteFailed
from miniature_office.web.app import get_runtime, office

from .conftest import build_app


def _runtime() -> SimulationRuntime:
    return SimulationRuntime(read_scenario(None), 42, autostart=False)


def test_the_delta_is_rendered_under_the_lock_before_listeners_run():
    runtime = _runtime()
    seen = []

    class Viewer(RuntimeListener):
        def tick_end(self, result, duration):
            seen.append(result._delta)

    runtime.listen(Viewer())
    runtime.step()
    assert seen and seen[0] is not None and "agents" in seen[0]


def test_shutdown_hooks_run_once_even_when_stop_is_called_twice():
    runtime = _runtime()
    calls = []

    class Hook(RuntimeListener):
        def shutdown(self):
            calls.append("hook")

    runtime.listen(Hook())
    runtime.stop_loop(timeout=0.1)
    runtime.stop_loop(timeout=0.1)  # Gunicorn: worker_int, then worker_exit
    assert calls == ["hook"]


class Journal(RuntimeListener):
    """Writes down every event it hears, with its own name."""

    def __init__(self, name: str, log: list[tuple[str, str]]) -> None:
        self.name, self.log = name, log

    def command_accepted(self, command):
        self.log.append((self.name, "command_accepted"))

    def commands_applied(self, applied):
        self.log.append((self.name, "commands_applied"))

    def tick_start(self, tick):
        self.log.append((self.name, "tick_start"))

    def tick_end(self, result, duration):
        self.log.append((self.name, "tick_end"))

    def reset_prepare(self, engine):
        self.log.append((self.name, "reset_prepare"))

    def reset_done(self, engine):
        self.log.append((self.name, "reset_done"))

    def shutdown(self):
        self.log.append((self.name, "shutdown"))


def test_every_event_reaches_the_listeners_in_registration_order():
    runtime, log = _runtime(), []
    runtime.listen(Journal("first", log), Journal("second", log))
    runtime.listen(Journal("third", log))
    runtime.submit("set_speed", {"speed": 2})  # paused: applied at once
    made = runtime.step()
    runtime.reset()
    runtime.stop_loop(timeout=0.1)
    events = [event for _, event in log]
    assert [name for name, _ in log] == ["first", "second", "third"] * (len(log) // 3)
    tick = (
        ["tick_start", "commands_applied", "tick_end"]
        if made.applied
        else ["tick_start", "tick_end"]
    )
    assert events[::3] == ["command_accepted", "commands_applied", *tick, "reset_prepare",
                           "reset_done", "shutdown"]  # fmt: skip


def test_a_listener_that_refuses_a_command_leaves_nothing_queued():
    runtime = SimulationRuntime(read_scenario(None), 42, autostart=True)

    class Refusing(RuntimeListener):
        def command_accepted(self, command):
            raise OSError(28, "No space left on device")

    runtime.listen(Refusing())
    with pytest.raises(StoreWriteFailed) as refused:
        runtime.submit("set_speed", {"speed": 2})
    assert refused.value.status == 507
    assert runtime.read(lambda e: list(e.pending)) == []


SOLO = ["Broadcaster", "StoreListener", "Metrics", "TokenWatch", "BoardShutdown"]


def test_the_app_registers_its_listeners_in_the_documented_order(app):
    """ARCHITECTURE.md, "The runtime's events": viewers, store, metrics, then the parts that
    only stop at shutdown."""
    assert [type(listener).__name__ for listener in get_runtime(app).listeners] == SOLO


def test_in_scale_out_the_cluster_hears_events_after_the_store():
    """A leader publishes a tick once the store holds it (a follower out of step rebuilds from
    the store). Built only: a scale-out app connects to nothing before start_app."""
    app = build_app(message_queue="redis://127.0.0.1:1/0", start=False)  # no Redis there
    names = [type(listener).__name__ for listener in get_runtime(app).listeners]
    assert names == [*SOLO[:3], "Cluster", *SOLO[3:]]


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


def test_at_shutdown_the_store_checkpoints_before_it_gives_the_writer_lock_up(monkeypatch):
    """Another engine may take the store the moment the lock is free: nothing of this one may
    be written after that."""
    app = build_app(tick_loop=True)  # started: the writer lock is held
    recording, calls = office(app).recording, []
    persistence, writer = recording.persistence, recording._writer
    assert persistence is not None and writer is not None
    checkpoint, release = persistence.checkpoint, writer.release
    monkeypatch.setattr(persistence, "checkpoint", lambda: (calls.append("checkpoint"),
                                                            checkpoint()))  # fmt: skip
    monkeypatch.setattr(writer, "release", lambda: (calls.append("release"), release()))
    get_runtime(app).stop_loop()
    assert calls == ["checkpoint", "release"]
