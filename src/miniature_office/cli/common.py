"""What every command group shares: the one-line error, argument parsers, progress, CSV, stores.

Everything heavy (the job runner, the store, the configuration) is imported inside the function
that needs it, so ``simulate`` loads only what it runs (tests/sim/test_speed.py checks this).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from typing import Any, Sequence

from ..runio import read_scenario
from ..sim.engine import Engine
from ..sim.errors import ScenarioError
from ..sim.scenario import Scenario

#: Runs at least this long show the progress bar on a terminal without --progress.
PROGRESS_MIN_TICKS = 2000


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


# ---- argument values --------------------------------------------------------------------------


def positive(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def non_negative(text: str) -> int:
    """An argparse type: an integer of at least 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def parse_seeds(text: str) -> list[int]:
    """``1..50`` (inclusive), ``1,2,7`` or a single number."""
    try:
        if ".." in text:
            low, high = (int(part) for part in text.split("..", 1))
            if high < low:
                raise CliError(f"--seeds: {text!r} runs backwards")
            return list(range(low, high + 1))
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CliError(
            f"--seeds: {text!r} is not a range like 1..50 or a list like 1,2,3"
        ) from None


def parse_value(text: str) -> Any:
    """``3`` -> 3, ``0.5`` -> 0.5, ``true`` -> True, anything else stays text."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    return {"true": True, "false": False}.get(text.lower(), text)


def parse_sets(items: Sequence[str]) -> dict[str, list[Any]]:
    """``--set roles.verifier=1,2,3`` -> {"roles.verifier": [1, 2, 3]}."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        path, sep, values = item.partition("=")
        if not sep or not path or not values:
            raise CliError(f"--set: {item!r} should look like roles.verifier=1,2,3")
        grid[path.strip()] = [parse_value(v.strip()) for v in values.split(",")]
    return grid


# ---- progress and output ----------------------------------------------------------------------


class Progress:
    """A one-line progress bar on stderr for long runs (silent when not a terminal)."""

    def __init__(self, total: int, enabled: bool, unit: str = "tick") -> None:
        self.total, self.enabled, self.last, self.unit = total, enabled, -1, unit

    def __call__(self, tick: int) -> None:
        if not self.enabled:
            return
        percent = tick * 100 // max(self.total, 1)
        if percent != self.last:
            self.last = percent
            bar = "#" * (percent // 4)
            sys.stderr.write(f"\r[{bar:<25}] {percent:3d}%  {self.unit} {tick}/{self.total}")
            if tick >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()

    def interrupted(self) -> None:
        """End the bar's line so a message after it starts on its own."""
        if self.enabled and 0 <= self.last < 100:
            sys.stderr.write("\n")


def flow_csv(rows: Sequence[dict[str, Any]]) -> str:
    """Flatten per-tick flow rows into CSV (nested dicts become ``queue.builder`` columns)."""
    flat = [_flatten(row) for row in rows]
    columns = list(dict.fromkeys(key for row in flat for key in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
    return out.getvalue()


def _flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


# ---- scenarios, stores and workers ------------------------------------------------------------


def load_scenario(path: str | None) -> Scenario:
    """The scenario at ``path`` (None: the packaged one), or a CliError saying what is wrong."""
    try:
        return read_scenario(path)
    except FileNotFoundError:
        raise CliError(f"scenario file not found: {path}") from None
    except ScenarioError as exc:
        raise CliError(f"scenario {path}: {exc}") from None


def open_store(url: str | None) -> Any:
    """``--database URL``, else the server's own store (DATABASE_URL or the data directory)."""
    from ..service.config import ConfigError
    from ..service.storage import open_store as open_configured
    from ..store import StoreError

    try:
        return open_configured(url=url)
    except (ConfigError, StoreError) as exc:
        raise CliError(str(exc)) from None


def default_workers() -> int:
    """One worker per CPU (``service.jobs.default_workers``, imported when a command needs it)."""
    from ..service.jobs import default_workers as workers

    return workers()


def scheduler(args: argparse.Namespace) -> str | None:
    """--scheduler, else the configuration's DASK_SCHEDULER_ADDRESS, else None (local pool)."""
    if args.scheduler:
        return str(args.scheduler)
    from ..service.config import cli_config

    return cli_config().dask_scheduler_address


def scheduler_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--scheduler`` to a command that runs many futures or runs."""
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on this Dask scheduler (default: DASK_SCHEDULER_ADDRESS, else a local pool)",
    )


# ---- where futures start (forecast, preview) --------------------------------------------------


def start_options(parser: argparse.ArgumentParser) -> None:
    """Where forecasts and previews start: a stored run, or a scenario after a warm-up."""
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--scenario", help="start from this scenario (default: the packaged one)")
    start.add_argument("--database", metavar="URL", help="start from the stored run's state")
    start.add_argument(
        "--stored", action="store_true", help="start from the run in the server's own store"
    )
    parser.add_argument("--world-seed", type=int, default=42, help="the scenario run's seed")
    parser.add_argument("--ticks", type=non_negative, default=0, help="scenario warm-up ticks")


def forecast_start(args: argparse.Namespace) -> tuple[Engine, str]:
    """The world the futures fork from: a stored run's current state, or a scenario run."""
    if args.database or args.stored:
        from ..store import StoreError
        from ..store.persistence import recover

        store = open_store(args.database)
        try:
            engine = recover(store)
        except StoreError as exc:
            raise CliError(str(exc)) from None
        finally:
            store.close()
        engine.apply_pending()  # acknowledged commands would apply at the next tick anyway
        return engine, f"stored run ({engine.scenario.name}, seed {engine.seed})"
    scenario = load_scenario(args.scenario)
    # Headless: the warm-up's figures equal a full run's, and nobody reads its audit chain.
    engine = Engine(scenario, args.world_seed, headless=True)
    engine.run(args.ticks)
    return engine, f"{scenario.name} (seed {args.world_seed}) after {args.ticks} ticks"
