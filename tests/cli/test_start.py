"""A command starts cheaply: it imports what it needs and nothing of the server.

A one-tick ``miniature-office simulate`` is mostly start-up (BENCHMARKS.md, "Fast start"), so
the guard is on what gets imported, checked in a fresh interpreter: a timing test would be
flaky on a shared host, a module list is not.
"""

from __future__ import annotations

import argparse
import json
import subprocess  # nosec B404 - this interpreter, fixed arguments
import sys

#: Never imported by the command line's own import, nor by a simulate run: the web stack, the
#: store, the job services, PyYAML (the default scenario ships as JSON too), the history
#: tools and the command models (simulate submits nothing).
HEAVY = (
    "flask",
    "werkzeug",
    "flask_socketio",
    "flask_limiter",
    "sqlalchemy",
    "redis",
    "psycopg",
    "prometheus_client",
    "eventlet",
    "gunicorn",
    "distributed",
    "yaml",
    "multiprocessing",
    "miniature_office.web",
    "miniature_office.service",
    "miniature_office.store",
    "miniature_office.sim.history",
    "miniature_office.sim.commands",
)

SIMULATE = """
import contextlib, io, json, sys
from miniature_office.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main(["simulate", "--ticks", "1"])
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def _modules_after(code: str) -> dict:
    result = subprocess.run(  # nosec B603 - this interpreter, fixed arguments
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def test_importing_the_command_line_pulls_in_no_server_store_or_yaml() -> None:
    answer = _modules_after(
        "import json, sys, miniature_office.cli\n"
        "print(json.dumps({'modules': sorted(sys.modules)}))"
    )
    assert "miniature_office.sim.engine" in answer["modules"]  # the check sees real imports
    assert _heavy(answer["modules"]) == []


def test_a_one_tick_simulate_imports_only_what_it_runs() -> None:
    answer = _modules_after(SIMULATE)
    assert answer["code"] == 0 and "ticks               1" in answer["out"]
    assert _heavy(answer["modules"]) == []


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return set(sub.choices)


def test_each_command_is_mapped_to_the_group_that_registers_it() -> None:
    # main() builds only the named command's group: the map must name every command, each
    # with the group whose register() adds it, or that command would parse with the wrong
    # parser (or, unmapped, with the whole one: correct, only slower)
    from miniature_office.cli import COMMANDS, GROUPS, build_parser

    assert _commands(build_parser()) == set(COMMANDS)
    for group in GROUPS:
        assert _commands(build_parser((group,))) == {
            name for name, owner in COMMANDS.items() if owner is group
        }, group.__name__


def test_a_command_parses_the_same_with_only_its_group_registered() -> None:
    from miniature_office.cli import build_parser, simulate

    argv = ["simulate", "--ticks", "3", "--seed", "7", "--json"]
    assert build_parser((simulate,)).parse_args(argv) == build_parser().parse_args(argv)


PLUGIN_SCAN = """
import json, os
from importlib import metadata
scanned = []
real = metadata.entry_points
metadata.entry_points = lambda **kw: scanned.append(kw) or real(**kw)
from miniature_office.cli import main
main(["simulate", "--ticks", "1"])
print(json.dumps({"scanned": scanned, "setting": os.environ.get("PYDANTIC_DISABLE_PLUGINS")}))
"""


def test_a_run_does_not_scan_for_pydantic_plugins_unless_the_user_says_otherwise() -> None:
    import os

    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    quiet = json.loads(_run_quietly(PLUGIN_SCAN, env))
    assert quiet == {"scanned": [], "setting": "__all__"}
    # a value the user set is theirs: "" (plugins on) makes pydantic scan as it always does
    kept = json.loads(_run_quietly(PLUGIN_SCAN, {**env, "PYDANTIC_DISABLE_PLUGINS": ""}))
    assert kept["setting"] == "" and {"group": "pydantic"} in kept["scanned"]


def _run_quietly(code: str, env: dict[str, str]) -> str:
    """The last line ``code`` prints (a run's summary comes before it)."""
    result = subprocess.run(  # nosec B603 - this interpreter, fixed arguments
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return result.stdout.strip().splitlines()[-1]
