"""Scenario and run files are bad input too (issue 25): every reader answers a clear error in
bounded time and memory -- alias bombs, deep nesting, a million directives, NaN and
infinities, huge numbers, oversized, non-UTF-8, truncated and tampered files."""

from __future__ import annotations

import json
import time

import pytest

from miniature_office.runio import MAX_LINE, read_jsonl, read_scenario
from miniature_office.sim.errors import ScenarioError
from miniature_office.sim.scenario import (
    MAX_DEPTH,
    MAX_DIRECTIVES,
    MAX_SCENARIO_CHARS,
    load_scenario_text,
)
from miniature_office.store import Store, StoreError
from miniature_office.store.persistence import Persistence
from miniature_office.store.transfer import export_run, import_run

BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]"
       for i in range(8)]  # fmt: skip
)


def _refused(text: str, fmt: str, match: str, seconds: float = 2.0) -> None:
    load_scenario_text(json.dumps(_scenario()), "json")  # first use builds the models: untimed
    started = time.process_time()  # this process's CPU: the work done, whatever the host's load
    with pytest.raises(ScenarioError, match=match):
        load_scenario_text(text, fmt)
    assert time.process_time() - started < seconds


def _scenario(**extra) -> dict:
    return {"floors": [{"language": "python", "offices": [{"name": "A"}]}], **extra}


def test_a_yaml_alias_bomb_is_refused_before_it_expands():
    _refused(BILLION_LAUGHS, "yaml", "aliases")


def test_a_yaml_merge_key_is_an_alias_too():
    _refused("base: &b {name: A}\nfloors:\n  - <<: *b\n", "yaml", "aliases")


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_deep_nesting_is_refused(fmt):
    text = "[" * 100_000 + "]" * 100_000
    _refused(text if fmt == "yaml" else '{"floors": ' + text + "}", fmt, "deep")


def test_nesting_just_past_the_bound_is_refused_and_within_it_reaches_validation():
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    _refused(json.dumps(_scenario())[:-1] + ', "x": ' + deep + "}", "json", "deeper")
    _refused(json.dumps(_scenario(x=[[1]])), "json", "x: Extra inputs")


def test_a_million_directives_is_refused_for_its_size():
    directive = '{"title": "t", "floor": "python"},'
    text = '{"floors": [], "directives": [' + directive * 1_000_000 + "]}"
    _refused(text, "json", f"at most {MAX_SCENARIO_CHARS} characters")


def test_more_directives_than_the_bound_are_refused_by_count():
    many = [{"title": "t", "floor": "python"}] * (MAX_DIRECTIVES + 1)
    _refused(json.dumps(_scenario(directives=many)), "json", "directives")


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_json_nan_and_infinities_are_refused(number):
    text = json.dumps(_scenario(arrivals={"rate_per_day": 1}))
    _refused(text.replace('"rate_per_day": 1', f'"rate_per_day": {number}'), "json", "number")


@pytest.mark.parametrize("number", [".nan", ".inf", "-.inf"])
def test_yaml_nan_and_infinities_are_refused(number):
    text = f"floors: [{{language: python, offices: [{{name: A}}]}}]\n" \
           f"settings: {{defect_rate: {number}}}\n"  # fmt: skip
    _refused(text, "yaml", "finite")


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_a_huge_integer_is_refused(fmt):
    digits = "9" * 100_000
    if fmt == "json":
        text = json.dumps(_scenario(seed=1))[:-1] + f', "directives": [{{"tick": {digits}'
        text += ', "title": "t", "floor": "python"}]}'
    else:
        text = "floors: [{language: python, offices: [{name: A}]}]\n"
        text += f"directives: [{{tick: {digits}, title: t, floor: python}}]\n"
    _refused(text, fmt, "digits|limit")


def test_a_tick_beyond_the_bound_is_refused():
    text = json.dumps(_scenario(directives=[{"tick": 2**40, "title": "t", "floor": "python"}]))
    _refused(text, "json", "directives.0.tick")


def test_an_oversized_scenario_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:
        handle.truncate(MAX_SCENARIO_CHARS * 4 + 1)  # sparse: no disk used
    with pytest.raises(ScenarioError, match="at most"):
        read_scenario(path)


def test_a_scenario_file_that_is_not_utf8_is_a_scenario_error(tmp_path):
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ScenarioError, match="UTF-8"):
        read_scenario(path)


def test_a_command_log_line_longer_than_the_bound_is_refused(tmp_path):
    path = tmp_path / "commands.jsonl"
    path.write_text('{"a": "' + "x" * (MAX_LINE + 10) + '"}\n')
    with pytest.raises(ValueError, match="line 1: longer than"):
        list(read_jsonl(path))


@pytest.mark.parametrize("line", ['{"tick": NaN}', "[" * 100_000])
def test_a_command_log_line_with_nan_or_deep_nesting_is_a_value_error(tmp_path, line):
    path = tmp_path / "commands.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(ValueError, match="line 1"):
        list(read_jsonl(path))


# ---- exported runs --------------------------------------------------------------------------


@pytest.fixture
def exported(tmp_path):
    """An exported run of 30 ticks (SQLite), as a path and its parsed document."""
    store = Store(f"sqlite:///{tmp_path / 'source.db'}")
    keeper = Persistence(store)
    engine = keeper.open(read_scenario(None), 3, audit_window=2000)
    for _ in range(30):
        keeper.tick(engine.step())
    keeper.flush()
    out = tmp_path / "run.json"
    export_run(store, out)
    return out, json.loads(out.read_text())


def _import(tmp_path, path) -> Store:
    target = Store(f"sqlite:///{tmp_path / 'target.db'}")
    import_run(target, path)
    return target


def _refused_import(tmp_path, path, match: str) -> None:
    target = Store(f"sqlite:///{tmp_path / 'target.db'}")
    with pytest.raises(StoreError, match=match):
        import_run(target, path)
    assert target.run_info() is None  # nothing half-imported


def test_a_clean_export_still_imports(tmp_path, exported):
    path, _ = exported
    assert _import(tmp_path, path).run_info() is not None


def test_a_truncated_export_is_refused(tmp_path, exported):
    path, _ = exported
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    _refused_import(tmp_path, path, "cannot read the export")


@pytest.mark.parametrize(
    "tamper, match",
    [
        (lambda d: d["audit"][3].update(tick=99), "broken at event"),
        (lambda d: d.pop("audit"), "audit"),
        (lambda d: d.update(seed=-1), "seed"),
        (lambda d: d.update(tick="many"), "tick"),
        (lambda d: d.update(commands=[{"not": "a command"}]), "malformed"),
        (lambda d: d["audit"].__setitem__(0, {"junk": 1}), "malformed|broken"),
        (lambda d: d.update(scenario={"floors": "none"}), "scenario is invalid"),
    ],
)
def test_a_tampered_export_is_refused_whole(tmp_path, exported, tamper, match):
    path, data = exported
    tamper(data)
    path.write_text(json.dumps(data))
    _refused_import(tmp_path, path, match)


def test_an_export_with_nan_is_refused(tmp_path, exported):
    path, data = exported
    path.write_text(json.dumps(data).replace('"seed": 3', '"seed": NaN', 1))
    _refused_import(tmp_path, path, "NaN")


def test_an_oversized_export_is_refused_before_it_is_read(tmp_path, monkeypatch, exported):
    import miniature_office.store.transfer as transfer

    path, _ = exported
    monkeypatch.setattr(transfer, "MAX_EXPORT_BYTES", 100)
    _refused_import(tmp_path, path, "over the 100-byte limit")
