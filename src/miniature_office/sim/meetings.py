"""Meetings for ambiguous tasks and the Decision Transcripts they produce."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mypy_extensions import mypyc_attr


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(slots=True)
class Meeting:
    """Architect, Builder and Manager meet about one task; the meeting lowers its ambiguity."""

    id: str
    task_id: str
    floor_id: str
    office_id: str
    participants: list[str]
    called_tick: int
    duration: int
    ambiguity_before: float
    progress: int = 0
    started_tick: int | None = None
    concluded_tick: int | None = None
    transcript: list[dict[str, Any]] = field(default_factory=list)
    artifact_id: str | None = None

    # Written out rather than generated: mypyc compiles this one, while the __init__ that
    # @dataclass generates runs interpreted (tests/sim/test_native_init.py holds it to the fields).
    def __init__(
        self,
        id: str,
        task_id: str,
        floor_id: str,
        office_id: str,
        participants: list[str],
        called_tick: int,
        duration: int,
        ambiguity_before: float,
        progress: int = 0,
        started_tick: int | None = None,
        concluded_tick: int | None = None,
        transcript: list[dict[str, Any]] | None = None,
        artifact_id: str | None = None,
    ) -> None:
        self.id = id
        self.task_id = task_id
        self.floor_id = floor_id
        self.office_id = office_id
        self.participants = participants
        self.called_tick = called_tick
        self.duration = duration
        self.ambiguity_before = ambiguity_before
        self.progress = progress
        self.started_tick = started_tick
        self.concluded_tick = concluded_tick
        self.transcript = [] if transcript is None else transcript
        self.artifact_id = artifact_id

    @property
    def open(self) -> bool:
        return self.concluded_tick is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "task_id": self.task_id,
            "floor_id": self.floor_id,
            "office_id": self.office_id,
            "participants": list(self.participants),
            "called_tick": self.called_tick,
            "started_tick": self.started_tick,
            "concluded_tick": self.concluded_tick,
            "duration": self.duration,
            "progress": self.progress,
            "ambiguity_before": round(self.ambiguity_before, 3),
            "transcript": list(self.transcript),
            "artifact_id": self.artifact_id,
            "open": self.open,
        }
