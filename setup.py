"""The package build: the simulation compiled with mypyc when it can be, pure Python otherwise.

pyproject.toml holds the project's metadata; this file only adds the compiled extension
modules (as black and mypy ship compiled wheels beside a pure one). Every module under
``src/miniature_office/sim`` is compiled except ``native.PURE_MODULES`` (a stated list).

The compiled build is the default. The package is pure Python instead when
``MINIOFFICE_PURE=1`` is set, when mypyc is not importable, or when mypyc or the C compiler
fails: the build says so on stderr and ships the pure package rather than failing. A finished
compiled build writes ``miniature_office/native_build.json`` (the modules and a fingerprint of
the sources), without which the extensions are never loaded; at run time
``miniature_office/native.py`` also refuses extensions whose sources have changed since (an
editable install builds them in place, next to the sources, and an edit must never be shadowed
by them). ``miniature-office --version``, ``/health`` and ``/metrics`` say which build runs.
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
PACKAGE = ROOT / "src" / "miniature_office"
SIM = PACKAGE / "sim"
NATIVE = runpy.run_path(str(PACKAGE / "native.py"))


def say(message: str) -> None:
    print(f"miniature-office build: {message}", file=sys.stderr, flush=True)


def compiled_modules() -> list[str]:
    """The sim/ sources to compile, by the rule in miniature_office/native.py."""
    return [str(p.relative_to(ROOT)) for p in NATIVE["compiled_sources"](SIM)]


class OptionalBuildExt(build_ext):
    """build_ext that records a finished compiled build and falls back to the pure package
    when the C compile fails."""

    def run(self) -> None:
        if not self.extensions:
            return
        target = self._package_dir()
        (target / NATIVE["MANIFEST"]).unlink(missing_ok=True)  # until this build is whole
        try:
            super().run()
        except Exception as exc:  # a compiler error of any kind: ship the pure package
            say(f"compiling the simulation failed ({exc}); building the pure Python package")
            for output in self.get_outputs():
                Path(output).unlink(missing_ok=True)
            self.extensions = []
            return
        import mypy.version

        target.mkdir(parents=True, exist_ok=True)
        NATIVE["write_manifest"](target, SIM, f"mypyc {mypy.version.__version__}")
        say(f"compiled {len(self.extensions)} extension modules into {target}")

    def _package_dir(self) -> Path:
        if self.inplace:
            return Path(self.get_finalized_command("build_py").get_package_dir("miniature_office"))
        return Path(self.build_lib) / "miniature_office"


#: setup.py commands that build extensions. Others (egg_info, sdist, the PEP 517 hook that asks
#: for build dependencies) get none, so mypyc does not type-check and translate sim/ for them.
BUILDS = {"build", "build_ext", "bdist_wheel", "editable_wheel", "install", "develop"}


def ext_modules() -> list:
    if not BUILDS & set(sys.argv[1:]):
        return []
    if os.environ.get(NATIVE["PURE_ENV"], "") == "1":
        say(f"{NATIVE['PURE_ENV']}=1: building the pure Python package")
        return []
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
