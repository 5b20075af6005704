"""Directive intake and design: user intent becomes architect intent and a DAG of tasks."""

from __future__ import annotations

import re
from typing import Any

from .agents import Agent
from .artifacts import ArtifactKind
from .contracts import Contract, ContractState, Shipment, satisfies
from .tasks import Directive, DirectiveState, Task, TaskState
from .world import World

SUBJECTS = (
    "login",
    "checkout",
    "search",
    "billing",
    "profile",
    "reports",
    "audit trail",
    "settings",
    "notifications",
    "onboarding",
    "exports",
    "permissions",
    "dashboard",
    "inventory",
    "sessions",
    "webhooks",
    "invoices",
    "uploads",
    "feature flags",
    "API keys",
)
VERBS = ("Add", "Speed up", "Harden", "Refactor", "Fix", "Redesign", "Localise", "Instrument")
STEPS = ("data model", "service layer", "API endpoint", "UI wiring", "migration", "tests", "docs")
RETURNS = ("Report", "Session", "Record", "Status", "Page", "Summary")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "item"


def create_directive(
    world: World,
    *,
    title: str,
    floor_id: str,
    priority: int = 2,
    ambiguity: float = 0.3,
    sensitivity: float = 0.2,
    complexity: float = 0.5,
    depends_on_floor: str | None = None,
    origin_contract: str | None = None,
    actor: str = "user",
    parents: tuple[int, ...] = (),
) -> Directive:
    """Open a directive on the office of ``floor_id`` with the least open work."""
    floor = world.floors[floor_id]
    office = min(
        (world.offices[o] for o in floor.office_ids), key=lambda o: (len(o.directive_ids), o.id)
    )
    directive = Directive(
        id=world.next_id("D"),
        title=title,
        floor_id=floor_id,
        office_id=office.id,
        priority=priority,
        ambiguity=ambiguity,
        sensitivity=sensitivity,
        complexity=complexity,
        created_tick=world.tick,
        depends_on_floor=depends_on_floor,
        origin_contract=origin_contract,
    )
    world.directives[directive.id] = directive
    office.directive_ids.append(directive.id)
    world.totals["directives_created"] += 1
    directive.last_event = world.log(
        "directive.created",
        actor,
        directive.id,
        {
            "title": title,
            "floor": floor_id,
            "office": office.id,
            "priority": priority,
            "ambiguity": round(ambiguity, 3),
            "sensitivity": round(sensitivity, 3),
            "complexity": round(complexity, 3),
            "depends_on_floor": depends_on_floor,
            "origin_contract": origin_contract,
        },
        parents,
    )
    world.changes.directives[directive.id] = None
    return directive


def intake(world: World) -> None:
    """Release scripted directives that are due and draw random arrivals from the world's RNG."""
    scripted = world.scripted
    while world.scripted_released < len(scripted):
        spec = scripted[world.scripted_released]
        if spec.tick >= world.tick:
            break
        world.scripted_released += 1
        create_directive(
            world,
            title=spec.title,
            floor_id=spec.floor,
            priority=spec.priority,
            ambiguity=spec.ambiguity,
            sensitivity=spec.sensitivity,
            complexity=spec.complexity,
            depends_on_floor=spec.depends_on_floor,
            actor="scenario",
        )
    arrivals = world.scenario.arrivals
    if arrivals.rate_per_day <= 0:
        return
    expected = arrivals.rate_per_day / world.settings.ticks_per_day
    count = int(expected) + (1 if world.arrival_rng.random() < expected - int(expected) else 0)
    open_now = sum(1 for d in world.directives.values() if d.state is not DirectiveState.DEPLOYED)
    for _ in range(count):
        if open_now >= arrivals.max_open:
            return
        _random_directive(world)
        open_now += 1


def _draw(rng: Any, items: tuple[str, ...]) -> str:
    return items[int(rng.random() * len(items))]


def _random_directive(world: World) -> None:
    arrivals = world.scenario.arrivals
    rng = world.arrival_rng
    floors = world.floor_ids
    floor_id = floors[int(rng.random() * len(floors))]
    others = [f for f in floors if f != floor_id]
    cross = rng.random() < arrivals.cross_floor_share
    depends = others[int(rng.random() * len(others))] if others and cross else None
    create_directive(
        world,
        title=f"{_draw(rng, VERBS)} {_draw(rng, SUBJECTS)}",
        floor_id=floor_id,
        priority=1 + int(rng.random() * 5),
        ambiguity=rng.uniform(*arrivals.ambiguity),
        sensitivity=rng.uniform(*arrivals.sensitivity),
        complexity=rng.uniform(*arrivals.complexity),
        depends_on_floor=depends,
        actor="arrivals",
    )


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def design_effort(directive: Directive) -> float:
    return 1.0 + 3.0 * directive.ambiguity + 2.0 * directive.complexity


