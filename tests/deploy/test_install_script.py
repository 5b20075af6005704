"""scripts/install-validators.sh is clean shell and does nothing when all is installed."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ._support import REPO, explain, run, tool

SCRIPT = REPO / "scripts" / "install-validators.sh"


def test_install_script_passes_shellcheck():
    result = run([tool("shellcheck"), str(SCRIPT)])
    assert result.returncode == 0, explain(result)


def test_install_script_is_quick_and_quiet_when_everything_is_present():
    venv = Path(sys.prefix)
    started = time.monotonic()
    result = run(["bash", str(SCRIPT), str(venv)])
    elapsed = time.monotonic() - started
    assert result.returncode == 0, explain(result)
    assert result.stdout.strip() == "install-validators: ready", explain(result)
    assert elapsed < 5
