"""Pickling for frozen dataclasses, the same in the pure and the compiled build.

Previews and forecasts send engines to worker processes by pickle, and an engine holds frozen
dataclasses (a floor plan's rectangles; a forecast's question and outcomes). The pure build's
dataclasses restore them with ``object.__setattr__``; a compiled class (mypyc) restores every
attribute with ``setattr``, which a frozen class refuses. Frozen classes that travel by pickle
define ``__getstate__``/``__setstate__`` from these two functions instead.
"""

from __future__ import annotations

import dataclasses
from typing import Any


def frozen_state(obj: Any) -> dict[str, Any]:
    """The fields of a frozen dataclass instance, by name."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def restore_frozen(obj: Any, state: dict[str, Any]) -> None:
    """Set the fields of a frozen dataclass instance being unpickled (past its frozen guard)."""
    for name, value in state.items():
        object.__setattr__(obj, name, value)
