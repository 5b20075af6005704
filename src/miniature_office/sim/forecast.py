"""Forecasts by Monte Carlo over the model itself.

A forecast starts from a world at some tick (a scenario after a warm-up, or a stored run's
current state), forks it many times with fresh random futures (same state, different draws for
everything that has not happened yet), runs each future headless and reads off two answers:

- when: the tick at which every target directive (the directives open at the start and the
  arrivals waiting in the backlog to be admitted, plus any added) has deployed; reported as
  percentiles over the futures;
- how many: how many target directives, and how many directives in all, deployed by a given
  tick; reported as "85% chance of at least X", the 15th percentile.

A future that has not finished by the horizon counts as "not done by the horizon": it stays in
the percentiles as +infinity, so a percentile that falls on it reads "> horizon" instead of
being dropped (dropping the slow futures would make every forecast optimistic).
"""

from __future__ import annotations

import math
import pickle  # nosec B403 - only our own engine, pickled in-process
from dataclasses import dataclass, field
from typing import Any, Sequence

from mypy_extensions import mypyc_attr

from .engine import Engine
from .flow import FlowTracker
from .flow_row import FlowRow
from .frozen import frozen_state, restore_frozen
from .sequential import quantile_interval
from .snapshot import dump_engine
from .stats import at_least, quantile
from .tasks import DirectiveState

#: Percentiles reported for "when will it be done".
WHEN_PERCENTILES = (50, 85, 95)
#: Confidence of "how many by day D" statements ("85% chance of at least X").
HOW_MANY_CONFIDENCE = 0.85
DEFAULT_HORIZON = 3000


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(frozen=True, slots=True)
class Question:
    """What every future is asked. Ticks are absolute (the world's clock)."""

    targets: tuple[str, ...]  # stable keys of the directives that must deploy
    start_tick: int
    horizon_tick: int  # no future runs past this tick
    by_tick: int | None = None  # count deployments up to this tick ("how many by day D")

    def __getstate__(self) -> dict[str, Any]:
        return frozen_state(self)  # sim/frozen.py: the same pickle in both builds

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_frozen(self, state)


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(frozen=True, slots=True)
class FutureOutcome:
    """One future: when the targets finished (None: not by the horizon) and counts at by_tick."""

    future: int
    done_tick: int | None
    targets_done_by: int | None
    deployed_by: int | None
    ticks_run: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "future": self.future,
            "done_tick": self.done_tick,
            "targets_done_by": self.targets_done_by,
            "deployed_by": self.deployed_by,
            "ticks_run": self.ticks_run,
        }

    def __getstate__(self) -> dict[str, Any]:
        return frozen_state(self)  # sim/frozen.py: the same pickle in both builds

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_frozen(self, state)


def reseed(engine: Engine, salt: str) -> None:
    """Give ``engine`` fresh random futures: the same state, different draws from now on."""
    engine.world.streams.reseed_futures(salt)


def fork(engine: Engine, salt: str, *, headless: bool = True) -> Engine:
    """A copy of ``engine`` at its tick with fresh random futures (``salt`` names them)."""
    copy = Engine.resume(start_state(engine), headless=headless)
    reseed(copy, salt)
    return copy


def branch(
    engine: Engine,
    commands: Sequence[dict[str, Any]] = (),
    *,
    actor: str = "consigliere",
    headless: bool = True,
) -> Engine:
    """A copy of ``engine`` at its boundary with ``commands`` applied there, exactly as the live
    world applies a command submitted at this tick (validated against the world now, applied
    at the boundary before the next tick's proposals and intake), on the world's own random
    streams. Reseed it for a fresh future; unreseeded, it is the live world's own future.

    Raises :class:`~.errors.CommandRejected` for a command the world would refuse.
    """
    copy = Engine.resume(start_state(engine), headless=headless)
    for command in commands:
        copy.submit(command["kind"], command.get("payload") or {}, actor=actor)
    copy.apply_pending()
    return copy


def start_state(engine: Engine) -> dict[str, Any]:
    """The snapshot forks are made from (flow history trimmed: futures do not read it)."""
    state = dump_engine(engine)
    state["flow"]["history"] = state["flow"]["history"][-1:]
    return state


def add_directives(engine: Engine, payloads: Sequence[dict[str, Any]]) -> list[str]:
    """Create directives now, as ``create_directive`` commands; returns their ids.

    Raises :class:`~.errors.CommandRejected` for a payload the command would refuse.
    """
    for payload in payloads:
        engine.submit("create_directive", payload, actor="forecast")
    before = set(engine.world.board.directives)
    engine.apply_pending()
    return [d for d in engine.world.board.directives if d not in before]


