"""Cross-floor contracts, semantic versions and the elevator that carries them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from mypy_extensions import mypyc_attr

_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


def parse_semver(text: str) -> tuple[int, int, int]:
    """Parse ``MAJOR.MINOR.PATCH``; raises ValueError for anything else."""
    match = _SEMVER.match(text)
    if not match:
        raise ValueError(f"not a semantic version: {text!r}")
    return int(match[1]), int(match[2]), int(match[3])


def satisfies(version: str, requirement: str) -> bool:
    """Caret ranges (``^1.2.0``: same major, not older) and exact versions."""
    have = parse_semver(version)
    if requirement.startswith("^"):
        want = parse_semver(requirement[1:])
        if want[0] == 0:
            return have[:2] == want[:2] and have >= want
        return have[0] == want[0] and have >= want
    return have == parse_semver(requirement)


def caret_range(version: str | None) -> str:
    """The caret range a consumer asks for: the major it already builds against, else ^1.0.0."""
    major = parse_semver(version)[0] if version else 1
    return f"^{max(major, 1)}.0.0"


def next_release(releases: dict[str, int], key: str, breaking: bool) -> str:
    """The next version a provider publishes for ``key`` (``floor:contract``), counted in
    ``releases``: a minor release, or with ``breaking`` a new major (``2.0.0`` after ``1.3.0``).

    ``releases[key]`` counts every release; ``key#major`` and ``key#since`` (the release count
    at which the current major began) are kept beside it so the state stays a plain mapping.
    """
    count = releases.get(key, 0)
    major = releases.get(f"{key}#major", 1)
    since = releases.get(f"{key}#since", 0)
    if breaking:
        major, since = major + 1, count
        releases[f"{key}#major"], releases[f"{key}#since"] = major, since
    releases[key] = count + 1
    return f"{major}.{count - since}.0"


class ContractState(str, Enum):
    REQUESTED = "requested"  # the consumer floor asked for it; the request rides the elevator
    IN_DEVELOPMENT = "in_development"  # the provider floor is building it
    PUBLISHED = "published"  # built; waiting for the elevator
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    REJECTED = "rejected"  # arrived incompatible


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class Contract:
    """``API: /path(params) -> return`` with a semantic version and failure codes."""

    id: str
    name: str
    api: str
    requirement: str
    failure_codes: list[str]
    consumer_floor: str
    provider_floor: str
    requested_tick: int
    version: str | None = None
    state: ContractState = ContractState.REQUESTED
    provider_directive: str | None = None
    delivered_tick: int | None = None
    artifacts: list[str] = field(default_factory=list)
    last_event: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "api": self.api,
            "requirement": self.requirement,
            "version": self.version,
            "failure_codes": list(self.failure_codes),
            "consumer_floor": self.consumer_floor,
            "provider_floor": self.provider_floor,
            "state": self.state.value,
            "requested_tick": self.requested_tick,
            "delivered_tick": self.delivered_tick,
            "provider_directive": self.provider_directive,
        }


class ShipmentKind(str, Enum):
    """What a shipment carries: a contract's request to the provider's floor, or the built
    release back to the consumer's."""

    REQUEST = "request"
    RELEASE = "release"


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class Shipment:
    """Something the elevator carries: a contract request down/up, or a built contract back."""

    contract_id: str
    kind: ShipmentKind
    origin: str  # floor id
    destination: str
    version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "contract_id": self.contract_id,
            "kind": self.kind.value,
            "origin": self.origin,
            "destination": self.destination,
            "version": self.version,
        }


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class Elevator:
    """One car serving every floor; moving one floor takes ``ticks_per_floor`` ticks."""

    ticks_per_floor: int
    level: int = 0
    target: int | None = None
    countdown: int = 0
    cargo: Shipment | None = None
    queue: list[Shipment] = field(default_factory=list)
    trips: int = 0

    def to_dict(self, floor_ids: list[str]) -> dict[str, Any]:
        return {
            "level": self.level,
            "floor_id": floor_ids[self.level] if floor_ids else None,
            "target": self.target,
            "target_floor_id": floor_ids[self.target] if self.target is not None else None,
            "countdown": self.countdown,
            "ticks_per_floor": self.ticks_per_floor,
            "cargo": self.cargo.to_dict() if self.cargo else None,
            "queue": [s.to_dict() for s in self.queue],
            "trips": self.trips,
        }
