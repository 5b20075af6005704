"""Speed-ups change nothing: audit heads, summaries and flow rows pinned bit for bit.

The values were recorded at commit 0aca65a, before issue 17's simulation speed-ups. Every
optimisation must keep the same random draws in the same order and the same canonical bytes, so
these heads, event counts and digests of the summary and the flow history stay equal. A change to
the simulation's *rules* changes them on purpose; then record new values in the same commit and
say so (DEPLOYMENT.md's Upgrading section).
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
        "flow": _digest([row.to_dict() for row in engine.flow.history]),
    }


def _bench_world(agents: int) -> Any:
    """The scaled world bench/sim_bench.py measures (offices of ten, work in proportion)."""
    spec = importlib.util.spec_from_file_location("sim_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.scaled_scenario(agents)


DEFAULT_600 = {
    "head": "17e61f8d746b2ea2f25e1f11beb9ea3dc99884d58bd2a02a1370ef98239701ff",
    "events": 7474,
    "summary": "584a00a6349b18e0ad8c23d8e2f7451c450ba028fdd928f5ac17b8faf8ba9d19",
    "flow": "9ff67dca61f69bbc652caa8680f798f22aae288868f6d37d2157ca5c21a19125",
}
DEFAULT_3000 = {
    "head": "8db1eb9894481ff1e2aa2b13623afa1ae0c329a23a63c097c8a4001715cccb41",
    "events": 36907,
    "summary": "5650650324db8fe8417d5617090608e4ceada7010fc8632237617c9123508f25",
    "flow": "343fbe363116e1794fca6f5da1909a97f193dd595707245faf1e3afe744bec45",
}
SCALED_500_50 = {
    "head": "e9ea6332280f1976c511c8a989db7c066dfddb5fe8ac6e824fb773ab4239d68b",
    "events": 10939,
    "summary": "4645f234d8318a399ad63db7343bd986a7281f8739733839a3eee5d58f04eca0",
    "flow": "c9da53219187d38756b3568901278a6dfce59c710b56d14411b69c21a9825321",
}
FORK_200_300 = {
    "head": "19c0f1fe84073caa29493f84bcb607fb75afcad7e6a230281f39d2b62582022d",
    "events": 6086,
    "summary": "e8e362641be5a37a6183ff41d0f1e701d3c7ab9d60e93cb8a527eea209be75bd",
    "flow": "02970df032c138f3c7a96bc06c6c9d0d6c2cad8daeecdac91fb56ff8fe9f0472",
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
    assert len(engine.world.agents) == 500
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