def current_work(engine: Engine) -> dict[str, list[str]]:
    """The work not deployed yet, by stable key: directives open now (``open``) and arrivals
    waiting in the backlog to be admitted (``waiting``). Keys, not ids: a waiting arrival has
    no directive id until it is admitted, and its key stays the same when it is."""
    world = engine.world
    return {
        "open": [
            d.key for d in world.board.directives.values() if d.state is not DirectiveState.DEPLOYED
        ],
        "waiting": [arrival.key for arrival in world.board.backlog],
    }


def keys_of(engine: Engine, directive_ids: Sequence[str]) -> list[str]:
    """The stable keys of the directives ``directive_ids``."""
    return [engine.world.board.directives[d].key for d in directive_ids]


def run_future(engine: Engine, question: Question, future: int) -> FutureOutcome:
    """Step a forked engine until its targets deploy (and ``by_tick`` passed) or the horizon."""
    world = engine.world
    remaining = set(question.targets)
    deployed_at_start = world.totals["directives_deployed"]
    done_tick = question.start_tick if not remaining else None
    targets_done_by = deployed_by = None
    by_tick = question.by_tick
    total = len(question.targets)
    while True:
        tick = engine.tick
        if by_tick is not None and tick == by_tick:
            targets_done_by = total - len(remaining)
            deployed_by = world.totals["directives_deployed"] - deployed_at_start
        finished = done_tick is not None and (by_tick is None or tick >= by_tick)
        if finished or tick >= question.horizon_tick:
            break
        result = engine.step()
        if remaining and result.flow.deployed_directives_per_tick:
            remaining -= _deployed_keys(world)
            if not remaining:
                done_tick = engine.tick
    return FutureOutcome(
        future, done_tick, targets_done_by, deployed_by, engine.tick - question.start_tick
    )


def _deployed_keys(world: Any) -> set[str]:
    # Checked on every tick that deployed something, so a directive is seen deployed before
    # retention prunes it from the registry.
    return {d.key for d in world.board.directives.values() if d.state is DirectiveState.DEPLOYED}


# ---- many futures -----------------------------------------------------------------------------


class DeploymentCount(FlowTracker):
    """The flow tracker of a forecast's futures: each tick's row carries only the tick and how
    many directives deployed in it, which is all :func:`run_future` reads.

    Flow figures describe a run; no rule reads them (no draw, transition or dispatch depends
    on a queue length, a stage charge or the bottleneck), so a future with this tracker draws,
    works and deploys exactly as it would with :class:`~.flow.FlowTracker`, for about a fifth
    less work per tick. ``tests/sim/test_forecast.py`` runs futures both ways and compares
    every audit event's hash. Previews keep the full tracker: they report bottlenecks and the
    stage an added directive spent longest in. It is a :class:`~.flow.FlowTracker` so that it
    fits the engine's typed ``flow`` in the compiled build too.
    """

    def __init__(self) -> None:
        super().__init__(history=1, samples=1)

    def record(self, world: Any, deployed: list[str]) -> FlowRow:
        return FlowRow(tick=world.tick, deployed_directives_per_tick=len(deployed))


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(frozen=True, slots=True)
class ForecastInput:
    """What a worker process receives once per forecast (not once per future): the start
    engine, pickled once, and the question. Each future unpickles its own copy (about ten
    times faster than decoding a snapshot) and reseeds it."""

    engine: bytes
    question: Question
    seed: int

    def __getstate__(self) -> dict[str, Any]:
        return frozen_state(self)  # sim/frozen.py: the same pickle in both builds

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_frozen(self, state)


def prepare(engine: Engine, question: Question, seed: int) -> ForecastInput:
    """Freeze ``engine`` as the start of a forecast (headless; the engine itself is untouched)."""
    start = Engine.resume(start_state(engine), headless=True)
    start.flow = DeploymentCount()  # futures read no flow figure
    return ForecastInput(pickle.dumps(start, protocol=pickle.HIGHEST_PROTOCOL), question, seed)


def future_salt(seed: int, future: int) -> str:
    """The stream name of future ``future`` of a forecast with ``seed``."""
    return f"forecast:{seed}:{future}"


def simulate_future(shared: ForecastInput, future: int) -> FutureOutcome:
    """Run future number ``future`` of a forecast (the job runner's unit of work)."""
    # The bytes were pickled by prepare() in this program, never read from outside.
    engine: Engine = pickle.loads(shared.engine)  # nosec B301
    reseed(engine, future_salt(shared.seed, future))
    return run_future(engine, shared.question, future)


