"""The elevator step: carry contract requests and releases between floors."""

from __future__ import annotations

from .contracts import Contract, Shipment, caret_range, parse_semver, satisfies
from .directives import create_directive
from .members import (
    CONTRACT_DELIVERED,
    CONTRACT_IN_DEVELOPMENT,
    CONTRACT_IN_TRANSIT,
    CONTRACT_REJECTED,
    SHIPMENT_RELEASE,
    SHIPMENT_REQUEST,
    TASK_BLOCKED,
    TASK_SCHEDULED,
)
from .scenario import DirectiveRequest
from .tasks import TaskState
from .world import Floor, World


def run_elevator(world: World) -> None:
    """Advance the car one tick; load or deliver at the end of a trip."""
    car = world.building.elevator
    if car.target is not None:
        world.changes.elevator = True
        car.countdown -= 1
        if car.countdown > 0:
            return
        car.level, car.target = car.target, None
        if car.cargo is not None and _level(world, car.cargo.destination) == car.level:
            shipment, car.cargo = car.cargo, None
            car.trips += 1
            _deliver(world, shipment)
    if car.target is None and car.cargo is None and car.queue:
        world.changes.elevator = True
        origin = _level(world, car.queue[0].origin)
        if origin == car.level:
            car.cargo = car.queue.pop(0)
            contract = world.building.contracts[car.cargo.contract_id]
            if car.cargo.kind is SHIPMENT_RELEASE:
                contract.state = CONTRACT_IN_TRANSIT
            contract.last_event = world.log(
                "elevator.loaded",
                "elevator",
                contract.id,
                {
                    "kind": car.cargo.kind.value,
                    "from": car.cargo.origin,
                    "to": car.cargo.destination,
                },
                (contract.last_event,),
            )
            world.changes.contracts[contract.id] = None
            car.target = _level(world, car.cargo.destination)
        else:
            car.target = origin
        car.countdown = world.building.elevator.ticks_per_floor * max(
            1, abs(car.target - car.level)
        )


def _level(world: World, floor_id: str) -> int:
    return world.building.floors[floor_id].level


def _deliver(world: World, shipment: Shipment) -> None:
    contract = world.building.contracts[shipment.contract_id]
    world.changes.contracts[contract.id] = None
    if shipment.kind is SHIPMENT_REQUEST:
        contract.state = CONTRACT_IN_DEVELOPMENT
        delivered = world.log(
            "elevator.delivered",
            "elevator",
            contract.id,
            {"kind": SHIPMENT_REQUEST.value, "floor": shipment.destination},
            (contract.last_event,),
        )
        contract.last_event = delivered
        settings = world.settings
        request = DirectiveRequest(
            title=f"Provide {contract.api}",
            floor=contract.provider_floor,
            priority=1,
            ambiguity=settings.provider_ambiguity,
            sensitivity=settings.provider_sensitivity,
            complexity=settings.provider_complexity,
        )
        directive = create_directive(
            world,
            request,
            origin_contract=contract.id,
            actor="elevator",
            parents=(delivered,),
        )
        contract.provider_directive = directive.id
        return
    version = shipment.version or "0.0.0"
    floor = world.building.floors[shipment.destination]
    if not satisfies(version, contract.requirement):
        contract.state = CONTRACT_REJECTED
        contract.delivered_tick = world.tick
        contract.last_event = world.log(
            "contract.rejected",
            "elevator",
            contract.id,
            {"version": version, "requirement": contract.requirement, "reason": "incompatible"},
            (contract.last_event,),
        )
        if parse_semver(version)[0] < 1:
            return
        _adapt(world, floor, contract, version)
    else:
        contract.state = CONTRACT_DELIVERED
    floor.contracts_available[contract.name] = version
    contract.delivered_tick = world.tick
    delivered = world.log(
        "elevator.delivered",
        "elevator",
        contract.id,
        {"kind": SHIPMENT_RELEASE.value, "floor": floor.id, "version": version},
        (contract.last_event,),
    )
    contract.last_event = delivered
    for office_id in floor.office_ids:
        for task_id in list(world.building.offices[office_id].task_ids):
            task = world.board.tasks[task_id]
            if (
                task.state is TASK_BLOCKED
                and task.requires_contract == contract.name
                and world.contract_ready(task)
            ):
                world.transition(
                    task,
                    task.blocked_from or TASK_SCHEDULED,
                    f"contract {contract.name} {version} arrived",
                    "elevator",
                    (delivered,),
                )


def _adapt(world: World, floor: Floor, contract: Contract, version: str) -> None:
    """A breaking release: the consumer floor's unmerged work on ``contract`` moves to the new
    major and pays ``breaking_adapt_effort`` each to rework against it (the old major is not
    coming back, so waiting would never end)."""
    requirement = caret_range(version)
    adapted = []
    for office_id in floor.office_ids:
        for task_id in world.building.offices[office_id].task_ids:
            task = world.board.tasks[task_id]
            if task.requires_contract != contract.name or task.state not in _ADAPTABLE:
                continue
            task.contract_range = requirement
            task.effort = round(task.effort + world.settings.breaking_adapt_effort, 3)
            world.changes.tasks[task.id] = None
            adapted.append(task.id)
    contract.last_event = world.log(
        "contract.adapted",
        floor.id,
        contract.id,
        {"version": version, "requirement": requirement, "tasks": adapted},
        (contract.last_event,),
    )


#: Task states whose work is not yet reviewed: they rework against a breaking release.
_ADAPTABLE = (TaskState.SCHEDULED, TaskState.IN_PROGRESS, TaskState.BLOCKED)
