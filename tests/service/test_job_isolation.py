"""Jobs never slow the live world: lower CPU priority, a bounded pool, a wall-clock deadline."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

import pytest

from miniature_office.runio import read_scenario
from miniature_office.service.advice_jobs import TIMED_OUT, AdviceBoard
from miniature_office.service.config import load_config
from miniature_office.service.jobs import Job, WorkerPool, server_job_workers, usable_cpus
from miniature_office.service.runner import run_in_looks
from miniature_office.sim.engine import Engine
from miniature_office.sim.forecast import start_state


def _spawn(target: Any, *args: Any) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


def _board(**options: Any) -> AdviceBoard:
    return AdviceBoard(spawn=_spawn, sleep=time.sleep, poll=0.02, **options)


def _state() -> dict[str, Any]:
    engine = Engine(read_scenario(None), 3)
    engine.run(30)
    return start_state(engine)


def _niceness_of(pid: int) -> int:
    # /proc/<pid>/stat: the 19th field is the nice value (after the parenthesised name).
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return int(fields[16])


def _nice_of_this_process(_shared: Any, _item: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, 0)


def test_a_pools_workers_run_at_the_niceness_asked() -> None:
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    if ours + 7 > 19:  # e.g. the helpers' check script runs tests at 19: nothing lower to ask
        pytest.skip(f"this process already runs at niceness {ours}")
    seen = Job(_nice_of_this_process, None, range(4), workers=2, niceness=ours + 7).run()
    assert seen == [ours + 7] * 4
    assert os.getpriority(os.PRIO_PROCESS, 0) == ours  # the calling process is left alone


def _pid_after_a_nap(_shared: Any, _item: int) -> int:
    time.sleep(0.05)  # long enough that both workers take items
    return os.getpid()


def test_a_warm_pool_runs_every_look_in_the_same_worker_processes() -> None:
    """A job run in looks starts its workers (and installs its input) once, not per look."""
    with WorkerPool(_pid_after_a_nap, None, workers=2) as pool:
        first = Job(_pid_after_a_nap, None, range(6), workers=2, pool=pool).run()
        second = Job(_pid_after_a_nap, None, range(6), workers=2, pool=pool).run()
    assert len(set(first)) == 2 and set(second) == set(first)
    assert os.getpid() not in first


def _item_and_pid(_shared: Any, item: int) -> tuple[int, int]:
    time.sleep(0.05)
    return item, os.getpid()


def test_run_in_looks_runs_each_look_s_new_items_on_one_pool_and_counts_them_all() -> None:
    heard: list[tuple[int, int]] = []
    looks = list(
        run_in_looks(
            _item_and_pid, None, [2, 4, 8], workers=2, progress=lambda d, t: heard.append((d, t))
        )
    )
    assert [look.size for look in looks] == [2, 4, 8]
    assert [[item for item, _ in look.results] for look in looks] == [[0, 1], [2, 3], [4, 5, 6, 7]]
    pids = {pid for look in looks for _, pid in look.results}
    assert len(pids) == 2 and os.getpid() not in pids  # the same two workers for every look
    assert heard[-1] == (8, 8) and [d for d, _ in heard] == sorted(d for d, _ in heard)
    assert {look.backend for look in looks} == {"local"}


def test_leaving_run_in_looks_early_runs_no_further_look() -> None:
    ran: list[int] = []
    for look in run_in_looks(_item_and_pid, None, [2, 4, 8], workers=2):
        ran += [item for item, _ in look.results]
        break
    assert ran == [0, 1]


def test_the_server_pool_leaves_one_cpu_to_the_live_world() -> None:
    assert server_job_workers() == max(1, usable_cpus() - 1)
    assert _board().workers == server_job_workers()
    assert _board(workers=3).workers == 3


def test_a_job_process_runs_at_the_configured_niceness() -> None:
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    if ours > 12:  # a child cannot be raised back to 12 from here
        pytest.skip(f"this process already runs at niceness {ours}")
    board = _board(niceness=12)
    job = board.start(
        "preview", {"commands": [], "futures": 8, "ticks": 4000, "seed": 1}, _state(), 30, "t"
    )
    child = board._procs[job["id"]]
    try:
        deadline = time.monotonic() + 10
        while _niceness_of(child.pid) != 12 and time.monotonic() < deadline:
            time.sleep(0.05)  # the child lowers itself as soon as it has read its input
        assert _niceness_of(child.pid) == 12
    finally:
        board.cancel(job["id"])
        board.wait(job["id"], 20)


def test_a_job_past_its_deadline_ends_timed_out_with_no_answer_when_no_look_finished() -> None:
    board = _board(deadline=1.0)
    hire = {"kind": "hire_agent", "payload": {"floor": "python", "role": "verifier"}}
    started = time.monotonic()
    job = board.start(
        "preview",
        {"commands": [hire], "futures": 1000, "ticks": 5000, "seed": 1},
        _state(),
        30,
        "t",
    )
    final = board.wait(job["id"], 30)
    assert final["state"] == TIMED_OUT
    assert time.monotonic() - started < 15  # ended at the deadline, not when the futures were
    assert final["result"] is None
    assert "deadline of 1 s" in final["error"] and "no look had finished" in final["error"]


# A stand-in job program: one look's answer, then it runs on past any deadline.
_SLOW_JOB = """
import json, sys, time
look = {"futures": 8, "sentence": "hire: +1.0 directives", "difference": {},
        "sequential": {"futures_run": 8, "stopped": False, "stopped_because": None}}
