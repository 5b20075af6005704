"""Weighted consensus votes on approval: manager weight 2, a 2/3 weighted majority carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction
from typing import Any

from mypy_extensions import mypyc_attr

CARRY_FRACTION = Fraction(2, 3)
MANAGER_WEIGHT = 2


class VoteOutcome(str, Enum):
    OPEN = "open"
    CARRIED = "carried"
    FAILED = "failed"
    OVERRIDDEN_CARRIED = "overridden_carried"
    OVERRIDDEN_FAILED = "overridden_failed"


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class Vote:
    id: str
    task_id: str
    floor_id: str
    office_id: str
    opened_tick: int
    weights: dict[str, int]  # voter agent id -> weight
    ballots: dict[str, bool] = field(default_factory=dict)
    outcome: VoteOutcome = VoteOutcome.OPEN
    closed_tick: int | None = None
    override_reason: str | None = None

    # Written out rather than generated: mypyc compiles this one, while the __init__ that
    # @dataclass generates runs interpreted (tests/sim/test_native_init.py holds it to the fields).
    def __init__(
        self,
        id: str,
        task_id: str,
        floor_id: str,
        office_id: str,
        opened_tick: int,
        weights: dict[str, int],
        ballots: dict[str, bool] | None = None,
        outcome: VoteOutcome = VoteOutcome.OPEN,
        closed_tick: int | None = None,
        override_reason: str | None = None,
    ) -> None:
        self.id = id
        self.task_id = task_id
        self.floor_id = floor_id
        self.office_id = office_id
        self.opened_tick = opened_tick
        self.weights = weights
        self.ballots = {} if ballots is None else ballots
        self.outcome = outcome
        self.closed_tick = closed_tick
        self.override_reason = override_reason

    @property
    def complete(self) -> bool:
        return len(self.ballots) == len(self.weights)

    def yes_weight(self) -> int:
        return sum(self.weights[v] for v, yes in self.ballots.items() if yes)

    def total_weight(self) -> int:
        return sum(self.weights.values())

    def tally(self) -> VoteOutcome:
        """Carried when the yes weight is at least two thirds of all weight."""
        total = self.total_weight()
        # yes / total >= 2/3, in integers (weights are whole numbers): no Fraction per vote
        carry = CARRY_FRACTION
        if total and self.yes_weight() * carry.denominator >= total * carry.numerator:
            return VoteOutcome.CARRIED
        return VoteOutcome.FAILED

    @property
    def carried(self) -> bool:
        return self.outcome in (VoteOutcome.CARRIED, VoteOutcome.OVERRIDDEN_CARRIED)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "task_id": self.task_id,
            "floor_id": self.floor_id,
            "office_id": self.office_id,
            "opened_tick": self.opened_tick,
            "weights": dict(self.weights),
            "ballots": dict(self.ballots),
            "yes_weight": self.yes_weight(),
            "total_weight": self.total_weight(),
            "outcome": self.outcome.value,
            "closed_tick": self.closed_tick,
            "override_reason": self.override_reason,
        }
