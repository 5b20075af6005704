"""The calibrated office: a one-floor scenario whose work arrives at a history's pace.

Calendar time maps to ticks through ``ticks_per_day`` (every day of the week is a working day
for the office: open-source work arrives on weekends too). Items become scripted directives at
their arrival tick, so no simulation rule changes: the office processes them by the rules of
any other scenario (design, build, verification, documentation, votes, deployment).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from mypy_extensions import mypyc_attr

from ..engine import Engine
from ..frozen import frozen_state, restore_frozen
from ..scenario import Scenario, parse_scenario

FLOOR = "team"
#: Staffing of the inferred office, per builder count (one manager always).
DEFAULT_STAFF = {"manager": 1, "architect": 1, "builder": 2, "verifier": 1, "doc_agent": 1}
#: Directive attributes are drawn from these ranges (none sensitive: no security review).
AMBIGUITY = (0.05, 0.6)
COMPLEXITY = (0.1, 0.6)


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(frozen=True, slots=True)
class OfficeShape:
    """What the fit chooses: calendar-to-tick scale and the office's staff."""

    ticks_per_day: int
    staff: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"ticks_per_day": self.ticks_per_day, "staff": dict(self.staff)}

    def __getstate__(self) -> dict[str, Any]:
        return frozen_state(self)  # sim/frozen.py: the same pickle in both builds

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_frozen(self, state)


def infer_staff(wip_p85: float) -> dict[str, int]:
    """Staff for a team that usually has ``wip_p85`` items open: a builder per three."""
    builders = max(1, min(20, round(wip_p85 / 3 + 0.5)))
    helpers = max(1, (builders + 2) // 3)
    return {
        "manager": 1,
        "architect": helpers,
        "builder": builders,
        "verifier": helpers,
        "doc_agent": helpers,
    }


def office_scenario(
    shape: OfficeShape, arrival_ticks: Sequence[int], seed: int = 1, name: str = "calibrated"
) -> Scenario:
    """The scenario: one floor and office with ``shape.staff``, one directive per arrival."""
    rng = random.Random(f"office:{seed}")
    directives = [
        {
            "tick": tick,
            "title": f"item {k + 1}",
            "floor": FLOOR,
            "priority": rng.choice((2, 3)),
            "ambiguity": round(rng.uniform(*AMBIGUITY), 3),
            "sensitivity": 0.0,
            "complexity": round(rng.uniform(*COMPLEXITY), 3),
        }
        for k, tick in enumerate(sorted(arrival_ticks))
    ]
    slots = max(2, shape.staff.get("builder", 1))
    tools = [
        {"name": "build", "kind": "compiler", "capabilities": ["build"], "slots": slots},
        {"name": "test", "kind": "test_framework", "capabilities": ["test"], "slots": slots},
        {"name": "docs", "kind": "doc_generator", "capabilities": ["docs"], "slots": slots},
    ]
    return parse_scenario(
        {
            "name": name,
            "description": "An office calibrated to an imported history (miniature-office "
            "history fit).",
            "floors": [
                {
                    "language": FLOOR,
                    "name": "Team",
                    "offices": [{"name": "Team", "staff": dict(shape.staff)}],
                    "tools": tools,
                }
            ],
            "directives": directives,
            "arrivals": {"rate_per_day": 0, "max_open": 1_000_000, "max_backlog": 1_000_000},
            # deployed work must stay in memory until it is counted
            "settings": {"ticks_per_day": shape.ticks_per_day, "retention_ticks": 1_000_000},
        }
    )


def run_office(
    scenario: Scenario,
    seed: int,
    ticks: int,
    *,
    stop_after: int | None = None,
    stop: Callable[[int, int], bool] | None = None,
) -> list[tuple[int, int]]:
    """Run headless for ``ticks`` (or until ``stop_after`` directives are deployed, or until
    ``stop(tick, deployed)`` is true) and return (created tick, deployed tick) of every
    deployed directive."""
    engine = _run(scenario, seed, ticks, stop_after, stop)
    return sorted(
        (d.created_tick, d.deployed_tick)
        for d in engine.world.board.directives.values()
        if d.deployed_tick is not None
    )


def deployed_ticks(scenario: Scenario, seed: int, ticks: int) -> dict[int, int]:
    """Run headless for ``ticks``; the deployed tick of each deployed directive, by its index
    in the scenario's arrival order (``office_scenario`` titles them ``item <index + 1>``)."""
    engine = _run(scenario, seed, ticks, None, None)
    return {
        int(d.title.rsplit(" ", 1)[1]) - 1: d.deployed_tick
        for d in engine.world.board.directives.values()
        if d.deployed_tick is not None
    }


def _run(
    scenario: Scenario,
    seed: int,
    ticks: int,
    stop_after: int | None,
    stop: Callable[[int, int], bool] | None,
) -> Engine:
    engine = Engine(scenario, seed, headless=True, flow_history=1)
    totals = engine.world.totals
    for tick in range(ticks):
        engine.step()
        deployed = totals["directives_deployed"]
        if stop_after is not None and deployed >= stop_after:
            break
        if stop is not None and stop(tick + 1, deployed):
            break
    return engine


#: Items the office's own work time is measured on, and the days between them.
DELAY_ITEMS = 8
DELAY_SPACING_DAYS = 7


def office_delay_days(shape: OfficeShape, seed: int = 1) -> float:
    """The office's median time from a directive's arrival to its deployment when nothing
    else is in the office (items a week apart): the work itself, without queueing. A slow
    item of the lead-time mixture enters the office this much before its drawn lead time
    ends, so that waiting plus work is the lead time drawn."""
    step = DELAY_SPACING_DAYS * shape.ticks_per_day
    ticks = [k * step for k in range(DELAY_ITEMS)]
    pairs = run_office(office_scenario(shape, ticks, seed), seed, (DELAY_ITEMS + 1) * step)
    times = sorted((d - c) / shape.ticks_per_day for c, d in pairs)
    return times[len(times) // 2] if times else 0.0