print(json.dumps({"progress": [8, 1000]}), flush=True)
print(json.dumps({"look": look}), flush=True)
time.sleep(60)
"""


def test_a_job_past_its_deadline_keeps_its_last_looks_answer() -> None:
    board = _board(deadline=1.5)
    board.command = [sys.executable, "-c", _SLOW_JOB]
    job = board.start("preview", {"commands": [], "futures": 1000}, {}, 30, "t")
    deadline = time.monotonic() + 10
    while "answer" not in job["progress"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job["state"] == "running"
    assert job["progress"]["answer"]["sentence"] == "hire: +1.0 directives"  # the job API shows it
    final = board.wait(job["id"], 20)
    assert final["state"] == TIMED_OUT
    assert final["result"]["futures"] == 8
    assert final["result"]["sequential"]["stopped_because"] == "deadline"
    assert "the answer after 8 futures is kept" in final["error"]


def test_job_settings_come_from_the_configuration() -> None:
    config = load_config(
        {
            "MINIOFFICE_JOB_NICENESS": "15",
            "MINIOFFICE_JOB_WORKERS": "2",
            "MINIOFFICE_JOB_DEADLINE": "90",
        }
    )
    assert (config.job_niceness, config.job_workers, config.job_deadline) == (15, 2, 90.0)
    defaults = load_config({})
    assert (defaults.job_niceness, defaults.job_workers, defaults.job_deadline) == (10, None, 300)


class _Rows:
    """A stand-in for the advice store: rows by id."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def save(self, job: dict[str, Any]) -> None:
        self.rows[job["id"]] = dict(job)

    def load(self, limit: int = 200) -> list[dict[str, Any]]:
        newest = sorted(self.rows.values(), key=lambda j: j["created_at"], reverse=True)
        return newest[:limit]

    def get(self, job_id: str) -> dict[str, Any] | None:
        return self.rows.get(job_id)


def _finished(board: AdviceBoard, n: int) -> list[str]:
    ids = []
    for i in range(n):
        job = board.record("preview", {"futures": 8}, i, "t", total=8)
        job["created_at"] = float(i)  # distinct creation times, oldest first
        job["state"], job["result"] = "done", {"n": i}
        board.finish(job)
        ids.append(job["id"])
    return ids


def test_the_board_keeps_only_the_newest_finished_jobs_in_memory() -> None:
    """A server asked a question a minute for months does not grow: past ``kept`` finished
    jobs the oldest leave memory, and are still read from the store."""
    rows = _Rows()
    board = _board(store=rows, kept=3)
    ids = _finished(board, 5)
    assert list(board.jobs) == ids[2:]
    assert [j["id"] for j in board.list()] == ids[:1:-1]  # newest first
    assert board.get(ids[0]) == {**rows.rows[ids[0]]} and board.get(ids[0])["result"] == {"n": 0}
    running = board.record("preview", {"futures": 8}, 9, "t", total=8)
    _finished(board, 1)
    assert running["id"] in board.jobs  # a running job is never forgotten
    assert sum(1 for j in board.jobs.values() if j["state"] == "done") == 3


def test_without_a_store_a_forgotten_job_is_unknown_and_a_restart_loads_kept_jobs() -> None:
    board = _board(kept=2)
    ids = _finished(board, 3)
    assert board.get(ids[0]) is None and board.get(ids[2])["result"] == {"n": 2}
    rows = _Rows()
    _finished(_board(store=rows, kept=50), 4)
    assert len(_board(store=rows, kept=2).jobs) == 2
