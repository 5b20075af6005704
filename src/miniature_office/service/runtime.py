"""The simulation runtime: one engine, one lock, the cached snapshot and the tick loop.

Everything the web layer does to the world goes through a :class:`SimulationRuntime`: reads
through ``read``, changes through commands. The parts that follow the world (the store, the
viewers, the metrics, the cluster) are listeners (``service/events.py``); the lock is the
runtime's own, and engines recovered from the store come in through ``attach`` and ``adopt``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Protocol, TypeVar

from ..sim.audit import GENESIS_HASH, ChainVerdict
from ..sim.commands import Command
from ..sim.engine import Engine, TickResult
from ..sim.flow_row import FlowRow
from ..sim.scenario import Scenario
from ..store.persistence import as_pending, rebuild, verify_continued
from . import compat
from .encoding import dumps
from .events import RuntimeListener

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Audit events kept in memory; older ones belong to the store.
AUDIT_WINDOW = 20_000
#: The speed multiplier's range (ticks/s = tick rate x speed). The lower bound keeps a tick
#: at most 1 / (tick rate x SPEED_MIN) seconds away (5 s at the default 2 ticks/s).
SPEED_MIN = 0.1
SPEED_MAX = 100.0
#: The loop never sleeps longer than this at a time, so speed, pause and stop are re-read
#: at least this often (and at least once per tick interval).
MAX_NAP = 0.1
#: No tick for this many tick intervals while running (and at least STALL_FLOOR seconds):
#: the engine is reported as stalled.
STALL_INTERVALS = 3
#: Extra ticks (0.1.0's step while running) waiting for the loop at most.
MAX_EXTRA_TICKS = 100
STALL_FLOOR = 2.0
#: Applied commands the engine keeps in memory once a store holds the log: replays and exports
#: read the store, and the runtime, the cluster and snapshots read only the newest. Without a
#: store (a runtime on its own) the engine keeps them all: replay needs them.
COMMANDS_KEPT = 1_000
#: Back-off between attempts to write the store again after a failure (seconds).
BACKOFF_FIRST, BACKOFF_MAX = 0.25, 5.0


class Conflict(Exception):
    """The request is not allowed in the world's current state (HTTP 409)."""


class StoreWriteFailed(Exception):
    """The store refused a write; nothing of the request was kept (HTTP 507 or 503).

    ``status`` is 507 when the disk (or the database's quota) is full, else 503.
    """

    def __init__(self, message: str, *, full: bool, retry_after: int = 5) -> None:
        super().__init__(message)
        self.full = full
        self.status = 507 if full else 503
        self.retry_after = retry_after


def is_store_error(exc: BaseException) -> bool:
    """True for failures of the database or the disk under it (retrying may help)."""
    from sqlalchemy.exc import SQLAlchemyError

    from ..store.store import StoreError

    return isinstance(exc, (SQLAlchemyError, StoreError, OSError))


def disk_full(exc: BaseException) -> bool:
    """True when ``exc`` says the disk or the database is out of space."""
    import errno

    text = str(getattr(exc, "orig", None) or exc).lower()
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return sqlstate == "53100" or "disk is full" in text or "no space left" in text


def store_failure(exc: BaseException, doing: str) -> StoreWriteFailed:
    """The API error for a failed store write (the database's own message is logged only)."""
    full = disk_full(exc)
    what = "the disk holding the store is full" if full else "the store cannot be written"
    return StoreWriteFailed(f"{what}; {doing} was not done, try again later", full=full)


@dataclass(frozen=True, slots=True)
class Submission:
    """A command the engine accepted; ``applied`` when it ran at once (the world is paused)."""

    command: Command
    applied: bool
    applies_at_tick: int


@dataclass(slots=True)
class ForwardedTick:
    """What a follower answers for a step the leader made (the shape of a TickResult)."""

    tick: int
    delta: dict[str, Any]
    flow: FlowRow
    events: list[dict[str, Any]] = field(default_factory=list)  # the tick's audit events


@dataclass(slots=True)
class ForwardedReset:
    """What a follower answers for a reset the leader made."""

    tick: int
    seed: int


