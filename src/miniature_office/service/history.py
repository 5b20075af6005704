"""Imported histories: keep them (per app, in memory), describe, fit, backtest, what-if.

The domain work is in ``sim.history``; this module holds the state a server keeps and builds
the engine a what-if runs on: the calibrated office, fed a year of arrivals drawn from the
fitted process and warmed up to now, so ``service.previews.run_preview`` works on it as on any
other world.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

from ..sim.engine import Engine
from ..sim.history.arrivals import ArrivalFit, draw_future
from ..sim.history.backtest import backtest
from ..sim.history.describe import describe
from ..sim.history.fit import fit_office, months_of
from ..sim.history.items import History, parse_csv
from ..sim.history.office import OfficeShape, office_scenario

#: Weeks of arrivals the what-if office is given (warm-up plus the preview's future).
WHATIF_WEEKS = 60
#: Weeks the what-if office runs before the preview forks it ("now").
WHATIF_WARMUP_WEEKS = 8


def whatif_engine(history: History, fit: dict[str, Any], seed: int = 1) -> Engine:
    """An engine of the fitted office, warmed up on drawn arrivals, ready for a preview."""
    shape = OfficeShape(fit["shape"]["ticks_per_day"], fit["shape"]["staff"])
    arrivals = ArrivalFit(**{**fit["arrivals"], "season": tuple(fit["arrivals"]["season"])})
    last_week = int(fit["window"]["from_week"] // (7 * 86400)) + fit["window"]["weeks"]
    rng = random.Random(f"whatif:{seed}")
    months = months_of(last_week - WHATIF_WARMUP_WEEKS, WHATIF_WEEKS)
    per_week = draw_future(arrivals, months, rng, typical=True)
    scale = shape.ticks_per_day
    ticks = [int((w + rng.random()) * 7 * scale) for w, n in enumerate(per_week) for _ in range(n)]
    engine = Engine(office_scenario(shape, ticks, seed), seed, headless=True)
    engine.run(WHATIF_WARMUP_WEEKS * 7 * scale)
    return engine


@dataclass
class Imported:
    """One imported history and what has been worked out from it (computed once)."""

    history: History
    description: dict[str, Any]
    fit: dict[str, Any] | None = None
    backtest: dict[str, Any] | None = None


@dataclass
class HistoryStore:
    """The histories a server has imported, by name, in memory (a restart forgets them).

    Import parses the whole file first: a bad file changes nothing.
    """

    limit: int = 8
    _items: dict[str, Imported] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def import_text(self, name: str, text: str) -> Imported:
        history = parse_csv(text)  # raises HistoryError before anything is kept
        imported = Imported(history, describe(history))
        with self._lock:
            self._items.pop(name, None)
            while len(self._items) >= self.limit:
                self._items.pop(next(iter(self._items)))
            self._items[name] = imported
        return imported

    def get(self, name: str) -> Imported | None:
        with self._lock:
            return self._items.get(name)

    def names(self) -> list[str]:
        with self._lock:
            return list(self._items)

    def fit(self, name: str, staff: dict[str, int] | None = None) -> dict[str, Any] | None:
        imported = self.get(name)
        if imported is None:
            return None
        if imported.fit is None or staff:
            imported.fit = fit_office(imported.history, staff=staff)
        return imported.fit

    def backtest(self, name: str, *, cuts: int, futures: int) -> dict[str, Any] | None:
        imported = self.get(name)
        if imported is None:
            return None
        imported.backtest = backtest(imported.history, cuts=cuts, futures=futures)
        return imported.backtest


@dataclass
class BacktestJob:
    """A backtest running in a thread (it takes a minute): its state and, once done, result."""

    state: str = "running"  # running | done | failed
    result: dict[str, Any] | None = None
    error: str | None = None
    thread: threading.Thread | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "result": self.result, "error": self.error}


def start_backtest(store: HistoryStore, name: str, *, cuts: int, futures: int) -> BacktestJob:
    """Run :meth:`HistoryStore.backtest` in a daemon thread; the job says when it is done."""
    job = BacktestJob()

    def work() -> None:
        try:
            job.result = store.backtest(name, cuts=cuts, futures=futures)
            job.state = "done"
        except Exception as exc:  # noqa: BLE001 - reported through the job, never lost
            job.error, job.state = str(exc), "failed"

    job.thread = threading.Thread(target=work, name=f"history-backtest-{name}", daemon=True)
    job.thread.start()
    return job
