"""Scenarios load from YAML or JSON; a bad file names the field and the problem."""

from __future__ import annotations

import json

import pytest

from miniature_office.runio import read_scenario
from miniature_office.sim.errors import ScenarioError
from miniature_office.sim.scenario import load_scenario_text, with_overrides


def test_default_scenario_has_two_floors_and_at_least_ten_agents() -> None:
    scenario = read_scenario(None)
    assert [f.language for f in scenario.floors] == ["python", "javascript"]
    from miniature_office.sim.engine import Engine

    engine = Engine(scenario, 1)
    assert len(engine.world.agents) >= 10 and scenario.arrivals.rate_per_day > 0


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
