"""Errors the domain hands back to its callers as values they can act on."""

from __future__ import annotations

from enum import Enum


class CommandStatus(str, Enum):
    """What became of a command: queued, applied at a tick boundary, or rejected there (a
    :class:`CommandRejected` on submission never makes a command at all)."""

    PENDING = "pending"
    APPLIED = "applied"
    REJECTED = "rejected"


class SimError(Exception):
    """Base class for every error raised by the simulation."""


class CommandRejected(SimError):
    """A command failed validation; nothing was changed.

    ``field`` names the payload field at fault when there is one, so callers can map it to a
    422 response or a form error.
    """

    def __init__(self, reason: str, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field
        self.code = code

    def to_dict(self) -> dict:
        return {"reason": self.reason, "field": self.field, "code": self.code}


class TransitionRefused(SimError):
    """A task transition was illegal or its precondition did not hold (it was logged)."""

    def __init__(self, task_id: str, source: str, target: str, reason: str) -> None:
        super().__init__(f"{task_id}: {source} -> {target} refused: {reason}")
        self.task_id = task_id
        self.source = source
        self.target = target
        self.reason = reason


class ScenarioError(SimError):
    """A scenario file is malformed; ``field`` is a dotted path such as ``floors.0.language``."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem
