"""Scale-out: one process runs the engine, the others follow it in lockstep.

Turned on by MESSAGE_QUEUE (Redis). Every process (a Gunicorn worker, or a server on another
machine) builds the same app; the one that holds the engine lock is the leader: it ticks,
writes the store and publishes each tick (and the commands applied at its boundary) on the bus.
Followers keep a mirror engine that applies exactly those commands and steps exactly those
ticks -- the engine is deterministic, so the mirror is the same world, checked by the audit
head of every tick. Followers answer reads from their mirror and forward commands, steps and
resets to the leader. When the leader dies its lock lapses and a follower takes over from the
store (newest snapshot + commands), with nothing acknowledged lost.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable

from ..sim.commands import Command
from ..sim.errors import CommandRejected
from ..sim.flow_row import FlowRow
from ..store import Store
from ..store.coordination import Bus, LeaderLock, make_lock, namespace_for
from ..store.persistence import Persistence, recover
from .events import RuntimeListener
from .runtime import (
    Conflict,
    ForwardedReset,
    ForwardedTick,
    RuntimeRole,
    SimulationRuntime,
    Submission,
)
from .storage import StoreListener

log = logging.getLogger(__name__)
RENEW_EVERY = 1.0
FORWARD_TIMEOUT = 5.0


class ReplicationKind(str, Enum):
    """What a leader's message to its followers carries."""

    TICK = "tick"  # a tick, with the commands applied at the boundary before it
    BOUNDARY = "boundary"  # commands applied at the current boundary while paused


@dataclass(frozen=True, slots=True)
class Replication:
    """The leader's message to its followers: where the world stands after the commands.

    Its own message, not a flow row: the followers check their mirror against ``head``.
    """

    kind: ReplicationKind
    tick: int
    head: str
    commands: list[dict[str, Any]]

    def publish(self, bus: Bus) -> None:
        """Send it to every follower."""
        if self.kind is ReplicationKind.TICK:
            bus.publish_tick(self.tick, self.commands, self.head)
        else:
            bus.publish_boundary(self.tick, self.commands, self.head)

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> "Replication":
        """Read one off the bus (a reset message is not one)."""
        return cls(
            ReplicationKind(message["type"]), message["tick"], message["head"], message["commands"]
        )


