"""Directive intake and design: user intent becomes architect intent and a DAG of tasks."""

from __future__ import annotations

import math
import re
from statistics import NormalDist

from .agents import Agent
from .board import Arrival
from .contracts import Contract, Shipment, caret_range, next_release, satisfies
from .members import (
    ARTIFACT_CONTRACT,
    ARTIFACT_DESIGN,
    CONTRACT_PUBLISHED,
    DIRECTIVE_IN_PROGRESS,
    SHIPMENT_RELEASE,
    SHIPMENT_REQUEST,
    TASK_BLOCKED,
)
from .scenario import TASK_SENSITIVITY_SPREAD, DirectiveRequest
from .tasks import Directive, Task
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
PRIORITIES = (1, 2, 3, 4, 5)  # a random arrival's priority, uniformly
STEP_SHIFTS = (0, 1, 2)  # a design's i-th change is the i-th step or one or two further on


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "item"


def create_directive(
    world: World,
    request: DirectiveRequest,
    *,
    origin_contract: str | None = None,
    actor: str = "user",
    parents: tuple[int, ...] = (),
    key: str | None = None,
    offered_tick: int | None = None,
) -> Directive:
    """Open the directive ``request`` asks for, on the office of its floor with the least open
    work.

    ``key`` is the directive's stable identity (its draws and its tasks' draws are keyed by
    it); by default the provider of a contract is keyed by the contract's consumer and anything
    else (a ``create_directive`` command) by its ordinal among such directives, whoever sent it:
    a preview's fork, a proposal and an operator's command create the same directive, with the
    same draws, at the same boundary. Work that did not arrive through the backlog is offered and
    admitted at once (``offered_tick`` defaults to now).
    """
    floor_id = request.floor
    title, priority = request.title, request.priority
    ambiguity, sensitivity, complexity = request.ambiguity, request.sensitivity, request.complexity
    depends_on_floor = request.depends_on_floor
    floor = world.building.floors[floor_id]
    office = min(
        (world.building.offices[o] for o in floor.office_ids),
        key=lambda o: (len(o.directive_ids), o.id),
    )
    if key is None:
        if origin_contract is not None:
            key = f"{world.streams.stable_key(origin_contract)}:provider"
        else:
            key = f"command:{world.next_id('K:command')}"
    if offered_tick is None:
        world.totals["offered"] += 1
    world.totals["admitted"] += 1
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
        key=key,
        offered_tick=world.tick if offered_tick is None else offered_tick,
    )
    if directive.created_tick > directive.arrived_tick:  # its first stage: the backlog wait
        directive.stage_ticks["backlog"] = directive.created_tick - directive.arrived_tick
    world.streams.register_identity(directive.id, key)
    world.board.directives[directive.id] = directive
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
            "offered_tick": directive.offered_tick,
            "key": key,
        },
        parents,
    )
    world.changes.directives[directive.id] = None
    return directive


def intake(world: World) -> None:
    """Release scripted directives that are due, offer this tick's random arrivals, and admit
    waiting arrivals while fewer than ``arrivals.max_open`` directives are open.

    Nothing disappears: an arrival that cannot be admitted waits in the backlog
    (``directive.queued``, later ``directive.admitted``) or, with ``arrivals.overflow:
    reject``, is rejected (``directive.rejected``, counted). The arrival stream is drawn the
    same way whatever the office does, so staffing variants see the same arrivals.
    """
    scripted = world.board.scripted
    while world.board.scripted_released < len(scripted):
        spec = scripted[world.board.scripted_released]
        if spec.tick >= world.tick:
            break
        world.board.scripted_released += 1
        create_directive(
            world,
            spec,
            actor="scenario",
            key=f"scenario:{world.board.scripted_released}",
        )
    arrivals = world.scenario.arrivals
    if arrivals.rate_per_day > 0:
        expected = arrivals.rate_per_day / world.settings.ticks_per_day
        for _ in range(poisson(expected, world.streams.arrival_rng.random())):
            _offer(world, _random_arrival(world))
    if world.board.backlog:
        _admit(world)


def poisson(mean: float, u: float) -> int:
    """The Poisson(``mean``) count whose CDF first reaches ``u`` (inversion: one uniform draw
    per tick, so the arrival stream advances the same way whatever happens in the office).
    Above a mean of 50 the normal approximation is used (exp(-mean) underflows further up)."""
    if mean > 50:
        u = min(max(u, 1e-12), 1 - 1e-12)
        return max(0, round(mean + math.sqrt(mean) * NormalDist().inv_cdf(u)))
    k = 0
    term = math.exp(-mean)
    total = term
    while u > total and term > 0:
        k += 1
        term *= mean / k
        total += term
    return k


def open_directives(world: World) -> int:
    """Directives admitted and not deployed yet."""
    return world.totals["directives_created"] - world.totals["directives_deployed"]