class _Text(str, Enum):
    """A string enum that prints as its value (``enum.StrEnum`` needs Python 3.11; we support
    3.10)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class RuntimeRole(_Text):
    """Which part this process plays: alone, or leader/follower in the scale-out setup."""

    SOLO = "solo"
    LEADER = "leader"
    FOLLOWER = "follower"


class LoopState(_Text):
    """The tick loop's state (/health and the metrics report it)."""

    IDLE = "idle"
    STARTING = "starting"
    RUNNING = "running"
    FOLLOWING = "following"  # a follower: the leader's ticks drive this engine
    STOPPED = "stopped"
    DEAD = "dead"


class Upstream(Protocol):
    """Where a follower sends what changes the world: the process that runs the engine."""

    def submit(self, kind: str, payload: Any, actor: str) -> Submission:
        """Queue a command on the leader."""

    def step(self, only_when_paused: bool) -> ForwardedTick:
        """Advance the leader's world one tick."""

    def reset(self, seed: int | None) -> ForwardedReset:
        """Replace the leader's world."""


class RunRecorder(Protocol):
    """What the runtime needs of an attached store (a store.persistence.Persistence)."""

    @property
    def store(self) -> Store:
        """The store the run is written to."""

    def flush(self) -> None:
        """Write what the store is missing (raises on a store failure)."""

    def attach(self, engine: Engine) -> None:
        """Keep ``engine`` from now on (recovered from the store: nothing of it to write)."""


