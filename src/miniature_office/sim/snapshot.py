"""Snapshots: the whole engine state as plain JSON data, and back.

A snapshot plus the commands applied after it rebuilds the engine exactly (the engine is
deterministic), which is how the store recovers after a restart without replaying from tick 0.
Encoding is generic over the domain's dataclasses, enums and request models (pydantic: their
JSON fields); decoding is driven by the explicit table in :mod:`.snapshot_schema` (not by runtime
annotations, which a compiled build erases), so a new field is carried by adding it to that
table (a test says when it is missing).
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections import Counter, deque
from typing import Any

from pydantic import BaseModel

from .agents import Agent
from .artifacts import Artifact
from .audit import AuditEvent, AuditLog
from .building import Floor, Office
from .contracts import Contract, Elevator
from .governance import SchedulingPolicy
from .meetings import Meeting
from .scenario import Scenario
from .snapshot_schema import SCHEMA, WORLD_PLAIN
from .supply import Tool
from .tasks import Directive, Task, TaskState
from .votes import Vote
from .world import ChangeSet, World

#: 2: keyed stream counters, identities and the backlog; 3: a backlog arrival holds its
#: directive request (``{"request": {"title": ..., "floor": ...}}``, not the fields flat).
SNAPSHOT_FORMAT = 3
REGISTRIES: dict[str, type] = {
    "floors": Floor,
    "offices": Office,
    "agents": Agent,
    "directives": Directive,
    "tasks": Task,
    "meetings": Meeting,
    "votes": Vote,
    "tools": Tool,
    "contracts": Contract,
    "artifacts": Artifact,
}
PLAIN = tuple(WORLD_PLAIN)  # the world's plainly snapshotted fields, in order
#: The part of the world that holds a snapshotted field or registry, when it is not the world
#: itself. The document names them as it always did (flat: "plain", "registries"); the parts
#: are the code's shape, not the document's.
PART: dict[str, str] = {
    "draw_counts": "streams",
    "identity": "streams",
    "backlog": "board",
    "directives": "board",
    "tasks": "board",
    "meetings": "board",
    "votes": "board",
    "artifacts": "board",
    "floors": "building",
    "offices": "building",
    "agents": "building",
    "tools": "building",
    "contracts": "building",
    "releases": "building",
    "lockdowns": "governance",
    "delivery_blocks": "governance",
    "proposals": "governance",
}


def _holder(world: World, name: str) -> Any:
    """The object that holds field or registry ``name``: the world or one of its parts."""
    part = PART.get(name)
    return world if part is None else getattr(world, part)


def _plain_value(world: World, name: str) -> Any:
    if name == "proposal_policy":  # typed in the world, a name -> value table in the document
        return world.governance.policy.to_dict()
    return getattr(_holder(world, name), name)


def _set_plain(world: World, name: str, value: Any) -> None:
    if name == "proposal_policy":
        world.governance.policy = SchedulingPolicy.from_dict(value)
    else:
        setattr(_holder(world, name), name, value)


def encode(value: Any) -> Any:
    """Dataclasses, enums, tuples and deques to JSON-ready data."""
    fields = SCHEMA.get(type(value))
    if fields is not None:  # a snapshotted class: its fields in declaration order
        return {name: encode(getattr(value, name)) for name in fields}
    if isinstance(value, BaseModel):  # a request model (Arrival.request): its JSON fields
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return [[encode(k), encode(v)] for k, v in value.items()]
    if isinstance(value, (list, tuple, deque)):
        return [encode(v) for v in value]
    return value


def decode(hint: Any, data: Any) -> Any:
    """Inverse of :func:`encode`, guided by a type hint."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        inner = [a for a in args if a is not type(None)]
        return decode(inner[0], data)
    if origin is list:
        return [decode(args[0], v) for v in data]
    if origin is deque:
        return deque(decode(args[0], v) for v in data)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(args[0], v) for v in data)
        return tuple(decode(a, v) for a, v in zip(args, data))
    if origin is dict:
        return {decode(args[0], k): decode(args[1], v) for k, v in data}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(data)
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        return hint.model_validate(data)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        fields = SCHEMA[hint]
        return hint(**{name: decode(fields[name], value) for name, value in data.items()})
    return data


def dump_rng(rng: Any) -> list[Any]:
    version, state, gauss = rng.getstate()
    return [version, list(state), gauss]


def load_rng(rng: Any, data: list[Any]) -> None:
    rng.setstate((data[0], tuple(data[1]), data[2]))


def dump_engine(engine: Any) -> dict[str, Any]:
    """Everything needed to continue ``engine`` exactly where it is (pending commands apart)."""
    world: World = engine.world
    flow = engine.flow
    return {
        "format": SNAPSHOT_FORMAT,
        "seed": world.seed,
        "scenario": world.scenario.to_dict(),
        "plain": {name: encode(_plain_value(world, name)) for name in PLAIN},
        "state_counts": {s.value: n for s, n in world.board.state_counts.items()},
        "registries": {
            name: [encode(item) for item in getattr(_holder(world, name), name).values()]
            for name in REGISTRIES
        },
        "elevator": encode(world.building.elevator),
        "deploy_ready": list(world.board.deploy_ready),
        "deployed_order": list(world.board.deployed_order),
        "scripted_released": world.board.scripted_released,
        "rng": {
            "work": dump_rng(world.streams.rng),
            "arrivals": dump_rng(world.streams.arrival_rng),
            "futures_salt": world.streams.futures_salt,  # keys the counter-based keyed streams
        },
        "audit": {
            "head": world.audit.head,
            "count": world.audit.count,
            "recent": [e.to_dict() for e in world.audit.since(world.audit.count - 200)],
        },
        "flow": flow.dump(),
        "engine": {
            "next_seq": engine.next_seq,
            "applied_through": engine.commands[-1].seq if engine.commands else 0,  # seq order
        },
    }


