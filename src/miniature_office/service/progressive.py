"""Progressive forecasts: futures in looks until the p85 is pinned down to a stated precision.

A forecast's headline is its p85 ("85% of futures done by"). Run in looks of 8, 16, 32, ...
up to a cap, it stops once the p85's own 95% confidence interval (order statistics, see
:func:`..sim.sequential.quantile_interval`) has a half-width within the tolerance: the larger of
``precision_ticks`` and ``precision_share`` of the p85's distance from the start. ``on_look``
hears each look's answer. Futures are numbered from 0 in every look, so a progressive forecast
that ran ``n`` futures has the same futures as a fixed one of ``n``.

:func:`forecast` is the one entry point of the CLI's ``forecast`` command and of the server's
forecast job: it builds the question (open work, the backlog, directives added now), runs the
futures progressively (or exactly ``futures`` of them with ``fixed``) and reports how many ran
and why it stopped.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..sim.engine import Engine
from ..sim.forecast import (
    Forecast,
    Question,
    add_directives,
    current_work,
    keys_of,
    prepare,
    simulate_future,
)
from ..sim.sequential import CAP, PRECISE, looks
from .runner import run_in_looks

#: Default tolerance: the p85's 95% half-width within 5% of its distance from the start, or
#: within 8 ticks (a working day of the default clock), whichever is larger.
PRECISION_SHARE = 0.05
PRECISION_TICKS = 8.0
#: Fewest futures a precision stop rests on (a p85 of fewer is mostly its largest values).
MIN_FUTURES = 32


class ForecastRefused(ValueError):
    """A forecast question that cannot be answered; ``option`` names what to change."""

    def __init__(self, option: str | None, message: str) -> None:
        super().__init__(message)
        self.option = option
        self.message = message


def tolerance(forecast: Forecast, ticks: float, share: float) -> float:
    """The half-width a forecast's p85 must reach (ticks)."""
    value = forecast.to_dict()["completion"]["p85"]["ticks"]
    return max(ticks, share * value) if value is not None else ticks


def rule_text(precision_ticks: float, precision_share: float) -> str:
    """The stopping rule in one sentence, for reports."""
    return (
        f"looks of 8, doubling to the cap; stop once the p85's 95% half-width is within "
        f"max({precision_ticks:g} ticks, {precision_share:.0%} of the p85), from "
        f"{MIN_FUTURES} futures"
    )


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
    progress: Any = None,
    basis: dict[str, Any] | None = None,
    source: str = "",
) -> Forecast:
    """A forecast of at most ``cap`` futures that stops once its p85 is precise enough.

    ``progress(done, cap)`` hears of every future, ``on_look(forecast)`` of every look (the last
    one included); ``forecast.sequential`` says how many futures ran and why it stopped.
    """
    shared = prepare(engine, question, seed)
    per_day = engine.world.settings.ticks_per_day
    outcomes: list[Any] = []
    history: list[dict[str, Any]] = []
    forecast = Forecast(question, seed, per_day, [], dict(basis or {}), source)
    # one warm pool for every look: its workers start and receive the start engine once
    for look in run_in_looks(
        simulate_future, shared, looks(cap), workers=workers, scheduler=scheduler, progress=progress
    ):
        size = look.size
        outcomes += look.results
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
            "enabled": True,
            "cap": cap,
            "futures_run": size,
            "looks": list(history),
            "tolerance_ticks": allowed,
            "rule": rule_text(precision_ticks, precision_share),
            "stopped": stop is not None,
            "stopped_because": stop,
        }
        if on_look is not None:
            on_look(forecast)
        if stop is not None:
            break
    return forecast


def forecast_question(
    engine: Engine,
    added: Sequence[dict[str, Any]] = (),
    *,
    only_added: bool = False,
    horizon: int,
    by_day: int | None = None,
) -> tuple[Question, dict[str, Any]]:
    """The question of a forecast from ``engine`` now, and its basis (what the targets are).

    ``added`` directives are created now through ``create_directive`` (on ``engine``: give it
    a copy you may change). Targets: the directives open now and the arrivals waiting in the
    backlog (unless ``only_added``), plus the added ones. Raises :class:`ForecastRefused` for a
    question without targets or a ``by_day`` not after now, and ``CommandRejected`` for a
    directive the world would refuse.
    """
    check_question(engine, len(added), only_added=only_added, by_day=by_day)
    work = current_work(engine)  # before the added directives open
    ids = add_directives(engine, list(added))
    targets = keys_of(engine, ids)
    basis: dict[str, Any] = {"added": ids}
    if not only_added:
        targets = work["open"] + work["waiting"] + targets
        basis.update(open=len(work["open"]), waiting=len(work["waiting"]))
    horizon_tick = engine.tick + horizon
    by_tick = None
    if by_day:
        by_tick = by_day * engine.world.settings.ticks_per_day
        horizon_tick = max(horizon_tick, by_tick)
    return Question(tuple(targets), engine.tick, horizon_tick, by_tick), basis


