"""Wiring between a running engine and the store: durable commands, batched ticks, snapshots,
and recovery on start (newest snapshot + the commands after it)."""

from __future__ import annotations

import logging
import time
from itertools import takewhile
from typing import Any, Callable, Iterable

from ..sim.audit import GENESIS_HASH, AuditEvent, ChainVerdict, verify_chain
from ..sim.commands import Command
from ..sim.engine import Engine, TickResult
from ..sim.scenario import Scenario
from ..sim.snapshot import dump_engine
from .store import Store, StoreError, truncated

log = logging.getLogger(__name__)


class Persistence:
    """Keeps the store in step with one engine.

    ``flush_ticks``/``flush_seconds`` bound how much computed-but-unwritten work a crash can
    cost (it is recomputed on recovery); commands are always written before they are
    acknowledged.
    """

    def __init__(
        self,
        store: Store,
        *,
        snapshot_every: int = 2000,
        flush_ticks: int = 200,
        flush_seconds: float = 0.5,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.snapshot_every = snapshot_every
        self.flush_ticks = flush_ticks
        self.flush_seconds = flush_seconds
        self._monotonic = monotonic
        self.engine: Engine | None = None
        self._written_seq = 0
        self._applied: dict[int, Command] = {}
        self._unflushed_ticks = 0
        self._last_flush = monotonic()
        self._verified: tuple[int, str, int] = (0, GENESIS_HASH, 0)
        #: A follower in the scale-out setup reads the store the leader writes: no writes.
        self.read_only = False

    # ---- start ------------------------------------------------------------------------------

    def open(self, scenario: Scenario, seed: int, **engine_kwargs: Any) -> Engine:
        """Recover the stored run, or start a new one when the store is empty."""
        if self.store.run_info() is None:
            return self.start(Engine(scenario, seed, **engine_kwargs))
        engine = recover(self.store, **engine_kwargs)
        self.attach(engine)
        return engine

    def start(self, engine: Engine) -> Engine:
        """Record ``engine`` as a new run. A run already stored is kept (a reset starts a new
        run beside it), and the new chain's run.started event names it and its head."""
        if self.read_only:
            raise StoreError("a follower does not start runs; the engine process does")
        run, previous_head = self.store.next_run()
        if previous_head is not None:
            link_run(engine, run, run - 1, previous_head)
        self.store.start_run(
            engine.scenario.to_dict(), engine.seed, list(engine.world.audit),
            linked=previous_head is not None,
        )  # fmt: skip
        self.attach(engine)
        return engine

    def attach(self, engine: Engine) -> None:
        self.engine = engine
        self._verified = (0, GENESIS_HASH, 0)
        self._written_seq = engine.world.audit.count
        self._applied.clear()
        self._unflushed_ticks = 0

    # ---- events from the runtime ------------------------------------------------------------

    def command_accepted(self, command: Command) -> None:
        if not self.read_only:
            self.store.append_command(command)

    def commands_applied(self, commands: list[Command]) -> None:
        """Commands applied at a boundary while paused: write them (and their events) now."""
        for command in commands:
            self._applied[command.seq] = command
        self.flush()

    def tick(self, result: TickResult) -> None:
        for command in result.applied:
            self._applied[command.seq] = command
        self._unflushed_ticks += 1
        due_snapshot = self.snapshot_every and result.tick % self.snapshot_every == 0
        audit = self.engine.world.audit if self.engine is not None else None
        window = getattr(getattr(audit, "_events", None), "maxlen", None)
        due_flush = (
            self._unflushed_ticks >= self.flush_ticks
            or self._monotonic() - self._last_flush >= self.flush_seconds
            # Before the in-memory window drops events nobody has written yet.
            or (window is not None and audit.count - self._written_seq >= window // 2)
        )
        if due_flush or due_snapshot:
            self.flush()
        if due_snapshot:
            self.snapshot()

    def flush(self) -> None:
        """Write every event and applied command not yet in the store, in one transaction."""
        engine = self.engine
        if engine is None or self.read_only:
            return
        events = engine.world.audit.since(self._written_seq)
        applied = sorted(self._applied.values(), key=lambda c: c.seq)
        if events and events[0].seq != self._written_seq + 1:
            raise StoreError(
                f"audit events {self._written_seq + 1}..{events[0].seq - 1} left memory before "
                "they were written; flush more often than the audit window fills"
            )
        self.store.record(engine.tick, applied, events)
        if events:
            self._written_seq = events[-1].seq
        self._applied.clear()
        self._unflushed_ticks = 0
        self._last_flush = self._monotonic()

    def verify(self, *, flush: bool = True) -> ChainVerdict:
        """Verify the stored chain, walking only what was added since the last call.

        Safe while the tick loop writes: the run's recorded head and count are read first (a
        flush writes events, head and count in one transaction, so every event up to that
        count is stored) and the walk stops there; events written meanwhile are checked on
        the next call.
        """
        if flush:
            self.flush()
        info = self.store.run_info()
        recorded = (info["count"], info["head"]) if info and info["head"] else None
        seq, head, checked = self._verified
        events: Iterable[Any] = self.store.iter_events(after_seq=seq)
        if recorded is not None:
            events = takewhile(lambda event: event["seq"] <= recorded[0], events)
        verdict = verify_continued(events, prev=head, start_seq=seq + 1, checked=checked)
        if not verdict.valid:
            return verdict
        self._verified = (seq + verdict.checked - checked, verdict.head, verdict.checked)
        # Events verified on an earlier call may have been removed since: the stored chain
        # must still hold every event from the first to the highest, and reach this walk's end.
        top, last_hash, rows = self.store.tail()
        if (
            rows != top
            or top < verdict.checked
            or (top == verdict.checked and top and last_hash != verdict.head)
        ):
            self._verified = (0, GENESIS_HASH, 0)
            reason = (
                f"{rows} events stored (last {top}), but {verdict.checked} were verified, "
                f"ending at {verdict.head[:12]}"
            )
            return truncated(verdict, reason)
        if recorded is not None and recorded != (verdict.checked, verdict.head):
            return truncated(verdict, f"the chain ends at event {verdict.checked} "
                             f"({verdict.head[:12]}) but the store recorded {recorded[0]} "
                             f"events ending at {recorded[1][:12]}")  # fmt: skip
        return verdict

    def checkpoint(self) -> None:
        """On a clean stop: write everything and snapshot the exact tick.

        A restart then loads that snapshot and replays nothing, so a run stopped cleanly
        survives an upgrade that changes how the simulation behaves.
        """
        self.flush()
        self.snapshot()

    def snapshot(self) -> None:
        engine = self.engine
        if engine is not None and not self.read_only:
            self.store.save_snapshot(engine.tick, dump_engine(engine))


def verify_continued(
    events: Iterable[AuditEvent], *, prev: str, start_seq: int, checked: int
) -> ChainVerdict:
    """Verify ``events`` as the continuation of a chain already verified up to ``prev``.

    ``checked`` events were verified before; the verdict counts them too. The runtime (the
    chain in memory) and :meth:`Persistence.verify` (the stored chain) both walk only what was
    added since their last call this way.
    """
    partial = verify_chain(events, start_prev=prev, start_seq=start_seq)
    return ChainVerdict(
        partial.valid,
        checked + partial.checked,
        partial.head,
        partial.first_broken,
        partial.reason,
    )


def rebuild(
    store: Store, until_tick: int, *, include_boundary: bool, **engine_kwargs: Any
) -> tuple[Engine, list[dict[str, Any]]]:
    """The stored run at ``until_tick``: the newest snapshot at or before it, then the ticks
    and commands after it. Returns the engine and the command log it was built from."""
    info = store.run_info()
    if info is None:
        raise StoreError("the store holds no run to recover")
    snapshot = store.latest_snapshot(at_or_before=until_tick)
    if snapshot is not None:
        engine = Engine.resume(snapshot[1], **engine_kwargs)
        applied_through = snapshot[1]["engine"]["applied_through"]
    else:
        scenario = Scenario.model_validate(info["scenario"])
        engine = Engine(scenario, info["seed"], **engine_kwargs)
        if info["linked"]:
            link_run(engine, info["run_id"], info["previous_run"], info["previous_head"])
        applied_through = 0
    log_rows = store.commands_log()
    after = [Command.from_dict(row) for row in log_rows if row["seq"] > applied_through]
    engine.fast_forward(after, until_tick, include_boundary=include_boundary)
    return engine, log_rows


def link_run(engine: Engine, run: int, previous_run: int, previous_head: str) -> None:
    """Record in a new run's chain (at tick 0, after the world's genesis events) which run it
    follows and that run's head, so the runs of one store form a verifiable sequence."""
    engine.world.audit.append(
        0, "run.started", "system", f"run:{run}",
        {"run": run, "previous_run": previous_run, "previous_head": previous_head},
    )  # fmt: skip


def recover(store: Store, **engine_kwargs: Any) -> Engine:
    """Rebuild the stored run to continue it: at the stored tick, with the stored audit head;
    commands that were acknowledged but never applied are queued again, in order."""
    info = store.run_info()
    if info is None:
        raise StoreError("the store holds no run to recover")
    engine, log_rows = rebuild(store, info["tick"], include_boundary=True, **engine_kwargs)
    if info["head"] and engine.head_hash != info["head"]:
        raise StoreError(
            f"replaying the stored commands gave audit head {engine.head_hash[:12]} at tick "
            f"{engine.tick}, but the store says {info['head'][:12]}: the database was altered, "
            "or the run was written by another version that did not stop cleanly (a clean stop "
            "snapshots the last tick, so nothing needs replaying). Restore a backup, start the "
            "version that wrote it, stop it cleanly, then upgrade"
        )
    engine.adopt_log(Command.from_dict(r) for r in log_rows)
    return engine


def as_pending(row: dict[str, Any]) -> Command:
    """A logged command as it was before it was applied (to apply it again in a replay)."""
    return Command.from_dict(row).as_pending()
