"""Scenarios load from YAML or JSON; a bad file names the field and the problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from miniature_office.runio import read_scenario
from miniature_office.sim.errors import ScenarioError
from miniature_office.sim.scenario import Settings, load_scenario_text, with_overrides

BARE = "floors: [{language: py, offices: [{name: a}]}]"


def test_default_scenario_has_two_floors_and_at_least_ten_agents() -> None:
    scenario = read_scenario(None)
    assert [f.language for f in scenario.floors] == ["python", "javascript"]
    from miniature_office.sim.engine import Engine

    engine = Engine(scenario, 1)
    assert len(engine.world.building.agents) >= 10 and scenario.arrivals.rate_per_day > 0


def test_the_packaged_default_json_is_the_default_yaml() -> None:
    # default.json exists so a command on the default scenario starts without PyYAML; an edit
    # to default.yaml must be carried over:
    #   python -c "import json,yaml; print(json.dumps(yaml.safe_load(open('default.yaml')),
    #   indent=1, ensure_ascii=False))" > default.json     (in src/miniature_office/scenarios)
    folder = Path(__file__).parents[2] / "src" / "miniature_office" / "scenarios"
    from_yaml = load_scenario_text((folder / "default.yaml").read_text(encoding="utf-8"), "yaml")
    from_json = load_scenario_text((folder / "default.json").read_text(encoding="utf-8"), "json")
    assert from_json == from_yaml == read_scenario(None)


def test_json_and_yaml_load_the_same_scenario() -> None:
    raw = read_scenario(None).to_dict()
    assert load_scenario_text(json.dumps(raw), "json") == read_scenario(None)


@pytest.mark.parametrize(
    "text,field",
    [
        ("floors: []", "floors"),
        ("floors: [{language: Python!, offices: [{name: a}]}]", "floors.0.language"),
        (
            "floors: [{language: py, offices: [{name: a, staff: {wizard: 1}}]}]",
            "floors.0.offices.0.staff.wizard.[key]",
        ),
        (
            "floors: [{language: py, offices: [{name: a}], tools: [{name: t, kind: k, "
            "capabilities: [x], slots: 0}]}]",
            "floors.0.tools.0.slots",
        ),
        (
            "floors: [{language: py, offices: [{name: a}]}]\nsettings: {ticks_per_day: -1}",
            "settings.ticks_per_day",
        ),
        ("floors: [{language: py, offices: [{name: a}]}]\nsurprise: 1", "surprise"),
        (f"{BARE}\narrivals: {{ambiguity: [0.1, 2.12]}}", "arrivals.ambiguity"),
        (f"{BARE}\narrivals: {{complexity: [0.8, 0.2]}}", "arrivals.complexity"),
        (f"{BARE}\narrivals: {{sensitivity: [-0.1, 0.5]}}", "arrivals.sensitivity"),
        (
            f"{BARE}\nsettings: {{task_effort_min: 9, task_effort_max: 4}}",
            "settings.task_effort_max",
        ),
        (f"{BARE}\nsettings: {{doc_gap_rate: 1.5}}", "settings.doc_gap_rate"),
        (
            "floors: [{language: py, offices: [{name: a}], tools: ["
            "{name: cc, kind: c, capabilities: [build]},"
            " {name: cc, kind: c, capabilities: [test]}]}]",
            "floors.0.tools.1.name",
        ),
        (f"{BARE}\narrivals: {{rate_per_day: 2}}", "floors.0.tools"),
    ],
)
def test_bad_scenario_names_the_field(text: str, field: str) -> None:
    with pytest.raises(ScenarioError) as error:
        load_scenario_text(text, "yaml")
    assert error.value.field == field
    assert error.value.problem


def test_unparseable_file_says_so() -> None:
    with pytest.raises(ScenarioError, match="not valid"):
        load_scenario_text("floors: [unclosed", "yaml")


def test_directive_on_an_unknown_floor_is_refused() -> None:
    with pytest.raises(ScenarioError, match="unknown floor"):
        load_scenario_text(
            "floors: [{language: py, offices: [{name: a}]}]\n"
            "directives: [{title: t, floor: go}]",
            "yaml",
        )


def test_overrides_set_role_counts_in_every_office() -> None:
    changed = with_overrides(read_scenario(None), {"roles.verifier": 3, "arrivals.rate_per_day": 5})
    assert all(o.staff["verifier"] == 3 for f in changed.floors for o in f.offices)
    assert changed.arrivals.rate_per_day == 5
    with pytest.raises(ScenarioError):
        with_overrides(read_scenario(None), {"settings.nope": 1})


TOOLS = (
    "tools: [{name: cc, kind: c, capabilities: [build]}, {name: t, kind: t, capabilities: [test]},"
    " {name: d, kind: d, capabilities: [docs]}]"
)


def test_a_floor_whose_work_needs_a_missing_capability_is_refused_naming_it() -> None:
    with pytest.raises(ScenarioError) as error:
        load_scenario_text(
            f"floors: [{{language: py, offices: [{{name: a}}], {TOOLS}}}]\n"
            "directives: [{title: t, floor: py, sensitivity: 0.9}]",
            "yaml",
        )
    assert error.value.field == "floors.0.tools" and "scan" in error.value.problem


def test_a_floor_with_every_capability_its_work_needs_is_accepted() -> None:
    scenario = load_scenario_text(
        f"floors: [{{language: py, offices: [{{name: a}}], {TOOLS}}}]\n"
        "directives: [{title: t, floor: py, sensitivity: 0.1}]",
        "yaml",
    )
    assert scenario.capabilities_needed("py") == ["build", "test", "docs"]


def test_a_floor_that_gets_no_work_needs_no_tools() -> None:
    assert load_scenario_text(BARE, "yaml").capabilities_needed("py") == []


def test_every_tuning_setting_is_documented_and_sweepable() -> None:
    undocumented = [n for n, f in Settings.model_fields.items() if not f.description]
    assert undocumented == []
    changed = with_overrides(read_scenario(None), {"settings.doc_gap_rate": 0.4})
    assert changed.settings.doc_gap_rate == 0.4
