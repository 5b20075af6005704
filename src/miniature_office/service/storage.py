"""Attach the store to a runtime: the world survives restarts.

:class:`StoreListener` turns the runtime's events into store writes, each under the runtime's
lock so a write never races a change to the engine. Only the process that runs the engine
writes: a follower in the scale-out setup has a read-only Persistence.
"""

from __future__ import annotations

import logging
import time

from ..sim.commands import Command
from ..sim.engine import Engine, TickResult
from ..store import Store
from ..store.location import normalise
from ..store.persistence import Persistence, recover
from ..store.writer import WriterLock
from .config import Config, cli_config
from .events import RuntimeListener
from .runtime import SimulationRuntime

log = logging.getLogger(__name__)


def open_store(config: Config | None = None, url: str | None = None) -> Store:
    """The store at ``url``, else the configured one (the server's and the CLI's default).

    Raises StoreError (or ConfigError) with a clear message when it is unusable. The CLI passes
    no ``config``: it reads the server's own settings, without the server-only secret key.
    """
    if url:
        return Store(normalise(url))
    return Store((config or cli_config()).store_url())


class StoreListener(RuntimeListener):
    """The store's side of the runtime's events: commands written before they count, ticks in
    batches, a reset's new run, and a checkpoint when the process stops.

    Built with the app, it writes nothing until :meth:`open` attaches the run at start-up.
    Every write reads the engine, so it runs under the runtime's lock (:meth:`read`).
    """

    def __init__(self, runtime: SimulationRuntime, store: Store) -> None:
        self.runtime = runtime
        self.store = store
        self.persistence: Persistence | None = None
        self._writer: WriterLock | None = None

    def open(
        self, *, writer: bool = True, exclusive: bool = False, flush_ticks: int | None = None
    ) -> Persistence:
        """Start-up: recover the stored run (or, as the writer, start one) and attach it.

        ``exclusive``: first take the store's writer lock (store/writer.py), so a second engine
        on the same store refuses to start (StoreError naming the holder) before it reads or
        writes anything; the lock is released at shutdown, after the checkpoint. A follower
        (``writer`` false) reads the run the leader writes.
        """
        if exclusive:
            lock = WriterLock(self.store)
            lock.acquire()
            self._writer = lock
        runtime = self.runtime
        persistence = Persistence(self.store)
        persistence.read_only = not writer
        if flush_ticks is not None:
            persistence.flush_ticks = flush_ticks
        seed, running = runtime.read(lambda engine: (engine.seed, engine.world.running))
        engine = None
        if writer:
            engine = persistence.open(
                runtime.scenario, seed, audit_window=runtime.audit_window, clock=time.time
            )
            if not (engine.tick or engine.commands):
                engine.world.running = running
        elif persistence.store.run_info() is not None:
            engine = recover(persistence.store, audit_window=runtime.audit_window, clock=time.time)
        if engine is not None and engine.tick:
            log.info("recovered the stored run at tick %s (head %s)", engine.tick,
                     engine.head_hash[:12])  # fmt: skip
        runtime.attach(persistence, engine)
        self.persistence = persistence
        return persistence

    # A follower's Persistence is read-only (set by the cluster): these write nothing there.

    def command_accepted(self, command: Command) -> None:
        if self.persistence is not None:
            self.persistence.command_accepted(command)  # the runtime holds the lock

    def commands_applied(self, applied: list[Command]) -> None:
        persistence = self.persistence
        if persistence is not None:
            self.runtime.read(lambda _engine: persistence.commands_applied(applied))

    def tick_end(self, result: TickResult, duration: float) -> None:
        persistence = self.persistence
        if persistence is not None:
            self.runtime.read(lambda _engine: persistence.tick(result))

    def reset_prepare(self, engine: Engine) -> None:
        if self.persistence is not None:
            self.persistence.start(engine)  # the runtime holds the lock; may refuse the reset

    def shutdown(self) -> None:
        """Checkpoint, then give up the writer lock: no other engine writes before the end."""
        persistence = self.persistence
        try:
            if persistence is not None:
                self.runtime.read(lambda _engine: persistence.checkpoint())
        finally:
            if self._writer is not None:
                self._writer.release()
                self._writer = None
