"""Floor geometry: where offices, desks and rooms are, and paths along the floor grid.

Every floor is an open-plan grid with one corridor row. Paths run from a tile to the
corridor, along it, and up or down to the destination: always legal grid steps, cheap to
compute for ten thousand agents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mypy_extensions import mypyc_attr

from .frozen import frozen_state, restore_frozen

OFFICE_HEIGHT = 5
CORRIDOR_Y = 6
FLOOR_HEIGHT = 11
ROOMS_WIDTH = 16
#: Desks come in bays: one desk per role per bay, two columns of three, four tiles wide. The
#: n-th agent of a role (its ordinal) sits in bay n, so hiring someone never moves anyone else.
BAY_WIDTH = 4
BAY_ROWS = 3
#: Every office is planned with at least this many bays, so a variant with up to this many of
#: each role keeps the same floor geometry (and so the same walking distances) as the base.
MIN_BAYS = 4
#: Desk slot of each role inside a bay (column = slot // BAY_ROWS, row = slot % BAY_ROWS).
DESK_SLOT = {
    "manager": 0,
    "architect": 1,
    "builder": 2,
    "verifier": 3,
    "security": 4,
    "doc_agent": 5,
}


def office_width(bays: int) -> int:
    """Tiles across an office of ``bays`` desk bays (a wall tile on each side)."""
    return BAY_WIDTH * bays + 1


def office_bays(largest_role_count: int) -> int:
    """Bays an office is planned with for its largest role headcount."""
    return max(MIN_BAYS, largest_role_count)


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(frozen=True, slots=True)
class Rect:
    x: int
    y: int
    w: int
    h: int

    def to_dict(self) -> dict[str, int]:
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h}

    def __getstate__(self) -> dict[str, Any]:
        return frozen_state(self)  # sim/frozen.py: the same pickle in both builds

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_frozen(self, state)


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
@dataclass(frozen=True, slots=True)
class FloorPlan:
    """Rooms of one floor. Offices sit in a row above the corridor; rooms at the right end."""

    width: int
    height: int
    offices: tuple[Rect, ...]
    supply: Rect
    meeting: Rect
    elevator: tuple[int, int]

    @property
    def supply_door(self) -> tuple[int, int]:
        return (self.supply.x + 1, self.supply.y + 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "corridor_y": CORRIDOR_Y,
            "supply": self.supply.to_dict(),
            "meeting": self.meeting.to_dict(),
            "elevator": {"x": self.elevator[0], "y": self.elevator[1]},
        }

    def __getstate__(self) -> dict[str, Any]:
        return frozen_state(self)  # sim/frozen.py: the same pickle in both builds

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_frozen(self, state)


def plan_floor(bays: list[int]) -> FloorPlan:
    """Lay out a floor whose offices have ``bays`` desk bays each, left to right."""
    offices = []
    x = 1
    for count in bays:
        width = office_width(count)
        offices.append(Rect(x, 1, width, OFFICE_HEIGHT))
        x += width + 1
    right = x
    supply = Rect(right, CORRIDOR_Y + 1, 6, 3)
    meeting = Rect(right + 7, CORRIDOR_Y + 1, 6, 3)
    elevator = (right + ROOMS_WIDTH - 2, CORRIDOR_Y)
    return FloorPlan(right + ROOMS_WIDTH, FLOOR_HEIGHT, tuple(offices), supply, meeting, elevator)


def desk_position(office: Rect, role: str, ordinal: int) -> tuple[int, int] | None:
    """The desk of the ``ordinal``-th agent of ``role`` (from 0), or None past the last bay."""
    bay = ordinal
    if office.x + 1 + bay * BAY_WIDTH >= office.x + office.w - 1:
        return None
    slot = DESK_SLOT[role]
    col, row = slot // BAY_ROWS, slot % BAY_ROWS
    return (office.x + 1 + bay * BAY_WIDTH + col * 2, office.y + 1 + row)


def spare_desk(office: Rect, taken: set[tuple[int, int]]) -> tuple[int, int] | None:
    """A free tile inside ``office`` for someone hired beyond its planned bays."""
    for y in range(office.y + 1, office.y + office.h - 1):
        for x in range(office.x + 1, office.x + office.w - 1):
            if (x, y) not in taken:
                return (x, y)
    return None


def waypoints(start: tuple[int, int], goal: tuple[int, int]) -> list[tuple[int, int]]:
    """The corners of a walk from ``start`` to ``goal``: to the corridor row, along it, then
    to the goal, in order (the browser draws the same path in static/js/office.js)."""
    corners = [(start[0], CORRIDOR_Y), (goal[0], CORRIDOR_Y), goal]
    result: list[tuple[int, int]] = []
    here = start
    for corner in corners:
        if corner != here:
            result.append(corner)
            here = corner
    return result


def path_length(position: tuple[int, int], corners: list[tuple[int, int]]) -> int:
    """Tiles walked from ``position`` through ``corners`` (grid steps, no diagonals)."""
    tiles = 0
    x, y = position
    for cx, cy in corners:
        tiles += abs(cx - x) + abs(cy - y)
        x, y = cx, cy
    return tiles


def advance(
    position: tuple[int, int], corners: list[tuple[int, int]], steps: int
) -> tuple[int, int]:
    """Walk up to ``steps`` tiles along ``corners`` (consumed in place); returns the new tile."""
    x, y = position
    while steps > 0 and corners:
        cx, cy = corners[0]
        distance = abs(cx - x) + abs(cy - y)
        if distance <= steps:
            x, y = cx, cy
            steps -= distance
            corners.pop(0)
            continue
        if cx != x:
            x += steps if cx > x else -steps
        else:
            y += steps if cy > y else -steps
        steps = 0
    return x, y
