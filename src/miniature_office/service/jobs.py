"""A job runner for many independent simulation runs: a local process pool.

A job is one function applied to many small items (a seed and a variant, a future's number)
that all share one large input (a scenario, a start snapshot). The shared input is sent to each
worker process once per job, through the pool's initializer, never once per item; the items
travel alone. Results come back in item order. A progress callback hears of every finished
item, and a job can be cancelled from another thread (or by the callback) between items.

With ``workers=1`` everything runs in the calling process, so a job behaves the same with and
without a pool (tests and small runs pay no start-up cost).

A job run in looks (a sequential preview, a progressive forecast) keeps one
:class:`WorkerPool` warm for all of them: its processes start once and receive the shared
input once, and every look's items go to the same processes. A pool per look would fork its
workers, install the input again and join them at every look.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Callable, Generic, Sequence, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
#: ``work(shared, item) -> result``; must be a module-level function (it is pickled by name).
Work = Callable[[Any, Item], Result]
#: ``progress(done, total)`` after every finished item, in the calling process.
ProgressCallback = Callable[[int, int], None]

_shared: Any = None  # the job's shared input inside a worker process
#: A worker's collector thresholds: each item unpickles and runs whole engines, tens of thousands
#: of objects that live for the item, so the default (700 allocations) collects the young
#: generation a hundred times per preview future and promotes live work into older ones.
WORKER_GC_THRESHOLD = (10_000, 10, 10)


class JobCancelled(Exception):
    """The job was cancelled before every item finished."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__(f"cancelled after {done} of {total} items")
        self.done, self.total = done, total


def usable_cpus() -> int:
    """The CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def default_workers() -> int:
    """One worker per CPU this process may use (command-line runs: no live world to spare)."""
    return usable_cpus()


def server_job_workers() -> int:
    """A server's job pool: one worker per CPU less one left to the live world (at least 1)."""
    return max(1, usable_cpus() - 1)


def lower_priority(niceness: int | None) -> int:
    """Run this process at niceness ``niceness`` or lower priority (never raise it back:
    an unprivileged process cannot). None leaves it as it is. Returns the niceness now."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if niceness is not None and niceness > current:
        os.setpriority(os.PRIO_PROCESS, 0, min(19, niceness))
    return os.getpriority(os.PRIO_PROCESS, 0)


def _install(shared: Any, niceness: int | None = None) -> None:
    global _shared
    _shared = shared
    lower_priority(niceness)
    # What the worker inherited or installed (imports, the shared input) lives for the job:
    # frozen, the collector never scans it again (nor copies its pages of a forked parent).
    # Collection is only less frequent, never skipped, and no result depends on when it runs.
    gc.freeze()
    gc.set_threshold(*WORKER_GC_THRESHOLD)
    # Ctrl-C reaches the whole process group: the parent alone handles it and shuts the pool
    # down after the items already running, so workers do not print tracebacks of their own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _call(work: Work[Item, Result], item: Item) -> Result:
    return work(_shared, item)


def _context() -> Any:
    # fork starts workers fastest and shares the parent's imports; spawn elsewhere.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class WorkerPool:
    """Worker processes for one job's shared input, kept warm across several runs of items.

    Started on first use (``workers`` processes, the input installed once in each, at
    ``niceness``); :meth:`close` (or leaving the ``with`` block) ends them. Give it to
    :class:`Job` (``pool=``) for each batch of items: the looks of a sequential preview reuse
    the same processes.
    """

    def __init__(
        self, work: Work[Any, Any], shared: Any, *, workers: int, niceness: int | None = None
    ) -> None:
        self.work, self.shared = work, shared
        self.workers = max(1, workers)
        self.niceness = niceness
        self._executor: ProcessPoolExecutor | None = None

    def executor(self) -> ProcessPoolExecutor:
        """The running pool (started now if it was not)."""
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=_context(),
                initializer=_install,
                initargs=(self.shared, self.niceness),
            )
        return self._executor

    def close(self) -> None:
        """End the worker processes (items not yet started never run)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class Job(Generic[Item, Result]):
    """Run ``work(shared, item)`` for every item, in a pool of ``workers`` processes."""

    def __init__(
        self,
        work: Work[Item, Result],
        shared: Any,
        items: Sequence[Item],
        *,
        workers: int = 1,
        progress: ProgressCallback | None = None,
        niceness: int | None = None,
        pool: WorkerPool | None = None,
    ) -> None:
        self.work, self.shared, self.items = work, shared, list(items)
        self.workers = max(1, min(workers, len(self.items) or 1))
        #: a warm pool to run in (its work, input and workers; it stays open afterwards)
        self.pool = pool
        self.progress = progress
        self.niceness = niceness  # the pool's workers run at this niceness (or lower)
        self._cancel = threading.Event()
        self.done = 0

    def cancel(self) -> None:
        """Stop after the items already running; :meth:`run` then raises JobCancelled."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> list[Result]:
        """Every item's result, in item order (raises JobCancelled, or the first error)."""
        if self.pool is not None and self.pool.workers > 1:
            return self._run_pool()
        if self.workers == 1:
            return self._run_here()
        return self._run_pool()

    def _finished_one(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, len(self.items))

    def _run_here(self) -> list[Result]:
        results = []
        for item in self.items:
            if self.cancelled:
                raise JobCancelled(self.done, len(self.items))
            results.append(self.work(self.shared, item))
            self._finished_one()
        return results

    def _run_pool(self) -> list[Result]:
        total = len(self.items)
        results: list[Any] = [None] * total
        # At most two items in flight per worker: enough to keep every worker busy, few enough
        # that a cancel does not wait for a long queue to drain.
        own = self.pool is None
        warm = self.pool or WorkerPool(
            self.work, self.shared, workers=self.workers, niceness=self.niceness
        )
        window = 2 * warm.workers
        pool = warm.executor()
        running: dict[Future[Result], int] = {}
        upcoming = iter(range(total))
        try:
            while True:
                while len(running) < window and not self.cancelled:
                    index = next(upcoming, None)
                    if index is None:
                        break
                    running[pool.submit(_call, self.work, self.items[index])] = index
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    results[running.pop(future)] = future.result()
                    self._finished_one()
        finally:
            if own:
                warm.close()
            else:  # the pool stays warm for the next run: drop what this one left queued
                for future in running:
                    future.cancel()
                wait(running)
        if self.done < total:
            raise JobCancelled(self.done, total)
        return results


def run_job(
    work: Work[Item, Result],
    shared: Any,
    items: Sequence[Item],
    *,
    workers: int = 1,
    progress: ProgressCallback | None = None,
) -> list[Result]:
    """Shorthand for ``Job(...).run()``."""
    return Job(work, shared, items, workers=workers, progress=progress).run()


__all__ = [
    "Job",
    "JobCancelled",
    "WorkerPool",
    "default_workers",
    "lower_priority",
    "run_job",
    "server_job_workers",
    "usable_cpus",
]
