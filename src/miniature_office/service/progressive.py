"""Progressive forecasts: futures in looks until the p85 is pinned down to a stated precision.

A forecast's headline is its p85 ("85% of futures done by"). Run in looks of 8, 16, 32, ...
up to a cap, it stops once the p85's own 95% confidence interval (order statistics, see
:func:`..sim.sequential.quantile_interval`) has a half-width within the tolerance: the larger of
``precision_ticks`` and ``precision_share`` of the p85's distance from the start. ``on_look``
hears each look's answer. Futures are numbered from 0 in every look, so a progressive forecast
that ran ``n`` futures has the same futures as a fixed one of ``n``.
"""

from __future__ import annotations

from typing import Any

from ..sim.engine import Engine
from ..sim.forecast import Forecast, Question, prepare, simulate_future
from ..sim.sequential import CAP, PRECISE, looks
from .runner import Runner

#: Default tolerance: the p85's 95% half-width within 5% of its distance from the start, or
#: within 8 ticks (a working day of the default clock), whichever is larger.
PRECISION_SHARE = 0.05
PRECISION_TICKS = 8.0
#: Fewest futures a precision stop rests on (a p85 of fewer is mostly its largest values).
MIN_FUTURES = 32


def tolerance(forecast: Forecast, ticks: float, share: float) -> float:
    """The half-width a forecast's p85 must reach (ticks)."""
    value = forecast.to_dict()["completion"]["p85"]["ticks"]
    return max(ticks, share * value) if value is not None else ticks


def run_progressive_forecast(
    engine: Engine,
    question: Question,
    *,
    cap: int,
    seed: int,
    precision_ticks: float = PRECISION_TICKS,
    precision_share: float = PRECISION_SHARE,
    workers: int = 1,
    scheduler: Any = None,
    on_look: Any = None,
    basis: dict[str, Any] | None = None,
    source: str = "",
) -> Forecast:
    """A forecast of at most ``cap`` futures that stops once its p85 is precise enough."""
    shared = prepare(engine, question, seed)
    per_day = engine.world.settings.ticks_per_day
    outcomes: list[Any] = []
    history: list[dict[str, Any]] = []
    previous = 0
    forecast = Forecast(question, seed, per_day, [], dict(basis or {}), source)
    for size in looks(cap):
        runner = Runner(
            simulate_future, shared, range(previous, size), workers=workers, scheduler=scheduler
        )
        outcomes += runner.run()
        previous = size
        forecast = Forecast(question, seed, per_day, list(outcomes), dict(basis or {}), source)
        half = forecast.p85_precision()["half_width_ticks"]
        allowed = tolerance(forecast, precision_ticks, precision_share)
        stop = None
        if size >= MIN_FUTURES and half is not None and half <= allowed:
            stop = PRECISE
        elif size >= cap:
            stop = CAP
        history.append({"futures": size, "p85_half_width_ticks": half, "tolerance": allowed})
        forecast.sequential = {
            "cap": cap,
            "futures_run": size,
            "looks": list(history),
            "tolerance_ticks": allowed,
            "rule": (
                f"looks of 8, doubling to the cap; stop once the p85's 95% half-width is within "
                f"max({precision_ticks:g} ticks, {precision_share:.0%} of the p85), from "
                f"{MIN_FUTURES} futures"
            ),
            "stopped_because": stop,
        }
        if on_look is not None:
            on_look(forecast)
        if stop is not None:
            break
    return forecast


__all__ = ["run_progressive_forecast", "tolerance"]
