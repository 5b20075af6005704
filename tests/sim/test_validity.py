"""Validation: the engine against conservation laws and queueing theory (MODEL.md, section 7).

Each test states a property any honest flow instrument must have and checks it on the engine:
demand and work are conserved at every tick, Little's law holds on the exported CSV alone,
utilisation is a fraction, a one-stage office is the M/M/c queue it claims to be, and adding
capacity where the bottleneck method points helps while adding it elsewhere barely matters.
"""

from __future__ import annotations

import csv
import io
import math
import random
from collections import Counter
from dataclasses import dataclass

import pytest

from miniature_office.cli.common import flow_csv
from miniature_office.runio import read_scenario
from miniature_office.sim.directives import poisson
from miniature_office.sim.engine import Engine
from miniature_office.sim.flow import STAGES, TIME_CLASSES
from miniature_office.sim.scenario import Scenario, parse_scenario, with_overrides
from miniature_office.sim.stats import paired_difference
from miniature_office.sim.tasks import DirectiveState, TaskState

from .builders import TOOLS


def _default(**overrides: object) -> Scenario:
    return with_overrides(read_scenario(None), dict(overrides))


# ---- conservation -------------------------------------------------------------------------


def _assert_conserved(engine: Engine) -> None:
    world = engine.world
    totals = world.totals
    row = engine.flow.latest
    assert totals["offered"] == totals["admitted"] + len(world.board.backlog) + totals["rejected"]
    assert totals["admitted"] == totals["directives_created"]
    open_now = [
        d for d in world.board.directives.values() if d.state is not DirectiveState.DEPLOYED
    ]
    assert len(open_now) == totals["directives_created"] - totals["directives_deployed"]
    assert row.in_system_directives == len(world.board.backlog) + len(open_now)
    # every task is in exactly one state: the counts match the tasks held, none is lost
    held = Counter(t.state for t in world.board.tasks.values())
    for state in TaskState:
        if state is not TaskState.DEPLOYED:
            assert world.board.state_counts[state] == held[state], state
    assert sum(world.board.state_counts.values()) == world.counters.get("T", 0)
    # every agent-tick is classified exactly once
    assert math.isclose(sum(row.agent_ticks.values()), len(world.building.agents), abs_tol=1e-6)
    # every tick of a directive's life is charged to exactly one stage
    for directive in world.board.directives.values():
        if directive.state is DirectiveState.DEPLOYED:
            if directive.deployed_tick == world.tick:
                lead = directive.deployed_tick - directive.arrived_tick
                assert sum(directive.stage_ticks.values()) == lead
        else:
            assert sum(directive.stage_ticks.values()) == world.tick - directive.arrived_tick + 1


@pytest.mark.parametrize("overflow", ["backlog", "reject"])
def test_demand_and_work_are_conserved_at_every_tick(overflow: str) -> None:
    engine = Engine(_default(**{"arrivals.max_open": 6, "arrivals.overflow": overflow}), 3)
    for _ in range(500):
        engine.step()
        _assert_conserved(engine)
    totals = engine.world.totals
    waiting = totals["rejected"] if overflow == "reject" else len(engine.world.board.backlog)
    assert waiting > 0  # the limit really bit: demand was above it
    if overflow == "reject":
        assert not engine.world.board.backlog


def test_every_arrival_beyond_the_limit_is_an_event() -> None:
    engine = Engine(_default(**{"arrivals.max_open": 4}), 5)
    engine.run(300)
    kinds = Counter(e.kind for e in engine.world.audit)
    world = engine.world
    assert kinds["directive.queued"] == kinds["directive.admitted"] + len(world.board.backlog)
    assert kinds["directive.created"] == world.totals["directives_created"]


# ---- Little's law from the CSV alone ------------------------------------------------------


