"""Leader locks and the message bus, against the real Redis and PostgreSQL on this machine."""

from __future__ import annotations

import secrets
import time

import pytest
from services import POSTGRES, REDIS, wait_for_subscriber

from miniature_office.store.coordination import Bus, PostgresLock, RedisLock

pytestmark = pytest.mark.services


def test_only_one_process_holds_the_redis_lease_until_it_expires() -> None:
    key = f"test:lock:{secrets.token_hex(6)}"
    first, second = RedisLock(REDIS, key, ttl_ms=400), RedisLock(REDIS, key, ttl_ms=400)
    assert first.acquire() and not second.acquire()
    assert first.renew() and not second.renew()
    # The lease lapses ttl_ms after the last renewal (Redis's clock, not ours): check the TTL,
    # then let it lapse at once instead of sleeping, as if the holder had been killed.
    assert 0 < first.client.pttl(key) <= 400
    first.client.pexpire(key, 1)
    deadline = time.monotonic() + 5
    while first.client.exists(key):
        assert time.monotonic() < deadline, "the lapsed lease is still there"
    assert second.acquire() and not first.renew()
    second.release()
    assert first.acquire()
    first.release()


def test_postgres_advisory_lock_is_exclusive_and_freed_when_the_holder_goes() -> None:
    key = secrets.randbelow(2**31)
    first, second = PostgresLock(POSTGRES, key), PostgresLock(POSTGRES, key)
    assert first.acquire() and not second.acquire()
    assert first.renew()
    first.conn.invalidate()  # the connection dies with its process
    first.conn = None
    deadline = time.monotonic() + 5
    while not second.acquire():
        assert time.monotonic() < deadline, "lock not released after the holder died"
        time.sleep(0.1)
    second.release()


def test_a_follower_request_reaches_the_leader_and_gets_its_answer() -> None:
    space = f"test:{secrets.token_hex(6)}"
    leader, follower = Bus(REDIS, space), Bus(REDIS, space)
    seen = []

    def handle(message):
        seen.append(message["kind"])
        leader.answer(message["reply"], {"ok": True, "seq": 7})

    leader.listen(leader.commands, handle)
    wait_for_subscriber(leader.client, leader.commands)
    try:
        answer = follower.request({"kind": "pause", "payload": {}}, timeout=3)
        assert answer == {"ok": True, "seq": 7} and seen == ["pause"]
    finally:
        leader.close()


def test_ticks_published_by_the_leader_reach_followers_in_order() -> None:
    space = f"test:{secrets.token_hex(6)}"
    leader, follower = Bus(REDIS, space), Bus(REDIS, space)
    got = []
    follower.listen(follower.ticks, got.append)
    wait_for_subscriber(leader.client, leader.ticks)
    try:
        for tick in range(1, 6):
            leader.publish_tick(tick, [], f"h{tick}")
        deadline = time.monotonic() + 3
        while len(got) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [m["tick"] for m in got] == [1, 2, 3, 4, 5]
    finally:
        follower.close()
