"""The snapshot schema (sim/snapshot_schema.py) is the classes' annotations, written out.

Snapshots decode from the table because a compiled build erases annotations; these tests read
the annotations in the pure build and fail the moment the table and a class disagree.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from miniature_office.native import sim_build
from miniature_office.sim import snapshot
from miniature_office.sim.contracts import Elevator
from miniature_office.sim.snapshot_schema import SCHEMA, WORLD_PLAIN

PURE = sim_build() == "pure"


def _dataclasses_in(hint: Any) -> set[type]:
    """Every dataclass a field of this type can hold, at any depth."""
    if typing.get_origin(hint) is not None:
        return {
            c for arg in typing.get_args(hint) if arg is not Ellipsis for c in _dataclasses_in(arg)
        }
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return {hint}
    return set()


def test_every_snapshotted_class_has_the_fields_and_types_the_table_gives() -> None:
    for cls, fields in SCHEMA.items():
        assert list(fields) == [f.name for f in dataclasses.fields(cls)], cls.__name__
        if PURE:  # the compiled build keeps no annotations to compare with
            assert typing.get_type_hints(cls) == fields, cls.__name__


def test_the_worlds_plain_fields_are_the_tables() -> None:
    assert snapshot.PLAIN == tuple(WORLD_PLAIN)


def test_the_table_names_every_dataclass_a_snapshot_reaches() -> None:
    roots = [*snapshot.REGISTRIES.values(), Elevator, *WORLD_PLAIN.values()]
    reached: set[type] = set()
    pending = [c for root in roots for c in _dataclasses_in(root)]
    while pending:
        cls = pending.pop()
        if cls in reached:
            continue
        reached.add(cls)
        assert cls in SCHEMA, f"{cls.__name__} is snapshotted but not in the schema"
        pending.extend(c for hint in SCHEMA[cls].values() for c in _dataclasses_in(hint))
    assert reached == set(SCHEMA)  # and nothing in the table that no snapshot holds
