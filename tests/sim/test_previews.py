"""Previews: paired futures with and without a change, reproducible, run locally or on Dask."""

from __future__ import annotations

import pytest

from miniature_office.service.config import load_config
from miniature_office.service.previews import run_preview, sentence
from miniature_office.sim.engine import Engine
from miniature_office.sim.errors import CommandRejected
from miniature_office.sim.stats import paired_difference

from .builders import default_engine

HIRE = [{"kind": "hire_agent", "payload": {"floor": "python", "role": "verifier"}}]


@pytest.fixture(scope="module")
def office() -> Engine:
    engine = default_engine(5)
    engine.run(150)
    return engine


def _arms(report: dict) -> tuple[dict, dict]:
    return report["without"], report["with"]


def test_a_preview_is_reproducible_from_its_seed(office: Engine) -> None:
    first = run_preview(office, HIRE, futures=4, ticks=80, seed=11)
    again = run_preview(office, HIRE, futures=4, ticks=80, seed=11)
    other = run_preview(office, HIRE, futures=4, ticks=80, seed=12)
    assert first == again
    assert other["without"] != first["without"]  # a different seed: different futures


def test_without_a_change_both_arms_are_the_same_future(office: Engine) -> None:
    report = run_preview(office, [], futures=3, ticks=80, seed=2)
    without, changed = _arms(report)
    assert without == changed
    assert report["difference"]["throughput"]["ties"] == 3


def test_the_with_arm_differs_from_the_without_arm_only_by_the_change(office: Engine) -> None:
    from miniature_office.service.previews import prepare_preview, simulate_pair

    shared = prepare_preview(office, HIRE, seed=4, ticks=120)
    pairs = [simulate_pair(shared, i) for i in range(3)]
    for pair in pairs:  # the same arrivals in both arms of each future: shared random streams
        assert pair["with"]["arrivals"] == pair["without"]["arrivals"]
    assert len({p["without"]["arrivals"] for p in pairs}) > 1  # futures differ from each other
    assert any(p["with"]["lead_times"] != p["without"]["lead_times"] for p in pairs)
    assert office.world.tick == 150  # the live engine was not touched


def test_a_preview_refuses_a_command_the_world_would_refuse(office: Engine) -> None:
    with pytest.raises(CommandRejected, match="unknown floor"):
        run_preview(office, [{"kind": "hire_agent", "payload": {"floor": "x", "role": "builder"}}])
    with pytest.raises(ValueError, match="futures"):
        run_preview(office, HIRE, futures=0)


def test_the_dask_path_gives_the_same_report_as_the_local_pool(office: Engine) -> None:
    from distributed import Client, LocalCluster

    local = run_preview(office, HIRE, futures=4, ticks=60, seed=9)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        seen: list[int] = []
        remote = run_preview(
            office,
            HIRE,
            futures=4,
            ticks=60,
            seed=9,
            scheduler=client,
            progress=lambda done, total: seen.append(done),
        )
    assert remote.pop("backend") == "dask" and local.pop("backend") == "local"
    assert remote == local
    assert seen == [1, 2, 3, 4]


def test_the_configured_dask_scheduler_sends_jobs_to_the_cluster(office: Engine) -> None:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        config = load_config({"DASK_SCHEDULER_ADDRESS": cluster.scheduler_address})
        remote = run_preview(
            office, HIRE, futures=2, ticks=20, seed=5, scheduler=config.dask_scheduler_address
        )
    unset = load_config({})
    local = run_preview(
        office, HIRE, futures=2, ticks=20, seed=5, scheduler=unset.dask_scheduler_address
    )
    assert (remote.pop("backend"), local.pop("backend")) == ("dask", "local")
    assert remote == local


def test_sentence_states_a_bound_when_the_slower_arm_has_futures_past_the_horizon() -> None:
    # Without the change every future is done by tick 100; with it two of four are capped at
    # the horizon (tick 200), so "10.3 days later" (82.5 ticks) is only the least it could be.
    without = [80.0, 90.0, 100.0, 90.0]
    changed = [200.0, 200.0, 150.0, 140.0]
    diff = paired_difference("backlog_done_ticks", without, changed, higher_is_better=False)
    capped = sentence("lockdown on python", diff, 8, 4, unfinished_without=0, unfinished_with=2)
    exact = sentence("lockdown on python", diff, 8, 4)
    assert "done at least 10.3 days later" in capped
    assert "not done within the horizon in 0 futures without the change and 2 with it" in capped
    assert "at least" not in exact and "done 10.3 days later" in exact


def test_sentence_for_identical_arms_still_counts_the_futures() -> None:
    same = [80.0, 90.0, 100.0]
    diff = paired_difference("backlog_done_ticks", same, same, higher_is_better=False)
    text = sentence("add a linter slot", diff, 8, 3)
    assert text == (
        "add a linter slot: no difference to when the backlog is done, "
        "better in 0 of 3 futures and worse in none"
    )


