"""Progressive forecasts: looks until the p85 is precise enough, still calibrated."""

from __future__ import annotations

from typing import Any

from miniature_office.runio import read_scenario
from miniature_office.service.progressive import run_progressive_forecast
from miniature_office.sim.engine import Engine
from miniature_office.sim.forecast import (
    Question,
    add_directives,
    current_work,
    fork,
    keys_of,
    run_future,
)
from miniature_office.sim.scenario import with_overrides


def _office() -> tuple[Engine, Question]:
    scenario = with_overrides(read_scenario(None), {"arrivals.rate_per_day": 1.0})
    engine = Engine(scenario, 42, headless=True)
    engine.run(60)
    work = current_work(engine)
    added = add_directives(engine, [{"title": "Urgent", "floor": "python", "priority": 2}])
    targets = tuple(work["open"] + work["waiting"] + keys_of(engine, added))
    return engine, Question(targets, engine.tick, engine.tick + 2000)


def test_a_progressive_forecast_stops_once_its_p85_is_within_the_stated_precision() -> None:
    engine, question = _office()
    looked: list[Any] = []
    precise = {"cap": 400, "seed": 1, "precision_share": 0.10}  # 10% of the p85, <= 400 futures
    forecast = run_progressive_forecast(engine, question, on_look=looked.append, **precise)
    seen = [f.futures for f in looked]
    run = forecast.sequential
    assert run["stopped_because"] == "precise enough"
    assert run["futures_run"] < 400 and seen == [8, 16, 32, 64, 128, 256][: len(seen)]
    assert seen[-1] == forecast.futures == run["futures_run"]
    precision = forecast.to_dict()["precision"]
    assert precision["half_width_ticks"] <= run["tolerance_ticks"]
    # the looks before the stop were not precise enough (an end past the sample: None), or
    # too few to rest on
    assert all(
        look["futures"] < 32
        or look["p85_half_width_ticks"] is None
        or look["p85_half_width_ticks"] > look["tolerance"]
        for look in run["looks"][:-1]
    )


def test_a_progressive_forecast_stays_calibrated_on_held_out_futures() -> None:
    """The stopped forecast's p85 against 200 held-out runs from the same state (salts no
    forecast future uses): within 85 +/- 7 points (the tolerance of the fixed forecast's
    calibration test, tests/sim/test_forecast.py, which explains it)."""
    engine, question = _office()
    forecast = run_progressive_forecast(engine, question, cap=400, seed=3)
    line: Any = forecast.to_dict()["completion"]["p85"]["tick"]
    held_out = [
        run_future(fork(engine, f"held-out:{i}"), question, i).done_tick for i in range(200)
    ]
    assert None not in held_out
    share = sum(1 for tick in held_out if tick <= line) / len(held_out)
    assert abs(share - 0.85) <= 0.07, (forecast.futures, line, share)
