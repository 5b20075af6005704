"""What the runtime tells the rest of the service, and who listens.

A :class:`RuntimeListener` hears every event of a :class:`~.runtime.SimulationRuntime` it is
registered with (:meth:`~.runtime.SimulationRuntime.listen`); it overrides the events it needs
and inherits a no-op for the others. Every event goes to the listeners in the order they were
registered. A served app registers all of them in one place, ``web/app.py``'s ``_listen``,
which names the order and why (ARCHITECTURE.md, "The runtime's events").

Whether an event is sent holding the runtime's lock is part of its contract (below): a listener
called without the lock that needs the engine asks :meth:`~.runtime.SimulationRuntime.read`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..sim.commands import Command
    from ..sim.engine import Engine, TickResult


class RuntimeListener:
    """One part of the service that follows the world: the store, the viewers, the metrics, the
    cluster. Each method is one event; the base class ignores them all."""

    def command_accepted(self, command: Command) -> None:
        """A command was validated and queued (held lock). Raising refuses it: the runtime takes
        it back out of the queue, so a command the store could not write is never acknowledged.
        """

    def commands_applied(self, applied: list[Command]) -> None:
        """Commands were applied at a tick boundary: a tick's, or at once while paused (no
        lock). A store failure is recorded by the runtime and does not stop the others."""

    def tick_start(self, tick: int) -> None:
        """Tick ``tick`` is about to be computed (held lock)."""

    def tick_end(self, result: TickResult, duration: float) -> None:
        """A tick was computed in ``duration`` seconds; its delta is rendered already (no lock).
        A store failure is recorded by the runtime and does not stop the others."""

    def replicated_tick(self, result: TickResult) -> None:
        """A follower's mirror stepped a tick the leader made (no lock): what this process
        shows its own viewers. Only ``tick_end`` hears the engine's own ticks."""

    def reset_prepare(self, engine: Engine) -> None:
        """A reset built ``engine``; nobody sees it yet (held lock). Raising refuses the reset
        and the old world stays."""

    def reset_done(self, engine: Engine) -> None:
        """The reset's ``engine`` is the world now (no lock)."""

    def shutdown(self) -> None:
        """The process stops (after the tick loop): once, whatever fails in another listener."""
