"""Fixtures shared by every test package (keep this small and generic)."""

from __future__ import annotations

import socket
import uuid
from typing import Callable, Iterator

import pytest
import sqlalchemy as sa
from scratch import remove_scratch
from services import POSTGRES


def _find_free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it: xdist-safe)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session", autouse=True)
def scratch_root() -> Iterator[None]:
    """Remove the session's scratch folders (tests/scratch.py) once every test has finished."""
    yield
    remove_scratch()


@pytest.fixture(scope="session")
def free_port_factory() -> Callable[[], int]:
    """Call it for a free TCP port on 127.0.0.1."""
    return _find_free_port


@pytest.fixture
def free_port(free_port_factory: Callable[[], int]) -> int:
    return free_port_factory()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose tables live in a schema of their own, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
