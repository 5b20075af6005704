"""Speed-ups change nothing: audit heads, summaries and flow rows pinned bit for bit.

The values were recorded at commit 0aca65a, before issue 17's simulation speed-ups. Every
optimisation must keep the same random draws in the same order and the same canonical bytes, so
these heads, event counts and digests of the summary and the flow history stay equal. A change to
the simulation's *rules* changes them on purpose; then record new values in the same commit and
say so (DEPLOYMENT.md's Upgrading section).

Recorded again for issue 24: two stall causes were added (``rework_loop``, ``intake``). The
simulation draws, works and deploys exactly as before; the heads and event counts change by the
``flow.stalled``/``flow.unstalled`` events those episodes log, and the summary and flow digests
by the two new causes in ``stalls_by_cause``, the stalls open per tick, and the new flow figures
(task and admission lead-time sums, ``intake_bound`` per row; lead time from admission, the
intake, the constraint and steadiness in the summary).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from miniature_office.cli import main
from miniature_office.runio import read_scenario
from miniature_office.service.compat import flow_row
from miniature_office.sim.audit import HEADLESS_HEAD, _encode_event, canonical_encoding
from miniature_office.sim.engine import Engine
from miniature_office.sim.forecast import fork

BENCH = Path(__file__).resolve().parents[2] / "bench" / "sim_bench.py"


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _pins(engine: Engine) -> dict[str, Any]:
    return {
        "head": engine.head_hash,
        "events": engine.world.audit.count,
        "summary": _digest(engine.summary()),
        # the rows as clients and exports read them (with 0.1.0's names, service/compat.py)
        "flow": _digest([flow_row(row) for row in engine.flow.history]),
    }


def _bench_world(agents: int) -> Any:
    """The scaled world bench/sim_bench.py measures (offices of ten, work in proportion)."""
    spec = importlib.util.spec_from_file_location("sim_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.scaled_scenario(agents)


DEFAULT_600 = {
    "head": "c0831a7f758c42ca6d774ec175fda73aaab17dfb988a0408ee0f99e73256323f",
    "events": 7486,
    "summary": "67ab79d81186c753b2adbbc6fb5a0b50cfdc15393063ede98fc33096db7f8a07",
    "flow": "300dbdeb83bfb766710d337e71d402e5853394a4226995e217c95c12df62302a",
}
DEFAULT_3000 = {
    "head": "b85d591bf7fd745841921d3d175b793a775b9f3a095e0cb37b0f31943b57e77d",
    "events": 36989,
    "summary": "2d358816eaf56241ed290a55e07ab5a5212d79c6f3634dd51c2055281d695b26",
    "flow": "43b612793271899c02a795b99ad3da166611891611fe8b5b23bba0fd2c40a6fe",
}
SCALED_500_50 = {
    "head": "79d72b0f50a4f45e752ff9b6b6af474e963d90406519a6ed359f3b322a287664",
    "events": 10940,
    "summary": "3d9b3788208675be2ccccbc4de4432168c06eb39ea9502c3f36bb11d4038646d",
    "flow": "459d277872dcd1f8127867b93cefdc24565c4d5194b9b5382895962d6b00117e",
}
FORK_200_300 = {
    "head": "a8630f0773006f2db720cd174974bf8a4b840210b7f876250a2224492bc586d2",
    "events": 6098,
    "summary": "0d5f0c3bada448de11d24eecdb48fc9b564b135fc564730c3ad419eb4f20b93d",
    "flow": "60b9d0cd803c0f32bae1a2105a11ebbeab55837b80f74f56daabcd2a66094720",
}


@pytest.mark.parametrize(("ticks", "pinned"), [(600, DEFAULT_600), (3000, DEFAULT_3000)])
def test_default_scenario_seed_1_keeps_its_recorded_head_and_figures(
    ticks: int, pinned: dict[str, Any]
) -> None:
    engine = Engine(read_scenario(None), 1, flow_history=2000)
    engine.run(ticks)
    assert _pins(engine) == pinned


def test_the_500_agent_bench_world_keeps_its_recorded_head_after_50_ticks() -> None:
    engine = Engine(_bench_world(500), 1, audit_window=5000, flow_history=100)
    engine.run(50)
    assert len(engine.world.building.agents) == 500
    assert _pins(engine) == SCALED_500_50


def test_a_forecast_future_keeps_its_recorded_head_and_figures() -> None:
    engine = Engine(read_scenario(None), 7)
    engine.run(200)
    future = fork(engine, "future-1", headless=False)
    future.run(300)
    assert _pins(future) == FORK_200_300
    headless = fork(engine, "future-1")
    headless.run(300)
    figures = {**headless.summary(), "audit_head": future.head_hash}
    assert _digest(figures) == FORK_200_300["summary"]  # headless figures equal the full run's


@pytest.mark.parametrize(
    "fields",
    [
        {"actor": "A-1", "data": {}, "parents": []},
        {"actor": 'Zoë "q" \\ \n', "data": {"b": 1.5, "a": [None, True, "é"]}, "parents": [3, 9]},
        {"actor": "user", "data": {"x": {"z": 1, "y": -0.0}}, "parents": [1]},
        {"actor": None, "data": {}, "parents": []},  # not a string: the general path
    ],
)
def test_the_fast_event_encoding_is_the_canonical_encoding(fields: dict[str, Any]) -> None:
    full = {"seq": 12, "tick": 4, "kind": "task.transition", "target": "T-1", "prev": "0" * 64}
    full.update(fields)
    expected = canonical_encoding(full).decode("utf-8")
    assert (
        _encode_event(
            full["seq"],
            full["tick"],
            full["kind"],
            full["actor"],
            full["target"],
            full["data"],
            full["parents"],
            full["prev"],
        )
        == expected
    )


def test_simulate_hashes_the_chain_only_when_asked_and_prints_the_same_figures(capsys) -> None:
    assert main(["simulate", "--seed", "1", "--ticks", "600"]) == 0
    plain = capsys.readouterr().out.splitlines()
    assert main(["simulate", "--seed", "1", "--ticks", "600", "--audit-head"]) == 0
    hashed = capsys.readouterr().out.splitlines()
    assert plain[:-1] == hashed[:-1]  # every figure but the head line
    assert plain[-1] == f"audit head hash     {HEADLESS_HEAD} (--audit-head hashes it)"
    assert hashed[-1] == f"audit head hash     {DEFAULT_600['head']}"
