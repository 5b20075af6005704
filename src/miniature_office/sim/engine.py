"""The tick engine: commands in, one tick in a fixed order, a delta out.

Order of one tick: apply commands -> activate due proposals (sim/proposals.py lists them,
sim/commands.py applies their commands) -> intake -> elevator -> for each floor, each office
(sorted by id): dispatch, agents act, meetings advance, votes close -> deployments ->
retention -> flow metrics -> the tick's delta.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable

from mypy_extensions import mypyc_attr

from .acting import act
from .audit import AuditEvent, AuditLog, HeadlessAuditLog
from .deployment import deploy, prune
from .directives import intake
from .dispatch import dispatch
from .elevator import run_elevator
from .flow import FlowTracker
from .flow_row import FlowRow
from .meeting_flow import advance_meetings
from .proposals import due, scheduled_view
from .scenario import Scenario
from .security_office import security_view
from .stalls import watch_stalls
from .tasks import BOARD_ORDER
from .voting import close_votes
from .world import ChangeSet, World, build_world

if TYPE_CHECKING:  # commands (pydantic payload models) load when a command first comes in
    from .commands import Command, CommandKind


class TickResult:
    """What one tick changed: touched entities, new events, the flow row, the audit head.

    The delta is rendered on first access, so headless runs never pay for serialisation.
    """

    __slots__ = ("tick", "events", "flow", "applied", "head", "_changes", "_render", "_delta")

    def __init__(
        self,
        tick: int,
        changes: ChangeSet,
        render: Callable[[ChangeSet], dict[str, Any]],
        events: list[AuditEvent],
        flow: FlowRow,
        applied: list[Command],
        head: str,
    ) -> None:
        self.tick, self.events, self.flow, self.applied = tick, events, flow, applied
        self.head = head  # the audit chain's head after the tick
        self._changes, self._render = changes, render
        self._delta: dict[str, Any] | None = None

    @property
    def delta(self) -> dict[str, Any]:
        """Changed entities as dicts (only valid before the next tick changes them again)."""
        if self._delta is None:
            self._delta = self._render(self._changes)
        return self._delta


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
class Engine:
    """Owns one world and its command log; the only way to change the world."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        *,
        audit_window: int | None = None,
        clock: Callable[[], float] | None = None,
        flow_history: int = 2000,
        headless: bool = False,
    ) -> None:
        self.scenario = scenario
        self.seed = seed
        #: Headless (sweeps, forecasts): the audit chain is counted but not hashed or held; every
        #: figure of the run is the same as a full run's (tests/sim/test_forecast.py checks it).
        self.headless = headless
        audit = HeadlessAuditLog() if headless else AuditLog(window=audit_window, clock=clock)
        self.world: World = build_world(scenario, seed, audit=audit)
        self.flow = FlowTracker(history=flow_history)
        self.pending: list[Command] = []
        self.commands: list[Command] = []  # every command that reached application, in order
        self.next_seq = 1
        self._boundary: list[Command] = []
        self._event_mark = 0
        self.world.changes = ChangeSet()

    # ---- commands ---------------------------------------------------------------------------

    def submit(self, kind: str | CommandKind, payload: Any = None, actor: str = "user") -> Command:
        """Validate and queue a command for the next tick boundary (raises CommandRejected)."""
        from .commands import new_command

        command = new_command(
            self.world, self.next_seq, kind, {} if payload is None else payload, actor
        )
        self.next_seq += 1
        self.pending.append(command)
        return command

    def apply_pending(self) -> list[Command]:
        """Apply queued commands now, at the current tick boundary (used while paused)."""
        batch, self.pending = self.pending, []
        if batch:
            from .commands import apply

            for command in batch:
                apply(self.world, command)
                self.commands.append(command)
        self._boundary.extend(batch)
        return batch

    def withdraw(self, command: Command) -> None:
        """Take back the newest queued command (its write to the store failed), and its seq."""
        self.pending.remove(command)
        self.next_seq = command.seq

    def adopt_log(self, log: Iterable[Command], *, next_seq: int = 1) -> None:
        """Resume a rebuilt world with its command log: applied commands become the history,
        unapplied ones are queued again in order, and numbering continues after the log (and
        at ``next_seq`` at the least: a snapshot's numbering outlives its withdrawn commands).

        The world must already stand where the log leaves it (snapshot plus replay); events up
        to now count as reported, so the next tick's result holds only its own events.
        """
        commands = list(log)
        self.commands = [c for c in commands if c.applied_tick is not None]
        self.pending = [c.as_pending() for c in commands if c.applied_tick is None]
        self.next_seq = max(next_seq, max((c.seq for c in commands), default=0) + 1)
        self._event_mark = self.world.audit.count

    @classmethod
    def resume(cls, state: dict[str, Any], log: Iterable[Command] = (), **kwargs: Any) -> "Engine":
        """Continue from a snapshot (:func:`sim.snapshot.dump_engine` output, older formats
        upgraded) and the commands acknowledged at its boundary that are still to apply.

        ``kwargs`` are the constructor's (``headless``, ``audit_window``, ...).
        """
        from .snapshot import load_engine  # snapshot knows the world's classes, not Engine

        engine: Engine = load_engine(state, cls, **kwargs)
        engine.adopt_log(log, next_seq=engine.next_seq)
        return engine

    def apply_replicated(self, commands: list[Command]) -> list[Command]:
        """Apply another engine's commands at this boundary, as it did (a follower's mirror)."""
        self.pending = list(commands)
        return self.apply_pending()

    def step_replicated(self, commands: list[Command]) -> TickResult:
        """Step with the commands another engine applied at this boundary (a follower's mirror)."""
        self.pending = list(commands)
        return self.step()

    # ---- time -------------------------------------------------------------------------------

    def step(self) -> TickResult:
        """Advance the world by exactly one tick and return its delta."""
        self.apply_pending()
        world = self.world
        proposals = due(world)  # scheduled proposals whose tick has come, after the commands
        if proposals:
            from .commands import activate

            activate(world, proposals)
        world.tick += 1
        intake(world)
        run_elevator(world)
        for floor in world.building.floors.values():
            for office_id in sorted(floor.office_ids):
                office = world.building.offices[office_id]
                dispatch(world, office)
                for agent_id in list(office.agent_ids):
                    agent = world.building.agents.get(agent_id)
                    if agent is not None:
                        act(world, agent)
                advance_meetings(world, office)
                close_votes(world, office)
        deployed = deploy(world)
        watch_stalls(world)
        row = self.flow.record(world, deployed)
        prune(world)
        return self._finish_tick(row)

    def run(self, ticks: int, progress: Callable[[int], None] | None = None) -> None:
        for _ in range(ticks):
            self.step()
            if progress is not None:
                progress(self.world.tick)

    def _finish_tick(self, row: FlowRow) -> TickResult:
        world = self.world
        changes, world.changes = world.changes, ChangeSet()
        events = world.audit.since(self._event_mark)
        self._event_mark = world.audit.count
        applied, self._boundary = self._boundary, []
        return TickResult(world.tick, changes, self._delta, events, row, applied, world.audit.head)

    # ---- views ------------------------------------------------------------------------------

    @property
    def tick(self) -> int:
        return self.world.tick

    @property
    def head_hash(self) -> str:
        return self.world.audit.head

    def _delta(self, changes: ChangeSet) -> dict[str, Any]:
        world, tick = self.world, self.world.tick
        pick = _picker
        delta: dict[str, Any] = {
            "tick": tick,
            "agents": pick(world.building.agents, changes.agents, lambda a: a.to_dict()),
            "tasks": pick(world.board.tasks, changes.tasks, lambda t: t.to_dict(tick)),
            "directives": pick(
                world.board.directives, changes.directives, lambda d: d.to_dict(tick)
            ),
            "tools": pick(world.building.tools, changes.tools, lambda t: t.to_dict()),
            "meetings": pick(world.board.meetings, changes.meetings, lambda m: m.to_dict()),
            "votes": pick(world.board.votes, changes.votes, lambda v: v.to_dict()),
            "contracts": pick(world.building.contracts, changes.contracts, lambda c: c.to_dict()),
            "removed": changes.removed,
        }
        if changes.elevator:
            delta["elevator"] = world.building.elevator.to_dict(world.building.floor_ids)
        if changes.world:
            delta["world"] = self._header()
        return delta

    def _header(self) -> dict[str, Any]:
        world = self.world
        per_day = world.settings.ticks_per_day
        return {
            "tick": world.tick,
            "day": world.tick // per_day + 1,
            "hour": world.tick % per_day,
            "ticks_per_day": per_day,
            "running": world.running,
            "speed": world.speed,
            "seed": world.seed,
            "scenario": world.scenario.name,
            "audit": {"head": world.audit.head, "count": world.audit.count},
            "next_command": self.next_seq,
            "pending_commands": len(self.pending),
            # The Head of Security's holds and the Consigliere's scheduled changes, for the map,
            # the board and the timeline.
            **security_view(world),
            "proposals": scheduled_view(world),
        }

    def snapshot(self) -> dict[str, Any]:
        """The whole visible world as JSON-ready data (what a client needs to draw it)."""
        world, tick = self.world, self.world.tick
        return {
            **self._header(),
            "floors": [f.to_dict() for f in world.building.floors.values()],
            "offices": [o.to_dict() for o in world.building.offices.values()],
            "agents": [a.to_dict() for a in world.building.agents.values()],
            "directives": [d.to_dict(tick) for d in world.board.directives.values()],
            "tasks": [t.to_dict(tick) for t in world.board.tasks.values()],
            "meetings": [m.to_dict() for m in world.board.meetings.values()],
            "votes": [v.to_dict() for v in world.board.votes.values()],
            "tools": [t.to_dict() for t in world.building.tools.values()],
            "contracts": [c.to_dict() for c in world.building.contracts.values()],
            "elevator": world.building.elevator.to_dict(world.building.floor_ids),
            "flow": None if self.flow.latest is None else self.flow.latest.to_dict(),
            "totals": dict(world.totals),
            # arrivals waiting for admission (no directive id yet): how many, and the first
            "backlog": {
                "count": len(world.board.backlog),
                "first": [a.to_dict(tick) for a in world.board.backlog[:20]],
            },
            "states": [s.value for s in BOARD_ORDER],
        }

    def summary(self) -> dict[str, Any]:
        return {"seed": self.seed, "scenario": self.scenario.name, **self.flow.summary(self.world)}

    # ---- replay -----------------------------------------------------------------------------

    @classmethod
    def replay(
        cls,
        scenario: Scenario,
        seed: int,
        commands: Iterable[Command | dict[str, Any]],
        until_tick: int,
        *,
        include_boundary: bool = False,
        **kwargs: Any,
    ) -> "Engine":
        """Rebuild the world at ``until_tick`` from scenario, seed and a command log.

        Commands apply at the boundary recorded in ``applied_tick``. Commands recorded at the
        final boundary apply only with ``include_boundary`` (recovery wants them; comparing
        with a run's state at that tick does not).
        """
        from .commands import Command

        engine = cls(scenario, seed, **kwargs)
        log = [c if isinstance(c, Command) else Command.from_dict(c) for c in commands]
        for command in log:
            if command.applied_tick is not None:
                engine.next_seq = max(engine.next_seq, command.seq + 1)
        engine.fast_forward(log, until_tick, include_boundary=include_boundary)
        return engine

    def fast_forward(
        self, commands: Iterable[Command], until_tick: int, *, include_boundary: bool = False
    ) -> None:
        """Step to ``until_tick``, applying each logged command again at the boundary where it
        was applied (``applied_tick``); unapplied ones are skipped. Commands of the final
        boundary apply only with ``include_boundary``."""
        by_tick: dict[int, list[Command]] = {}
        for command in commands:
            if command.applied_tick is not None:
                by_tick.setdefault(command.applied_tick, []).append(command.as_pending())
        while self.tick < until_tick:
            self.pending = by_tick.pop(self.tick, [])
            self.step()
        if include_boundary:
            self.pending = by_tick.pop(self.tick, [])
            self.apply_pending()


def _picker(
    registry: dict[str, Any], ids: dict[str, None], render: Callable[[Any], Any]
) -> list[Any]:
    return [render(registry[i]) for i in ids if i in registry]


__all__ = ["Engine", "TickResult"]
