"""Fixtures shared by every test package (keep this small and generic)."""

from __future__ import annotations

import socket
from typing import Callable

import pytest


def _find_free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it: xdist-safe)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def free_port_factory() -> Callable[[], int]:
    """Call it for a free TCP port on 127.0.0.1."""
    return _find_free_port


@pytest.fixture
def free_port(free_port_factory: Callable[[], int]) -> int:
    return free_port_factory()
