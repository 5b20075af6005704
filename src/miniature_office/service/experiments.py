"""Experiments over many runs: parameter sweeps with paired differences, and forecasts.

Both run headless in the job runner's process pool. A sweep runs every variant (one point of
the ``--set`` grid) on the same seeds, so variant and baseline of one seed share their random
streams and their difference is paired. A forecast forks one start state into many futures.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Sequence

from ..sim.engine import Engine
from ..sim.errors import ScenarioError
from ..sim.forecast import Forecast, Question, prepare, simulate_future
from ..sim.scenario import Scenario, parse_scenario, with_overrides
from ..sim.stats import (
    PairedDifference,
    at_least,
    describe_distribution,
    distribution,
    paired_difference,
    quantile,
)
from .jobs import ProgressCallback
from .runner import Runner

#: Per-seed figures compared between variants: (summary key, higher is better).
#: Keys come from the run summary; a key a summary lacks is reported as missing, not zero.
METRICS: tuple[tuple[str, bool], ...] = (
    ("throughput_per_day", True),
    ("lead_time_median", False),
    ("lead_time_p85", False),
    ("lead_time_p95", False),
    ("flow_efficiency", True),
)
#: Further per-seed figures kept in the rows (CSV/JSON) without a paired comparison.
EXTRA = (
    "lead_time_mean",
    "directives_created",
    "directives_deployed",
    "offered",
    "admitted",
    "rejected",
    "backlog",
    "open_directives",
    "aging_wip_max",
    "walking_share",
    "stalls",
    "escaped_defects",
    "reworks",
)


# ---- sweeps -----------------------------------------------------------------------------------


def grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the ``--set`` values, first values first (the default baseline)."""
    return [dict(zip(grid, values)) for values in itertools.product(*grid.values())] or [{}]


def label(point: dict[str, Any]) -> str:
    """``roles.verifier=2, settings.walk_speed=16`` (``as given`` for the unchanged scenario)."""
    return ", ".join(f"{k}={v}" for k, v in point.items()) or "as given"


@dataclass(frozen=True, slots=True)
class SweepInput:
    """Sent to each worker once per sweep: the scenario and the run length."""

    scenario: dict[str, Any]
    ticks: int


def sweep_run(shared: SweepInput, item: tuple[int, dict[str, Any], int]) -> dict[str, Any]:
    """One seed of one variant, headless; returns its per-seed row."""
    index, point, seed = item
    scenario = with_overrides(parse_scenario(shared.scenario), point)
    engine = Engine(scenario, seed, headless=True)
    engine.run(shared.ticks)
    summary = engine.summary()
    row: dict[str, Any] = {"variant": label(point), **{f"set.{k}": v for k, v in point.items()}}
    row["seed"] = seed
    for key, _ in METRICS:
        row[key] = summary.get(key)
    for key in EXTRA:
        if key in summary:
            row[key] = summary[key]
    row["bottleneck"] = summary.get("bottleneck")
    row["_index"] = index
    row["_method"] = summary.get("bottleneck_method") or "the last tick's label"
    return row


@dataclass(slots=True)
class Variant:
    """One point of the grid over every seed, and its paired differences to the baseline."""

    point: dict[str, Any]
    rows: list[dict[str, Any]]
    baseline: bool
    differences: list[PairedDifference] = field(default_factory=list)

    @property
    def label(self) -> str:
        return label(self.point)

    def values(self, key: str) -> list[Any]:
        return [row.get(key) for row in self.rows]

    def spread(self, key: str) -> dict[str, float | None]:
        """Median, lower (p15) and upper (p85) value of ``key`` over seeds."""
        present = [v for v in self.values(key) if v is not None]
        return {
            "median": quantile(present, 50),
            "p15": at_least(present, 0.85),
            "p85": quantile(present, 85),
            "seeds": len(present),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "variant": self.label,
            "set": self.point,
            "baseline": self.baseline,
            "seeds": len(self.rows),
            "metrics": {key: self.spread(key) for key, _ in METRICS},
            "differences": [d.to_dict() for d in self.differences],
            "bottleneck": dict(distribution(self.values("bottleneck"))),
        }

    @property
    def bottlenecks(self) -> str:
        return describe_distribution(self.values("bottleneck"))