def _random_arrival(world: World) -> Arrival:
    """Draw one arrival from its own keyed stream (a fixed number of draws, always)."""
    arrivals = world.scenario.arrivals
    seq = world.counters.get("arrival", 0) + 1
    world.counters["arrival"] = seq
    key = f"arrival:{seq}"
    floors = world.building.floor_ids
    floor_id = world.pick(floors, key)
    others = [f for f in floors if f != floor_id]
    cross = world.random(key) < arrivals.cross_floor_share
    other = world.pick(others, key) if others else None
    title = f"{world.pick(VERBS, key)} {world.pick(SUBJECTS, key)}"
    # the keyword arguments are evaluated in the order written: the stream's draw order
    request = DirectiveRequest(
        title=title,
        floor=floor_id,
        priority=world.pick(PRIORITIES, key),
        ambiguity=world.uniform(*arrivals.ambiguity, key),
        sensitivity=world.uniform(*arrivals.sensitivity, key),
        complexity=world.uniform(*arrivals.complexity, key),
        depends_on_floor=other if cross else None,
    )
    return Arrival(seq=seq, key=key, offered_tick=world.tick, request=request)


def _offer(world: World, arrival: Arrival) -> None:
    world.totals["offered"] += 1
    if not world.board.backlog and open_directives(world) < world.scenario.arrivals.max_open:
        _create_from(world, arrival, ())
        return
    spec = world.scenario.arrivals
    full = {"open": open_directives(world), "max_open": spec.max_open}
    if spec.overflow == "reject" or len(world.board.backlog) >= spec.max_backlog:
        world.totals["rejected"] += 1
        world.streams.draw_counts.pop(
            arrival.key, None
        )  # its stream is done: keep the state bounded
        reason = "open-work limit" if spec.overflow == "reject" else "backlog full"
        world.log(
            "directive.rejected",
            "arrivals",
            arrival.key,
            {
                "title": arrival.request.title,
                "floor": arrival.request.floor,
                "reason": reason,
                **full,
            },
        )
        return
    arrival.last_event = world.log(
        "directive.queued",
        "arrivals",
        arrival.key,
        {
            "title": arrival.request.title,
            "floor": arrival.request.floor,
            "priority": arrival.request.priority,
            "backlog": len(world.board.backlog) + 1,
            **full,
        },
    )
    world.board.backlog.append(arrival)
    world.changes.world = True


def _admit(world: World) -> None:
    """Admit waiting arrivals by effective (aged) priority, oldest first within a level."""
    room = world.scenario.arrivals.max_open - open_directives(world)
    backlog = world.board.backlog
    while room > 0 and backlog:
        arrival = backlog.pop(_best_waiting(world, backlog))
        room -= 1
        seq = world.log(
            "directive.admitted",
            "arrivals",
            arrival.key,
            {"waited": world.tick - arrival.offered_tick, "backlog": len(backlog)},
            (arrival.last_event,),
        )
        _create_from(world, arrival, (seq,))
        world.changes.world = True


def _best_waiting(world: World, backlog: list[Arrival]) -> int:
    """Index of the arrival to admit next: best effective priority, then earliest offer.

    The backlog is in offer order, so the first arrival at the best level wins; the scan stops
    at the first arrival already at level 1 (nothing can beat it), which with aging is almost
    always at the front of a long backlog.
    """
    every, tick = world.settings.priority_aging_ticks, world.tick
    best, best_level = 0, 6
    if every <= 0:  # aging off: the priority itself (World.effective_priority)
        for index, arrival in enumerate(backlog):
            priority = arrival.request.priority
            if priority < best_level:
                best, best_level = index, priority
                if best_level <= 1:
                    break
        return best
    for index, arrival in enumerate(backlog):
        # World.effective_priority, inline: the backlog may hold a thousand arrivals
        level = arrival.request.priority - (tick - arrival.offered_tick) // every
        if level < best_level:
            best, best_level = index, level
            if level <= 1:
                break
    return best


def _create_from(world: World, arrival: Arrival, parents: tuple[int, ...]) -> None:
    create_directive(
        world,
        arrival.request,
        actor="arrivals",
        parents=parents,
        key=arrival.key,
        offered_tick=arrival.offered_tick,
    )


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def design_effort(world: World, directive: Directive) -> float:
    """Design work a directive needs: 1 + 3 x ambiguity + 2 x complexity (the mean), or an
    exponential draw with that mean when ``settings.design_effort_distribution`` says so."""
    settings = world.settings
    mean = (
        settings.design_effort_base
        + settings.design_effort_ambiguity * directive.ambiguity
        + settings.design_effort_complexity * directive.complexity
    )
    if world.settings.design_effort_distribution == "exponential":
        return -mean * math.log(1.0 - world.random(directive.id))
    return mean


