"""Waiting for a condition with a deadline, instead of sleeping and hoping it is long enough."""

from __future__ import annotations

import time
from typing import Callable


def wait_for(condition: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    """Return as soon as ``condition()`` is true; fail the test if it is not within ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what or 'condition'}"
        time.sleep(0.01)