@dataclass(slots=True)
class Sweep:
    """The variants in grid order (the baseline among them), on ``seeds``."""

    variants: list[Variant]
    seeds: list[int]
    ticks: int
    bottleneck_method: str

    @property
    def rows(self) -> list[dict[str, Any]]:
        """Every per-seed row, variant by variant."""
        return [row for variant in self.variants for row in variant.rows]

    @property
    def baseline(self) -> Variant:
        return next(v for v in self.variants if v.baseline)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seeds": self.seeds,
            "ticks": self.ticks,
            "baseline": self.baseline.label,
            "bottleneck_method": self.bottleneck_method,
            "confidence": 0.95,
            "interval_method": "paired bootstrap over seeds (2,000 resamples, fixed seed)",
            "variants": [v.to_dict() for v in self.variants],
            "runs": self.rows,
        }


def find_baseline(points: list[dict[str, Any]], baseline: dict[str, Any] | None) -> int:
    """Index of the baseline point: the first, or the one matching every given value."""
    if not baseline:
        return 0
    for index, point in enumerate(points):
        if all(str(point.get(k)) == str(v) for k, v in baseline.items()):
            return index
    raise ScenarioError(
        "--baseline", f"{label(baseline)} is not one of the swept values ({len(points)} variants)"
    )


def run_sweep(
    scenario: Scenario,
    seeds: Sequence[int],
    grid: dict[str, list[Any]],
    ticks: int,
    *,
    baseline: dict[str, Any] | None = None,
    workers: int = 1,
    progress: ProgressCallback | None = None,
    scheduler: Any = None,
) -> Sweep:
    """Run every grid point on every seed; compare each point with the baseline seed by seed."""
    points = grid_points(grid)
    for point in points:
        with_overrides(scenario, point)  # fail fast, before any run, on a bad path or value
    base_index = find_baseline(points, baseline)
    items = [(i, point, seed) for i, point in enumerate(points) for seed in seeds]
    shared = SweepInput(scenario.to_dict(), ticks)
    # A local pool, or the Dask cluster named by ``scheduler`` or DASK_SCHEDULER_ADDRESS.
    rows = Runner(
        sweep_run, shared, items, workers=workers, scheduler=scheduler, progress=progress
    ).run()
    by_point: list[list[dict[str, Any]]] = [[] for _ in points]
    methods = {row.pop("_method") for row in rows}
    for row in rows:
        by_point[row.pop("_index")].append(row)
    variants = [Variant(p, r, i == base_index) for i, (p, r) in enumerate(zip(points, by_point))]
    base = variants[base_index]
    for variant in variants:
        if variant is base:
            continue
        variant.differences = [
            paired_difference(key, base.values(key), variant.values(key), higher_is_better=up)
            for key, up in METRICS
        ]
    return Sweep(variants, list(seeds), ticks, " / ".join(sorted(methods)))


# ---- forecasts --------------------------------------------------------------------------------


def run_forecast(
    engine: Engine,
    question: Question,
    *,
    futures: int,
    seed: int,
    workers: int = 1,
    progress: ProgressCallback | None = None,
    basis: dict[str, Any] | None = None,
    source: str = "",
    scheduler: Any = None,
) -> Forecast:
    """Fork ``engine`` into ``futures`` futures and answer ``question`` over them."""
    shared = prepare(engine, question, seed)
    outcomes = Runner(
        simulate_future,
        shared,
        range(futures),
        workers=workers,
        scheduler=scheduler,
        progress=progress,
    ).run()
    per_day = engine.world.settings.ticks_per_day
    return Forecast(question, seed, per_day, outcomes, dict(basis or {}), source)


__all__ = ["METRICS", "Sweep", "Variant", "grid_points", "run_forecast", "run_sweep"]
