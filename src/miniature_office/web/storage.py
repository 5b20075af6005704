"""Attach the store to a runtime: the world survives restarts (issue: durable state).

The runtime keeps calling its callbacks; this module turns them into store writes, each under
the runtime's lock so a write never races a change to the engine.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from ..store import Store
from ..store.location import database_url
from ..store.persistence import Persistence
from .runtime import SimulationRuntime

log = logging.getLogger(__name__)


def attach_store(runtime: SimulationRuntime, url: str | None, data_dir: str | Path) -> Persistence:
    """Open the store (raises StoreError), recover or start the run, and wire the callbacks."""
    store = Store(database_url(url, data_dir=data_dir))
    persistence = Persistence(store)
    with runtime.lock:
        running = runtime.engine.world.running
        seed = runtime.engine.seed
        engine = persistence.open(
            runtime.scenario, seed, audit_window=runtime.audit_window, clock=time.time
        )
        if engine.tick or engine.commands:
            log.info(
                "recovered the stored run at tick %s (head %s)", engine.tick, engine.head_hash[:12]
            )
        else:
            engine.world.running = running
        runtime.scenario = engine.scenario
        runtime.replace_engine(engine)
        runtime.persistence = persistence

    def locked(action):
        def run(*args):
            with runtime.lock:
                action(*args)

        return run

    runtime.on_command_accepted.append(persistence.command_accepted)  # already under the lock
    runtime.on_commands_applied.append(locked(persistence.commands_applied))
    runtime.on_tick.append(locked(lambda result, _duration: persistence.tick(result)))
    runtime.on_reset.append(locked(persistence.start))
    runtime.on_shutdown.append(locked(persistence.flush))
    return persistence