def upgrade_snapshot(data: dict[str, Any]) -> dict[str, Any]:
    """A snapshot of an older format in today's format: the same world state, read by today's
    rules (a run stopped cleanly before an upgrade resumes from it; DEPLOYMENT.md, Upgrading).

    Format 1 (before keyed streams, the backlog and whole-run flow summaries): keyed streams
    start fresh (no draws taken), the backlog is empty (format 1 dropped arrivals over the
    limit), every directive created so far counts as offered and admitted, and the flow
    summaries restart from the lead and cycle times format 1 kept (its last 500).

    Format 2 (a backlog arrival's fields flat, the floor as ``floor_id``): each arrival's
    request fields move into its ``request``, the floor named ``floor``.
    """
    if data.get("format") == 1:
        data = _upgrade_from_1(data)
    if data.get("format") == 2:
        data = dict(data, plain=dict(data["plain"]), format=SNAPSHOT_FORMAT)
        data["plain"]["backlog"] = [_nest_request(a) for a in data["plain"].get("backlog", [])]
    return data


#: A format-2 arrival's request fields (``floor_id`` is today's ``floor``).
_REQUEST_FIELDS = ("title", "priority", "ambiguity", "sensitivity", "complexity")


def _nest_request(arrival: dict[str, Any]) -> dict[str, Any]:
    request = {name: arrival[name] for name in _REQUEST_FIELDS}
    request.update(floor=arrival["floor_id"], depends_on_floor=arrival.get("depends_on_floor"))
    return {
        "seq": arrival["seq"],
        "key": arrival["key"],
        "offered_tick": arrival["offered_tick"],
        "request": request,
        "last_event": arrival.get("last_event", 0),
    }


def _upgrade_from_1(data: dict[str, Any]) -> dict[str, Any]:
    """Format 1 in format 2 (see :func:`upgrade_snapshot`)."""
    data = dict(data)
    plain = dict(data["plain"])
    totals = dict(plain["totals"])  # encoded as [key, value] pairs
    created = totals.get("directives_created", 0)
    totals.update({"offered": created, "admitted": created, "rejected": 0})
    plain["totals"] = [[k, v] for k, v in totals.items()]
    plain.update({"draw_counts": [], "identity": [], "backlog": []})
    data["plain"] = plain
    data["rng"] = {
        "work": data["rng"]["work"],
        "arrivals": data["rng"]["arrivals"],
        "futures_salt": "",
    }
    old = data["flow"]
    data["flow"] = {
        "history": old["history"],
        "lead_hist": sorted(Counter(old["lead_times"]).items()),
        "lead_by_priority": [],
        "cycle_hist": sorted(Counter(old["cycle_times"]).items()),
        "window_leads": [],
        "window_cycles": [],
        "deployed_ticks": old["deployed_ticks"],
        "stage_sums": {},
        "efficiency": [0.0, 0.0, 0],
        "time_totals": {},
        "window": [],
    }
    data["format"] = 2
    return data


def load_engine(data: dict[str, Any], engine_cls: Any, **engine_kwargs: Any) -> Any:
    """Rebuild an engine from :func:`dump_engine` output (older formats are upgraded)."""
    data = upgrade_snapshot(data)
    if data.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(f"unsupported snapshot format {data.get('format')!r}")
    scenario = Scenario.model_validate(data["scenario"])
    engine = engine_cls(scenario, data["seed"], **engine_kwargs)
    world: World = engine.world
    hints = WORLD_PLAIN
    for name in PLAIN:
        if name not in data["plain"]:  # a field newer than the snapshot keeps its fresh value
            continue
        value = decode(hints[name], data["plain"][name])
        if name == "totals":
            world.totals.update(value)  # counters newer than the snapshot stay at zero
        else:
            _set_plain(world, name, value)
    world.board.state_counts = {TaskState(k): v for k, v in data["state_counts"].items()}
    for name, cls in REGISTRIES.items():
        registry = {}
        for raw in data["registries"][name]:
            item = decode(cls, raw)
            registry[item.id] = item
        setattr(_holder(world, name), name, registry)
    for office in world.building.offices.values():
        if not office.hires:  # format 1: the ordinals already handed out, from the staff
            for agent_id in office.agent_ids:
                role = world.building.agents[agent_id].role.value
                office.hires[role] = office.hires.get(role, 0) + 1
    world.rebuild_indexes()  # derived from the registries, not stored
    world.building.elevator = decode(Elevator, data["elevator"])
    world.board.deploy_ready = dict.fromkeys(data["deploy_ready"])
    world.board.deployed_order = deque(data["deployed_order"])
    world.board.scripted_released = data["scripted_released"]
    load_rng(world.streams.rng, data["rng"]["work"])
    load_rng(world.streams.arrival_rng, data["rng"]["arrivals"])
    world.streams.restore_streams(data["rng"]["futures_salt"])
    audit: AuditLog = world.audit
    recent = [AuditEvent.from_dict(e) for e in data["audit"]["recent"]]
    audit.restore_head(data["audit"]["head"], data["audit"]["count"], recent)
    engine.flow.load(data["flow"])
    engine.adopt_log((), next_seq=data["engine"]["next_seq"])  # counts its events as reported
    world.changes = ChangeSet()
    return engine


__all__ = ["dump_engine", "load_engine", "encode", "decode"]
