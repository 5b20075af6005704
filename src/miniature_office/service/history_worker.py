"""Child process of :class:`.history.ChildJob`: one fit, backtest or what-if, result as JSON.

    python -m miniature_office.service.history_worker JOB.pickle RESULT.json

Errors a user can cause (a staff the scenario refuses, a command the world rejects, sizes out
of bounds) are written as ``{"ok": false, "error": ...}``; anything else is a crash the parent
reports as a failed job.
"""

from __future__ import annotations

import json
import pickle  # nosec B403 - reads the job our own parent process wrote
import sys
from typing import Any

from ..sim.errors import CommandRejected, ScenarioError
from ..sim.history.backtest import backtest
from ..sim.history.fit import fit_office


def run(job: dict[str, Any]) -> Any:
    """The job's result (its kind: fit, backtest or whatif)."""
    kind, history = job["kind"], job["history"]
    if kind == "fit":
        return fit_office(history, staff=job.get("staff"))
    if kind == "backtest":
        return backtest(history, cuts=job["cuts"], futures=job["futures"])
    if kind == "whatif":
        from .history import whatif_engine
        from .previews import run_preview

        engine = whatif_engine(history, job["fit"])
        return run_preview(engine, job["commands"], futures=job["futures"], ticks=job["ticks"])
    raise ValueError(f"unknown job kind {kind!r}")


def main(argv: list[str]) -> int:
    source, target = argv[1], argv[2]
    with open(source, "rb") as file:
        job = pickle.load(file)  # nosec B301 - written by our parent process
    try:
        outcome = {"ok": True, "result": run(job)}
    except CommandRejected as exc:
        outcome = {"ok": False, "error": f"commands: {exc.reason}"}
    except ScenarioError as exc:
        outcome = {"ok": False, "error": f"staff: {exc}"}
    except ValueError as exc:
        outcome = {"ok": False, "error": str(exc)}
    with open(target, "w", encoding="utf-8") as file:
        json.dump(outcome, file, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
