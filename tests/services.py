"""Where the real services of this machine kind are (PostgreSQL and Redis), for every test.

CI and every session start both before the tests run; MINIOFFICE_TEST_POSTGRES and
MINIOFFICE_TEST_REDIS point elsewhere when needed.
"""

from __future__ import annotations

import os
import time

import redis

POSTGRES = os.environ.get(
    "MINIOFFICE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS = os.environ.get("MINIOFFICE_TEST_REDIS", "redis://127.0.0.1:6379/0")


def redis_db(number: int) -> str:
    """The test Redis with another database number (for tests that must not share keys)."""
    return f"{REDIS.rsplit('/', 1)[0]}/{number}"


def wait_for_subscriber(client: redis.Redis, channel: str, timeout: float = 5.0) -> None:
    """Block until someone subscribes to ``channel`` (messages before that are lost)."""
    deadline = time.monotonic() + timeout
    while client.pubsub_numsub(channel)[0][1] < 1:
        if time.monotonic() > deadline:
            raise AssertionError(f"nobody subscribed to {channel} within {timeout}s")
        time.sleep(0.01)
