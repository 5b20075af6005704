"""The advice job board: previews, assessments and forecasts run as jobs in their own processes.

A job is started with the live world's snapshot at the tick it was asked (taken under the
runtime's lock, the only thing done in the request) and runs in a child process
(:mod:`.advice_worker`), which runs the futures in its own process pool or on Dask. The board
watches the child's output from a background task (a green thread under eventlet), reading
its pipe without blocking and napping between reads, so neither requests nor ticks wait for a
job. Progress and the result are announced through ``emit`` (Socket.IO) and kept in the store
(:class:`~..store.advice.AdviceStore`), so results survive restarts; a job that was running
when the server stopped is listed as ``interrupted``.

Jobs are bounded: at most ``max_running`` at once (more answer "busy"), and each job's size is
checked against :func:`.previews.check_bounds` before it starts. A job can be cancelled: its
child's process group (the child and its pool) is terminated. The board's memory is bounded
too: it holds the ``kept`` newest finished jobs (the number a restart loads from the store);
an older one is read from the store when asked for, so a server asked a question a minute for
months does not grow.

Jobs never slow the live world: the child and its pool run at niceness ``niceness`` (the
configuration's ``job_niceness``), the pool has ``workers`` processes (default: the CPUs less
one), and a job running longer than ``deadline`` seconds of wall time is ended: its state is
``timed_out``, its error says so, and the answer of its last finished look (a sequential
preview reports after each look; ``progress["answer"]`` carries the current one) is kept as
its result.
"""

from __future__ import annotations

import json
import os
import pickle  # nosec B403 - writes our own job input for our own child process
import signal
import subprocess  # nosec B404 - starts our own worker module with fixed arguments
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from typing import Any, Callable

from .jobs import server_job_workers

#: A job's states; all but the first are final.
RUNNING, DONE, FAILED, CANCELLED, INTERRUPTED, TIMED_OUT = (
    "running",
    "done",
    "failed",
    "cancelled",
    "interrupted",
    "timed_out",
)
FINAL = (DONE, FAILED, CANCELLED, INTERRUPTED, TIMED_OUT)
#: Finished jobs the board holds in memory, the newest (as many as a restart loads).
KEPT_IN_MEMORY = 200
#: What a look's answer in ``progress["answer"]`` carries (the full report waits for the end):
#: a preview's differences, a forecast's completion percentiles and the p85's precision.
ANSWER_FIELDS = ("sentence", "futures", "difference", "completion", "precision", "sequential")


class Busy(Exception):
    """Too many jobs are running; try again later."""