class SimulationRuntime:
    """Owns the engine and serialises every access to it."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        *,
        tick_rate: float = 2.0,
        autostart: bool = True,
        clock: Callable[[], float] = time.time,
        audit_window: int | None = AUDIT_WINDOW,
    ) -> None:
        self.scenario = scenario
        self.tick_rate = tick_rate
        #: Serialises every access to the engine; only the runtime's own methods take it.
        self._lock = threading.Lock()
        self._clock = clock
        self.audit_window = audit_window
        self._engine = self._build(seed)
        self._engine.world.running = autostart
        self.generation = 0
        #: Who hears the runtime's events, in the order they hear each one (:meth:`listen`).
        self._listeners: tuple[RuntimeListener, ...] = ()
        self._shut_down = False
        self.persistence: RunRecorder | None = None  # set by attach() when a store keeps the run
        self.role = RuntimeRole.SOLO
        #: Set on followers (:meth:`follow`): submit/step/reset go to the engine's process.
        self.forward: Upstream | None = None
        self.loop_state = LoopState.IDLE
        self.last_tick_at: float | None = None
        self.last_tick_duration: float | None = None
        #: Why the loop stopped, or why the store cannot be written (None: no problem).
        self.loop_error: str | None = None
        self.store_problem: str | None = None
        self.clients = 0
        self._stop = threading.Event()
        self._spawn: tuple[Callable[..., Any], Callable[[float], Any]] | None = None
        self._extra_ticks = 0
        self._cache: tuple[tuple[int, ...], bytes, dict[str, Any]] | None = None
        self._verified: tuple[int, int, ChainVerdict] | None = None

    def _build(self, seed: int) -> Engine:
        return Engine(self.scenario, seed, audit_window=self.audit_window, clock=self._clock)

    @property
    def engine(self) -> Engine:
        """The current engine, without the lock: for tests and single-threaded tools. Served
        code reads through :meth:`read` and changes the world through :meth:`submit`."""
        return self._engine

    # ---- listeners --------------------------------------------------------------------------

    def listen(self, *listeners: RuntimeListener) -> None:
        """Register ``listeners``; every event goes to all listeners in registration order.

        A served app registers its listeners once, in one place (``web/app.py``)."""
        self._listeners += listeners

    @property
    def listeners(self) -> tuple[RuntimeListener, ...]:
        """The registered listeners, in the order they hear every event."""
        return self._listeners

    # ---- reads ------------------------------------------------------------------------------

    def read(self, query: Callable[[Engine], T]) -> T:
        """Run ``query`` against the engine while holding the lock.

        The one way to look at the engine from outside (a store write reads the engine too)."""
        with self._lock:
            return query(self._engine)

    def _state_key(self) -> tuple[int, ...]:
        engine = self._engine
        applied = engine.commands[-1].seq if engine.commands else 0  # in seq order
        return (self.generation, engine.tick, engine.next_seq, applied)

    def _forget_stored_commands(self) -> None:
        """Drop the oldest applied commands from memory when a store holds them (the caller
        holds the lock): at a steady command rate the log grew without end, about 300 bytes a
        command (issue 17's memory soak)."""
        commands = self._engine.commands
        if self.persistence is not None and len(commands) > 2 * COMMANDS_KEPT:
            del commands[:-COMMANDS_KEPT]

    def state(self) -> tuple[bytes, dict[str, Any], str]:
        """The world snapshot as JSON bytes, as data and as an ETag, built once per change."""
        with self._lock:
            key = self._state_key()
            cached = self._cache
            if cached is not None and cached[0] == key:
                return cached[1], cached[2], _etag(key)
            snapshot = compat.snapshot(self._engine)
            # 0.1.0's clients read world.name and world.time (the tick).
            snapshot["world"] = {"name": self._engine.scenario.name, "time": snapshot["tick"]}
        body = dumps(snapshot)
        with self._lock:
            if self._state_key() == key:
                self._cache = (key, body, snapshot)
        return body, snapshot, _etag(key)

    def verify_audit(self) -> ChainVerdict:
        """Verify the in-memory chain, checking only the events added since the last call."""
        with self._lock:
            audit = self._engine.world.audit
            seen = self._verified
            if seen is not None and seen[0] == self.generation:
                if seen[1] == audit.count or not seen[2].valid:
                    return seen[2]
            if seen is None or seen[0] != self.generation or seen[1] < audit.first_seq - 1:
                first = audit.get(audit.first_seq)
                start_seq, prev = audit.first_seq, first.prev if first else GENESIS_HASH
                checked_before = 0
            else:
                start_seq, prev, checked_before = seen[1] + 1, seen[2].head, seen[2].checked
            events = audit.since(start_seq - 1)
        verdict = verify_continued(events, prev=prev, start_seq=start_seq, checked=checked_before)
        with self._lock:
            self._verified = (self.generation, start_seq - 1 + len(events), verdict)
        return verdict

    def replay(self, tick: int) -> Engine:
        """A separate engine rebuilt at ``tick`` from the seed and the command log."""
        with self._lock:
            if not 0 <= tick <= self._engine.tick:
                raise Conflict(f"tick must be between 0 and {self._engine.tick}")
            persistence = self.persistence
            if persistence is None:
                seed = self._engine.seed
                commands = [c.to_dict() for c in self._engine.commands]
        if persistence is not None:
            if not self.try_flush():  # the store must hold every command (no-op on a follower)
                raise StoreWriteFailed(
                    "the store cannot be written, so it lacks the latest ticks to replay; "
                    "try again later",
                    full=False,
                )
            # Start from the nearest stored snapshot instead of tick 0.
            return rebuild(persistence.store, tick, include_boundary=False, audit_window=None)[0]
        return Engine.replay(self.scenario, seed, commands, tick, audit_window=None)

    # ---- commands ---------------------------------------------------------------------------

    def submit(self, kind: str, payload: Any, actor: str = "user") -> Submission:
        """Validate and queue a command (raises CommandRejected).

        While the world is paused nothing would apply it, so it is applied at once.
        """
        if self.forward is not None:
            return self.forward.submit(kind, payload, actor)
        with self._lock:
            engine = self._engine
            command = engine.submit(kind, payload, actor)
            try:
                for listener in self._listeners:  # the store writes it before it counts
                    listener.command_accepted(command)
            except Exception as exc:
                # Not durable, so not accepted: take it back out of the queue before anyone
                # (the tick, which needs this lock) could apply it.
                engine.withdraw(command)
                if not is_store_error(exc):
                    raise
                log.error("could not store a %s command: %s", kind, exc)
                self.store_problem = f"writing a command failed: {exc}"[:300]
                raise store_failure(exc, "the command") from None
            applied: list[Command] = []
            if not engine.world.running:
                applied = engine.apply_pending()
                self._forget_stored_commands()
        if applied:
            self._notify_applied(applied)
            return Submission(command, True, command.applied_tick or 0)
        return Submission(command, False, command.submitted_tick + 1)

    def _notify_applied(self, applied: list[Command]) -> None:
        self._tell(lambda listener: listener.commands_applied(applied))

    def _tell(self, event: Callable[[RuntimeListener], None]) -> None:
        """Send ``event`` to every listener; a store failure in one is recorded (the loop
        retries the write later, and /health reports it) and does not keep the others from
        hearing it."""
        for listener in self._listeners:
            try:
                event(listener)
            except Exception as exc:
                if not is_store_error(exc):
                    raise
                log.error("store write failed: %s", exc)
                self.store_problem = f"writing ticks failed: {exc}"[:300]

    def try_flush(self) -> bool:
        """Write what the store is missing; False (and the problem recorded) when it cannot."""
        persistence = self.persistence
        if persistence is None:
            return True
        with self._lock:
            try:
                persistence.flush()
            except Exception as exc:
                if not is_store_error(exc):
                    raise
                self.store_problem = f"writing ticks failed: {exc}"[:300]
                return False
        self.store_problem = None
        return True

    def reset(self, seed: int | None = None) -> Engine | ForwardedReset:
        """Replace the world with a fresh one (same scenario; ``seed`` or the current seed).

        A follower forwards the reset and returns the leader's answer."""
        if self.forward is not None:
            return self.forward.reset(seed)
        with self._lock:
            running = self._engine.world.running
            engine = self._build(self._engine.seed if seed is None else seed)
            engine.world.running = running
            previous = self._engine
            self._replace_engine(engine)
            try:
                # The store records the new run (and keeps the old one) before anyone sees it.
                for listener in self._listeners:
                    listener.reset_prepare(engine)
            except Exception as exc:
                self._replace_engine(previous)
                if not is_store_error(exc):
                    raise
                raise store_failure(exc, "the reset") from None
        for listener in self._listeners:
            listener.reset_done(engine)
        if self.loop_state == LoopState.DEAD and self._spawn is not None:
            self.start_loop(*self._spawn)  # a fresh world gets a fresh loop
        return engine

    def _replace_engine(self, engine: Engine) -> None:
        """Swap the engine (reset or recovery); the caller holds the lock."""
        self._engine = engine
        self.generation += 1
        self._cache = None
        self._verified = None

    def attach(self, recorder: RunRecorder, engine: Engine | None = None) -> None:
        """Start-up: ``recorder`` keeps the run from now on, and ``engine`` (the run it
        recovered or started, if any) becomes the world."""
        with self._lock:
            self.persistence = recorder
            if engine is not None:
                self._adopt(engine)

    def adopt(self, engine: Engine) -> None:
        """Make ``engine``, rebuilt from the store, the world (a follower's promotion or
        resynchronisation); the attached recorder continues from it."""
        with self._lock:
            self._adopt(engine)

    def _adopt(self, engine: Engine) -> None:
        self.scenario = engine.scenario
        self._replace_engine(engine)
        if self.persistence is not None:
            self.persistence.attach(engine)

    # ---- time -------------------------------------------------------------------------------

    def queue_extra_tick(self) -> int:
        """While running: ask the loop for one tick beyond its schedule; the tick it will be.

        At most MAX_EXTRA_TICKS wait at a time (more are ignored: a client cannot queue
        enough work to starve everything else)."""
        with self._lock:
            self._extra_ticks = min(self._extra_ticks + 1, MAX_EXTRA_TICKS)
            return self._engine.tick + self._extra_ticks

    def step(self, *, only_when_paused: bool = False) -> TickResult | ForwardedTick:
        """Advance exactly one tick and tell every listener (raises Conflict when running).

        A follower forwards the step and returns the leader's tick."""
        if self.forward is not None:
            return self.forward.step(only_when_paused)
        with self._lock:
            if only_when_paused and self._engine.world.running:
                raise Conflict("the world is running; pause it before stepping")
            tick = self._engine.tick + 1
            for listener in self._listeners:
                listener.tick_start(tick)
            started = time.perf_counter()
            result = self._engine.step()
            duration = time.perf_counter() - started
            self._forget_stored_commands()
            self.last_tick_at = time.time()
            self.last_tick_duration = duration
            if self._listeners:
                result.delta  # noqa: B018 - render it now: listeners read it after the lock
        if result.applied:
            self._notify_applied(result.applied)
        self._tell(lambda listener: listener.tick_end(result, duration))
        return result

    def mirror(
        self, tick: int, commands: list[dict[str, Any]], head: str, *, boundary: bool
    ) -> bool:
        """A follower repeats the leader's step on its mirror engine (scale-out).

        ``commands`` (stored form) were applied at the boundary before tick ``tick`` (a tick),
        or at the current boundary while paused (``boundary``); the leader's audit head after
        them is ``head``. False when the mirror cannot follow: it missed a message, or it came
        out elsewhere than ``head`` (the caller rebuilds it from the store). The viewers of
        this process hear a stepped tick as ``replicated_tick``.
        """
        stepped = None
        with self._lock:
            engine = self._engine
            applied_through = engine.commands[-1].seq if engine.commands else 0  # in seq order
            fresh = [as_pending(c) for c in commands if c["seq"] > applied_through]
            if boundary and tick == engine.tick:
                engine.apply_replicated(fresh)
            elif not boundary and tick == engine.tick + 1:
                stepped = engine.step_replicated(fresh)
                self.last_tick_at = time.time()
                self._forget_stored_commands()
                if self._listeners:
                    stepped.delta  # noqa: B018 - render it now: listeners read it after the lock
            elif tick <= engine.tick:
                return True  # had it already
            else:
                return False  # a message was missed
            if engine.head_hash != head:
                return False
        if stepped is not None:
            self._replicated(stepped)
        return True

    def _replicated(self, result: TickResult) -> None:
        """Tell the listeners of a tick the mirror stepped (its delta rendered already)."""
        for listener in self._listeners:
            try:
                listener.replicated_tick(result)
            except Exception:  # noqa: BLE001 - showing a tick must not break following
                log.exception("a replicated-tick listener failed")

    def start_loop(
        self,
        spawn: Callable[[Callable[[], None]], Any],
        sleep: Callable[[float], Any],
    ) -> None:
        """Start the background tick loop once (``spawn``/``sleep`` come from Socket.IO)."""
        if self.loop_state in (LoopState.STARTING, LoopState.RUNNING):
            return
        self._spawn = (spawn, sleep)
        self._stop.clear()
        self.loop_state = LoopState.STARTING
        self.loop_error = None
        spawn(lambda: self._loop(sleep))

    def stop_loop_only(self, timeout: float = 5.0) -> None:
        """Stop the tick loop and wait for it (up to ``timeout``); the process goes on."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        while self.loop_state in (LoopState.STARTING, LoopState.RUNNING) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.01)

    def stop_loop(self, timeout: float = 5.0) -> None:
        """Stop the tick loop, then run the shutdown hooks once (flush the store, leave the
        cluster): Gunicorn calls this from worker_int and again from worker_exit."""
        self.stop_loop_only(timeout)
        if self._shut_down:
            return
        self._shut_down = True
        for listener in self._listeners:
            try:
                listener.shutdown()
            except Exception:  # noqa: BLE001 - one failing hook must not stop the others
                log.exception("shutdown hook failed")

    @property
    def loop_alive(self) -> bool:
        """True while the tick loop runs."""
        return self.loop_state == LoopState.RUNNING

    def follow(self, upstream: Upstream) -> None:
        """Become a follower: the leader's ticks drive the engine; changes go ``upstream``."""
        self.role = RuntimeRole.FOLLOWER
        self.forward = upstream
        self.loop_state = LoopState.FOLLOWING

    def lead(self) -> None:
        """Become the leader: this process runs the engine (the loop starts separately)."""
        self.role = RuntimeRole.LEADER
        self.forward = None
        if self.loop_state == LoopState.FOLLOWING:
            self.loop_state = LoopState.IDLE

    def interval(self) -> float:
        """Seconds between ticks at the current speed (clamped to the documented range)."""
        speed = min(max(self._engine.world.speed, SPEED_MIN), SPEED_MAX)
        return 1.0 / (self.tick_rate * speed)

    def engine_state(self, *, driven_by_hand: bool = False) -> dict[str, Any]:
        """What /health reports: state, reason, seconds since the last tick, advice and tick,
        with the world's ``running`` and ``speed`` read at the same moment (under the lock)."""
        with self._lock:
            world = self._engine.world
            return self._engine_state(world.running, world.speed, world.tick, driven_by_hand)

    def _engine_state(
        self, running: bool, speed: float, tick: int, driven_by_hand: bool
    ) -> dict[str, Any]:
        since = None if self.last_tick_at is None else max(0.0, time.time() - self.last_tick_at)
        state, reason, advice = "running" if running else "paused", None, None
        if self.role == RuntimeRole.FOLLOWER or self.loop_state == LoopState.FOLLOWING:
            state = "following"
        elif self.store_problem is not None:
            state, reason = "store_unavailable", self.store_problem
            advice = (
                "free disk space or make the data directory writable; ticking resumes by itself"
            )
        elif self.loop_state in (LoopState.DEAD, LoopState.STOPPED):
            state, reason = "stopped", self.loop_error or f"the tick loop is {self.loop_state}"
            advice = "restart the service; reads keep working"
        elif self.loop_state in (LoopState.STARTING, LoopState.IDLE) and not driven_by_hand:
            state = "starting"
        elif running and not driven_by_hand and self.loop_state == LoopState.RUNNING:
            quiet = since if since is not None else time.monotonic() - self._loop_started
            interval = self.interval()
            limit = max(STALL_INTERVALS * interval, STALL_FLOOR)
            if quiet > limit:
                state = "stalled"
                reason = f"no tick for {quiet:.1f} s (expected one every {interval:.2f} s)"
                advice = "the process is overloaded or blocked; see the logs"
        return {
            "state": state,
            "reason": reason,
            "seconds_since_tick": None if since is None else round(since, 1),
            "advice": advice,
            "tick": tick,
            "running": running,
            "speed": speed,
        }

    def _nap(self, sleep: Callable[[float], Any], seconds: float) -> None:
        """Sleep up to ``seconds`` in naps of at most MAX_NAP, waking early on stop."""
        deadline = time.monotonic() + seconds
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            sleep(min(left, MAX_NAP))

    def _recover_store(self, sleep: Callable[[float], Any]) -> None:
        """Retry the store write with back-off until it succeeds (or the loop is stopped)."""
        delay = BACKOFF_FIRST
        while not self._stop.is_set() and not self.try_flush():
            log.warning("store still unavailable; next attempt in %.2f s", delay)
            self._nap(sleep, delay)
            delay = min(delay * 2, BACKOFF_MAX)
        if self.store_problem is None:
            log.info("store writable again; ticking resumes")

    _loop_started = 0.0

    def _loop(self, sleep: Callable[[float], Any]) -> None:
        """Tick at tick_rate x speed. Speed, pause and stop are re-read at every nap (at most
        MAX_NAP apart), so a new speed takes effect within one nap, never after an old, long
        interval. A store failure does not end the loop: it retries the write with back-off
        and goes on ticking once the store is writable again."""
        self.loop_state = LoopState.RUNNING
        self._loop_started = time.monotonic()
        log.info("tick loop started at %s ticks/s", self.tick_rate)
        due = time.monotonic()
        try:
            while not self._stop.is_set():
                if self.store_problem is not None:
                    self._recover_store(sleep)
                    due = time.monotonic()
                    continue
                running = self._engine.world.running
                if not running and not self._extra_ticks:
                    sleep(0.05)
                    due = time.monotonic()
                    continue
                if self._extra_ticks:
                    # Outside the schedule: the next scheduled tick stays where it was.
                    with self._lock:
                        self._extra_ticks -= 1
                    self.step()
                    sleep(0)  # let requests and other tasks run between queued ticks
                    continue
                interval = self.interval()
                now = time.monotonic()
                if now < due + interval:
                    sleep(min(due + interval - now, MAX_NAP))
                    continue
                self.step()
                due = max(due + interval, time.monotonic() - interval)
        except Exception as exc:  # the loop must report its death, not vanish
            self.loop_state = LoopState.DEAD
            self.loop_error = f"the tick loop died: {type(exc).__name__}: {exc}"[:300]
            log.exception("tick loop died")
            return
        self.loop_state = LoopState.STOPPED
        log.info("tick loop stopped")


def _etag(key: tuple[int, ...]) -> str:
    return "-".join(str(part) for part in key)