def complete_design(world: World, architect: Agent, directive: Directive) -> None:
    """The architect's intent: split the directive into a small DAG of tasks."""
    count = max(1, min(5, 1 + int(directive.complexity * 3) + (1 if world.chance(0.5) else 0)))
    steps = [STEPS[(i + int(world.rng.random() * 3)) % len(STEPS)] for i in range(count)]
    intent = f"Deliver '{directive.title}' as {count} change(s): " + ", ".join(steps)
    design = world.add_artifact(
        ArtifactKind.DESIGN,
        directive.id,
        architect.id,
        {"directive": directive.id, "intent": intent, "steps": steps},
    )
    directive.artifacts.append(design.id)
    directive.architect_intent = intent
    directive.architect = architect.id
    directive.state = DirectiveState.IN_PROGRESS
    designed = world.log(
        "directive.designed",
        architect.id,
        directive.id,
        {"intent": intent, "tasks": count, "artifact": design.id, "hash": design.hash},
        (directive.last_event,),
    )
    directive.last_event = designed
    tasks: list[Task] = []
    for index, step in enumerate(steps):
        task = _new_task(world, directive, f"{directive.title}: {step}", tasks, designed)
        tasks.append(task)
    if directive.depends_on_floor:
        _request_contract(world, directive, tasks[-1], designed)
    if directive.origin_contract:
        tasks[-1].provides_contract = directive.origin_contract
    world.changes.directives[directive.id] = None


def _new_task(
    world: World, directive: Directive, title: str, earlier: list[Task], parent: int
) -> Task:
    sensitivity = _clamp(directive.sensitivity * world.uniform(0.85, 1.1))
    complexity = _clamp(directive.complexity + world.uniform(-0.15, 0.15))
    depends = [t.id for t in earlier if world.chance(0.5)]
    acceptance = ["builds with the floor's toolchain", "verification review passed"]
    if sensitivity >= world.settings.security_threshold:
        acceptance.append("security review passed")
    acceptance += ["documentation updated", "approved by a two-thirds weighted vote"]
    task = Task(
        id=world.next_id("T"),
        directive_id=directive.id,
        floor_id=directive.floor_id,
        office_id=directive.office_id,
        title=title,
        effort=round(world.uniform(3.0, 8.0) * (0.6 + complexity), 3),
        complexity=complexity,
        ambiguity=_clamp(directive.ambiguity * world.uniform(0.75, 1.15)),
        sensitivity=sensitivity,
        created_tick=world.tick,
        acceptance=acceptance,
        depends_on=depends,
    )
    world.register_task(task)
    directive.task_ids.append(task.id)
    task.last_event = world.log(
        "task.created",
        directive.architect or "system",
        task.id,
        {
            "directive": directive.id,
            "title": title,
            "effort": task.effort,
            "depends_on": depends,
            "ambiguity": round(task.ambiguity, 3),
            "sensitivity": round(task.sensitivity, 3),
        },
        (parent,),
    )
    return task


def _request_contract(world: World, directive: Directive, consumer: Task, parent: int) -> None:
    """The consumer task needs an API from another floor: ask for it through the elevator."""
    name = f"{slug(directive.title)}-api"
    requirement = "^1.0.0"
    consumer.requires_contract = name
    consumer.contract_range = requirement
    floor = world.floors[directive.floor_id]
    have = floor.contracts_available.get(name)
    if have is not None and satisfies(have, requirement):
        return
    contract = Contract(
        id=world.next_id("C"),
        name=name,
        api=f"API: /{slug(directive.title)}(id: str) -> {world.pick(list(RETURNS))}",
        requirement=requirement,
        failure_codes=["E_NOT_FOUND", "E_TIMEOUT", "E_INVALID"],
        consumer_floor=directive.floor_id,
        provider_floor=directive.depends_on_floor or "",
        requested_tick=world.tick,
    )
    world.contracts[contract.id] = contract
    contract.last_event = world.log(
        "contract.requested",
        directive.architect or "system",
        contract.id,
        {"name": name, "api": contract.api, "requirement": requirement, "for": consumer.id},
        (parent,),
    )
    send_to_lift(
        world,
        directive.office_id,
        Shipment(contract.id, "request", contract.consumer_floor, contract.provider_floor),
    )
    world.changes.contracts[contract.id] = None
    world.transition(
        consumer,
        TaskState.BLOCKED,
        f"waiting for contract {name} {requirement}",
        "system",
        (contract.last_event,),
    )


def publish_contract(world: World, contract: Contract, author: str, parent: int) -> None:
    """The provider floor deployed the contract's implementation: ship the release."""
    key = f"{contract.provider_floor}:{contract.name}"
    releases = world.releases.get(key, 0)
    world.releases[key] = releases + 1
    contract.version = f"1.{releases}.0"
    contract.state = ContractState.PUBLISHED
    artifact = world.add_artifact(
        ArtifactKind.CONTRACT,
        contract.id,
        author,
        {"api": contract.api, "version": contract.version, "failure_codes": contract.failure_codes},
    )
    contract.artifacts.append(artifact.id)
    contract.last_event = world.log(
        "contract.published",
        author,
        contract.id,
        {"version": contract.version, "artifact": artifact.id, "hash": artifact.hash},
        (contract.last_event, parent),
    )
    provider = world.directives.get(contract.provider_directive or "")
    floor = world.floors[contract.provider_floor]
    office_id = provider.office_id if provider else floor.office_ids[0]
    send_to_lift(
        world,
        office_id,
        Shipment(
            contract.id,
            "release",
            contract.provider_floor,
            contract.consumer_floor,
            contract.version,
        ),
    )
    world.changes.contracts[contract.id] = None


def send_to_lift(world: World, office_id: str, shipment: Shipment) -> None:
    """Leave a shipment in the office's outbox: someone walks it to the elevator."""
    world.offices[office_id].outbox.append(shipment)
    world.changes.world = True
