"""Both builds of the simulation (compiled with mypyc, pure Python) and the rule choosing one.

``make test`` runs tests/sim once on the compiled build and once with ``MINIOFFICE_PURE=1``;
these tests hold in both passes. The rule itself (miniature_office/native.py) is checked on
scratch package trees, so it is tested whichever build this process runs.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import pickle
import subprocess  # nosec B404 - this interpreter, fixed arguments
import sys
from pathlib import Path

import pytest

from miniature_office import native
from miniature_office.sim.forecast import FutureOutcome, Question, prepare, simulate_future

from .builders import default_engine

SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def _package(tmp_path: Path, *, compiled: bool = True) -> Path:
    """A scratch ``miniature_office`` tree with two sim modules and (fake) extensions."""
    package = tmp_path / "miniature_office"
    sim = package / "sim"
    sim.mkdir(parents=True)
    (sim / "__init__.py").write_text("")
    (sim / "engine.py").write_text("X = 1\n")
    (sim / "scenario.py").write_text("Y = 2\n")  # a PURE_MODULES name: never compiled
    if compiled:
        (sim / f"engine{SUFFIX}").write_bytes(b"")
        native.write_manifest(package, sim, "mypyc test")
    return package


def test_a_whole_fresh_build_is_chosen(tmp_path: Path) -> None:
    package = _package(tmp_path)
    manifest = json.loads((package / native.MANIFEST).read_text())
    assert manifest["modules"] == ["miniature_office.sim.engine"]  # scenario.py stays Python
    build = native.decide(package, {})
    assert build.compiled and build.label == "compiled (mypyc)"
    assert build.reason == "built by mypyc test"


def test_the_pure_switch_wins_over_a_fresh_build(tmp_path: Path) -> None:
    build = native.decide(_package(tmp_path), {native.PURE_ENV: "1"})
    assert not build.compiled and build.label == "pure python"
    assert build.reason == "MINIOFFICE_PURE=1"
    assert native.decide(_package(tmp_path / "b"), {native.PURE_ENV: "0"}).compiled


def test_without_a_manifest_the_sources_load(tmp_path: Path) -> None:
    package = _package(tmp_path, compiled=False)
    (package / "sim" / f"engine{SUFFIX}").write_bytes(b"")  # an extension no build recorded
    build = native.decide(package, {})
    assert not build.compiled and build.reason == "no compiled build is installed"


@pytest.mark.parametrize("edited", ["engine.py", "scenario.py"])
def test_an_edit_after_the_build_makes_it_stale_even_in_a_pure_module(
    tmp_path: Path, edited: str
) -> None:
    package = _package(tmp_path)
    (package / "sim" / edited).write_text("X = 3\n")
    build = native.decide(package, {})
    assert not build.compiled and "changed after the compiled build" in build.reason


def test_a_new_source_file_makes_the_build_stale(tmp_path: Path) -> None:
    package = _package(tmp_path)
    (package / "sim" / "extra.py").write_text("")
    assert not native.decide(package, {}).compiled


def test_a_missing_extension_means_pure_never_a_mix(tmp_path: Path) -> None:
    package = _package(tmp_path)
    (package / "sim" / f"engine{SUFFIX}").unlink()
    build = native.decide(package, {})
    assert not build.compiled and "1 of 1 modules missing" in build.reason


def test_an_unreadable_manifest_means_pure(tmp_path: Path) -> None:
    package = _package(tmp_path)
    (package / native.MANIFEST).write_text("{not json")
    assert native.decide(package, {}).reason == f"{native.MANIFEST} is unreadable"


def test_this_process_reports_the_build_its_modules_came_from() -> None:
    import miniature_office.sim.engine as engine

    from_extension = isinstance(engine.__loader__, importlib.machinery.ExtensionFileLoader)
    assert native.sim_build() == ("compiled" if from_extension else "pure")
    assert native.build_label() == ("compiled (mypyc)" if from_extension else "pure python")
    # one build for every module: a compiled module beside a source one would run old code
    sim = [m for name, m in sys.modules.items() if name.startswith("miniature_office.sim.")]
    kinds = {
        isinstance(m.__loader__, importlib.machinery.ExtensionFileLoader)
        for m in sim
        if Path(getattr(m, "__file__", "") or "").name.split(".")[0] + ".py"
        not in native.PURE_MODULES
    }
    assert kinds == {from_extension}


def test_the_pure_switch_loads_every_sim_module_from_source() -> None:
    code = (
        "import sys, miniature_office.cli, miniature_office.sim.forecast\n"
        "from miniature_office.native import build_label\n"
        "files = [m.__file__ for n, m in sys.modules.items()"
        " if n.startswith('miniature_office.sim.')]\n"
        "print(build_label(), len(files), all(f.endswith('.py') for f in files))\n"
    )
    env = {**os.environ, native.PURE_ENV: "1"}
    out = subprocess.run(  # nosec B603 - this interpreter, fixed arguments
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0:2] == ["pure", "python"] and int(out[2]) > 20 and out[3] == "True"


def _busy_engine():
    """An engine holding one of everything a world can hold mid-run: work in every stage,
    contracts, meetings, votes, a lockdown hold, a scheduled proposal, stalls and audit."""
    engine = default_engine(seed=5)
    engine.run(150)
    engine.submit("create_directive", {"title": "Export", "floor": "python", "priority": 1})
    engine.submit("lockdown", {"scope": "python", "reason": "pen test"}, actor="admin")
    engine.submit(
        "schedule_proposal",
        {
            "title": "One more verifier",
            "activate_tick": engine.tick + 40,
            "commands": [
                {"kind": "hire_agent", "payload": {"floor": "python", "role": "verifier"}}
            ],
            "preview_id": "J-1",
            "preview_tick": engine.tick,
        },
        actor="ops",
    )
    engine.run(30)
    engine.submit("lift_lockdown", {"scope": "python"}, actor="admin")
    engine.run(200)
    return engine


def test_a_pickled_engine_runs_on_exactly_as_the_original() -> None:
    # Previews and forecasts send engines to their workers by pickle (service/previews.py).
    engine = _busy_engine()
    world = engine.world
    assert (
        world.governance.proposals
        and world.building.contracts
        and world.board.meetings
        and world.board.tasks
    )
    copy = pickle.loads(pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL))  # nosec B301
    assert copy.tick == engine.tick and copy.world.audit.head == world.audit.head
    engine.run(300)
    copy.run(300)
    assert copy.world.audit.head == engine.world.audit.head
    assert copy.flow.summary(copy.world) == engine.flow.summary(engine.world)


def test_a_forecasts_worker_input_and_answer_travel_by_pickle() -> None:
    engine = default_engine(seed=3)
    engine.run(60)
    question = Question((), engine.tick, engine.tick + 50, by_tick=engine.tick + 50)
    shared = pickle.loads(pickle.dumps(prepare(engine, question, seed=1)))  # nosec B301
    assert shared.question == question
    outcome = simulate_future(shared, 0)
    back = pickle.loads(pickle.dumps(outcome))  # nosec B301
    assert isinstance(back, FutureOutcome) and back == outcome and back.ticks_run == 50


def test_an_imported_history_travels_by_pickle_to_its_fit_process() -> None:
    # service/history.py pickles the history for the child that fits and backtests it
    from miniature_office.sim.history.items import parse_csv

    data = Path(__file__).parents[1] / "history" / "data" / "flask.csv"
    history = parse_csv(data.read_text())
    back = pickle.loads(pickle.dumps(history, protocol=pickle.HIGHEST_PROTOCOL))  # nosec B301
    assert back == history and len(back.items) == 643
