"""Votes in motion: ballots cast, full votes closed and settled (the data is votes.py)."""

from __future__ import annotations

from .assignment import rework
from .members import TASK_APPROVAL, TASK_DEPLOYED, TASK_MERGED, VOTE_OPEN
from .quality import yes_chance
from .votes import Vote, VoteOutcome
from .world import Office, World


def close_votes(world: World, office: Office) -> None:
    """Voters cast ballots with the attention they have left; the manager closes full votes."""
    waiting = world.board.tasks_in(office.id)[TASK_APPROVAL]  # World keeps the index
    if not waiting:
        return
    manager = world.building.agents.get(office.manager_id or "")
    closed = 0
    tasks, votes = world.board.tasks, world.board.votes
    for task_id in world.board.in_office_order(list(waiting)):
        task = tasks[task_id]
        vote = votes.get(task.vote_id or "")
        if vote is None or vote.outcome is not VOTE_OPEN:
            continue
        for voter_id in list(vote.weights):
            voter = world.building.agents.get(voter_id)
            if voter_id in vote.ballots or voter is None or voter.attention_left <= 0:
                continue
            voter.attention_left -= 1
            p = yes_chance(world.settings, task, voter)
            vote.ballots[voter_id] = world.chance(p, key=task.id)
            world.changes.votes[vote.id] = None
        if not vote.complete or manager is None or manager.attention_left <= 0:
            continue
        if closed >= world.settings.votes_per_tick:
            continue
        manager.attention_left -= 1
        closed += 1
        settle_vote(world, vote, vote.tally(), manager.id)


def settle_vote(
    world: World, vote: Vote, outcome: VoteOutcome, actor: str, reason: str | None = None
) -> int:
    """Close ``vote`` with ``outcome`` and move its task on (merge or rework)."""
    task = world.board.tasks[vote.task_id]
    vote.outcome = outcome
    vote.closed_tick = world.tick
    vote.override_reason = reason
    kind = "vote.overridden" if reason else "vote.closed"
    seq = world.log(
        kind,
        actor,
        vote.id,
        {
            "task": task.id,
            "outcome": outcome.value,
            "yes": vote.yes_weight(),
            "total": vote.total_weight(),
            "reason": reason,
        },
        (task.last_event,),
    )
    task.last_event = seq
    world.changes.votes[vote.id] = None
    if vote.carried:
        task.vote_carried = True
        world.transition(task, TASK_MERGED, f"vote {vote.id} carried", actor, (seq,))
        directive = world.board.directives[task.directive_id]
        if all(
            world.board.tasks[t].state in (TASK_MERGED, TASK_DEPLOYED) for t in directive.task_ids
        ):
            world.board.deploy_ready[directive.id] = None
    else:
        world.totals["votes_failed"] += 1
        rework(
            world,
            task,
            actor,
            f"vote {vote.id} failed",
            task.effort * world.settings.vote_fail_rework_share,
        )
    return seq
