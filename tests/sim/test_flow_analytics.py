"""Flow analytics as numbers: percentiles, utilisation, the bottleneck and WIP (MODEL.md, 2-3)."""

from __future__ import annotations

from miniature_office.runio import read_scenario
from miniature_office.sim.engine import Engine
from miniature_office.sim.flow import (
    BOTTLENECK_WINDOW,
    ROLES,
    FlowTracker,
    hist_mean,
    hist_percentile,
    percentile,
)
from miniature_office.sim.flow_row import FIELD_NAMES, FlowRow
from miniature_office.sim.tasks import TaskState


def _tick(**roles: tuple[int, int, float]) -> dict[str, tuple[int, int, float]]:
    """One tick of the bottleneck window: per role (productive, on duty, queue per head)."""
    return {role: roles.get(role, (0, 0, 0.0)) for role in ROLES}


def test_percentiles_are_nearest_rank_and_none_without_values() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 85) == 5.0  # rank ceil(0.85 x 5) = 5
    assert percentile(values, 0) == 1.0 and percentile(values, 100) == 5.0
    assert percentile([], 50) is None


def test_a_histogram_gives_the_same_percentiles_as_its_values() -> None:
    values = [1, 1, 1, 2, 7, 7, 9, 12, 12, 40]
    hist: dict[int, int] = {}
    for value in values:
        hist[value] = hist.get(value, 0) + 1
    for q in (10, 50, 85, 95, 100):
        assert hist_percentile(hist, q) == percentile([float(v) for v in values], q)
    assert hist_mean(hist) == 9.2
    assert hist_percentile({}, 50) is None and hist_mean({}) is None


def test_utilisation_is_productive_over_on_duty_ticks_and_ignores_off_duty() -> None:
    flow = FlowTracker()
    flow.time_totals["builder"] = {"working": 30, "reviewing": 10, "idle": 40, "off_duty": 100}
    flow.time_totals["verifier"] = {"off_duty": 50}  # never on duty: no figure at all
    assert flow.utilisation() == {"builder": 0.5}


def test_the_bottleneck_is_the_busiest_role_with_work_waiting() -> None:
    flow = FlowTracker()
    # The builders are busier, but nothing waits for them: the verifiers limit flow.
    for _ in range(10):
        flow._push_window(_tick(builder=(9, 10, 0.0), verifier=(6, 10, 0.5)))
    assert flow.bottleneck() == "verifier"


def test_the_bottleneck_ties_are_broken_by_the_longer_queue() -> None:
    flow = FlowTracker()
    flow._push_window(_tick(builder=(8, 10, 0.2), verifier=(8, 10, 0.9)))
    assert flow.bottleneck() == "verifier"


def test_no_bottleneck_when_nothing_waits_and_old_ticks_leave_the_window() -> None:
    flow = FlowTracker()
    assert flow.bottleneck() is None
    flow._push_window(_tick(builder=(5, 10, 1.0)))
    assert flow.bottleneck() == "builder"
    for _ in range(BOTTLENECK_WINDOW):  # the builder queue's tick slides out of the window
        flow._push_window(_tick(builder=(5, 10, 0.0)))
    assert flow.bottleneck() is None


def test_wip_counts_tasks_in_progress_in_review_and_awaiting_approval() -> None:
    engine = Engine(read_scenario(None), 7, headless=True)
    engine.run(300)
    row = engine.flow.latest
    tasks = engine.world.board.tasks.values()
    started = (TaskState.IN_PROGRESS, TaskState.IN_REVIEW, TaskState.APPROVAL)
    assert row.wip == sum(1 for t in tasks if t.state in started)
    assert row.wip > 0  # the office has work under way at tick 300


def test_a_flow_row_round_trips_through_its_dict_and_an_older_row_loads() -> None:
    engine = Engine(read_scenario(None), 7, headless=True)
    engine.run(50)
    row = engine.flow.latest
    assert FlowRow.from_dict(row.to_dict()) == row
    assert list(row.to_dict()) == list(FIELD_NAMES)
    # a row stored before the demand totals existed: they load as unknown, not as zero
    older = {k: v for k, v in row.to_dict().items() if not k.endswith("_total")}
    restored = FlowRow.from_dict({**older, "a_field_from_elsewhere": 1})
    assert restored.offered_total is None and restored.tick == row.tick
