"""The intake limit is a constraint like any role: named when it binds, with its setting; lead
time from the offer and from admission; figures that grow with the run flagged; and Little's
law for tasks from the exported CSV alone."""

from __future__ import annotations

import csv
import io

import pytest

from miniature_office.cli.common import flow_csv
from miniature_office.runio import read_scenario
from miniature_office.sim.engine import Engine
from miniature_office.sim.explain import explain_waiting
from miniature_office.sim.flow import GROWS_WITH_RUN, INTAKE
from miniature_office.sim.scenario import Scenario, with_overrides


def _office(rate: float, max_open: int, **more: object) -> Scenario:
    overrides = {"arrivals.rate_per_day": rate, "arrivals.max_open": max_open, **more}
    return with_overrides(read_scenario(None), overrides)


@pytest.fixture(scope="module")
def held_back() -> Engine:
    """Three arrivals a day against the default limit of 12: admission binds."""
    engine = Engine(_office(3, 12), 1, headless=True)
    engine.run(1200)
    return engine


def test_a_binding_intake_limit_is_the_constraint_and_names_its_setting(held_back) -> None:
    summary = held_back.summary()
    assert summary["constraint"] == INTAKE
    intake = summary["intake"]
    assert intake["setting"] == "arrivals.max_open" and intake["limit"] == 12
    assert intake["binding"] and intake["constraint"] and intake["bound_share_run"] > 0.5
    assert summary["bottleneck"] in summary["utilisation"]  # the role is still reported


def test_raising_the_limit_is_what_the_constraint_says_helps(held_back) -> None:
    """The named remedy works: the same world with the limit raised ships more."""
    raised = Engine(_office(3, 40), 1, headless=True)
    raised.run(1200)
    assert raised.summary()["throughput_per_day"] > held_back.summary()["throughput_per_day"]


def test_a_limit_with_room_is_not_the_constraint() -> None:
    engine = Engine(_office(0.5, 1000), 2, headless=True)
    engine.run(1200)
    summary = engine.summary()
    assert summary["intake"]["bound_share_run"] == 0 and summary["constraint"] != INTAKE


def test_a_waiting_arrival_is_explained_by_the_intake_limit_with_a_command(held_back) -> None:
    world = held_back.world
    arrival = world.board.backlog[0]
    answer = explain_waiting(world, arrival.key)
    cause = answer["causes"][0]
    assert answer["state"] == "backlog" and cause["cause"] == "intake"
    assert "arrivals.max_open 12" in cause["sentence"] and cause["setting"] == "arrivals.max_open"
    command = cause["options"][0]["command"]
    assert command["kind"] == "set_setting" and command["payload"]["path"] == "arrivals.max_open"
    assert command["payload"]["value"] > 12
    held_back.submit(command["kind"], command["payload"])  # a command the world accepts


def test_lead_time_is_reported_from_arrival_and_from_admission(held_back) -> None:
    summary = held_back.summary()
    from_admission = summary["lead_time_from_admission"]
    assert from_admission["median"] < summary["lead_time_median"]  # the backlog wait is large
    free = Engine(_office(0.5, 1000), 2, headless=True)
    free.run(600)
    unlimited = free.summary()  # nothing waits for admission: the two are the same
    assert unlimited["lead_time_from_admission"]["median"] == unlimited["lead_time_median"]


def test_figures_that_grow_with_the_run_are_flagged_not_steady(held_back) -> None:
    steadiness = held_back.summary()["steadiness"]
    assert steadiness["steady"] is False and steadiness["growth"] > 1.5
    assert set(steadiness["not_steady"]) == set(GROWS_WITH_RUN)
    assert "grows with the run" in steadiness["reason"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_default_office_is_steady(seed: int) -> None:
    engine = Engine(read_scenario(None), seed, headless=True)
    engine.run(3000)
    steadiness = engine.summary()["steadiness"]
    assert steadiness["steady"] is True and steadiness["not_steady"] == []


def _rows(engine: Engine) -> list[dict[str, str]]:
    text = flow_csv([r.to_dict() for r in engine.flow.history])
    return list(csv.DictReader(io.StringIO(text)))


def test_littles_law_holds_for_tasks_and_admitted_work_on_the_exported_csv() -> None:
    """L = lambda x W, from the CSV columns only, for tasks (``wip_tasks``; time from a task's
    creation to its deployment) and for admitted directives (``open_directives``; lead time
    from admission), within 5% as for directives in the system (tests/sim/test_validity.py).
    A task counts in ``wip_tasks`` from the tick it is created to the tick before it deploys,
    so in steady state the mean count equals throughput x mean time in the system."""
    scenario = _office(0.5, 1000, **{"roles.verifier": 2, "roles.doc_agent": 2})
    ticks = 5000
    engine = Engine(scenario, 2, flow_history=ticks, headless=True)
    engine.run(ticks)
    steady = _rows(engine)[ticks // 5 :]  # the first fifth is warm-up
    n = len(steady)
    tasks = sum(int(r["deployed_tasks_per_tick"]) for r in steady)
    assert tasks > 300
    wip = sum(float(r["wip_tasks"]) for r in steady) / n
    task_time = sum(int(r["task_lead_time_sum_ticks"]) for r in steady) / tasks
    assert abs((tasks / n) * task_time / wip - 1) < 0.05
    directives = sum(int(r["deployed_directives_per_tick"]) for r in steady)
    open_mean = sum(float(r["open_directives"]) for r in steady) / n
    admitted_time = sum(int(r["lead_time_from_admission_sum_ticks"]) for r in steady) / directives
    assert abs((directives / n) * admitted_time / open_mean - 1) < 0.05


def test_the_csv_says_when_admission_binds(held_back) -> None:
    engine = Engine(_office(3, 12), 1, flow_history=400, headless=True)
    engine.run(400)
    rows = _rows(engine)
    bound = [r for r in rows if r["intake_bound"] == "1"]
    assert bound and all(int(r["open_directives"]) >= 12 for r in bound)
    assert all(int(r["backlog_directives"]) > 0 for r in bound)
