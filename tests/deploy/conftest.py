"""Fixtures for the deployment tests."""

from __future__ import annotations

import pytest

from ._support import Stage, parse_dockerfile


@pytest.fixture(scope="session")
def stages() -> list[Stage]:
    return parse_dockerfile()


@pytest.fixture(scope="session")
def runtime_stage(stages) -> Stage:
    return stages[-1]
