"""Stalls: work that cannot progress, why, and what would unblock it.

Every ``settings.stall_check_every`` ticks the watcher looks at open work and names each piece
that cannot move: no eligible agent (the role is missing, or nobody is cleared for the task's
security level), no tool with the capability the work needs on its floor, a saturated elevator,
a contract that will never arrive, scheduled work starving past the aging bound, work cycling
without progress (sent back by reviews or votes again and again), or a floor with nothing to
do while its arrivals wait behind an intake limit other floors' work holds. Each stall
is one episode: ``flow.stalled`` (work, cause, remedy) when it starts, ``flow.unstalled`` when
it clears. Open episodes live in ``world.stalls`` (so snapshots carry them) and the number of
episodes in ``world.totals["stalls"]``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import Enum
from typing import Any, Iterator

from mypy_extensions import mypyc_attr

from .agents import Role
from .contracts import parse_semver
from .members import (
    AGENT_OFF_DUTY,
    CONTRACT_DELIVERED,
    CONTRACT_IN_DEVELOPMENT,
    CONTRACT_REJECTED,
    DIRECTIVE_AWAITING_DESIGN,
    DIRECTIVE_DEPLOYED,
    REVIEW_IN_PROGRESS,
    REVIEW_KIND_SECURITY,
    REVIEW_PENDING,
    ROLE_ARCHITECT,
    ROLE_BUILDER,
    ROLE_MANAGER,
    TASK_APPROVAL,
    TASK_BLOCKED,
    TASK_IN_PROGRESS,
    TASK_IN_REVIEW,
    TASK_SCHEDULED,
)
from .tasks import ReviewKind, Task
from .world import Office, World


class StallCause(str, Enum):
    NO_AGENT = "no_agent"  # nobody in the office has the role the work needs
    CLEARANCE = "clearance"  # the role is there, but nobody is cleared for the task
    NO_TOOL = "no_tool"  # no tool on the floor offers the capability
    ELEVATOR = "elevator"  # more shipments queued than the car can carry in the bound
    CONTRACT = "contract"  # the contract the task waits for will never arrive
    STARVATION = "starvation"  # scheduled work untouched beyond the aging bound
    REWORK_LOOP = "rework_loop"  # sent back by reviews or votes again and again, not merged
    INTAKE = "intake"  # a floor idle while its arrivals wait behind the intake limit


#: The closed label set of the stalls gauge.
STALL_CAUSES: tuple[str, ...] = tuple(c.value for c in StallCause)

_REVIEW_NEEDS = {
    ReviewKind.VERIFICATION: (Role.VERIFIER, "test"),
    ReviewKind.SECURITY: (Role.SECURITY, "scan"),
    ReviewKind.DOCUMENTATION: (Role.DOC_AGENT, "docs"),
}
_ELEVATOR_MARK = "elevator_over"
#: States a task cycles through when reviews or votes keep sending it back.
_CYCLING = frozenset({TASK_IN_PROGRESS, TASK_IN_REVIEW, TASK_APPROVAL})


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class Stall:
    """One open stall episode."""

    key: str  # "<cause>:<subject>"
    cause: StallCause
    subject: str  # a task, directive or contract id, or "elevator"
    floor_id: str | None
    reason: str
    remedy: str
    since_tick: int
    event: int = 0  # the flow.stalled event

    def to_dict(self, tick: int) -> dict[str, Any]:
        return {
            "cause": self.cause.value,
            "subject": self.subject,
            "floor_id": self.floor_id,
            "reason": self.reason,
            "remedy": self.remedy,
            "since_tick": self.since_tick,
            "age": tick - self.since_tick,
        }


def watch_stalls(world: World) -> None:
    """On check ticks: open an episode for each new stall and close the ones that cleared."""
    every = world.settings.stall_check_every
    if world.tick % every:
        return
    found = {stall.key: stall for stall in detect(world, every)}
    for key in [k for k in world.stalls if k not in found]:
        stall = world.stalls.pop(key)
        world.log(
            "flow.unstalled",
            "system",
            stall.subject,
            {"cause": stall.cause.value, "stalled_ticks": world.tick - stall.since_tick},
            (stall.event,),
        )
    for key, stall in found.items():
        if key in world.stalls:
            continue
        stall.event = world.log(
            "flow.stalled",
            "system",
            stall.subject,
            {
                "cause": stall.cause.value,
                "reason": stall.reason,
                "remedy": stall.remedy,
                "floor": stall.floor_id,
            },
        )
        world.stalls[key] = stall
        world.totals["stalls"] += 1


def open_stalls(world: World) -> list[dict[str, Any]]:
    """Open stall episodes, oldest first, as JSON-ready rows."""
    stalls = sorted(world.stalls.values(), key=lambda s: (s.since_tick, s.key))
    return [s.to_dict(world.tick) for s in stalls]


def stalls_by_cause(world: World) -> dict[str, int]:
    """Open stalls per cause (every cause present, zero when none)."""
    counts = dict.fromkeys(STALL_CAUSES, 0)
    for stall in world.stalls.values():
        counts[stall.cause.value] += 1
    return counts


# ---- detection --------------------------------------------------------------------------------


def detect(world: World, elapsed: int) -> list[Stall]:
    """Every stall now; ``elapsed`` ticks passed since the last check (elevator pressure)."""
    stalls: list[Stall] = []
    # contracts by (name, consumer floor), in registry order: a blocked consumer looks up its
    # own instead of scanning every contract
    requested: dict[tuple[str, str], list[Any]] = {}
    for contract in world.building.contracts.values():
        requested.setdefault((contract.name, contract.consumer_floor), []).append(contract)
    for floor in world.building.floors.values():
        capabilities = {c for t in world.building.floor_tools(floor.id) for c in t.capabilities}
        for office_id in floor.office_ids:
            office = world.building.offices[office_id]
            stalls.extend(_office_stalls(world, office, capabilities, requested))
    elevator = _elevator_stall(world, elapsed)
    if elevator is not None:
        stalls.append(elevator)
    stalls.extend(_intake_stalls(world))
    return stalls


def _office_stalls(
    world: World,
    office: Office,
    capabilities: set[str],
    requested: dict[tuple[str, str], list[Any]],
) -> Iterator[Stall]:
    staff = _staff(world, office)
    if ROLE_MANAGER not in staff:  # nobody dispatches: all of the office's work waits
        for directive_id in office.directive_ids:
            yield _missing_role(world, directive_id, office, ROLE_MANAGER)
        return
    for directive_id in office.directive_ids:
        directive = world.board.directives[directive_id]
        if directive.state is DIRECTIVE_AWAITING_DESIGN and ROLE_ARCHITECT not in staff:
            yield _missing_role(world, directive_id, office, ROLE_ARCHITECT)
    for task_id in office.task_ids:
        task = world.board.tasks[task_id]
        stall = _task_stall(world, task, office, staff, capabilities, requested)
        if stall is None and task.rework_count >= world.settings.stall_rework_loop:
            stall = _rework_loop(world, task)  # nothing else holds it: it keeps coming back
        if stall is not None:
            yield stall


def _staff(world: World, office: Office) -> dict[Role, int]:
    """Roles present in the office (on duty), each with its highest clearance."""
    best: dict[Role, int] = {}
    for agent_id in office.agent_ids:
        agent = world.building.agents[agent_id]
        if agent.status is not AGENT_OFF_DUTY:
            best[agent.role] = max(best.get(agent.role, 0), agent.clearance)
    return best


def _task_stall(
    world: World,
    task: Task,
    office: Office,
    staff: dict[Role, int],
    capabilities: set[str],
    requested: dict[tuple[str, str], list[Any]],
) -> Stall | None:
    state = task.state
    if state in (TASK_SCHEDULED, TASK_IN_PROGRESS):
        if ROLE_BUILDER not in staff:
            return _missing_role(world, task.id, office, ROLE_BUILDER)
        if "build" not in capabilities:
            return _missing_tool(world, task, "build")
        if state is TASK_SCHEDULED and _starving(world, task):
            bound = world.settings.stall_starvation_ticks
            return _stall(
                world,
                StallCause.STARVATION,
                task.id,
                task.floor_id,
                f"scheduled for {world.tick - task.created_tick} ticks (bound {bound})",
                "add builders or lower the arrival rate; higher-priority work keeps it waiting",
            )
        return None
    if state is TASK_IN_REVIEW:
        return _review_stall(world, task, office, staff, capabilities)
    if state is TASK_BLOCKED and task.requires_contract:
        return _contract_stall(world, task, requested)
    return None


def _rework_loop(world: World, task: Task) -> Stall | None:
    """A task that keeps coming back: every return reopens all its reviews and its vote."""
    if task.state not in _CYCLING:
        return None
    return _stall(
        world,
        StallCause.REWORK_LOOP,
        task.id,
        task.floor_id,
        f"sent back {task.rework_count} times without merging (failed reviews or votes; "
        f"{task.defects_found + task.vulnerabilities_found} findings so far, effort now "
        f"{task.effort:.1f}); each return costs another full round of reviews and a vote",
        f"override its vote with a reason if the work is good enough, or lower the doubt "
        f"voters see (a meeting on its ambiguity); more reviewers on floor {task.floor_id} "
        "shorten each round but do not end the loop",
    )


def _intake_stalls(world: World) -> Iterator[Stall]:
    """Floors with no open work while arrivals for them wait in the backlog: the intake limit
    (``arrivals.max_open``) is held by the other floors' work, so this floor's people idle."""
    if not world.board.backlog:
        return
    limit = world.scenario.arrivals.max_open
    open_by_floor: dict[str, int] = dict.fromkeys(world.building.floors, 0)
    for directive in world.board.directives.values():
        if directive.state is not DIRECTIVE_DEPLOYED:
            open_by_floor[directive.floor_id] = open_by_floor.get(directive.floor_id, 0) + 1
    if sum(open_by_floor.values()) < limit or all(open_by_floor.values()):
        return  # room to admit, or no floor idle: no backlog scan needed
    # waiting arrivals per floor, floors in first-seen order (the order stalls are named in)
    waiting = Counter([arrival.request.floor for arrival in world.board.backlog])
    held = ", ".join(f"{floor} {n}" for floor, n in open_by_floor.items() if n)
    for floor_id, count in waiting.items():
        if open_by_floor.get(floor_id, 0):
            continue
        yield _stall(
            world,
            StallCause.INTAKE,
            f"intake:{floor_id}",
            floor_id,
            f"{count} arrivals for floor {floor_id} wait in the backlog while the intake limit "
            f"(arrivals.max_open {limit}) is held by other floors' open work ({held}); floor "
            f"{floor_id} has nothing to do",
            f"raise arrivals.max_open (set_setting), or add capacity where the open work is "
            f"({held})",
        )


def _starving(world: World, task: Task) -> bool:
    """Never started, past the bound, and not merely waiting for a dependency (cheap first)."""
    if world.tick - task.created_tick <= world.settings.stall_starvation_ticks:
        return False
    return task.started_tick is None and world.unmerged_dependency(task) is None


def _review_stall(
    world: World, task: Task, office: Office, staff: dict[Role, int], capabilities: set[str]
) -> Stall | None:
    for kind, status in task.reviews.items():
        if status not in (REVIEW_PENDING, REVIEW_IN_PROGRESS):
            continue
        role, capability = _REVIEW_NEEDS[kind]
        if capability not in capabilities:  # a reviewer may already wait at the supply door
            return _missing_tool(world, task, capability)
        if status is REVIEW_IN_PROGRESS:
            continue
        if role not in staff:
            return _missing_role(world, task.id, office, role)
        if kind is REVIEW_KIND_SECURITY and staff[role] < task.security_level:
            level = task.security_level
            return _stall(
                world,
                StallCause.CLEARANCE,
                task.id,
                task.floor_id,
                f"security review needs clearance {level}; the best {role.value} in "
                f"{office.id} has {staff[role]}",
                f"hire a Security agent with clearance >= {level} on floor {task.floor_id}",
            )
    return None


def _contract_stall(
    world: World, task: Task, requested: dict[tuple[str, str], list[Any]]
) -> Stall | None:
    """A consumer waiting for a contract that nothing will deliver (``requested``: contracts
    by name and consumer floor, see :func:`detect`)."""
    name = task.requires_contract
    waiting = requested.get((name or "", task.floor_id), [])
    if any(_contract_may_arrive(world, c) for c in waiting):
        return None
    why = (
        "no request for it is open"
        if not waiting
        else f"contract {waiting[-1].id} ended {waiting[-1].state.value} "
        f"({waiting[-1].version or 'no version'})"
    )
    return _stall(
        world,
        StallCause.CONTRACT,
        task.id,
        task.floor_id,
        f"waits for contract {name} {task.contract_range}, which will never arrive: {why}",
        f"re-open the directive on floor {task.floor_id} so its architect requests {name} again",
    )


def _contract_may_arrive(world: World, contract: Any) -> bool:
    state = contract.state
    if state is CONTRACT_REJECTED:
        return bool(contract.version) and parse_semver(contract.version)[0] >= 1
    if state is CONTRACT_DELIVERED:
        return True
    if state is CONTRACT_IN_DEVELOPMENT:
        return contract.provider_directive in world.board.directives
    return True  # requested, published or in transit: still on its way


def _elevator_stall(world: World, elapsed: int) -> Stall | None:
    """Saturated: the queue needs longer than the bound to clear, for the whole bound."""
    car = world.building.elevator
    trip = 2 * car.ticks_per_floor * max(1.0, (len(world.building.floors) - 1) / 2)
    bound = world.settings.stall_elevator_ticks
    marks = world.stall_marks
    if len(car.queue) * trip <= bound:
        marks.pop(_ELEVATOR_MARK, None)
        return None
    over = marks[_ELEVATOR_MARK] = marks.get(_ELEVATOR_MARK, 0) + elapsed
    if over < bound:
        return None
    waiting = ", ".join(s.contract_id for s in car.queue[:5])
    return _stall(
        world,
        StallCause.ELEVATOR,
        "elevator",
        None,
        f"{len(car.queue)} shipments queued ({waiting}{'...' if len(car.queue) > 5 else ''}); "
        f"about {trip:.0f} ticks each, more than {bound} ticks of work for {over} ticks",
        "lower settings.elevator_ticks_per_floor, or put floors that trade contracts closer",
    )


def _missing_role(world: World, subject: str, office: Office, role: Role) -> Stall:
    return _stall(
        world,
        StallCause.NO_AGENT,
        subject,
        office.floor_id,
        f"office {office.id} has no {role.value} on duty",
        f"hire a {role.value} in office {office.id}",
    )


def _missing_tool(world: World, task: Task, capability: str) -> Stall:
    return _stall(
        world,
        StallCause.NO_TOOL,
        task.id,
        task.floor_id,
        f"no tool on floor {task.floor_id} has capability {capability}",
        f"add a tool with capability {capability} on floor {task.floor_id}",
    )


def _stall(
    world: World,
    cause: StallCause,
    subject: str,
    floor_id: str | None,
    reason: str,
    remedy: str,
) -> Stall:
    return Stall(f"{cause.value}:{subject}", cause, subject, floor_id, reason, remedy, world.tick)
