"""Where a job's items run: the local process pool (default) or a Dask distributed cluster.

A ``scheduler`` (a Dask scheduler address, from the configuration's
``dask_scheduler_address`` or the CLI's ``--scheduler``, or a ``distributed.Client`` in tests)
runs the items on that cluster: the shared input is scattered
to every worker once per job (``broadcast=True``), and each item travels alone with a
reference to it. Without it, :class:`~.jobs.Job` runs them in a local process pool, which also
sends the shared input once per worker (:func:`warm_pool` keeps one pool for every look of a
job run in looks). Both report progress after every item and stop early
when cancelled (items already running finish; the rest never start).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable, ContextManager, Iterator, NamedTuple, Sequence

from .jobs import Job, JobCancelled, ProgressCallback, WorkerPool


def warm_pool(
    work: Callable[[Any, Any], Any],
    shared: Any,
    *,
    workers: int,
    scheduler: Any = None,
    items: int | None = None,
) -> ContextManager[WorkerPool | None]:
    """A local pool kept warm for every look of one job (at most ``items`` workers), to give
    each look's :class:`Runner` as ``pool``; None (nothing to keep) on Dask or one process."""
    size = min(workers, items if items is not None else workers)
    if scheduler or size <= 1:
        return contextlib.nullcontext(None)
    return WorkerPool(work, shared, workers=size)


class Runner:
    """One job's items, run locally or on Dask; :meth:`cancel` may be called from any thread."""

    def __init__(
        self,
        work: Callable[[Any, Any], Any],
        shared: Any,
        items: Sequence[Any],
        *,
        workers: int = 1,
        scheduler: Any = None,
        progress: ProgressCallback | None = None,
        pool: WorkerPool | None = None,
    ) -> None:
        self.work, self.shared, self.items = work, shared, list(items)
        self.workers, self.progress = workers, progress
        self.pool = pool  # a warm local pool (warm_pool) shared by the looks of one job
        self.scheduler = scheduler or None
        self._cancel = threading.Event()
        self._job: Job[Any, Any] | None = None

    @property
    def backend(self) -> str:
        return "dask" if self.scheduler is not None else "local"

    def cancel(self) -> None:
        self._cancel.set()
        if self._job is not None:
            self._job.cancel()

    def run(self) -> list[Any]:
        """Every item's result in item order (raises JobCancelled when cancelled)."""
        if self.scheduler is not None:
            return self._run_dask()
        self._job = Job(
            self.work,
            self.shared,
            self.items,
            workers=self.workers,
            progress=self.progress,
            pool=self.pool,
        )
        if self._cancel.is_set():
            self._job.cancel()
        return self._job.run()

    def _run_dask(self) -> list[Any]:
        from distributed import Client, as_completed  # optional at import time

        own = not isinstance(self.scheduler, Client)
        client = Client(self.scheduler) if own else self.scheduler
        total = len(self.items)
        try:
            shared = client.scatter(self.shared, broadcast=True)
            futures = [client.submit(self.work, shared, item, pure=False) for item in self.items]
            index = {f.key: i for i, f in enumerate(futures)}
            results: list[Any] = [None] * total
            done = 0
            for future in as_completed(futures):
                if self._cancel.is_set():
                    client.cancel(futures)
                    raise JobCancelled(done, total)
                results[index[future.key]] = future.result()
                done += 1
                if self.progress is not None:
                    self.progress(done, total)
            return results
        finally:
            if own:
                client.close()


class Look(NamedTuple):
    """One look of a job run in looks: the items so far, this look's results and the backend."""

    size: int
    results: list[Any]
    backend: str


def run_in_looks(
    work: Callable[[Any, Any], Any],
    shared: Any,
    plan: Sequence[int],
    *,
    workers: int,
    scheduler: Any = None,
    progress: ProgressCallback | None = None,
    runner_hook: Callable[[Runner], None] | None = None,
) -> Iterator[Look]:
    """Items ``0 .. plan[-1]`` run in looks of the cumulative sizes ``plan``, on one warm pool.

    Yields after every look; the caller stops early by leaving the loop (the pool closes then).
    ``progress(done, total)`` counts every item so far against ``plan[-1]``;
    ``runner_hook(runner)`` hears of each look's :class:`Runner` before it runs (to cancel it).
    """
    total = plan[-1]
    previous = 0
    with warm_pool(work, shared, workers=workers, scheduler=scheduler, items=total) as pool:
        for size in plan:
            runner = Runner(
                work,
                shared,
                range(previous, size),
                workers=workers,
                scheduler=scheduler,
                progress=_counted_from(progress, previous, total),
                pool=pool,
            )
            if runner_hook is not None:
                runner_hook(runner)
            results = runner.run()
            previous = size
            yield Look(size, results, runner.backend)


def _counted_from(
    progress: ProgressCallback | None, offset: int, total: int
) -> ProgressCallback | None:
    """A look's runner counts its own items; the job counts every item so far."""
    if progress is None:
        return None
    return lambda done, _total: progress(offset + done, total)


__all__ = ["Look", "Runner", "run_in_looks", "warm_pool"]
