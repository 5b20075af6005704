"""The hot dataclasses write their ``__init__`` out, and it is the one @dataclass would write.

mypyc compiles a method written in the class, but the ``__init__`` that @dataclass generates
runs interpreted: building a task, transition, artifact or audit event through it was about a
tenth of a compiled tick. These classes write it out instead; these tests hold each one to its
fields (names, order, defaults, a fresh list or dict for each ``default_factory``) so a field
added to the class and not to its ``__init__`` fails here, not in a run.
"""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from miniature_office.native import sim_build
from miniature_office.sim.agents import Activity
from miniature_office.sim.artifacts import Artifact
from miniature_office.sim.audit import AuditEvent
from miniature_office.sim.flow_row import FlowRow
from miniature_office.sim.meetings import Meeting
from miniature_office.sim.tasks import Directive, Task, Transition
from miniature_office.sim.votes import Vote

WRITTEN_OUT = (Activity, Artifact, AuditEvent, FlowRow, Meeting, Directive, Task, Transition, Vote)


@pytest.mark.parametrize("cls", WRITTEN_OUT, ids=lambda c: c.__name__)
def test_the_written_init_takes_the_fields_in_order_with_their_defaults(cls: type) -> None:
    if sim_build() != "pure":
        pytest.skip("a compiled __init__ has no Python signature to read")
    # the class's own (a generated one is compiled from a string)
    assert cls.__init__.__code__.co_filename == inspect.getsourcefile(cls)
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    fields = dataclasses.fields(cls)
    assert [p.name for p in params] == [f.name for f in fields]
    for param, f in zip(params, fields):
        assert param.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, f.name
        if f.default is not dataclasses.MISSING:
            assert param.default == f.default and type(param.default) is type(f.default), f.name
        elif f.default_factory is not dataclasses.MISSING:
            assert param.default is None, f.name  # None stands for "a fresh one"
        else:
            assert param.default is inspect.Parameter.empty, f.name


@pytest.mark.parametrize("cls", WRITTEN_OUT, ids=lambda c: c.__name__)
def test_the_written_init_sets_each_field_from_its_own_argument(cls: type) -> None:
    if sim_build() != "pure":
        pytest.skip("compiled attributes check their types; the pure build checks the wiring")
    fields = dataclasses.fields(cls)
    required = [f for f in fields if f.default is dataclasses.MISSING and
                f.default_factory is dataclasses.MISSING]  # fmt: skip
    given = {f.name: object() for f in fields}
    # every field passed (by position): each attribute is the very object given for it
    built = cls(*given.values())
    assert all(getattr(built, name) is value for name, value in given.items())
    # only the required ones: defaults as declared, a new list or dict per instance
    first = cls(*(given[f.name] for f in required))
    second = cls(*(given[f.name] for f in required))
    for f in fields:
        if f.default is not dataclasses.MISSING:
            assert getattr(first, f.name) == f.default, f.name
        elif f.default_factory is not dataclasses.MISSING:
            assert getattr(first, f.name) == f.default_factory(), f.name
            assert getattr(first, f.name) is not getattr(second, f.name), f.name
