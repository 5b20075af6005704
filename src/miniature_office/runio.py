"""File formats shared by the CLI and the store: scenarios, command logs and audit chains.

This is the I/O edge around the pure simulation: JSON Lines in and out, scenario files read
from disk or from the package.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator

from .sim.errors import ScenarioError
from .sim.scenario import MAX_SCENARIO_CHARS, Scenario, load_scenario_text

DEFAULT_SCENARIO = "default"
#: A command log's line is one command (a few hundred bytes); a longer one is refused
#: before it is decoded, so a file without newlines cannot fill memory.
MAX_LINE = 1 << 20


def read_scenario(path: str | Path | None) -> Scenario:
    """Load a scenario file (YAML or JSON), or the packaged default when ``path`` is None."""
    if path is None or str(path) == DEFAULT_SCENARIO:
        # default.json is default.yaml as JSON (tests/sim/test_scenario.py holds them equal):
        # a command on the default scenario then starts without importing PyYAML. The package's
        # own file, read directly (importlib.resources would cost every command its import).
        text = (Path(__file__).parent / "scenarios" / "default.json").read_text(encoding="utf-8")
        return load_scenario_text(text, "json")
    file = Path(path)
    fmt = "json" if file.suffix.lower() == ".json" else "yaml"
    size = file.stat().st_size  # before reading: an oversized file is never loaded
    if size > MAX_SCENARIO_CHARS * 4:  # the most bytes MAX_SCENARIO_CHARS of UTF-8 take
        raise ScenarioError("", f"a scenario file is at most {MAX_SCENARIO_CHARS} characters "
                                f"(this one is {size} bytes)")  # fmt: skip
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError("", f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return load_scenario_text(text, fmt)


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
        number = 0
        while line := source.readline(MAX_LINE + 1):
            number += 1
            if len(line) > MAX_LINE:
                raise ValueError(f"line {number}: longer than {MAX_LINE} characters")
            if not line.strip():
                continue
            try:
                row = json.loads(line, parse_constant=_no_constant)
            except json.JSONDecodeError as exc:
                raise ValueError(f"line {number}: not valid JSON ({exc.msg})") from None
            except (ValueError, RecursionError) as exc:
                problem = "nested too deeply" if isinstance(exc, RecursionError) else exc
                raise ValueError(f"line {number}: {problem}") from None
            if not isinstance(row, dict):
                raise ValueError(f"line {number}: expected a JSON object")
            yield row


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number this file may hold")
