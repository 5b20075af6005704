"""The tamper-evident audit log: an append-only SHA-256 hash chain.

Each event hashes a canonical JSON encoding of its sequence number, tick, kind, actor, target,
data, causal parents and the previous event's hash. The wall-clock time it was recorded is kept
beside the event, outside the hash, so two identical runs hash identically.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from dataclasses import dataclass
from hashlib import sha256
from typing import Any, Callable, Iterable, Iterator, Mapping

from mypy_extensions import mypyc_attr

GENESIS_HASH = "0" * 64
HASHED_FIELDS = ("seq", "tick", "kind", "actor", "target", "data", "parents", "prev")


#: One encoder for every event: json.dumps with options builds a new encoder on each call.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def sorted_compact_encoder(*, allow_nan: bool = False) -> Callable[[Any], str]:
    """``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    allow_nan=allow_nan)`` without building a new C encoder on every call (json does).

    Same options, same C encoder, so the same text; no circular-reference bookkeeping (the
    simulation's event data and artifact contents are built fresh and never refer to themselves).
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # a Python without the C accelerator: the plain encoder gives the text
        return json.JSONEncoder(
            sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=allow_nan
        ).encode
    chunks = make(
        None, _no_default, json.encoder.encode_basestring, None, ":", ",", True, False, allow_nan
    )

    def encode(value: Any) -> str:
        return "".join(chunks(value, 0))

    return encode


def _no_default(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_ENCODE = sorted_compact_encoder()


def canonical_encoding(fields: dict[str, Any]) -> bytes:
    """Encode the hashed fields deterministically: sorted keys, no spaces, UTF-8, no NaN."""
    return _CANONICAL(fields).encode("utf-8")


def event_hash(fields: dict[str, Any]) -> str:
    """SHA-256 over the canonical encoding of the hashed fields only."""
    return hashlib.sha256(canonical_encoding({k: fields[k] for k in HASHED_FIELDS})).hexdigest()


_STRING = json.encoder.encode_basestring  # what _CANONICAL uses for str (ensure_ascii=False)


def _encode_event(
    seq: Any,
    tick: Any,
    kind: Any,
    actor: Any,
    target: Any,
    data: dict[str, Any],
    parents: list[int],
    prev: Any,
) -> str:
    """The exact text ``_CANONICAL`` gives for the hashed fields, built without sorting them.

    The keys are written in their sorted order (actor, data, kind, parents, prev, seq, target,
    tick); only ``data`` goes through the general encoder. Anything not of the expected type
    takes the general path, so the bytes are always the canonical ones
    (tests/sim/test_hash_pins.py and test_audit_and_determinism.py compare them). The scalar
    fields are typed ``Any`` because this function checks them itself: a compiled build
    (mypyc) enforces annotations, and would refuse the ``None`` the general path exists for.
    """
    if not (
        type(seq) is int
        and type(tick) is int
        and type(kind) is str
        and type(actor) is str
        and type(target) is str
        and type(prev) is str
    ):
        return _CANONICAL(
            {
                "seq": seq,
                "tick": tick,
                "kind": kind,
                "actor": actor,
                "target": target,
                "data": data,
                "parents": parents,
                "prev": prev,
            }
        )
    string = _STRING
    return (
        f'{{"actor":{string(actor)},"data":{_ENCODE(data) if data else "{}"},'
        f'"kind":{string(kind)},"parents":{_ENCODE(parents) if parents else "[]"},'
        f'"prev":{string(prev)},"seq":{seq},"target":{string(target)},"tick":{tick}}}'
    )


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class AuditEvent:
    """One link of the chain. ``recorded_at`` (wall clock) is deliberately not hashed."""

    seq: int
    tick: int
    kind: str
    actor: str
    target: str
    data: dict[str, Any]
    parents: list[int]
    prev: str
    hash: str
    recorded_at: float | None = None

    # Written out rather than generated: mypyc compiles this one, while the __init__ that
    # @dataclass generates runs interpreted (tests/sim/test_native_init.py holds it to the fields).
    def __init__(
        self,
        seq: int,
        tick: int,
        kind: str,
        actor: str,
        target: str,
        data: dict[str, Any],
        parents: list[int],
        prev: str,
        hash: str,
        recorded_at: float | None = None,
    ) -> None:
        self.seq = seq
        self.tick = tick
        self.kind = kind
        self.actor = actor
        self.target = target
        self.data = data
        self.parents = parents
        self.prev = prev
        self.hash = hash
        self.recorded_at = recorded_at

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "tick": self.tick,
            "kind": self.kind,
            "actor": self.actor,
            "target": self.target,
            "data": self.data,
            "parents": list(self.parents),
            "prev": self.prev,
            "hash": self.hash,
            "recorded_at": self.recorded_at,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "AuditEvent":
        return cls(
            seq=raw["seq"],
            tick=raw["tick"],
            kind=raw["kind"],
            actor=raw["actor"],
            target=raw["target"],
            data=raw["data"],
            parents=list(raw["parents"]),
            prev=raw["prev"],
            hash=raw["hash"],
            recorded_at=raw.get("recorded_at"),
        )


@dataclass(frozen=True, slots=True)
class ChainVerdict:
    """Result of walking a chain: ``first_broken`` is the seq of the first bad event, if any."""

    valid: bool
    checked: int
    head: str
    first_broken: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "checked": self.checked,
            "head": self.head,
            "first_broken": self.first_broken,
            "reason": self.reason,
        }


def verify_chain(
    events: Iterable[AuditEvent | Mapping[str, Any]],
    *,
    start_prev: str = GENESIS_HASH,
    start_seq: int = 1,
    hash_of: Callable[[dict[str, Any]], str] = event_hash,
) -> ChainVerdict:
    """Walk ``events`` in order and name the first event whose link or hash does not hold.

    ``start_prev``/``start_seq`` let a caller verify a window that begins mid-chain.
    ``hash_of`` computes an event's hash from its fields: the world's chain by default; the
    token security chain (store/tokens.py) passes its own, so both chains share one walk.
    """
    prev, expected_seq, checked = start_prev, start_seq, 0
    for item in events:
        # any mapping: the store hands database rows (the compiled build checks this type)
        raw: Any = item.to_dict() if isinstance(item, AuditEvent) else item
        seq = raw.get("seq")
        try:
            if seq != expected_seq:
                reason = f"expected event {expected_seq}, found {seq!r}"
                return ChainVerdict(False, checked, prev, expected_seq, reason)
            if raw["prev"] != prev:
                reason = "previous hash does not match"
                return ChainVerdict(False, checked, prev, expected_seq, reason)
            if hash_of(raw) != raw["hash"]:
                reason = "hash does not match contents"
                return ChainVerdict(False, checked, prev, expected_seq, reason)
        except (KeyError, TypeError, ValueError) as exc:
            return ChainVerdict(False, checked, prev, expected_seq, f"malformed: {exc}")
        prev, expected_seq, checked = raw["hash"], expected_seq + 1, checked + 1
    return ChainVerdict(True, checked, prev)


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
class AuditLog:
    """Append-only chain with an in-memory window of recent events.

    ``window=None`` keeps every event in memory. With a window, older events are dropped from
    memory; the store keeps the full history (written from each tick's events).
    """

    def __init__(
        self,
        *,
        window: int | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._events: deque[AuditEvent] = deque(maxlen=window)
        self._children: dict[int, list[int]] = {}  # parent seq -> children held (lazy)
        self._children_at = 0  # the count the index was built at
        self._clock = clock
        self.head: str = GENESIS_HASH
        self.count: int = 0

    def append(
        self,
        tick: int,
        kind: str,
        actor: str,
        target: str,
        data: dict[str, Any] | None = None,
        parents: Iterable[int] = (),
    ) -> AuditEvent:
        """Append one event and return it; parents must be earlier sequence numbers."""
        seq = self.count + 1
        if not parents:
            parent_list = []
        elif type(parents) is tuple and len(parents) == 1:  # most events name one parent
            (parent,) = parents
            parent_list = [parent] if parent and parent < seq else []
        else:
            parent_list = sorted({p for p in parents if p and p < seq})
        data = data or {}
        prev = self.head
        if (
            type(kind) is str
            and type(actor) is str
            and type(target) is str
            and type(tick) is int
            and type(prev) is str
            and type(seq) is int
        ):
            string = _STRING  # _encode_event's fast path, inline
            text = (
                f'{{"actor":{string(actor)},"data":{_ENCODE(data) if data else "{}"},'
                f'"kind":{string(kind)},"parents":{_ENCODE(parent_list) if parent_list else "[]"},'
                f'"prev":{string(prev)},"seq":{seq},"target":{string(target)},"tick":{tick}}}'
            )
        else:
            text = _encode_event(seq, tick, kind, actor, target, data, parent_list, prev)
        digest = sha256(text.encode("utf-8")).hexdigest()
        recorded = self._clock() if self._clock else None
        event = AuditEvent(
            seq, tick, kind, actor, target, data, parent_list, prev, digest, recorded
        )
        self._events.append(event)  # a full window drops its oldest
        self.head, self.count = digest, seq
        return event

    def record(
        self,
        tick: int,
        kind: str,
        actor: str,
        target: str,
        data: dict[str, Any] | None = None,
        parents: Iterable[int] = (),
    ) -> int:
        """:meth:`append` for callers that need only the new event's sequence number."""
        return self.append(tick, kind, actor, target, data, parents).seq

    def restore_head(self, head: str, count: int, recent: Iterable[AuditEvent] = ()) -> None:
        """Continue an existing chain (after loading a snapshot)."""
        self.head, self.count = head, count
        self._events.clear()
        self._events.extend(recent)
        self._children_at = -1

    def _child_index(self) -> dict[int, list[int]]:
        """Children of every event held, from the parents of the events held (built when a
        lineage query first needs it after the chain grew, not on every append)."""
        if self._children_at != self.count:
            children: dict[int, list[int]] = {}
            oldest = self.first_seq
            for event in self._events:
                for parent in event.parents:
                    if parent >= oldest:  # parents already out of the window are not indexed
                        children.setdefault(parent, []).append(event.seq)
            self._children, self._children_at = children, self.count
        return self._children

    def __iter__(self) -> Iterator[AuditEvent]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    @property
    def first_seq(self) -> int:
        """The oldest sequence number still held in memory (count+1 when empty)."""
        return self._events[0].seq if self._events else self.count + 1

    def get(self, seq: int) -> AuditEvent | None:
        first = self.first_seq
        if seq < first or seq > self.count:
            return None
        return self._events[seq - first]

    def since(self, seq: int) -> list[AuditEvent]:
        """Events with a sequence number greater than ``seq`` still held in memory."""
        first = self.first_seq
        start = max(seq + 1 - first, 0)
        return [self._events[i] for i in range(start, len(self._events))]

    def verify(self) -> ChainVerdict:
        """Verify the events held in memory (the whole chain when there is no window)."""
        if not self._events:
            return ChainVerdict(True, 0, self.head)
        first = self._events[0]
        return verify_chain(self._events, start_prev=first.prev, start_seq=first.seq)

    def ancestors(self, seq: int, limit: int = 500) -> list[AuditEvent]:
        """Follow causal parents backwards from ``seq`` (breadth first, nearest first)."""
        return self._walk(seq, lambda e: e.parents, limit)

    def descendants(self, seq: int, limit: int = 500) -> list[AuditEvent]:
        """Follow causal children forwards from ``seq``."""
        children = self._child_index()
        return self._walk(seq, lambda e: children.get(e.seq, []), limit)

    def _walk(
        self, seq: int, step: Callable[[AuditEvent], Iterable[int]], limit: int
    ) -> list[AuditEvent]:
        start = self.get(seq)
        if start is None:
            return []
        seen, queue = {seq}, deque([start])
        found: list[AuditEvent] = []
        while queue and len(found) < limit:
            for nxt in step(queue.popleft()):
                event = self.get(nxt)
                if nxt not in seen and event is not None:
                    seen.add(nxt)
                    found.append(event)
                    queue.append(event)
        return found


#: What a headless log reports as its head: nothing was hashed, so there is no head to show.
HEADLESS_HEAD = "headless: not hashed"


class HeadlessAuditLog(AuditLog):
    """An audit log for sweeps and forecasts, where nobody reads the chain.

    It numbers events exactly as :class:`AuditLog` does (the simulation uses sequence numbers
    as causal parents, and summaries count events) but neither encodes nor hashes them, keeps
    none in memory. Everything the simulation computes is therefore the same
    as in a full run; only the head hash is not computed (:data:`HEADLESS_HEAD`).
    """

    def __init__(self) -> None:
        super().__init__(window=0)
        self.head = HEADLESS_HEAD

    def append(
        self,
        tick: int,
        kind: str,
        actor: str,
        target: str,
        data: dict[str, Any] | None = None,
        parents: Iterable[int] = (),
    ) -> AuditEvent:
        """Count the event and return it unhashed (callers read only its ``seq``)."""
        self.count += 1
        return AuditEvent(
            self.count, tick, kind, actor, target, data or {}, [], HEADLESS_HEAD, HEADLESS_HEAD
        )

    def record(
        self,
        tick: int,
        kind: str,
        actor: str,
        target: str,
        data: dict[str, Any] | None = None,
        parents: Iterable[int] = (),
    ) -> int:
        """Count the event and return its sequence number (no event object is built)."""
        self.count += 1
        return self.count

    def restore_head(self, head: str, count: int, recent: Iterable[AuditEvent] = ()) -> None:
        """Continue numbering after ``count`` (a fork of a stored run); nothing is held."""
        self.count = count
        self.head = HEADLESS_HEAD
