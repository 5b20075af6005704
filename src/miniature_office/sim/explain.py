"""The Consigliere's explanations, read from the model's state (never canned text).

``explain_waiting`` answers "why is this task / directive / agent waiting or blocked?" with the
exact causes (a review queue ahead of it, tool slots held by named people, a contract version
that has not been released, an open stall, too little clearance, a lockdown) and for each the
options that would unblock it, each as a command a preview can try.

``explain_decision`` answers "why was this decided?" for a task or a vote: the meeting
transcript, the ballots with their weights, any override and the audit lineage, in sentences
that name the events (``event #123``).
"""

from __future__ import annotations

from typing import Any

from .agents import AgentStatus, Role
from .contracts import satisfies
from .reviews import REVIEW_ACTIVITY, REVIEW_ROLE
from .security_office import BUILDING, delivery_blocks, deployment_hold, lockdowns
from .tasks import Directive, DirectiveState, ReviewKind, ReviewStatus, Task, TaskState
from .votes import VoteOutcome
from .world import World


def _cause(kind: str, sentence: str, *options: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"cause": kind, "sentence": sentence, "options": list(options), **extra}


def _option(label: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """An option: a command the user can preview (POST /api/consigliere/preview) or submit."""
    return {"label": label, "command": {"kind": kind, "payload": payload}}


def _hire(role: Role, floor: str, clearance: int | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"floor": floor, "role": role.value}
    label = f"hire a {role.value} on floor {floor}"
    if clearance is not None:
        payload["clearance"] = clearance
        label += f" with clearance {clearance}"
    return _option(label, "hire_agent", payload)


def explain_waiting(world: World, subject: str) -> dict[str, Any]:
    """Why ``subject`` (a task, directive or agent id) waits; raises KeyError if unknown."""
    if subject in world.board.tasks:
        task = world.board.tasks[subject]
        causes = task_causes(world, task)
        state = task.state.value
    elif subject in world.board.directives:
        directive = world.board.directives[subject]
        causes = directive_causes(world, directive)
        state = directive.state.value
    elif subject in world.building.agents:
        agent = world.building.agents[subject]
        causes = agent_causes(world, subject)
        state = agent.status.value
    elif any(arrival.key == subject for arrival in world.board.backlog):
        causes, state = [intake_cause(world, subject)], "backlog"
    else:
        raise KeyError(subject)
    causes = _once(causes)
    return {
        "subject": subject,
        "tick": world.tick,
        "state": state,
        "waiting": bool(causes),
        "causes": causes,
        "sentence": (
            " ".join(c["sentence"] for c in causes)
            if causes
            else f"{subject} is not waiting on anything: it is moving ({state})."
        ),
    }


def _once(causes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each cause once: a directive's hold is also every one of its tasks' hold."""
    seen: set[str] = set()
    unique = []
    for cause in causes:
        if cause["sentence"] not in seen:
            seen.add(cause["sentence"])
            unique.append(cause)
    return unique


# ---- tasks -------------------------------------------------------------------------------------


def task_causes(world: World, task: Task) -> list[dict[str, Any]]:
    """Every reason ``task`` cannot move now, most specific first."""
    causes: list[dict[str, Any]] = []
    state = task.state
    if state is TaskState.BLOCKED:
        causes.extend(_blocked(world, task))
    elif state is TaskState.SCHEDULED:
        causes.extend(_scheduled(world, task))
    elif state is TaskState.IN_REVIEW:
        causes.extend(_reviews(world, task))
    elif state is TaskState.APPROVAL:
        causes.extend(_approval(world, task))
    elif state is TaskState.MERGED:
        directive = world.board.directives.get(task.directive_id)
        if directive is not None:
            causes.extend(_holds(world, directive))
    causes.extend(_tool_waits(world, task.id))
    for stall in world.stalls.values():
        if stall.subject == task.id:
            causes.append(
                _cause(
                    f"stall:{stall.cause.value}",
                    f"A stall was detected at tick {stall.since_tick} (event #{stall.event}): "
                    f"{stall.reason}. Remedy: {stall.remedy}.",
                    event=stall.event,
                )
            )
    return causes


def _blocked(world: World, task: Task) -> list[dict[str, Any]]:
    reason = task.blocked_reason or "blocked"
    if task.requires_contract:
        return [_contract(world, task)]
    return [
        _cause(
            "blocked",
            f"{task.id} is blocked since tick {task.blocked_since}: {reason}.",
            _option(f"unblock {task.id}", "unblock_task", {"task_id": task.id}),
        )
    ]


def _contract(world: World, task: Task) -> dict[str, Any]:
    name, wanted = task.requires_contract, task.contract_range or "any"
    have = world.building.floors[task.floor_id].contracts_available.get(name or "")
    requests = [
        c
        for c in world.building.contracts.values()
        if c.name == name and c.consumer_floor == task.floor_id
    ]
    provider = requests[-1].provider_floor if requests else None
    released = f"floor {task.floor_id} has {have}" if have else f"floor {task.floor_id} has none"
    ok = have is not None and satisfies(have, wanted)
    where = f"floor {provider}" if provider else "no provider floor (no request is open)"
    state = f" (contract {requests[-1].id} is {requests[-1].state.value})" if requests else ""
    options = [_hire(Role.BUILDER, provider)] if provider else []
    return _cause(
        "contract",
        f"{task.id} waits for contract {name} {wanted}, which {where} has not released"
        f"{state}; {released}{' (it satisfies the range)' if ok else ''}.",
        *options,
        contract=name,
        range=wanted,
        provider_floor=provider,
    )


def _scheduled(world: World, task: Task) -> list[dict[str, Any]]:
    dependency = world.unmerged_dependency(task)
    if dependency is not None:
        return [_cause("dependency", f"{task.id} waits for {dependency} to merge first.")]
    if task.assignee is not None:
        return []
    office = world.building.offices[task.office_id]
    builders = world.building.office_members(office, Role.BUILDER)
    busy = [a for a in builders if not a.free]
    if builders and len(busy) < len(builders):
        return []  # a builder is free: the manager assigns it at the next dispatch
    ahead = [
        t.id
        for t in (world.board.tasks[i] for i in office.task_ids)
        if t.state in (TaskState.SCHEDULED, TaskState.IN_PROGRESS)
        and t.id != task.id
        and _before(world, t, task)
    ]
    who = ", ".join(f"{a.id} on {a.activity.target}" for a in busy if a.activity) or "nobody"
    return [
        _cause(
            "no_builder",
            f"{task.id} waits for a builder: all {len(builders)} in {office.id} are busy "
            f"({who}); {len(ahead)} task(s) of higher priority wait ahead of it.",
            _hire(Role.BUILDER, task.floor_id),
            queue_ahead=ahead,
        )
    ]


def _before(world: World, other: Task, task: Task) -> bool:
    """True when dispatch looks at ``other`` before ``task`` (aged priority, then id)."""

    def level(t: Task) -> tuple[int, str]:
        d = world.board.directives[t.directive_id]
        return (world.effective_priority(d.priority, d.arrived_tick), t.id)

    return level(other) < level(task)


def _reviews(world: World, task: Task) -> list[dict[str, Any]]:
    causes = []
    office = world.building.offices[task.office_id]
    for kind, status in task.reviews.items():
        if status is not ReviewStatus.PENDING:
            continue
        role = REVIEW_ROLE[kind]
        clearance = task.security_level if kind is ReviewKind.SECURITY else 0
        members = world.building.office_members(office, role)
        cleared = [a for a in members if a.clearance >= clearance]
        if members and not cleared:
            best = max(a.clearance for a in members)
            causes.append(
                _cause(
                    "clearance",
                    f"{task.id}'s {kind.value} review needs clearance {clearance}; the best "
                    f"{role.value} in {office.id} has {best}.",
                    _hire(role, task.floor_id, clearance),
                )
            )
            continue
        ahead = [
            t.id
            for t in (world.board.tasks[i] for i in office.task_ids)
            if t.id != task.id
            and t.state is TaskState.IN_REVIEW
            and t.reviews.get(kind) is ReviewStatus.PENDING
            and _before(world, t, task)
        ]
        busy = [a.id for a in cleared if not a.free]
        if not members:
            sentence = f"{office.id} has no {role.value} for {task.id}'s {kind.value} review."
        else:
            sentence = (
                f"{task.id} waits in the {kind.value} review queue: {len(ahead)} task(s) ahead "
                f"of it ({', '.join(ahead[:6])}{'...' if len(ahead) > 6 else ''}); "
                f"{len(busy)} of {len(cleared)} {role.value}(s) busy."
            )
        capability = REVIEW_ACTIVITY[kind][1]
        causes.append(
            _cause(
                "review_queue",
                sentence,
                _hire(role, task.floor_id, clearance or None),
                queue_ahead=ahead,
                review=kind.value,
                capability=capability,
            )
        )
    return causes


def _approval(world: World, task: Task) -> list[dict[str, Any]]:
    vote = world.board.votes.get(task.vote_id or "")
    if vote is None or vote.outcome is not VoteOutcome.OPEN:
        return [_cause("vote", f"{task.id} waits for its manager to open a vote.")]
    missing = [v for v in vote.weights if v not in vote.ballots]
    return [
        _cause(
            "vote",
            f"{task.id} waits for vote {vote.id}: {len(vote.ballots)} of {len(vote.weights)} "
            f"ballots cast (waiting for {', '.join(missing) or 'the manager to close it'}).",
            _option(
                f"override vote {vote.id} as carried",
                "override_vote",
                {"vote_id": vote.id, "outcome": "carried", "reason": "operator decision"},
            ),
        )
    ]


def _tool_waits(world: World, target: str) -> list[dict[str, Any]]:
    causes = []
    for agent in world.building.agents.values():
        activity = agent.activity
        if activity is None or activity.target != target or not agent.waiting_for:
            continue
        causes.append(_tool_cause(world, agent.id, agent.waiting_for, activity.capability))
    return causes


def _tool_cause(
    world: World, agent_id: str, waiting_for: str, capability: str | None
) -> dict[str, Any]:
    tool = world.building.tools.get(waiting_for)
    if tool is None:
        if waiting_for == "justification_required":
            return _cause(
                "justification",
                f"{agent_id} was refused a sensitive tool for want of a justification; it "
                "retries and its manager writes one after repeated refusals.",
            )
        return _cause("tool", f"{agent_id} waits for a tool: {waiting_for}.")
    holders = ", ".join(tool.holders) or "nobody"
    queue = tool.queue.index(agent_id) if agent_id in tool.queue else len(tool.queue)
    name = f"{tool.name}-extra"
    return _cause(
        "tool_contention",
        f"{agent_id} waits for {tool.name} ({tool.id}, {tool.slots} slot(s)) held by {holders}; "
        f"{queue} ahead of it in the line.",
        _option(
            f"add a tool {name} with capability {capability} on floor {tool.floor_id}",
            "add_tool",
            {
                "floor": tool.floor_id,
                "name": name,
                "kind": tool.kind,
                "capabilities": list(tool.capabilities),
                "slots": 1,
            },
        ),
        tool=tool.id,
        holders=list(tool.holders),
    )


# ---- directives and agents -----------------------------------------------------------------------


def _holds(world: World, directive: Directive) -> list[dict[str, Any]]:
    hold = deployment_hold(world, directive)
    if hold is None:
        return []
    if directive.id in delivery_blocks(world):
        option = _option(
            f"unblock delivery of {directive.id}",
            "unblock_delivery",
            {"directive_id": directive.id},
        )
    else:
        scope = BUILDING if BUILDING in lockdowns(world) else directive.floor_id
        option = _option(f"lift the lockdown on {scope}", "lift_lockdown", {"scope": scope})
    return [_cause("security_hold", f"{directive.id} cannot ship: {hold}.", option)]


def directive_causes(world: World, directive: Directive) -> list[dict[str, Any]]:
    """Why a directive waits: design, a hold, or the causes of its tasks."""
    if directive.state is DirectiveState.AWAITING_DESIGN:
        office = world.building.offices[directive.office_id]
        architects = world.building.office_members(office, Role.ARCHITECT)
        return [
            _cause(
                "no_architect",
                f"{directive.id} waits for an architect: {len(architects)} in {office.id}, "
                f"{sum(1 for a in architects if not a.free)} busy.",
                _hire(Role.ARCHITECT, directive.floor_id),
            )
        ]
    causes = _holds(world, directive)
    for task_id in directive.task_ids:
        task = world.board.tasks.get(task_id)
        if task is not None:
            causes.extend(task_causes(world, task))
    return causes


def agent_causes(world: World, agent_id: str) -> list[dict[str, Any]]:
    agent = world.building.agents[agent_id]
    if agent.waiting_for:
        capability = agent.activity.capability if agent.activity else None
        return [_tool_cause(world, agent.id, agent.waiting_for, capability)]
    if agent.activity is None and agent.status is AgentStatus.IDLE:
        waiting = sum(1 for a in world.board.backlog if a.request.floor == agent.floor_id)
        if waiting and intake_binds(world):
            return [
                intake_cause(
                    world,
                    None,
                    f"{agent.id} is idle while {waiting} arrivals for floor {agent.floor_id} "
                    "wait in the backlog.",
                )
            ]
        return [_cause("idle", f"{agent.id} is idle: nothing dispatched to a {agent.role.value}.")]
    return []


# ---- the intake limit --------------------------------------------------------------------------


def intake_binds(world: World) -> bool:
    """Admission is held back now: arrivals wait while ``arrivals.max_open`` are open."""
    limit = world.scenario.arrivals.max_open
    open_now = world.totals["directives_created"] - world.totals["directives_deployed"]
    return bool(world.board.backlog) and open_now >= limit


def intake_cause(world: World, key: str | None, lead: str = "") -> dict[str, Any]:
    """Why arrivals wait for admission: the intake limit is reached, and who holds it."""
    limit = world.scenario.arrivals.max_open
    held: dict[str, int] = {}
    for directive in world.board.directives.values():
        if directive.state is not DirectiveState.DEPLOYED:
            held[directive.floor_id] = held.get(directive.floor_id, 0) + 1
    holders = ", ".join(f"{floor} {n}" for floor, n in sorted(held.items()))
    place = ""
    backlog = world.board.backlog
    if key is not None:
        ahead = next(i for i, a in enumerate(backlog) if a.key == key)
        place = f"{key} waits in the backlog ({ahead + 1} of {len(backlog)} in offer order). "
    raised = limit + max(len(backlog), limit // 2)
    return _cause(
        "intake",
        f"{lead + ' ' if lead else ''}{place}The intake limit (arrivals.max_open {limit}) is "
        f"reached: {sum(held.values())} directives are open ({holders}); an arrival is admitted "
        "only when one deploys.",
        _option(
            f"raise the intake limit to {raised}",
            "set_setting",
            {"path": "arrivals.max_open", "value": raised},
        ),
        setting="arrivals.max_open",
    )


# ---- decisions ---------------------------------------------------------------------------------


def lineage(world: World, seq: int, depth: int = 12) -> list[dict[str, Any]]:
    """The audit events behind event ``seq`` (parents first-found, newest first)."""
    found: list[dict[str, Any]] = []
    frontier, seen = [seq], set()
    while frontier and len(found) < depth:
        current = frontier.pop(0)
        if current in seen or current <= 0:
            continue
        seen.add(current)
        event = world.audit.get(current)
        if event is None:
            continue
        found.append(
            {
                "seq": event.seq,
                "tick": event.tick,
                "kind": event.kind,
                "actor": event.actor,
                "target": event.target,
                "sentence": f"event #{event.seq} (tick {event.tick}): {event.actor} "
                f"{event.kind} on {event.target}",
            }
        )
        frontier.extend(event.parents)
    return found


def explain_decision(world: World, subject: str) -> dict[str, Any]:
    """Why a task went the way it did, or how a vote was decided; raises KeyError if unknown."""
    vote = world.board.votes.get(subject)
    task = world.board.tasks.get(subject if vote is None else vote.task_id)
    if task is None and vote is None:
        raise KeyError(subject)
    sentences: list[str] = []
    transcript: list[dict[str, Any]] = []
    if task is not None and task.meeting_id and task.meeting_id in world.board.meetings:
        meeting = world.board.meetings[task.meeting_id]
        transcript = list(meeting.transcript)
        sentences.append(
            f"Meeting {meeting.id} discussed {task.id} ({len(transcript)} lines in the "
            "transcript)."
        )
    if vote is None and task is not None:
        vote = world.board.votes.get(task.vote_id or "")
    ballots = []
    if vote is not None:
        for voter, weight in vote.weights.items():
            cast = vote.ballots.get(voter)
            ballots.append({"voter": voter, "weight": weight, "yes": cast})
        yes = sum(w for v, w in vote.weights.items() if vote.ballots.get(v) is True)
        total = sum(vote.weights.values())
        sentences.append(
            f"Vote {vote.id} ({vote.outcome.value}): weighted yes {yes} of {total}; "
            + ", ".join(
                f"{b['voter']} (weight {b['weight']}) "
                f"{'yes' if b['yes'] else 'no' if b['yes'] is False else 'did not vote'}"
                for b in ballots
            )
            + "."
        )
        if vote.override_reason:
            sentences.append(f"The vote was overridden: {vote.override_reason}.")
    history = []
    if task is not None:
        history = [t.to_dict() for t in task.history]
        for step in task.history[-6:]:
            sentences.append(
                f"At tick {step.tick} {task.id} went {step.source} -> {step.target}: "
                f"{step.reason} (event #{step.event_seq})."
            )
    anchor = task.last_event if task is not None else 0
    return {
        "subject": subject,
        "task": task.id if task is not None else None,
        "vote": vote.id if vote is not None else None,
        "transcript": transcript,
        "ballots": ballots,
        "override": vote.override_reason if vote is not None else None,
        "history": history,
        "lineage": lineage(world, anchor),
        "sentences": sentences,
    }


__all__ = ["agent_causes", "directive_causes", "explain_decision", "explain_waiting", "lineage"]
