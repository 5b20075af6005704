"""Small builders so each test states only what matters to it."""

from __future__ import annotations

from typing import Any

from miniature_office.runio import read_scenario
from miniature_office.sim.engine import Engine
from miniature_office.sim.scenario import Scenario, parse_scenario

TOOLS = [
    {"name": "cc", "kind": "compiler", "capabilities": ["build"], "slots": 2},
    {"name": "tests", "kind": "test_framework", "capabilities": ["test"], "slots": 2},
    {"name": "scan", "kind": "security_scanner", "capabilities": ["scan"], "sensitive": True},
    {"name": "docs", "kind": "doc_generator", "capabilities": ["docs"], "slots": 2},
]
STAFF = {"manager": 1, "architect": 1, "builder": 2, "verifier": 1, "security": 1, "doc_agent": 1}


def scenario_with(
    *,
    floors: tuple[str, ...] = ("python",),
    staff: dict[str, int] | None = None,
    tools: list[dict[str, Any]] | None = None,
    directives: list[dict[str, Any]] | None = None,
    rate: float = 0.0,
    max_open: int | None = None,
    **settings: Any,
) -> Scenario:
    """A scenario with the given floors, one office each, and no random arrivals by default."""
    return parse_scenario(
        {
            "name": "test",
            "floors": [
                {
                    "language": lang,
                    "offices": [{"name": f"{lang} office", "staff": staff or STAFF}],
                    "tools": TOOLS if tools is None else tools,
                }
                for lang in floors
            ],
            "directives": directives or [],
            "arrivals": {"rate_per_day": rate}
            | ({} if max_open is None else {"max_open": max_open}),
            "settings": settings,
        }
    )


def engine_with(seed: int = 7, **kwargs: Any) -> Engine:
    return Engine(scenario_with(**kwargs), seed)


def default_engine(seed: int = 42) -> Engine:
    return Engine(read_scenario(None), seed)


def directive(title: str = "Ship it", floor: str = "python", **fields: Any) -> dict[str, Any]:
    return {"tick": 0, "title": title, "floor": floor, **fields}


def run_until(engine: Engine, predicate, limit: int = 2000) -> int:
    """Step until ``predicate(engine)`` holds; returns the tick, fails the test at ``limit``."""
    for _ in range(limit):
        if predicate(engine):
            return engine.tick
        engine.step()
    raise AssertionError(f"condition not reached within {limit} ticks")


def kinds(engine: Engine) -> list[str]:
    return [event.kind for event in engine.world.audit]
