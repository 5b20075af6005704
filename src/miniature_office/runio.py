"""File formats shared by the CLI and the store: scenarios, command logs and audit chains.

This is the I/O edge around the pure simulation: JSON Lines in and out, scenario files read
from disk or from the package.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Iterator

from .sim.scenario import Scenario, load_scenario_text

DEFAULT_SCENARIO = "default"


def read_scenario(path: str | Path | None) -> Scenario:
    """Load a scenario file (YAML or JSON), or the packaged default when ``path`` is None."""
    if path is None or str(path) == DEFAULT_SCENARIO:
        text = resources.files("miniature_office").joinpath("scenarios/default.yaml").read_text()
        return load_scenario_text(text, "yaml")
    file = Path(path)
    fmt = "json" if file.suffix.lower() == ".json" else "yaml"
    return load_scenario_text(file.read_text(encoding="utf-8"), fmt)


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write rows as JSON Lines; returns how many were written."""
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n")
            count += 1
    return count


def read_jsonl(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield one object per non-empty line; a bad line raises ValueError naming its number."""
    with open(path, encoding="utf-8") as source:
        for number, line in enumerate(source, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"line {number}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(f"line {number}: expected a JSON object")
            yield row
