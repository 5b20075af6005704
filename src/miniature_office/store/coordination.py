"""Scale-out plumbing: who runs the engine, and how the other processes follow it.

Exactly one process holds the engine lock (in Redis, or a PostgreSQL advisory lock) and runs
the tick loop. Every other process keeps a mirror engine that steps in lockstep from the
leader's tick messages: the engine is deterministic, so the mirror is the same world, and a
follower that wins the lock after the leader dies continues from where the store says.
Followers forward commands to the leader and relay its answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
import time
import zlib
from typing import Any, Callable, Protocol

import redis
import sqlalchemy as sa

log = logging.getLogger(__name__)

PREFIX = "minioffice"

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class LeaderLock(Protocol):
    def acquire(self) -> bool: ...

    def renew(self) -> bool: ...

    def release(self) -> None: ...


def namespace_for(database_url: str) -> str:
    """Processes that share a store share a lock and a bus: name both after the store."""
    return f"{PREFIX}:{hashlib.sha256(database_url.encode()).hexdigest()[:16]}"


class RedisLock:
    """A lease in Redis: ``SET NX PX``; renewed by its holder, gone ``ttl`` after it dies."""

    def __init__(self, url: str, key: str, ttl_ms: int = 3000) -> None:
        self.client = redis.Redis.from_url(url)
        self.key = key
        self.ttl_ms = ttl_ms
        self.token = secrets.token_hex(16)
        self._renew = self.client.register_script(_RENEW)
        self._release = self.client.register_script(_RELEASE)

    def acquire(self) -> bool:
        return bool(self.client.set(self.key, self.token, nx=True, px=self.ttl_ms))

    def renew(self) -> bool:
        return bool(self._renew(keys=[self.key], args=[self.token, self.ttl_ms]))

    def release(self) -> None:
        try:
            self._release(keys=[self.key], args=[self.token])
        except redis.RedisError:  # the lease expires by itself
            pass


class PostgresLock:
    """A session-level advisory lock: released by the server when the holder's connection drops."""

    def __init__(self, url: str, key: int = 0x6D696E69) -> None:
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.key = key
        self.conn: sa.Connection | None = None

    def acquire(self) -> bool:
        if self.conn is None:
            self.conn = self.engine.connect()
        got = self.conn.execute(
            sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}
        ).scalar()
        self.conn.commit()
        return bool(got)

    def renew(self) -> bool:
        if self.conn is None:
            return False
        try:
            self.conn.execute(sa.text("SELECT 1"))
            self.conn.commit()
            return True
        except sa.exc.DBAPIError:
            self.conn = None
            return False

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                self.conn.close()
            except sa.exc.DBAPIError:
                pass
            self.conn = None


def make_lock(message_queue: str | None, database_url: str) -> LeaderLock:
    """PostgreSQL's advisory lock when the store is PostgreSQL (the server frees it the moment
    its holder's connection drops), else a lease in the Redis of the message queue."""
    namespace = namespace_for(database_url)
    if database_url.startswith("postgresql"):
        digest = hashlib.sha256(namespace.encode()).digest()
        return PostgresLock(database_url, int.from_bytes(digest[:4], "big") & 0x7FFFFFFF)
    if message_queue and message_queue.startswith(("redis://", "rediss://")):
        return RedisLock(message_queue, f"{namespace}:engine")
    raise ValueError("scale-out needs MESSAGE_QUEUE=redis://... or a PostgreSQL DATABASE_URL")


def encode(message: dict[str, Any]) -> bytes:
    return zlib.compress(json.dumps(message, separators=(",", ":")).encode(), 1)


def decode(raw: bytes) -> dict[str, Any]:
    return json.loads(zlib.decompress(raw))


class Bus:
    """Redis pub/sub between the leader and its followers.

    Leader -> followers: ``publish_tick`` (a tick and the commands applied at its boundary) and
    ``publish_boundary`` (commands applied while paused). Followers -> leader: ``request``
    (a command) answered on a reply channel of the asker's own.
    """

    def __init__(self, url: str, namespace: str = PREFIX) -> None:
        self.client = redis.Redis.from_url(url)
        self.commands = f"{namespace}:commands"
        self.ticks = f"{namespace}:ticks"
        self.namespace = namespace
        self._stop = threading.Event()

    def publish_tick(self, tick: int, commands: list[dict[str, Any]], head: str) -> None:
        message = {"type": "tick", "tick": tick, "commands": commands, "head": head}
        self.client.publish(self.ticks, encode(message))

    def publish_boundary(self, tick: int, commands: list[dict[str, Any]], head: str) -> None:
        message = {"type": "boundary", "tick": tick, "commands": commands, "head": head}
        self.client.publish(self.ticks, encode(message))

    def publish_reset(self) -> None:
        """The leader started a new run: followers rebuild from the store."""
        self.client.publish(self.ticks, encode({"type": "reset"}))

    def request(self, command: dict[str, Any], timeout: float = 5.0) -> dict[str, Any] | None:
        """Send a command to the leader and wait for its answer (None: no leader answered)."""
        reply = f"{self.namespace}:reply:{secrets.token_hex(8)}"
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(reply)
        try:
            if not self.client.publish(self.commands, encode({**command, "reply": reply})):
                return None
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                message = pubsub.get_message(timeout=0.1)
                if message and message["type"] == "message":
                    return decode(message["data"])
            return None
        finally:
            pubsub.close()

    def answer(self, reply: str, response: dict[str, Any]) -> None:
        self.client.publish(reply, encode(response))

    def listen(self, channel: str, handler: Callable[[dict[str, Any]], None]) -> None:
        """Call ``handler`` for each message on ``channel`` in a background thread."""

        def run() -> None:
            while not self._stop.is_set():
                pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                try:
                    pubsub.subscribe(channel)
                    while not self._stop.is_set():
                        message = pubsub.get_message(timeout=0.2)
                        if message and message["type"] == "message":
                            try:
                                handler(decode(message["data"]))
                            except Exception:  # noqa: BLE001 - keep listening
                                log.exception("handling a %s message failed", channel)
                except redis.RedisError as exc:
                    log.warning("lost the %s subscription (%s); retrying", channel, exc)
                    time.sleep(0.5)
                finally:
                    pubsub.close()

        thread = threading.Thread(target=run, name=f"bus:{channel}", daemon=True)
        thread.start()

    def close(self) -> None:
        self._stop.set()