def complete_design(world: World, architect: Agent, directive: Directive) -> None:
    """The architect's intent: split the directive into a small DAG of tasks."""
    key = directive.id
    settings = world.settings
    extra = 1 if world.chance(settings.extra_task_chance, key) else 0
    split = 1 + int(directive.complexity * settings.tasks_per_complexity) + extra
    count = max(1, min(settings.max_tasks_per_directive, split))
    steps = [STEPS[(i + world.pick(STEP_SHIFTS, key)) % len(STEPS)] for i in range(count)]
    intent = f"Deliver '{directive.title}' as {count} change(s): " + ", ".join(steps)
    design = world.add_artifact(
        ARTIFACT_DESIGN,
        directive.id,
        architect.id,
        {"directive": directive.id, "intent": intent, "steps": steps},
    )
    directive.artifacts.append(design.id)
    directive.architect_intent = intent
    directive.architect = architect.id
    directive.state = DIRECTIVE_IN_PROGRESS
    directive.designed_tick = world.tick
    designed = world.log(
        "directive.designed",
        architect.id,
        directive.id,
        {"intent": intent, "tasks": count, "artifact": design.id, "hash": design.hash},
        (directive.last_event,),
    )
    directive.last_event = designed
    tasks: list[Task] = []
    for step in steps:
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
    task_id = world.next_id("T")
    key = task_id
    world.streams.register_identity(
        task_id, f"{world.streams.stable_key(directive.id)}/{len(earlier) + 1}"
    )
    sensitivity = _clamp(directive.sensitivity * world.uniform(*TASK_SENSITIVITY_SPREAD, key))
    complexity = _clamp(directive.complexity + world.uniform(-0.15, 0.15, key))
    depends = [t.id for t in earlier if world.chance(world.settings.task_dependency_chance, key)]
    acceptance = ["builds with the floor's toolchain", "verification review passed"]
    if sensitivity >= world.settings.security_threshold:
        acceptance.append("security review passed")
    acceptance += ["documentation updated", "approved by a two-thirds weighted vote"]
    low, high = world.settings.task_effort_min, world.settings.task_effort_max
    effort = round(world.uniform(low, high, key) * (0.6 + complexity), 3)
    ambiguity = _clamp(directive.ambiguity * world.uniform(0.75, 1.15, key))
    task = Task(
        id=task_id,
        directive_id=directive.id,
        floor_id=directive.floor_id,
        office_id=directive.office_id,
        title=title,
        effort=effort,
        complexity=complexity,
        ambiguity=ambiguity,
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
    floor = world.building.floors[directive.floor_id]
    have = floor.contracts_available.get(name)
    requirement = caret_range(have)  # the major the floor already builds against, or ^1.0.0
    consumer.requires_contract = name
    consumer.contract_range = requirement
    if have is not None and satisfies(have, requirement):
        return
    contract_id = world.next_id("C")
    world.streams.register_identity(
        contract_id, f"{world.streams.stable_key(directive.id)}:contract"
    )
    contract = Contract(
        id=contract_id,
        name=name,
        api=f"API: /{slug(directive.title)}(id: str) -> {world.pick(RETURNS, directive.id)}",
        requirement=requirement,
        failure_codes=["E_NOT_FOUND", "E_TIMEOUT", "E_INVALID"],
        consumer_floor=directive.floor_id,
        provider_floor=directive.depends_on_floor or "",
        requested_tick=world.tick,
    )
    world.building.contracts[contract.id] = contract
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
        Shipment(contract.id, SHIPMENT_REQUEST, contract.consumer_floor, contract.provider_floor),
    )
    world.changes.contracts[contract.id] = None
    world.transition(
        consumer,
        TASK_BLOCKED,
        f"waiting for contract {name} {requirement}",
        "system",
        (contract.last_event,),
    )


def publish_contract(world: World, contract: Contract, author: str, parent: int) -> None:
    """The provider floor deployed the contract's implementation: ship the release."""
    key = f"{contract.provider_floor}:{contract.name}"
    breaking = world.chance(world.settings.breaking_release_chance, contract.id)
    contract.version = next_release(world.building.releases, key, breaking)
    contract.state = CONTRACT_PUBLISHED
    artifact = world.add_artifact(
        ARTIFACT_CONTRACT,
        contract.id,
        author,
        {"api": contract.api, "version": contract.version, "failure_codes": contract.failure_codes},
    )
    contract.artifacts.append(artifact.id)
    contract.last_event = world.log(
        "contract.published",
        author,
        contract.id,
        {
            "version": contract.version,
            "artifact": artifact.id,
            "hash": artifact.hash,
            "breaking": breaking,
        },
        (contract.last_event, parent),
    )
    provider = world.board.directives.get(contract.provider_directive or "")
    floor = world.building.floors[contract.provider_floor]
    office_id = provider.office_id if provider else floor.office_ids[0]
    send_to_lift(
        world,
        office_id,
        Shipment(
            contract.id,
            SHIPMENT_RELEASE,
            contract.provider_floor,
            contract.consumer_floor,
            contract.version,
        ),
    )
    world.changes.contracts[contract.id] = None


def send_to_lift(world: World, office_id: str, shipment: Shipment) -> None:
    """Leave a shipment in the office's outbox: someone walks it to the elevator."""
    world.building.offices[office_id].outbox.append(shipment)
    world.changes.world = True