class AdviceBoard:
    """Every job of this process (newest first), persisted when a store is given."""

    def __init__(
        self,
        *,
        spawn: Callable[..., Any],
        sleep: Callable[[float], Any],
        emit: Callable[[str, dict[str, Any]], Any] | None = None,
        store: Any = None,
        max_running: int = 2,
        workers: int | None = None,
        scheduler: str | None = None,
        poll: float = 0.1,
        niceness: int | None = 10,
        deadline: float | None = None,
        kept: int = KEPT_IN_MEMORY,
    ) -> None:
        self.spawn, self.sleep, self.emit = spawn, sleep, emit
        self.store, self.max_running, self.poll = store, max_running, poll
        self.workers = workers or server_job_workers()
        self.scheduler, self.niceness, self.deadline = scheduler, niceness, deadline
        self.kept = kept
        self._partial: dict[str, dict[str, Any]] = {}  # job id -> its last look's full report
        #: The job program, given the input file's path (tests put a stand-in here).
        self.command = [sys.executable, "-m", "miniature_office.service.advice_worker"]
        self.jobs: dict[str, dict[str, Any]] = {}
        self.recent: deque[dict[str, Any]] = deque(maxlen=20)  # explain/draft answers
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        if store is not None:
            for job in reversed(store.load()):
                if job["state"] not in FINAL:
                    job["state"] = INTERRUPTED
                    job["error"] = "the server stopped while the job ran"
                    store.save(job)
                self.jobs[job["id"]] = job
        self._forget_oldest()

    # ---- reading -------------------------------------------------------------------------------

    def list(self, limit: int = 50) -> list[dict[str, Any]]:
        """Jobs newest first, without their results (GET the job for it)."""
        jobs = sorted(self.jobs.values(), key=lambda j: j["created_at"], reverse=True)
        return [{k: v for k, v in j.items() if k != "result"} for j in jobs[:limit]]

    def get(self, job_id: str) -> dict[str, Any] | None:
        """A job of this process, or one another server process keeps in the shared store."""
        found = self.jobs.get(job_id)
        if found is None and self.store is not None:
            found = self.store.get(job_id)
        return found

    def running(self) -> list[dict[str, Any]]:
        return [j for j in self.list(1000) if j["state"] == RUNNING]

    def remember(self, kind: str, subject: str, answer: dict[str, Any]) -> None:
        """Keep an explain/draft answer among the recent advice."""
        sentence = answer.get("sentence") or "; ".join(answer.get("sentences", [])[:2])
        self.recent.appendleft(
            {"kind": kind, "subject": subject, "at": time.time(), "sentence": sentence}
        )

    # ---- running -------------------------------------------------------------------------------

    def start(
        self, kind: str, params: dict[str, Any], state: dict[str, Any], tick: int, actor: str
    ) -> dict[str, Any]:
        """Start a job on ``state`` (a snapshot); raises Busy when too many are running."""
        with self._lock:
            if len(self.running()) >= self.max_running:
                raise Busy(f"{self.max_running} jobs are running; try again when one finishes")
            job = self.record(kind, params, tick, actor, total=params.get("futures", 0))
        handle, path = tempfile.mkstemp(prefix="advice-", suffix=".pickle")
        with os.fdopen(handle, "wb") as out:
            pickle.dump(
                {
                    "kind": kind,
                    "state": state,
                    "params": {
                        **params,
                        "workers": self.workers,
                        "scheduler": self.scheduler,
                        "niceness": self.niceness,
                    },
                },
                out,
                protocol=pickle.HIGHEST_PROTOCOL,
            )
        proc = subprocess.Popen(  # nosec B603 - our own module, fixed arguments
            [*self.command, path],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: cancel ends the child and its pool
        )
        os.set_blocking(proc.stdout.fileno(), False)  # type: ignore[union-attr]
        self._procs[job["id"]] = proc
        self.spawn(self._watch, job["id"], path)
        self._announce(job)
        return job

    def record(
        self, kind: str, params: dict[str, Any], tick: int, actor: str, *, total: int
    ) -> dict[str, Any]:
        """A new running job on the board (and in the store)."""
        job: dict[str, Any] = {
            "id": f"J-{uuid.uuid4().hex[:12]}",
            "kind": kind,
            "state": RUNNING,
            "actor": actor,
            "created_at": time.time(),
            "finished_at": None,
            "tick": tick,
            "params": params,
            "progress": {"done": 0, "total": total},
            "result": None,
            "error": None,
        }
        self.jobs[job["id"]] = job
        self._save(job)
        return job

    def finish(self, job: dict[str, Any]) -> None:
        """A job reached a final state: keep it and announce it."""
        job["finished_at"] = time.time()
        state, job["state"] = job["state"], RUNNING  # readers see it final once it is saved
        self._save({**job, "state": state})
        job["state"] = state
        self._announce(job)
        self._forget_oldest()

    def _forget_oldest(self) -> None:
        """Drop the oldest finished jobs from memory beyond the ``kept`` newest (the store
        keeps them). ``jobs`` is in creation order: a restart loads the store oldest first and
        :meth:`record` appends."""
        excess = sum(1 for job in self.jobs.values() if job["state"] in FINAL) - self.kept
        if excess <= 0:
            return
        for job_id in [i for i, job in self.jobs.items() if job["state"] in FINAL][:excess]:
            del self.jobs[job_id]

    def cancel(self, job_id: str, state: str = CANCELLED) -> dict[str, Any] | None:
        """Cancel a running job (its process group is terminated); None if unknown."""
        job = self.jobs.get(job_id)
        if job is None:
            return None
        proc = self._procs.get(job_id)
        if job["state"] == RUNNING and proc is not None:
            job["state"] = state
            try:
                os.killpg(proc.pid, signal.SIGTERM)  # the child we started, and its pool
            except ProcessLookupError:
                pass
        return job

    def shutdown(self) -> None:
        """The server stops: end every running job (listed as interrupted)."""
        for job_id in list(self._procs):
            self.cancel(job_id, INTERRUPTED)

    def wait(self, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """Block until a job is final (tests and the CLI)."""
        deadline = time.monotonic() + timeout
        job = self.jobs[job_id]
        # A cancelled or timed-out job turns final at once; it is finished once its process
        # has ended and what it keeps is saved (finished_at).
        while (
            job["state"] == RUNNING or job["finished_at"] is None
        ) and time.monotonic() < deadline:
            self.sleep(0.05)
        return job  # (the board may have forgotten it since: older jobs finished later)

    def _watch(self, job_id: str, path: str) -> None:
        job, proc = self.jobs[job_id], self._procs[job_id]
        outcome: dict[str, Any] = {}  # the child's result or error, applied once it has ended
        buffer = b""
        ends = None if self.deadline is None else time.monotonic() + self.deadline
        try:
            while True:
                if ends is not None and time.monotonic() > ends and job["state"] == RUNNING:
                    self._time_out(job)
                chunk = _read(proc)
                if chunk:
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        self._line(job, line, outcome)
                    continue
                if proc.poll() is not None:
                    rest = _read(proc)
                    for line in (buffer + (rest or b"")).split(b"\n"):
                        self._line(job, line, outcome)
                    break
                self.sleep(self.poll)
        finally:
            self._procs.pop(job_id, None)
            partial = self._partial.pop(job_id, None)
            try:
                os.unlink(path)
            except OSError:
                pass
            if job["state"] == TIMED_OUT and partial is not None:
                job["result"] = {
                    **partial,
                    "sequential": {
                        **partial.get("sequential", {}),
                        "stopped": True,
                        "stopped_because": "deadline",
                    },
                }
            # The state turns final only now, with the result saved in the same step: a
            # reader who sees "done" finds the result in the store too.
            if job["state"] == RUNNING:
                if "result" in outcome:
                    job["result"], job["state"] = outcome["result"], DONE
                else:
                    job["state"] = FAILED
                    job["error"] = outcome.get("error") or (
                        f"the job's process ended with code {proc.returncode}"
                    )
            self.finish(job)

    def _time_out(self, job: dict[str, Any]) -> None:
        """The job ran past its deadline: end it, and say so and what is kept."""
        self.cancel(job["id"], TIMED_OUT)
        partial = self._partial.get(job["id"])
        kept = (
            f"the answer after {partial['futures']} futures is kept"
            if partial is not None
            else "no look had finished, so there is no answer"
        )
        job["error"] = f"the job ran past its deadline of {self.deadline:g} s; {kept}"

    def _line(self, job: dict[str, Any], line: bytes, outcome: dict[str, Any]) -> None:
        if not line.strip():
            return
        try:
            message = json.loads(line)
        except ValueError:
            return
        if "progress" in message:
            done, total = message["progress"]
            job["progress"] = {**job["progress"], "done": done, "total": total}
            self._announce(job, progress_only=True)
        elif "look" in message:
            report = message["look"]
            self._partial[job["id"]] = report
            answer = {k: report[k] for k in ANSWER_FIELDS if k in report}
            job["progress"] = {**job["progress"], "answer": answer}
            self._announce(job, progress_only=True)
        else:
            outcome.update(message)

    def _save(self, job: dict[str, Any]) -> None:
        if self.store is not None:
            try:
                self.store.save(job)
            except Exception:  # noqa: BLE001 - advice is best effort; the job still answers
                job["persisted"] = False

    def _announce(self, job: dict[str, Any], *, progress_only: bool = False) -> None:
        if self.emit is None:
            return
        message = {k: job[k] for k in ("id", "kind", "state", "progress", "tick")}
        if not progress_only and job["state"] in FINAL:
            message["result"] = job["result"]
            message["error"] = job["error"]
        self.emit("consigliere_job", message)


def _read(proc: subprocess.Popen[bytes]) -> bytes | None:
    try:
        return os.read(proc.stdout.fileno(), 65536)  # type: ignore[union-attr]
    except BlockingIOError:
        return None


__all__ = ["AdviceBoard", "Busy", "FINAL", "TIMED_OUT"]
