"""Deployment of finished directives and retention (old finished work leaves memory)."""

from __future__ import annotations

from .directives import publish_contract
from .members import (
    CONTRACT_DELIVERED,
    CONTRACT_REJECTED,
    DIRECTIVE_DEPLOYED,
    DIRECTIVE_IN_PROGRESS,
    TASK_DEPLOYED,
    TASK_MERGED,
)
from .security_office import deployment_hold, forget_directive
from .world import World


def deploy(world: World) -> list[str]:
    """Deploy every directive whose tasks are all merged; returns the deployed ids."""
    deployed: list[str] = []
    if not world.board.deploy_ready:
        return deployed
    ready, world.board.deploy_ready = list(world.board.deploy_ready), {}
    for directive_id in ready:
        directive = world.board.directives[directive_id]
        if directive.state is not DIRECTIVE_IN_PROGRESS or not directive.task_ids:
            continue
        tasks = [world.board.tasks[t] for t in directive.task_ids]
        if any(t.state is not TASK_MERGED for t in tasks):
            continue
        if deployment_hold(world, directive) is not None:
            # Locked down or blocked: it stays ready and ships on the first tick after the
            # hold is lifted (work on everything else goes on).
            world.board.deploy_ready[directive_id] = None
            continue
        parents = []
        for task in tasks:
            parents.append(world.transition(task, TASK_DEPLOYED, "directive deployed", "deployer"))
        escaped = sum(t.defects + t.vulnerabilities for t in tasks)
        directive.state = DIRECTIVE_DEPLOYED
        directive.deployed_tick = world.tick
        directive.escaped_defects = escaped
        world.totals["directives_deployed"] += 1
        world.totals["tasks_deployed"] += len(tasks)
        world.totals["escaped_defects"] += escaped
        seq = world.log(
            "directive.deployed",
            "deployer",
            directive.id,
            {
                "lead_time": world.tick - directive.created_tick,
                "tasks": len(tasks),
                "escaped_defects": escaped,
            },
            (directive.last_event, *parents),
        )
        directive.last_event = seq
        office = world.building.offices[directive.office_id]
        office.directive_ids.remove(directive.id)
        for task in tasks:
            office.task_ids.remove(task.id)
        world.changes.directives[directive.id] = None
        world.board.deployed_order.append(directive.id)
        deployed.append(directive.id)
        if directive.origin_contract:
            contract = world.building.contracts[directive.origin_contract]
            publish_contract(world, contract, directive.architect or "deployer", seq)
    return deployed


def prune(world: World) -> None:
    """Forget deployed work older than the retention window so memory stays flat."""
    horizon = world.tick - world.settings.retention_ticks
    gone: set[str] = set()
    while world.board.deployed_order:
        directive = world.board.directives[world.board.deployed_order[0]]
        if (directive.deployed_tick or 0) > horizon:
            break
        world.board.deployed_order.popleft()
        for task_id in directive.task_ids:
            task = world.board.tasks.pop(task_id)
            for artifact_id in task.artifacts:
                world.board.artifacts.pop(artifact_id, None)
            if task.meeting_id:
                world.board.meetings.pop(task.meeting_id, None)
            gone.add(task_id)
            world.board.forget_task(task_id)
        for artifact_id in directive.artifacts:
            world.board.artifacts.pop(artifact_id, None)
        del world.board.directives[directive.id]
        forget_directive(world, directive.id)
        world.changes.removed.setdefault("directives", []).append(directive.id)
        world.streams.forget_identities([directive.id, *directive.task_ids])  # bounded stream state
    _prune_contracts(world, horizon)
    if not gone:
        return
    world.changes.removed.setdefault("tasks", []).extend(sorted(gone))
    for vote_id in [v.id for v in world.board.votes.values() if v.task_id in gone]:
        del world.board.votes[vote_id]


def _prune_contracts(world: World, horizon: int) -> None:
    """Contracts settled before the horizon leave memory (floors keep the versions they got).

    Between scans nothing can become due: the scan notes the first tick at which a contract
    settled now can go, and a contract that settles later (its settle tick at least this one)
    goes a whole retention window later still.
    """
    if world.tick < world.building.next_contract_prune:
        return
    retention = world.settings.retention_ticks
    soonest = world.tick + retention
    settled = (CONTRACT_DELIVERED, CONTRACT_REJECTED)
    for contract in list(world.building.contracts.values()):
        if contract.state not in settled:
            continue
        since = contract.delivered_tick or contract.requested_tick
        if since > horizon:
            soonest = min(soonest, since + retention)
            continue
        for artifact_id in contract.artifacts:
            world.board.artifacts.pop(artifact_id, None)
        del world.building.contracts[contract.id]
        world.streams.forget_identities([contract.id])
        world.changes.removed.setdefault("contracts", []).append(contract.id)
    world.building.next_contract_prune = soonest
