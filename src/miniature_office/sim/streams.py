"""The world's random streams: every draw of a run comes from here.

Randomness that belongs to someone (an agent, a directive, a task) comes from a stream keyed by
that entity's stable identity (:meth:`RandomStreams.random` with a key): a variant that adds a
verifier leaves everyone else's draws, and the arrival stream, exactly as they were. The
unkeyed work stream (``rng``) is for draws that belong to nobody; the arrival stream
(``arrival_rng``) decides when random directives arrive.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from mypy_extensions import mypyc_attr


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
class RandomStreams:
    """The work and arrival streams, the keyed draws and the identities that key them."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.futures_salt = ""
        self.rng = random.Random(seed)
        self.arrival_rng = random.Random(f"{seed}:arrivals")
        self._key_streams("")
        self.draw_counts: dict[str, int] = {}  # stable key -> draws taken from its stream
        self.identity: dict[str, str] = {}  # entity id -> stable key (ids shift, keys don't)

    def _key_streams(self, salt: str) -> None:
        """Key the per-identity streams with seed and ``salt``; ``_keyed`` is a blake2b hasher
        with that key absorbed and nothing fed yet (each draw copies it)."""
        self._stream_key = _stream_key(self.seed, salt)
        self._keyed = hashlib.blake2b(digest_size=8, key=self._stream_key)

    def __getstate__(self) -> dict[str, Any]:
        """Pickling (worker processes) and copying: the keyed hasher is rebuilt from its key.

        A compiled build (mypyc) keeps attributes in slots named by ``__mypyc_attrs__``, with
        no ``__dict__``; the pure build has only the ``__dict__``."""
        names = getattr(type(self), "__mypyc_attrs__", None)
        if names is None:
            state = dict(self.__dict__)
        else:
            state = {name: getattr(self, name) for name in names if hasattr(self, name)}
        state.pop("_keyed", None)
        state.pop("__dict__", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self._keyed = hashlib.blake2b(digest_size=8, key=self._stream_key)

    def random(self, key: str | None = None) -> float:
        """A float in [0, 1): from ``key``'s own stream, or the unkeyed work stream.

        ``key`` is an entity id (``T-0007``, ``A-0003``, ``D-0002``) or any stable string. Ids
        registered in :attr:`identity` are translated to their stable key first, so the draw
        depends on who the entity is (arrival 17's second task), not on the order ids were
        handed out. Keyed draws are counter based: draw n of a key is
        blake2b(seed, futures salt, key, n), so no other entity's draws can shift it.
        """
        if key is None:
            return self.rng.random()
        stable = self.identity.get(key, key)
        counts = self.draw_counts
        n = counts.get(stable, 0)
        counts[stable] = n + 1
        # A copy of the keyed hasher is blake2b(key=...) with the key block already absorbed:
        # the same digest as a fresh keyed hasher, for less work per draw.
        digest = self._keyed.copy()
        digest.update(f"{stable}#{n}".encode())
        return (int.from_bytes(digest.digest(), "big") >> 11) * _TWO_TO_MINUS_53

    def chance(self, p: float, key: str | None = None) -> bool:
        """One Bernoulli draw (``key``: whose stream, see :meth:`random`)."""
        return self.random(key) < p

    def uniform(self, low: float, high: float, key: str | None = None) -> float:
        """A uniform draw in [low, high) (``key``: whose stream, see :meth:`random`)."""
        return low + (high - low) * self.random(key)

    def pick(self, items: list[Any] | tuple[Any, ...], key: str | None = None) -> Any:
        """One of ``items``, uniformly (``key``: whose stream, see :meth:`random`)."""
        return items[int(self.random(key) * len(items))]

    def register_identity(self, entity_id: str, stable_key: str) -> None:
        """Draws keyed by ``entity_id`` come from the stream of ``stable_key`` from now on."""
        self.identity[entity_id] = stable_key

    def stable_key(self, entity_id: str) -> str:
        return self.identity.get(entity_id, entity_id)

    def forget_identities(self, entity_ids: list[str]) -> None:
        """Drop the keyed streams of entities that left memory (keeps the state bounded)."""
        for entity_id in entity_ids:
            stable = self.identity.pop(entity_id, None)
            if stable is not None:
                self.draw_counts.pop(stable, None)

    def reseed_futures(self, salt: str) -> None:
        """Same state, fresh random futures: every stream continues from seeds derived from
        ``salt`` (forecasts fork a world this way). Keyed streams keep their draw counters."""
        self.futures_salt = salt
        self.rng = random.Random(f"{self.seed}:{salt}:work")
        self.arrival_rng = random.Random(f"{self.seed}:{salt}:arrivals")
        self._key_streams(salt)

    def restore_streams(self, salt: str) -> None:
        """Point keyed draws at ``salt`` without reseeding the sequential streams (snapshots
        restore those from their saved states)."""
        self.futures_salt = salt
        self._key_streams(salt)


_TWO_TO_MINUS_53 = 2.0**-53


def _stream_key(seed: int, salt: str) -> bytes:
    """The blake2b key of a world's keyed streams: its seed and futures salt (<= 64 bytes)."""
    return hashlib.blake2b(f"{seed}:{salt}".encode(), digest_size=32).digest()


__all__ = ["RandomStreams"]