def _when(values: list[float], q: float, question: Question, per_day: int) -> dict[str, Any]:
    value = quantile(values, q)
    if value is None or math.isinf(value):
        return {"ticks": None, "days": None, "tick": None, "day": None, "beyond_horizon": True}
    ticks = int(value) - question.start_tick
    return {
        "ticks": ticks,
        "days": round(ticks / per_day, 2),
        "tick": int(value),
        "day": _day(int(value), per_day),
        "beyond_horizon": False,
    }


def _day(tick: int, per_day: int) -> int:
    """The calendar day a tick falls in (day 1 holds ticks 0 .. per_day - 1)."""
    return tick // per_day + 1


@dataclass(slots=True)
class Forecast:
    """The answers, with the basis they were computed on."""

    question: Question
    seed: int
    ticks_per_day: int
    outcomes: list[FutureOutcome]
    #: How the targets break down: ``open``/``waiting`` counts and ``added`` directive ids.
    basis: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    #: How a progressive forecast ran (looks, why it stopped); empty for a fixed one.
    sequential: dict[str, Any] = field(default_factory=dict)

    @property
    def futures(self) -> int:
        return len(self.outcomes)

    def completion_ticks(self) -> list[float]:
        """Absolute finishing tick per future; +inf where it did not finish by the horizon."""
        return [math.inf if o.done_tick is None else float(o.done_tick) for o in self.outcomes]

    def p85_interval(self) -> tuple[float, float]:
        """The 95% order-statistic CI of the p85 completion tick (absolute; may be +inf)."""
        return quantile_interval(self.completion_ticks(), 0.85)

    def p85_precision(self) -> dict[str, Any]:
        """How well the futures pin the p85 down: its 95% CI, in ticks from the start."""
        low, high = self.p85_interval()
        start = self.question.start_tick

        def rel(value: float) -> int | None:
            return None if math.isinf(value) else int(value) - start

        half = None if math.isinf(low) or math.isinf(high) else (high - low) / 2
        return {
            "p85_ci95_ticks": [rel(low), rel(high)],
            "half_width_ticks": half,
            "method": "order statistics (binomial, normal approximation)",
        }

    def to_dict(self) -> dict[str, Any]:
        q, per_day = self.question, self.ticks_per_day
        finished = [o for o in self.outcomes if o.done_tick is not None]
        completion = self.completion_ticks()
        result: dict[str, Any] = {
            "source": self.source,
            "seed": self.seed,
            "futures": self.futures,
            "ticks_per_day": per_day,
            "start": {"tick": q.start_tick, "day": _day(q.start_tick, per_day)},
            "horizon": {
                "tick": q.horizon_tick,
                "ticks": q.horizon_tick - q.start_tick,
                "days": round((q.horizon_tick - q.start_tick) / per_day, 2),
            },
            "targets": {"count": len(q.targets), **self.basis, "keys": list(q.targets)},
            "completion": {
                **{f"p{p}": _when(completion, p, q, per_day) for p in WHEN_PERCENTILES},
                "finished_by_horizon": len(finished),
            },
            "precision": self.p85_precision(),
        }
        if self.sequential:
            result["sequential"] = self.sequential
        if q.by_tick is not None:
            result["by"] = self._how_many()
        return result

    def _how_many(self) -> dict[str, Any]:
        q, per_day = self.question, self.ticks_per_day
        assert q.by_tick is not None  # nosec B101 - only called when the question has one
        targets = [float(o.targets_done_by or 0) for o in self.outcomes]
        deployed = [float(o.deployed_by or 0) for o in self.outcomes]
        everything = sum(1 for o in self.outcomes if o.targets_done_by == len(q.targets))
        return {
            "tick": q.by_tick,
            "day": q.by_tick // per_day,
            "confidence": HOW_MANY_CONFIDENCE,
            "targets_done_at_least": _int(at_least(targets, HOW_MANY_CONFIDENCE)),
            "targets_done_median": _int(quantile(targets, 50)),
            "all_targets_done_share": round(everything / max(1, self.futures), 4),
            "deployed_at_least": _int(at_least(deployed, HOW_MANY_CONFIDENCE)),
            "deployed_median": _int(quantile(deployed, 50)),
        }


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


__all__ = [
    "DEFAULT_HORIZON",
    "DeploymentCount",
    "Forecast",
    "ForecastInput",
    "FutureOutcome",
    "Question",
    "add_directives",
    "branch",
    "fork",
    "current_work",
    "keys_of",
    "prepare",
    "run_future",
    "simulate_future",
    "start_state",
]