def check_question(
    engine: Engine, added: int, *, only_added: bool = False, by_day: int | None = None
) -> None:
    """Raise :class:`ForecastRefused` for a question :func:`forecast_question` cannot ask of
    ``engine`` with ``added`` directives added (reads ``engine`` only)."""
    if only_added and not added:
        raise ForecastRefused("only_added", "only the added directives, but none are added")
    work = current_work(engine)
    if not added and not work["open"] and not work["waiting"]:
        raise ForecastRefused(None, "nothing to forecast: no open directives and none added")
    if by_day:
        by_tick = by_day * engine.world.settings.ticks_per_day
        if by_tick <= engine.tick:
            raise ForecastRefused(
                "by_day",
                f"day {by_day} ends at tick {by_tick}, not after the start (tick {engine.tick})",
            )


def forecast(
    engine: Engine,
    *,
    added: Sequence[dict[str, Any]] = (),
    only_added: bool = False,
    horizon: int,
    by_day: int | None = None,
    futures: int,
    seed: int,
    fixed: bool = False,
    precision_ticks: float = PRECISION_TICKS,
    precision_share: float = PRECISION_SHARE,
    workers: int = 1,
    scheduler: Any = None,
    progress: Any = None,
    on_look: Any = None,
    source: str = "",
) -> Forecast:
    """Answer a forecast question from ``engine`` (changed: the added directives open on it).

    Progressive by default: at most ``futures`` futures, in looks, stopping once the p85 is
    precise enough (:func:`run_progressive_forecast`); ``fixed`` runs exactly ``futures``.
    Either way ``forecast.sequential`` says how many ran and why the run stopped. Raises
    :class:`ForecastRefused` and ``CommandRejected`` as :func:`forecast_question` does.
    """
    question, basis = forecast_question(
        engine, added, only_added=only_added, horizon=horizon, by_day=by_day
    )
    if not fixed:
        return run_progressive_forecast(
            engine,
            question,
            cap=futures,
            seed=seed,
            precision_ticks=precision_ticks,
            precision_share=precision_share,
            workers=workers,
            scheduler=scheduler,
            on_look=on_look,
            progress=progress,
            basis=basis,
            source=source,
        )
    from .experiments import run_forecast

    result = run_forecast(
        engine,
        question,
        futures=futures,
        seed=seed,
        workers=workers,
        progress=progress,
        basis=basis,
        source=source,
        scheduler=scheduler,
    )
    result.sequential = {
        "enabled": False,
        "cap": futures,
        "futures_run": futures,
        "looks": [],
        "rule": f"fixed: {futures} futures",
        "stopped": True,
        "stopped_because": CAP,
    }
    if on_look is not None:
        on_look(result)
    return result


def _days(ticks: int | None, per_day: int) -> str:
    return "?" if ticks is None else f"{ticks / per_day:.1f} days"


def forecast_sentence(report: dict[str, Any]) -> str:
    """``85% chance all 12 are deployed within 6.3 days (by day 57; the p85's 95% CI 5.9 to
    6.8 days), 50% within 4.1 days; from 64 futures, stopped: precise enough``."""
    per_day = report["ticks_per_day"]
    count = report["targets"]["count"]
    completion, horizon = report["completion"], report["horizon"]
    what = "it is deployed" if count == 1 else f"all {count} are deployed"

    def within(p: int) -> str:
        when = completion[f"p{p}"]
        if when["beyond_horizon"]:
            return f"not within the horizon ({horizon['days']} days)"
        return f"within {_days(when['ticks'], per_day)}"

    p85 = completion["p85"]
    text = f"85% chance {what} {within(85)}"
    if not p85["beyond_horizon"]:
        low, high = report["precision"]["p85_ci95_ticks"]
        ci = (
            f"the p85's 95% CI {_days(low, per_day)} to {_days(high, per_day)}"
            if low is not None and high is not None
            else "the p85's 95% CI not yet bounded"
        )
        text += f" (by day {p85['day']}; {ci})"
    text += f", 50% {within(50)}"
    return text + "; " + run_text(report)


def run_text(report: dict[str, Any]) -> str:
    """``from 64 of at most 200 futures, stopped: precise enough`` (how the futures ran)."""
    run = report.get("sequential")
    if not run:
        return f"from {report['futures']} futures"
    if not run.get("enabled", True):
        return f"from {run['futures_run']} futures ({run['rule']})"
    if not run.get("stopped_because"):
        return f"so far {run['futures_run']} of at most {run['cap']} futures (running)"
    return (
        f"from {run['futures_run']} of at most {run['cap']} futures, stopped: "
        f"{run['stopped_because']}"
    )


def report(forecast: Forecast) -> dict[str, Any]:
    """A forecast's report with the sentence a reader sees."""
    answer = forecast.to_dict()
    answer["sentence"] = forecast_sentence(answer)
    return answer


__all__ = [
    "ForecastRefused",
    "check_question",
    "MIN_FUTURES",
    "PRECISION_SHARE",
    "PRECISION_TICKS",
    "forecast",
    "forecast_question",
    "forecast_sentence",
    "report",
    "run_progressive_forecast",
    "run_text",
    "tolerance",
]