def test_a_preview_names_the_intake_limit_when_admission_binds() -> None:
    """At 3 arrivals a day the building-wide limit of 12 open directives holds flow back while
    the people are not all busy (FlowTracker.constraint): the report and the sentence say so
    and name the setting; a preview of raising it shows the constraint gone in that arm."""
    from miniature_office.runio import read_scenario
    from miniature_office.sim.scenario import with_overrides

    scenario = with_overrides(read_scenario(None), {"arrivals.rate_per_day": 3.0})
    busy = Engine(scenario, 5, headless=True)
    busy.run(400)
    assert busy.flow.constraint() == "intake"
    report = run_preview(busy, HIRE, futures=8, ticks=200, seed=1, sequential=False)
    without, changed = _arms(report)
    assert without["intake"]["setting"] == "arrivals.max_open" and without["intake"]["limit"] == 12
    assert without["intake"]["constraint_in"] >= 4  # at least half the futures
    assert without["constraint_text"].startswith("intake ")
    assert "the intake limit (arrivals.max_open 12) holds flow back in" in report["sentence"]
    assert "raising arrivals.max_open may do more than this change" in report["sentence"]
    raise_it = [{"kind": "set_setting", "payload": {"path": "arrivals.max_open", "value": 40}}]
    raised = run_preview(busy, raise_it, futures=8, ticks=200, seed=1, sequential=False)
    assert raised["with"]["intake"]["limit"] == 40
    assert raised["with"]["intake"]["constraint_in"] < raised["without"]["intake"]["constraint_in"]
    assert "(arrivals.max_open 12, then 40)" in raised["sentence"]


def test_a_preview_where_admission_does_not_bind_says_nothing_of_the_intake_limit(
    office: Engine,
) -> None:
    report = run_preview(office, HIRE, futures=4, ticks=80, seed=3, sequential=False)
    assert report["without"]["intake"]["constraint_in"] < 2
    assert "intake limit" not in report["sentence"]


def test_an_a_a_null_runs_the_unchanged_world_on_independent_streams(office: Engine) -> None:
    """The stopping rule's null (bench/preview_sequential.py): no change, but the second arm
    draws its own luck, so the futures differ and a decided sign would be false."""
    common = run_preview(office, [], futures=4, ticks=80, seed=2, sequential=False)
    apart = run_preview(
        office, [], futures=4, ticks=80, seed=2, sequential=False, independent_arms=True
    )
    assert common["without"] == common["with"]
    assert apart["without"] == common["without"]  # the first arm is the ordinary one
    assert apart["with"] != apart["without"]


def test_a_sequential_preview_on_a_warm_pool_equals_one_run_in_this_process(office: Engine) -> None:
    """Every look of a pooled preview runs in the same warm workers; the answer is the one the
    same futures give in this process, look for look."""
    seen: dict[int, list[dict]] = {1: [], 2: []}
    for workers in (1, 2):
        run_preview(
            office,
            HIRE,
            futures=16,
            ticks=40,
            seed=5,
            workers=workers,
            on_look=seen[workers].append,
        )
    assert len(seen[2]) >= 1 and seen[2] == seen[1]


def test_with_precision_stops_off_only_a_sign_or_the_cap_ends_an_a_a_null(office: Engine) -> None:
    """The false-sign check's mode: every look to the cap unless a sign is decided, and each
    look records whether the precision rule held."""
    report = run_preview(
        office, [], futures=16, ticks=40, seed=2, independent_arms=True, precision_stops=False
    )
    run = report["sequential"]
    assert run["stopped_because"] in ("sign decided", "cap reached")
    assert all("precise" in look and "identical" in look for look in run["looks"])
    if run["stopped_because"] == "cap reached":
        assert [look["futures"] for look in run["looks"]] == [8, 16]


def test_a_future_reads_the_same_figures_with_the_light_tracker_before_the_window(
    office: Engine,
) -> None:
    """Until the bottleneck window's ticks a future records flow with DeploymentCount: every
    figure the preview reads (deployments, lead times, backlog, bottleneck, constraint, the
    intake share, stalls) equals the full tracker's on every tick."""
    import pickle

    from miniature_office.service.previews import light_ticks, prepare_preview, run_arm

    lockdown = [{"kind": "lockdown", "payload": {"scope": "python", "reason": "test run"}}]
    for commands in (HIRE, lockdown):
        shared = prepare_preview(office, commands, seed=6, ticks=160)
        assert light_ticks(shared) == 160 - 64
        for future in range(3):
            for blob in (shared.without, shared.with_change):
                light = run_arm(pickle.loads(blob), shared, future)
                full = run_arm(pickle.loads(blob), shared, future, light=False)
                assert light == full


def test_a_change_that_adds_a_directive_keeps_the_full_tracker(office: Engine) -> None:
    """Its slowest stage is charged by the full tracker on every tick."""
    from miniature_office.service.previews import light_ticks, prepare_preview

    create = [{"kind": "create_directive", "payload": {"title": "Urgent", "floor": "python"}}]
    assert light_ticks(prepare_preview(office, create, seed=6, ticks=160)) == 0
