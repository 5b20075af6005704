"""Attach the store to a runtime: the world survives restarts.

The runtime keeps calling its callbacks; this module turns them into store writes, each under
the runtime's lock so a write never races a change to the engine. Only the process that runs
the engine writes: a follower in the scale-out setup has a read-only Persistence.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

from ..store import Store
from ..store.location import normalise
from ..store.persistence import Persistence, recover
from .config import Config, cli_config
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


def attach_store(
    runtime: SimulationRuntime,
    store: Store,
    *,
    writer: bool = True,
    flush_ticks: int | None = None,
) -> Persistence:
    """Recover (or, as the writer, start) the stored run and wire the callbacks."""
    persistence = Persistence(store)
    persistence.read_only = not writer
    if flush_ticks is not None:
        persistence.flush_ticks = flush_ticks
    with runtime.lock:
        engine = None
        if writer:
            running = runtime.engine.world.running
            engine = persistence.open(
                runtime.scenario, runtime.engine.seed, audit_window=runtime.audit_window,
                clock=time.time,
            )  # fmt: skip
            if not (engine.tick or engine.commands):
                engine.world.running = running
        elif persistence.store.run_info() is not None:
            engine = recover(persistence.store, audit_window=runtime.audit_window, clock=time.time)
            persistence.attach(engine)
        if engine is not None:
            if engine.tick:
                log.info("recovered the stored run at tick %s (head %s)", engine.tick,
                         engine.head_hash[:12])  # fmt: skip
            runtime.scenario = engine.scenario
            runtime.replace_engine(engine)
        runtime.persistence = persistence

    def locked(action: Callable[..., Any]) -> Callable[..., None]:
        def run(*args: Any) -> None:
            with runtime.lock:
                action(*args)

        return run

    # A follower's Persistence is read-only (set by the cluster): these write nothing there.
    runtime.on_command_accepted.append(persistence.command_accepted)  # already under the lock
    runtime.on_commands_applied.append(locked(persistence.commands_applied))
    runtime.on_tick.append(locked(lambda result, _duration: persistence.tick(result)))
    runtime.on_reset_prepare.append(persistence.start)  # under the lock; may refuse the reset
    runtime.on_shutdown.append(locked(persistence.checkpoint))
    return persistence
