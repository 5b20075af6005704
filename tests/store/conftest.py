"""The store's tests run against SQLite and against the real PostgreSQL on this machine.

``postgres_url`` (a schema of its own per test) comes from tests/conftest.py.
"""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """Every store test runs once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'office.db'}"
    return request.getfixturevalue("postgres_url")
