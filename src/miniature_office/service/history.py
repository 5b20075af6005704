"""Imported histories: keep them (per app, in memory), describe, fit, backtest, what-if.

The domain work is in ``sim.history``; this module holds the state a server keeps, runs the
heavy work (fit, backtest, what-if: seconds to minutes of CPU) in a child process
(:mod:`.history_worker`) so that neither requests nor ticks wait for it (under eventlet a
thread would hold the whole worker), and builds the engine a what-if runs on: the calibrated
office, fed a year of arrivals drawn from the fitted process (its slow items, after their
wait: fast ones need no office work) and warmed up to now, so ``service.previews.run_preview``
works on it as on any other world.
"""

from __future__ import annotations

import json
import os
import pickle  # nosec B403 - our own job input for our own child process
import random
import subprocess  # nosec B404 - starts our own worker module with fixed arguments
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..sim.engine import Engine
from ..sim.history.arrivals import ArrivalFit, draw_future
from ..sim.history.describe import describe, week_of
from ..sim.history.fit import months_of
from ..sim.history.items import History, parse_csv
from ..sim.history.leads import LeadMix
from ..sim.history.office import OfficeShape, office_scenario
from ..store.histories import HistoryTable

#: Weeks of arrivals the what-if office is given (warm-up plus the preview's future).
WHATIF_WEEKS = 60
#: Weeks the what-if office runs before the preview forks it ("now").
WHATIF_WARMUP_WEEKS = 8


def whatif_engine(history: History, fit: dict[str, Any], seed: int = 1) -> Engine:
    """An engine of the fitted office, warmed up on drawn arrivals, ready for a preview.

    Only the slow items of the lead-time mixture reach the office (at the end of their wait,
    less the office's own work time); the fast ones are done without it, so a what-if acts on
    the share of the work that the office does."""
    shape = OfficeShape(fit["shape"]["ticks_per_day"], fit["shape"]["staff"])
    arrivals = ArrivalFit(**{**fit["arrivals"], "season": tuple(fit["arrivals"]["season"])})
    leads = fit["leads"]
    mix = LeadMix(
        leads["fast_share"], leads["fast_mu"], leads["fast_sigma"], leads["slow_mu"],
        leads["slow_sigma"],
    )  # fmt: skip
    delay = leads["office_work_days"]
    last_week = week_of(fit["window"]["from_week"]) + fit["window"]["weeks"]
    rng = random.Random(f"whatif:{seed}")
    months = months_of(last_week - WHATIF_WARMUP_WEEKS, WHATIF_WEEKS)
    per_week = draw_future(arrivals, months, rng, typical=True)
    scale = shape.ticks_per_day
    ticks = []
    for week, count in enumerate(per_week):
        for _ in range(count):
            start = (week + rng.random()) * 7
            slow, lead = mix.draw(rng)
            if slow:
                ticks.append(int(max(start, start + lead - delay) * scale))
    engine = Engine(office_scenario(shape, ticks, seed), seed, headless=True)
    engine.run(WHATIF_WARMUP_WEEKS * 7 * scale)
    return engine


@dataclass
class Imported:
    """One imported history and the fit worked out from it (computed once, then kept)."""

    history: History
    description: dict[str, Any]
    fit: dict[str, Any] | None = None
    imported_at: float = 0.0


@dataclass
class HistoryStore:
    """The histories a server has imported, by name: in the database when ``table`` is given
    (they survive a restart and are shared by the server's processes), else in memory.

    Import parses the whole file first and then writes it in one transaction: a bad file, or
    a failed write, changes nothing. Decoded histories are kept in memory, checked against
    the stored import time on each read (another process may have imported over them).
    """

    limit: int = 8
    table: HistoryTable | None = None
    _items: dict[str, Imported] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def import_text(self, name: str, text: str) -> Imported:
        history = parse_csv(text)  # raises HistoryError before anything is kept
        imported = Imported(history, describe(history), imported_at=time.time())
        if self.table is not None:
            self.table.save(name, history, imported.description, keep=self.limit)
        with self._lock:
            self._items.pop(name, None)
            while len(self._items) >= self.limit:
                self._items.pop(next(iter(self._items)))
            self._items[name] = imported
        return imported

    def get(self, name: str) -> Imported | None:
        if self.table is None:
            with self._lock:
                return self._items.get(name)
        stamp = self.table.stamp(name)
        if stamp is None:
            with self._lock:
                self._items.pop(name, None)
            return None
        with self._lock:
            held = self._items.get(name)
        imported_at, fitted = stamp
        if held is not None and held.imported_at == imported_at and (held.fit or not fitted):
            return held  # the stored import, and no fit stored that this copy lacks
        stored = self.table.get(name)
        if stored is None:
            return None
        imported = Imported(stored.history, stored.description, stored.fit, stored.imported_at)
        with self._lock:
            self._items.pop(name, None)
            while len(self._items) >= self.limit:
                self._items.pop(next(iter(self._items)))
            self._items[name] = imported
        return imported

    def set_fit(self, name: str, imported: Imported, fit: dict[str, Any]) -> None:
        """Keep ``fit`` as the history's fit (in the database too, when there is one)."""
        imported.fit = fit
        if self.table is not None:
            self.table.set_fit(name, fit)

    def names(self) -> list[str]:
        if self.table is not None:
            return self.table.names()
        with self._lock:
            return list(self._items)


class ChildJob:
    """One fit, backtest or what-if in a child process (``python -m ...history_worker``).

    :meth:`poll` never blocks; :meth:`wait` naps between polls (a green nap under eventlet).
    The outcome is ``{"ok": True, "result": ...}`` or ``{"ok": False, "error": ...}``.
    """

    def __init__(self, kind: str, **job: Any) -> None:
        folder = tempfile.mkdtemp(prefix="history-job-")
        self._input = os.path.join(folder, "job.pickle")
        self._output = os.path.join(folder, "result.json")
        with open(self._input, "wb") as file:
            pickle.dump({"kind": kind, **job}, file)
        self.kind = kind
        self.outcome: dict[str, Any] | None = None
        self._proc = subprocess.Popen(  # nosec B603 - our own module, fixed arguments
            [sys.executable, "-m", "miniature_office.service.history_worker", self._input,
             self._output],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip

    def poll(self) -> dict[str, Any] | None:
        """The outcome once the child has finished, else None."""
        if self.outcome is None and self._proc.poll() is not None:
            try:
                with open(self._output, encoding="utf-8") as file:
                    self.outcome = json.load(file)
            except (OSError, ValueError):
                self.outcome = {"ok": False, "error": f"the job stopped ({self._proc.returncode})"}
            for path in (self._input, self._output):
                if os.path.exists(path):
                    os.remove(path)
            os.rmdir(os.path.dirname(self._input))
        return self.outcome

    def wait(self, timeout: float = 300.0) -> dict[str, Any]:
        """Wait for the outcome (the child is killed after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                self._proc.kill()
                self._proc.wait()
            time.sleep(0.05)
        assert self.outcome is not None  # noqa: S101 - poll set it
        return self.outcome

    @property
    def state(self) -> str:
        outcome = self.poll()
        return "running" if outcome is None else ("done" if outcome["ok"] else "failed")

    def to_dict(self) -> dict[str, Any]:
        outcome = self.poll() or {}
        return {"state": self.state, "result": outcome.get("result"), "error": outcome.get("error")}
