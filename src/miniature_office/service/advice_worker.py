"""A preview, assessment or forecast job in its own process (``python -m`` this module ``INPUT``).

The web process writes the job's input (the live world's snapshot at the tick it was asked,
and the parameters) to a file and starts this program, so a job never runs inside a request,
the tick loop or the web server's event loop. This program runs the futures (a local process
pool, or Dask when ``DASK_SCHEDULER_ADDRESS`` is set) and writes one JSON line per event to
stdout: ``{"progress": [done, total]}`` after each future, ``{"look": {...}}`` with the
answer so far after each look of a sequential preview or a progressive forecast, then
``{"result": {...}}`` or ``{"error": "..."}``.

It runs at the lower CPU priority the parameters name (``niceness``, from the configuration's
``job_niceness``); its pool's workers inherit it, so jobs never take CPU from the live world.
"""

from __future__ import annotations

import json
import os
import pickle  # nosec B403 - the input file is written by our own web process for this job
import signal
import sys
import threading
import time
from typing import Any

from ..sim.engine import Engine
from ..sim.errors import CommandRejected
from . import progressive
from .jobs import default_workers, lower_priority
from .previews import assess_directive, run_preview


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def run(job: dict[str, Any]) -> dict[str, Any]:
    """Run one job description (``kind``, ``state``, ``params``) and return its result."""
    engine = Engine.resume(job["state"], headless=True)
    params = job["params"]
    options = {
        "futures": params["futures"],
        "ticks": params["ticks"],
        "seed": params["seed"],
        "workers": params.get("workers") or default_workers(),
        "scheduler": params.get("scheduler"),
        "progress": lambda done, total: _say({"progress": [done, total]}),
    }
    if job["kind"] == "assess":
        return assess_directive(engine, params["directive"], **options)
    if job["kind"] == "forecast":
        forecast = progressive.forecast(
            engine,
            added=params.get("add") or [],
            only_added=params.get("only_added", False),
            horizon=params["ticks"],
            by_day=params.get("by_day"),
            futures=params["futures"],
            seed=params["seed"],
            workers=options["workers"],
            scheduler=options["scheduler"],
            progress=options["progress"],
            on_look=lambda look: _say({"look": progressive.report(look)}),
            source=f"the live world at tick {engine.tick}",
        )
        return progressive.report(forecast)
    return run_preview(
        engine,
        params["commands"],
        label=params.get("label"),
        on_look=lambda report: _say({"look": report}),
        **options,
    )


def _leave_with_parent(parent: int) -> None:
    """End this job (and its pool: our process group) once the server that started it is
    gone, so no job outlives its server."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os.killpg(os.getpgrp(), signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if argv is None:  # started as a program by the web process
        threading.Thread(target=_leave_with_parent, args=(os.getppid(),), daemon=True).start()
    with open(args[0], "rb") as handle:
        job = pickle.load(handle)  # nosec B301 - written by the web process for this job
    lower_priority(job["params"].get("niceness"))
    try:
        _say({"result": run(job)})
    except (CommandRejected, ValueError) as exc:
        _say({"error": str(exc)})
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover - started as a program
    sys.exit(main())
