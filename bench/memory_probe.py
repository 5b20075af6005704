"""Gunicorn config for a soak that must explain its memory: the packaged config plus a probe.

``bench/load_bench.py --probe FILE`` starts Gunicorn with this file instead of the packaged
config. Every ``MEMPROBE_EVERY`` seconds (default 60) the worker appends one JSON line to
``MEMPROBE_OUT`` that splits its resident memory by who holds it:

- ``rss_anon_mib`` / ``rss_file_mib``: the kernel's view (heap and stacks vs. mapped files);
- ``malloc_in_use_mib`` / ``malloc_free_mib`` / ``malloc_mmap_mib``: glibc's heap
  (``mallinfo2``): memory handed out, memory freed but kept (fragmentation), large blocks;
- ``sqlite_mib``: what SQLite's own allocator holds (page caches of every connection), which
  Python's tracing cannot see;
- ``python_blocks`` and ``gc_objects``: Python's small-object allocator and tracked objects;
- ``types``: the object types whose count grew most since the first sample, and
  ``counts`` every common type's count, to compare any two samples;
- with ``MEMPROBE_TRACEMALLOC=1``, ``traced_mib``, ``top`` and ``top_stacks``: the source
  lines (and stacks of ``MEMPROBE_FRAMES`` frames, default 4) whose allocations grew most
  since the first sample at or after ``MEMPROBE_BASE`` seconds (default 0: the first);
  tracemalloc slows the worker: use it to find a growth, not to measure one.

A growth that shows in ``rss_anon`` but not in the rows beneath it is the allocator's, not
the application's.
"""

from __future__ import annotations

import collections
import ctypes
import ctypes.util
import gc
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from miniature_office.web.gunicorn_conf import *  # noqa: F401,F403 - the packaged settings
from miniature_office.web.gunicorn_conf import post_worker_init as _packaged_post_worker_init

MIB = 1024 * 1024


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _libc() -> Any:
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.mallinfo2.restype = _MallInfo2
    return libc


def _sqlite() -> Any:
    lib = ctypes.CDLL(ctypes.util.find_library("sqlite3") or "libsqlite3.so.0")
    lib.sqlite3_memory_used.restype = ctypes.c_int64
    return lib


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _type_counts() -> collections.Counter[str]:
    return collections.Counter(type(o).__name__ for o in gc.get_objects())


def _probe(out: Path, every: float, trace: bool, base: float) -> None:
    libc, sqlite = _libc(), _sqlite()
    first_types: collections.Counter[str] | None = None
    first_trace: tracemalloc.Snapshot | None = None
    started = time.monotonic()
    while True:
        info = libc.mallinfo2()
        types = _type_counts()
        first_types = first_types if first_types is not None else types
        grown = (types - first_types).most_common(12)
        row: dict[str, Any] = {
            "t": round(time.monotonic() - started, 1),
            "rss_mib": _status_kib("VmRSS") / 1024,
            "rss_anon_mib": _status_kib("RssAnon") / 1024,
            "rss_file_mib": _status_kib("RssFile") / 1024,
            "malloc_in_use_mib": info.uordblks / MIB,
            "malloc_free_mib": info.fordblks / MIB,
            "malloc_mmap_mib": info.hblkhd / MIB,
            "sqlite_mib": sqlite.sqlite3_memory_used() / MIB,
            "python_blocks": sys.getallocatedblocks(),
            "gc_objects": sum(types.values()),
            "types": dict(grown),
            # every common type's count, to compare any two samples (after warm-up, say)
            "counts": {name: n for name, n in types.items() if n >= 100},
        }
        if trace:
            snapshot = tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(False, tracemalloc.__file__)]
            )
            if first_trace is None and row["t"] >= base:
                first_trace = snapshot
            row["traced_mib"] = tracemalloc.get_traced_memory()[0] / MIB
            if first_trace is not None:
                row["top"] = [
                    f"{stat.size_diff / 1024:+.0f} KiB {stat.count_diff:+d} {stat.traceback}"
                    for stat in snapshot.compare_to(first_trace, "lineno")[:15]
                ]
                row["top_stacks"] = [
                    f"{stat.size_diff / 1024:+.0f} KiB {stat.count_diff:+d} "
                    + " <- ".join(str(frame) for frame in stat.traceback)
                    for stat in snapshot.compare_to(first_trace, "traceback")[:8]
                ]
            del snapshot
        with out.open("a") as handle:
            handle.write(json.dumps(row) + "\n")
        del types
        time.sleep(every)


def post_worker_init(worker: Any) -> None:
    """The packaged start-up, then the probe in a green thread of its own."""
    _packaged_post_worker_init(worker)
    out = os.environ.get("MEMPROBE_OUT")
    if not out:
        return
    trace = os.environ.get("MEMPROBE_TRACEMALLOC") == "1"
    if trace:
        tracemalloc.start(int(os.environ.get("MEMPROBE_FRAMES", "4")))
    import eventlet

    every = float(os.environ.get("MEMPROBE_EVERY", "60"))
    eventlet.spawn(_probe, Path(out), every, trace, float(os.environ.get("MEMPROBE_BASE", "0")))