def test_littles_law_holds_on_the_exported_flow_csv() -> None:
    """L = lambda x W in steady state, from the CSV columns only (no engine internals)."""
    scenario = _default(
        **{
            "arrivals.rate_per_day": 0.5,
            "arrivals.max_open": 1000,
            "roles.verifier": 2,
            "roles.doc_agent": 2,
        }
    )
    ticks = 5000
    engine = Engine(scenario, 2, flow_history=ticks, headless=True)
    engine.run(ticks)
    rows = list(csv.DictReader(io.StringIO(flow_csv([r.to_dict() for r in engine.flow.history]))))
    steady = rows[ticks // 5 :]  # the first fifth is warm-up
    in_system = sum(float(r["in_system_directives"]) for r in steady) / len(steady)
    deployed = sum(int(r["deployed_directives_per_tick"]) for r in steady)
    throughput = deployed / len(steady)
    lead = sum(int(r["lead_time_sum_ticks"]) for r in steady) / deployed
    assert deployed > 100
    assert abs(throughput * lead / in_system - 1) < 0.05


def test_flow_csv_names_its_units() -> None:
    engine = Engine(read_scenario(None), 1)
    engine.run(20)
    header = flow_csv([r.to_dict() for r in engine.flow.history]).splitlines()[0].split(",")
    for column in (
        "offered_directives_per_tick",
        "admitted_directives_per_tick",
        "rejected_directives_per_tick",
        "backlog_directives",
        "open_directives",
        "in_system_directives",
        "wip_tasks",
        "deployed_directives_per_tick",
        "throughput_directives_per_day",
        "lead_time_mean_ticks",
        "lead_time_p85_ticks",
        "cycle_time_mean_ticks",
        "window_ticks",
    ):
        assert column in header, column


# ---- utilisation and time -----------------------------------------------------------------


def test_utilisation_is_a_fraction_and_time_shares_add_up() -> None:
    engine = Engine(_default(**{"arrivals.max_open": 40}), 4)
    for _ in range(800):
        row = engine.step().flow
        assert all(0.0 <= u <= 1.0 for u in row.utilisation.values())
    summary = engine.summary()
    assert all(0.0 <= u <= 1.0 for u in summary["utilisation"].values())
    for role, shares in summary["time_shares"].items():
        assert set(shares) == set(TIME_CLASSES)
        assert math.isclose(sum(shares.values()), 1.0, abs_tol=1e-3), role
    assert set(summary["lead_time_by_stage"]) == set(STAGES)


def test_walking_is_a_small_share_of_work_in_the_default_office() -> None:
    engine = Engine(read_scenario(None), 42, headless=True)
    engine.run(1600)
    assert engine.summary()["walking_share"] < 0.10
    slow = Engine(_default(**{"settings.walk_speed": 8}), 42, headless=True)
    slow.run(1600)
    assert slow.summary()["walking_share"] > 0.5  # distance matters where a scenario says so


# ---- one stage against M/M/c (Erlang C) ---------------------------------------------------


def erlang_c_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean wait in queue of M/M/c: C(c, a) / (c mu - lambda), a = lambda / mu."""
    a = arrival_rate / service_rate
    rho = a / servers
    assert rho < 1
    top = a**servers / math.factorial(servers) / (1 - rho)
    waiting = top / (sum(a**k / math.factorial(k) for k in range(servers)) + top)
    return waiting / (servers * service_rate - arrival_rate)


def design_stage(rate_per_tick: float, mean_service: float, architects: int) -> Scenario:
    """Only the architects' design stage limits flow: Poisson arrivals, ``architects``
    identical architects (one work unit per tick), exponential design effort with mean
    ``mean_service`` ticks; no meetings, contracts or security reviews, ample manager
    attention and a downstream fast enough never to hold anything back."""
    return parse_scenario(
        {
            "name": "design stage",
            "floors": [
                {
                    "language": "python",
                    "offices": [
                        {
                            "name": "Design",
                            "staff": {
                                "manager": 1,
                                "builder": 2,
                                "verifier": 1,
                                "security": 1,
                                "doc_agent": 1,
                            },
                            "agents": [
                                {"role": "architect", "skills": {"design": 0.5}}
                                for _ in range(architects)
                            ],
                        }
                    ],
                    "tools": [dict(tool, slots=10) for tool in TOOLS],
                }
            ],
            "arrivals": {
                "rate_per_day": rate_per_tick * 8,
                "ambiguity": [0, 0],
                "sensitivity": [0, 0],
                "complexity": [0, 0],
                "cross_floor_share": 0,
                "max_open": 100_000,
            },
            "settings": {
                "ticks_per_day": 8,
                "design_effort_distribution": "exponential",
                "design_effort_base": mean_service,
                "manager_attention": 100,
                "priority_aging_ticks": 0,
                "task_effort_min": 0.1,
                "task_effort_max": 0.1,
                "build_speed_base": 100,
                "review_speed_base": 100,
                "review_effort_share": 0.01,
                "retention_ticks": 10,
            },
        }
    )


@dataclass(slots=True)
class Job:
    key: str  # directive id: the dispatcher's tie-break within a priority
    priority: int
    arrived: int
    service: int  # ticks an architect works on it
    started: int = -1


def observe_design_stage(engine: Engine, ticks: int) -> list[Job]:
    """Run ``engine`` and read, for every directive designed, when it arrived, when an
    architect took it and for how many ticks the architect worked on it."""
    world = engine.world
    seen: dict[str, Job] = {}
    done: list[Job] = []
    for _ in range(ticks):
        engine.step()
        for directive in world.board.directives.values():
            job = seen.get(directive.id)
            if job is None:
                job = seen[directive.id] = Job(
                    directive.id, directive.priority, directive.created_tick, 0
                )
            if job.started < 0 and directive.state is not DirectiveState.AWAITING_DESIGN:
                job.started = world.tick
            if job.service == 0 and directive.designed_tick is not None:
                job.service = directive.designed_tick - job.started + 1
                done.append(job)
    return done


def ideal_queue(jobs: list[Job], servers: int) -> list[int]:
    """Waits of ``jobs`` in an ideal c-server queue: each tick, free servers take waiting jobs
    best priority first (then by key), a job occupies its server for its service ticks."""
    jobs = sorted(jobs, key=lambda j: j.arrived)
    free_at = [0] * servers
    waiting: list[Job] = []
    waits: dict[str, int] = {}
    i = 0
    tick = jobs[0].arrived if jobs else 0
    while i < len(jobs) or waiting:
        while i < len(jobs) and jobs[i].arrived == tick:
            waiting.append(jobs[i])
            i += 1
        waiting.sort(key=lambda j: (j.priority, j.key))
        for server in range(servers):
            if free_at[server] <= tick and waiting:
                job = waiting.pop(0)
                waits[job.key] = tick - job.arrived
                free_at[server] = tick + job.service
        tick += 1
    return [waits[j.key] for j in sorted(jobs, key=lambda j: j.key)]


def long_run_wait(rate: float, mean_service: float, servers: int, ticks: int) -> float:
    """Mean wait of the ideal queue over a long run with fresh inputs drawn as the engine
    draws them: Poisson arrivals per tick, priorities 1..5, ceil(Exp(mean)) service ticks."""
    rng = random.Random(2026)
    jobs = []
    for tick in range(ticks):
        for _ in range(poisson(rate, rng.random())):
            service = math.ceil(-mean_service * math.log(1.0 - rng.random()))
            jobs.append(Job(f"{len(jobs):08d}", 1 + int(rng.random() * 5), tick, service))
    waits = ideal_queue(jobs, servers)
    return sum(waits) / len(waits)


def discrete_m_m_1_wait(arrival_rate: float, service_rate: float) -> float:
    """Mean wait of the engine's one-server queue in discrete time: Poisson(lambda) arrivals
    per tick, Geometric(p) service ticks, a job taken the tick it arrives if the server is free.

    The work found at a tick's start follows V' = max(V + B - 1, 0), B the service brought by
    the tick's arrivals (compound Poisson: E[B] = rho = lambda / p, E[B^2] = rho^2 +
    lambda (2 - p) / p^2); squaring and taking the stationary mean gives
    E[V] = (E[B^2] - rho) / (2 (1 - rho)). An arrival also waits for the batch-mates served
    before it, rho / 2 on average. Together: Erlang C for one server minus rho / (2 (1 - rho)),
    the share of a tick continuous time counts that slotted time does not (-2.4% at rho 0.74).
    """
    rho = arrival_rate / service_rate
    return erlang_c_wait(arrival_rate, service_rate, 1) - rho / (2 * (1 - rho))


def test_the_discrete_time_correction_for_one_server_matches_the_ideal_queue() -> None:
    """The ideal queue, run long on inputs drawn as the engine draws them, waits as
    :func:`discrete_m_m_1_wait` says. Over 2 million ticks the long-run mean has a spread of
    about 3% (seeds 2026, 7, 8 at 3 million ticks: 54.8, 55.3, 58.4 against 56.4), so 6% is
    two of those; the seed is fixed, so the test is deterministic (54.8: -2.9%)."""
    rate, mean_service = 0.036, 20
    p = 1 - math.exp(-1 / mean_service)
    measured = long_run_wait(rate, mean_service, 1, 2_000_000)
    assert abs(measured / discrete_m_m_1_wait(rate, p) - 1) < 0.06


#: (arrivals per tick, mean design ticks, architects): utilisation about 0.74, 0.51 and 0.68.
QUEUE_CASES = [(0.036, 20, 1), (0.05, 20, 2), (0.1, 20, 3)]


@pytest.mark.parametrize("rate,mean_service,architects", QUEUE_CASES)
def test_the_design_stage_is_an_m_m_c_queue_and_waits_as_erlang_c_says(
    rate: float, mean_service: int, architects: int
) -> None:
    """The engine's design stage, fed Poisson arrivals and exponential efforts, makes every
    directive wait exactly as long as an ideal c-server queue on the same inputs would; so its
    long-run mean wait is the ideal queue's, which is within 10% of Erlang C.

    One server (c = 1, rho 0.74) is the hardest case: waits are longest and most correlated,
    and slotted time waits rho / (2 (1 - rho)) less than Erlang C (-2.4%,
    :func:`discrete_m_m_1_wait`); with the control's spread of about 3% the estimate stays
    within 10% unless it is off by more than 2.5 spreads.

    Control variates: one engine run of 12,000 ticks estimates the mean wait with a standard
    deviation of about 20% (busy periods make waits strongly correlated; MODEL.md lists runs).
    The ideal queue on the same inputs is a control whose long-run mean is cheap to compute
    (2 million ticks), so the estimate used is engine - ideal(same inputs) + ideal(long run);
    the raw run is asserted as well, to within the spread a single run has.
    """
    ticks = 12_000
    engine = Engine(design_stage(rate, mean_service, architects), 11, headless=True)
    jobs = observe_design_stage(engine, ticks)
    warm = [j for j in jobs if j.arrived > ticks // 20]
    engine_waits = [j.started - j.arrived for j in sorted(warm, key=lambda j: j.key)]
    same_inputs = ideal_queue(jobs, architects)
    keys = sorted(j.key for j in warm)
    by_key = dict(zip(sorted(j.key for j in jobs), same_inputs))
    assert engine_waits == [by_key[k] for k in keys]  # wait for wait, the ideal queue
    # service takes ceil(Exp(mean)) ticks: geometric, so the service rate is 1 - e^(-1/mean)
    theory = erlang_c_wait(rate, 1 - math.exp(-1 / mean_service), architects)
    engine_mean = sum(engine_waits) / len(engine_waits)
    ideal_mean = sum(by_key[k] for k in keys) / len(keys)
    estimate = engine_mean - ideal_mean + long_run_wait(rate, mean_service, architects, 2_000_000)
    assert abs(estimate / theory - 1) < 0.10
    assert abs(engine_mean / theory - 1) < 0.5  # one run alone: SD about 20% at this length


# ---- capacity where the bottleneck is -----------------------------------------------------


def test_capacity_at_the_bottleneck_helps_and_elsewhere_changes_little() -> None:
    """Paired seeds: one more agent of the role the bottleneck method names never lowers
    throughput beyond the 95% interval (here it raises it); one more of the least used
    role changes it by less than the bottleneck's gain. The office is offered more work than it
    can ship, so capacity (not demand) sets throughput."""
    base = _default(**{"arrivals.rate_per_day": 3, "arrivals.max_open": 40})
    seeds = range(1, 7)

    def runs(scenario: Scenario) -> list[dict]:
        results = []
        for seed in seeds:
            engine = Engine(scenario, seed, headless=True)
            engine.run(1200)
            results.append(engine.summary())
        return results

    baseline = runs(base)
    named = Counter(s["bottleneck"] for s in baseline).most_common(1)[0][0]
    idle = min(baseline[0]["utilisation"], key=baseline[0]["utilisation"].get)
    assert named not in (None, idle)
    counts = base.floors[0].offices[0].staff

    def throughput(role: str) -> list[float]:
        variant = with_overrides(base, {f"roles.{role}": counts.get(role, 1) + 1})
        return [s["throughput_per_day"] for s in runs(variant)]

    before = [s["throughput_per_day"] for s in baseline]
    at_bottleneck = paired_difference("throughput", before, throughput(named))
    elsewhere = paired_difference("throughput", before, throughput(idle))
    assert at_bottleneck.high >= 0 and at_bottleneck.mean > 0
    assert abs(elsewhere.mean) < at_bottleneck.mean
