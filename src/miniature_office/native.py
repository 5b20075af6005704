"""Which build of the simulation runs: ``compiled`` (mypyc) or ``pure`` (Python), and the rule.

The package build (setup.py) compiles every module under ``sim/`` with mypyc when a compiler is
present, except those in :data:`PURE_MODULES`, and writes :data:`MANIFEST` beside the package:
the compiled modules and a fingerprint of the ``sim/`` sources they were compiled from. At run
time the compiled modules load only when all of this holds, else every ``sim/`` module loads
from its ``.py`` source (never a mix: compiled modules call each other directly, so one stale
module would bring back old code):

- ``MINIOFFICE_PURE`` is not set to ``1`` (the switch CI uses for its pure pass);
- the manifest exists and every module it names has an extension for this interpreter;
- the ``sim/`` sources hash to the manifest's fingerprint. An editable install builds its
  extensions in place, next to the sources; an edit after the build makes them stale, and a
  stale extension must never shadow the edited source. ``make native`` rebuilds them.

:func:`install` (called by the package's ``__init__``) puts a finder first on ``sys.meta_path``
that serves ``sim/`` modules from source when the rule says pure; it decides on the first
``sim/`` import, so commands that never simulate pay nothing. ``miniature-office --version``,
``/health`` and ``/metrics`` all report :func:`build_label`.

This module imports nothing of the simulation, and setup.py runs it as a plain file.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import json
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any, Sequence

#: Modules of sim/ left as Python, and why. Every other module under sim/ is compiled.
PURE_MODULES: dict[str, str] = {
    "__init__.py": "package markers stay Python (they hold no code)",
    "scenario.py": "defines pydantic models, which pydantic builds from Python classes",
    "commands.py": "defines pydantic models, which pydantic builds from Python classes",
}
#: Set to ``1``, the simulation loads from its ``.py`` sources even where extensions exist;
#: read by setup.py too, where it builds the pure package.
PURE_ENV = "MINIOFFICE_PURE"
#: Written by the build into the ``miniature_office`` package directory (git-ignored).
MANIFEST = "native_build.json"
COMPILED_LABEL = "compiled (mypyc)"
PURE_LABEL = "pure python"

_PACKAGE = Path(__file__).resolve().parent
_SIM = "miniature_office.sim"


@dataclass(frozen=True)
class Build:
    """The decision: ``compiled`` or not, and a sentence saying why."""

    compiled: bool
    reason: str

    @property
    def label(self) -> str:
        return COMPILED_LABEL if self.compiled else PURE_LABEL


def compiled_sources(sim_dir: Path) -> list[Path]:
    """The sim/ sources the compiled build compiles: all of them (any depth) but PURE_MODULES."""
    return sorted(p for p in sim_dir.rglob("*.py") if p.name not in PURE_MODULES)


def fingerprint(sim_dir: Path) -> str:
    """SHA-256 of every ``.py`` under ``sim_dir`` (path and bytes), the pure modules included:
    compiled code reads their classes, so an edit to any of them makes the build stale."""
    digest = hashlib.sha256()
    for path in sorted(sim_dir.rglob("*.py")):
        digest.update(path.relative_to(sim_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def module_name(sim_dir: Path, source: Path) -> str:
    """``miniature_office.sim.history.fit`` for ``sim/history/fit.py``."""
    return ".".join((_SIM, *source.relative_to(sim_dir).with_suffix("").parts))


def write_manifest(package_dir: Path, sim_dir: Path, compiler: str) -> Path:
    """Record a finished compiled build (setup.py calls this after the extensions are built)."""
    modules = [module_name(sim_dir, p) for p in compiled_sources(sim_dir)]
    path = package_dir / MANIFEST
    body = {"fingerprint": fingerprint(sim_dir), "modules": modules, "compiler": compiler}
    path.write_text(json.dumps(body, indent=1) + "\n")
    return path


def _extension_exists(package_dir: Path, name: str) -> bool:
    stem = package_dir.joinpath(*name.split(".")[1:])
    return any(
        stem.with_name(stem.name + suffix).exists()
        for suffix in importlib.machinery.EXTENSION_SUFFIXES
    )


def decide(package_dir: Path = _PACKAGE, environ: Any = os.environ) -> Build:
    """The rule in the module docstring, for the package installed at ``package_dir``."""
    if environ.get(PURE_ENV, "") == "1":
        return Build(False, f"{PURE_ENV}=1")
    try:
        manifest = json.loads((package_dir / MANIFEST).read_text())
        modules: list[str] = list(manifest["modules"])
        expected = str(manifest["fingerprint"])
    except FileNotFoundError:
        return Build(False, "no compiled build is installed")
    except (OSError, ValueError, KeyError, TypeError):
        return Build(False, f"{MANIFEST} is unreadable")
    missing = [m for m in modules if not _extension_exists(package_dir, m)]
    if missing or not modules:
        return Build(False, f"the compiled build is incomplete for this Python ({len(missing)} "
                            f"of {len(modules)} modules missing)")  # fmt: skip
    sim_dir = package_dir / "sim"
    if any(sim_dir.rglob("*.py")) and fingerprint(sim_dir) != expected:
        return Build(False, "the sim/ sources changed after the compiled build (make native)")
    return Build(True, f"built by {manifest.get('compiler', 'mypyc')}")


@lru_cache(maxsize=1)
def chosen() -> Build:
    """This process's decision (made once)."""
    return decide()


def loaded() -> Build:
    """What actually runs: :func:`chosen`, checked against a sim module already imported."""
    build = chosen()
    engine = sys.modules.get(f"{_SIM}.engine")
    if engine is not None:
        native = isinstance(getattr(engine, "__loader__", None),
                            importlib.machinery.ExtensionFileLoader)  # fmt: skip
        if native != build.compiled:
            return Build(native, "the loaded modules disagree with the build rule")
    return build


def build_label() -> str:
    """``compiled (mypyc)`` or ``pure python``: what --version, /health and /metrics say."""
    return loaded().label


def sim_build() -> str:
    """``compiled`` or ``pure``: the short form of :func:`build_label`."""
    return "compiled" if loaded().compiled else "pure"


class _SourceFinder:
    """Serves ``miniature_office.sim`` modules from their ``.py`` files when the build is pure;
    otherwise steps aside and the normal path finder loads the extensions. (A meta path finder
    by protocol: importlib.abc costs a start-up import, importlib.util is needed only here.)"""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(_SIM + ".") or path is None or chosen().compiled:
            return None
        from importlib.util import spec_from_file_location

        leaf = fullname.rpartition(".")[2]
        for entry in path:
            package = Path(entry, leaf, "__init__.py")
            if package.is_file():
                return spec_from_file_location(
                    fullname, package, submodule_search_locations=[str(package.parent)]
                )
            module = Path(entry, leaf + ".py")
            if module.is_file():
                return spec_from_file_location(fullname, module)
        return None


def install() -> None:
    """Put the source finder first on ``sys.meta_path`` (once per process)."""
    if not any(isinstance(f, _SourceFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourceFinder())


__all__ = [
    "COMPILED_LABEL",
    "MANIFEST",
    "PURE_ENV",
    "PURE_LABEL",
    "PURE_MODULES",
    "Build",
    "build_label",
    "chosen",
    "compiled_sources",
    "decide",
    "fingerprint",
    "install",
    "loaded",
    "sim_build",
    "write_manifest",
]
