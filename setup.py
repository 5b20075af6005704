"""The package build: the simulation compiled with mypyc when it can be, pure Python otherwise.

pyproject.toml holds the project's metadata; this file only adds the compiled extension
modules (as black and mypy ship compiled wheels beside a pure one). Every module under
``src/miniature_office/sim`` is compiled except ``native.PURE_MODULES`` (a stated list).

The compiled build is opt-in for now: set ``MINIOFFICE_COMPILE=1`` for a non-editable build
(``pip wheel .``). It is not the default because tests/sim does not yet pass on it (pickled
engines, which previews and forecasts send to their workers, do not load; BENCHMARKS.md). Even
then the build is pure Python when mypyc is not importable, or mypyc or the C compiler fails:
it says so on stderr and falls back to the pure package instead of failing. An editable install
must stay pure: in-place extensions would shadow the sources being edited.

``miniature-office --version``, ``/health`` and ``/metrics`` say which build is running.
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
SIM = ROOT / "src" / "miniature_office" / "sim"


def say(message: str) -> None:
    print(f"miniature-office build: {message}", file=sys.stderr, flush=True)


def compiled_modules() -> list[str]:
    """The sim/ sources to compile, by the rule in miniature_office/native.py."""
    native = runpy.run_path(str(ROOT / "src" / "miniature_office" / "native.py"))
    return [str(p.relative_to(ROOT)) for p in native["compiled_sources"](SIM)]


class OptionalBuildExt(build_ext):
    """build_ext that falls back to the pure package when the C compile fails."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # a compiler error of any kind: ship the pure package
            say(f"compiling the simulation failed ({exc}); building the pure Python package")
            for output in self.get_outputs():
                Path(output).unlink(missing_ok=True)
            self.extensions = []


def ext_modules() -> list:
    if os.environ.get("MINIOFFICE_COMPILE", "") in ("", "0"):
        return []  # the pure package, the default (see the module docstring)
    try:
        from mypyc.build import mypycify
    except ImportError:
        say("mypyc is not installed: building the pure Python package")
        return []
    modules = compiled_modules()
    try:
        extensions = mypycify(
            ["--config-file", str(ROOT / "pyproject.toml"), *modules],
            opt_level=os.environ.get("MYPYC_OPT_LEVEL", "3"),
        )
    except BaseException as exc:  # mypyc exits (SystemExit) on a type error
        say(f"mypyc could not compile the simulation ({exc!r}); building the pure package")
        return []
    say(f"compiling {len(modules)} simulation modules with mypyc")
    return extensions


if __name__ == "__main__":
    setup(ext_modules=ext_modules(), cmdclass={"build_ext": OptionalBuildExt})
