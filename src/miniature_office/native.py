"""Which build of the simulation is running: ``compiled`` (mypyc) or ``pure`` (Python).

The package build (setup.py) compiles every module under ``sim/`` with mypyc when a compiler is
present, except those in :data:`PURE_MODULES`; this module is the one place that list lives, and
setup.py reads it from here. ``miniature-office --version``, ``/health`` and ``/metrics`` report
:func:`sim_build`. No import of the simulation happens here: the answer comes from where the
import system would load each module from.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from functools import lru_cache
from pathlib import Path

#: Modules of sim/ left as Python, and why. Every other module under sim/ is compiled.
PURE_MODULES: dict[str, str] = {
    "__init__.py": "package markers stay Python (they hold no code)",
    "scenario.py": "defines pydantic models, which pydantic builds from Python classes",
    "commands.py": "defines pydantic models, which pydantic builds from Python classes",
}


def compiled_sources(sim_dir: Path) -> list[Path]:
    """The sim/ sources the compiled build compiles: all of them (any depth) but PURE_MODULES."""
    return sorted(p for p in sim_dir.rglob("*.py") if p.name not in PURE_MODULES)


@lru_cache(maxsize=1)
def sim_build() -> str:
    """``compiled`` when every compilable sim module loads as an extension, else ``pure``
    (``mixed`` if only some do: a broken install, worth seeing in /health)."""
    spec = importlib.util.find_spec("miniature_office.sim")
    locations = spec.submodule_search_locations if spec else None
    if not locations:
        return "pure"
    sim_dir = Path(next(iter(locations)))
    names = {p.relative_to(sim_dir).with_suffix("") for p in sim_dir.rglob("*.py")}
    names = {n for n in names if f"{n.name}.py" not in PURE_MODULES}
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    native = {n for n in names if _loads_native(sim_dir, n, suffixes)}
    if not native:
        return "pure"
    return "compiled" if native == names else "mixed"


def _loads_native(sim_dir: Path, name: Path, suffixes: tuple[str, ...]) -> bool:
    # the import system tries extension suffixes before .py in the same directory
    return any((sim_dir / f"{name}{suffix}").exists() for suffix in suffixes)


__all__ = ["PURE_MODULES", "compiled_sources", "sim_build"]