class LeaderLink:
    """A follower's upstream (:class:`~.runtime.Upstream`): asks the leader over the bus."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    def submit(self, kind: str, payload: Any, actor: str) -> Submission:
        """Queue a command on the leader; its answer as a Submission."""
        answer = self._ask("submit", kind=kind, payload=payload, actor=actor)
        return Submission(Command.from_dict(answer["command"]), answer["applied"], answer["tick"])

    def step(self, only_when_paused: bool) -> ForwardedTick:
        """Have the leader step one tick."""
        answer = self._ask("step", only_when_paused=only_when_paused)
        return ForwardedTick(
            answer["tick"], answer["delta"], FlowRow.from_dict(answer["flow"]), answer["events"]
        )

    def reset(self, seed: int | None) -> ForwardedReset:
        """Have the leader reset the world."""
        answer = self._ask("reset", seed=seed)
        return ForwardedReset(answer["tick"], answer["seed"])

    def _ask(self, op: str, **fields: Any) -> dict[str, Any]:
        answer = self.bus.request({"op": op, **fields}, timeout=FORWARD_TIMEOUT)
        if answer is None:
            raise Conflict("the engine process did not answer; try again in a few seconds")
        error = answer.get("error")
        if error and error["kind"] == "rejected":
            raise CommandRejected(error["reason"], error.get("field"), error.get("code", "invalid"))
        if error:
            raise Conflict(error["reason"])
        return answer


class Cluster(RuntimeListener):
    """Leader election and lockstep following for one process's runtime.

    Built with the app (no connection yet) and registered as a listener after the store's
    (``web/app.py``): the leader publishes a tick or a boundary once the store holds it, since
    a follower that falls out of step rebuilds from the store. :meth:`boot` is start-up.
    """

    def __init__(
        self,
        runtime: SimulationRuntime,
        *,
        message_queue: str,
        store: Store,
        recording: StoreListener,
        spawn: Callable[[Callable[[], None]], Any],
        sleep: Callable[[float], Any],
        start_ticking: bool = True,
        lock: LeaderLock | None = None,
    ) -> None:
        self.runtime = runtime
        self.store = store
        self.recording = recording
        self.bus = Bus(message_queue, namespace_for(store.url))
        self.lock = lock or make_lock(message_queue, store.url)
        self.spawn, self.sleep = spawn, sleep
        self.start_ticking = start_ticking
        self.persistence: Persistence | None = None
        self.link = LeaderLink(self.bus)
        self._published_through = 0  # highest command seq already sent to followers
        self._stopped = False

    # ---- start ------------------------------------------------------------------------------

    def boot(self) -> None:
        """Take the lead if nobody has it, else follow; then keep checking the lock."""
        leading = self.lock.acquire()
        self.runtime.role = RuntimeRole.LEADER if leading else RuntimeRole.FOLLOWER
        self.persistence = self.recording.open(writer=leading, flush_ticks=1)
        self.bus.listen(self.bus.commands, self._serve_request)
        self.bus.listen(self.bus.ticks, self._follow)
        if leading:
            self._lead()
        else:
            self._follow_mode()
        self.spawn(self._watch)
        log.info("scale-out: this process is the %s", self.runtime.role)

    def shutdown(self) -> None:
        """Leave the cluster: stop listening, and free the engine lock if this process led."""
        self._stopped = True
        self.bus.close()
        if self.runtime.role == RuntimeRole.LEADER:
            self.lock.release()

    # ---- roles ------------------------------------------------------------------------------

    def _lead(self) -> None:
        runtime = self.runtime
        runtime.lead()
        self._store().read_only = False
        self._published_through = runtime.read(
            lambda engine: max((c.seq for c in engine.commands), default=0)
        )
        if self.start_ticking:
            runtime.start_loop(self.spawn, self.sleep)

    def _store(self) -> Persistence:
        if self.persistence is None:
            raise RuntimeError("boot() attaches the store first")
        return self.persistence

    def _follow_mode(self) -> None:
        self.runtime.follow(self.link)
        self._store().read_only = True  # the leader writes the store

    def _promote(self) -> None:
        """The lock is ours: continue the stored run exactly where the store says."""
        runtime = self.runtime
        started = time.monotonic()
        engine = recover(self._store().store, audit_window=runtime.audit_window, clock=time.time)
        runtime.adopt(engine)
        self._lead()
        log.warning(
            "scale-out: took over the engine at tick %s in %.2f s", engine.tick,
            time.monotonic() - started,
        )  # fmt: skip

    def _demote(self) -> None:
        log.error("scale-out: lost the engine lock; following again")
        self.runtime.stop_loop_only()
        self._follow_mode()

    def _watch(self) -> None:
        """Renew the lock while leading; try to take it while following."""
        while not self._stopped:
            self.sleep(RENEW_EVERY)
            try:
                if self.runtime.role == RuntimeRole.LEADER:
                    if not self.lock.renew():
                        self._demote()
                elif self.lock.acquire():
                    self._promote()
            except Exception:  # noqa: BLE001 - a flaky Redis must not kill the watcher
                log.exception("scale-out: lock check failed")

    # ---- leader: publish ticks, serve forwarded requests ------------------------------------

    def _fresh_commands(self, commands: list[Command]) -> list[dict[str, Any]]:
        fresh = [c.to_dict() for c in commands if c.seq > self._published_through]
        if fresh:
            self._published_through = fresh[-1]["seq"]
        return fresh

    def tick_end(self, result: Any, duration: float) -> None:
        """The leader publishes the tick (the store holds it already)."""
        if self.runtime.role != RuntimeRole.LEADER:
            return
        fresh = self._fresh_commands(result.applied)
        Replication(ReplicationKind.TICK, result.tick, result.head, fresh).publish(self.bus)

    def commands_applied(self, applied: list[Command]) -> None:
        """The leader publishes commands applied while paused (the store holds them already)."""
        if self.runtime.role != RuntimeRole.LEADER:
            return
        commands = self._fresh_commands(applied)
        if commands:
            tick, head = self.runtime.read(lambda e: (e.tick, e.head_hash))
            Replication(ReplicationKind.BOUNDARY, tick, head, commands).publish(self.bus)

    def _serve_request(self, message: dict[str, Any]) -> None:
        if self.runtime.role != RuntimeRole.LEADER:
            return
        reply = message.get("reply")
        if not reply:
            return
        self.bus.answer(reply, self._handle(message))

    def _handle(self, message: dict[str, Any]) -> dict[str, Any]:
        runtime = self.runtime
        try:
            op = message["op"]
            if op == "submit":
                done = runtime.submit(
                    message["kind"], message["payload"], message.get("actor", "user")
                )
                return {"command": done.command.to_dict(), "applied": done.applied,
                        "tick": done.applies_at_tick}  # fmt: skip
            if op == "step":
                result = runtime.step(only_when_paused=bool(message.get("only_when_paused")))
                return {"tick": result.tick, "delta": result.delta, "flow": result.flow.to_dict(),
                        "events": [e.to_dict() for e in result.events]}  # fmt: skip
            if op == "reset":
                engine = runtime.reset(message.get("seed"))
                self.bus.publish_reset()
                return {"tick": engine.tick, "seed": engine.seed}
            return {"error": {"kind": "invalid", "reason": f"unknown operation {op!r}"}}
        except CommandRejected as exc:
            return {"error": {"kind": "rejected", **exc.to_dict()}}
        except Conflict as exc:
            return {"error": {"kind": "conflict", "reason": str(exc)}}

    # ---- follower: forward requests, mirror ticks -------------------------------------------

    def _follow(self, message: dict[str, Any]) -> None:
        runtime = self.runtime
        if runtime.role != RuntimeRole.FOLLOWER:
            return
        if message.get("type") == "reset":
            self._resync("the leader reset the world")
            return
        update = Replication.from_message(message)
        boundary = update.kind is ReplicationKind.BOUNDARY
        if not runtime.mirror(update.tick, update.commands, update.head, boundary=boundary):
            self._resync(f"out of step at tick {update.tick}")

    def _resync(self, why: str) -> None:
        """Rebuild the mirror from the store (the leader writes each tick before publishing)."""
        runtime = self.runtime
        log.info("scale-out: resynchronising from the store (%s)", why)
        engine = recover(self._store().store, audit_window=runtime.audit_window, clock=time.time)
        runtime.adopt(engine)
