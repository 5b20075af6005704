"""JSON Schemas of the API's successful answers, by endpoint, for the OpenAPI document.

Each names the fields a client may rely on (``required``) and their types; answers carry more
fields than listed (``additionalProperties`` stays open, so adding a field is compatible).
Schemathesis checks every answer against these in ``make test`` (response conformance).
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

S: Schema = {"type": "string"}
I: Schema = {"type": "integer"}
N: Schema = {"type": "number"}
B: Schema = {"type": "boolean"}
O: Schema = {"type": "object"}
NUM_OR_NULL: Schema = {"type": ["number", "null"]}


def opt(schema: Schema) -> Schema:
    """``schema`` or null."""
    return {"anyOf": [schema, {"type": "null"}]}


def arr(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def obj(**fields: Schema) -> Schema:
    """An object with every field in ``fields`` required (more fields may follow)."""
    return {"type": "object", "required": sorted(fields), "properties": fields}


def listing(name: str, item: Schema, *, paged: bool = False) -> Schema:
    """``{name: [item], count}`` or, paginated, ``{name: [item], total, limit, offset}``."""
    if paged:
        return obj(**{name: arr(item)}, total=I, limit=I, offset=I)
    return obj(**{name: arr(item)}, count=I)


AGENT_BASE = obj(id=S, name=S, role=S, status=S, floor_id=S, office_id=S)
AGENT = {
    **AGENT_BASE,
    "required": [*AGENT_BASE["required"], "agent_id"],
    "properties": {**AGENT_BASE["properties"], "agent_id": S},
}
TASK = obj(id=S, task_id=S, title=S, name=S, state=S, floor_id=S, assigned_agent_id=opt(S))
CONDITION = obj(description=S)
TASK_DETAIL = {
    **obj(
        id=S,
        task_id=S,
        name=S,
        description=S,
        state=S,
        assigned_agent_id=opt(S),
        ambiguity_score=N,
        blocked_reason=opt(S),
        preconditions=arr(CONDITION),
        postconditions=arr(CONDITION),
        acceptance_criteria=arr(CONDITION),
        state_history=arr(O),
    ),
}
DIRECTIVE = obj(id=S, title=S, state=S, floor_id=S)
FLOOR = obj(id=S, name=S, language=S, office_ids=arr(S), tool_ids=arr(S))
DEPARTMENT = obj(
    id=S,
    department_id=S,
    name=S,
    domain=S,
    language=S,
    is_fully_staffed=B,
    missing_roles=arr(S),
    agents=I,
)
OFFICE = obj(id=S, name=S, floor_id=S)
TOOL = obj(id=S, name=S, floor_id=S, free_slots=I, holders=arr(S), queue=arr(S))
CHECKOUT = obj(tool_id=S, tool=S, agent_id=S, held=B)
CONTRACT = obj(id=S)
MEETING = obj(id=S, floor_id=S, open=B)
VOTE = obj(id=S, floor_id=S)
ARTIFACT = obj(id=S, kind=S, author=S, subject=S)
EVENT = obj(seq=I, tick=I, kind=S, actor=S, target=S, data=O, parents=arr(I), prev=S, hash=S)
VERDICT = obj(valid=B, checked=I, head=S, first_broken=opt(I), reason=opt(S))
COMMAND = obj(seq=I, kind=S, payload=O, actor=S, submitted_tick=I, status=S)
COMMAND_ANSWER = obj(command=COMMAND, status=S, tick=I)
CLOCK_ANSWER = obj(command=COMMAND, status=S, tick=I, success=B, message=S)
TOKEN = obj(id=S, name=S, role=S, active=B)
RUN = obj(
    id=I,
    seed=I,
    created_at=N,
    current=B,
    linked=B,
    previous_run=opt(I),
    previous_head=opt(S),
    tick=opt(I),
    head=opt(S),
    count=opt(I),
)
STATE = obj(
    tick=I,
    running=B,
    speed=N,
    seed=I,
    agents=arr(O),
    tasks=arr(O),
    floors=arr(O),
    world=obj(name=S, time=I),
)
FLOW_ROW = obj(tick=I)

RESPONSES: dict[str, Schema] = {
    "docs.index": obj(
        name=S, version=S, description=S, endpoints={"type": "object", "additionalProperties": S}
    ),
    "docs.openapi_json": obj(openapi=S, info=O, paths=O, components=O),
    "org.agents": listing("agents", AGENT),
    "org.hire": COMMAND_ANSWER,
    "org.agent": AGENT,
    "org.dismiss": COMMAND_ANSWER,
    "org.agent_status": obj(
        agent_id=S,
        name=S,
        role=S,
        status=S,
        department_id=S,
        current_task_id=opt(S),
        capabilities=arr(S),
        task_history=arr(S),
        tick=I,
    ),
    "org.floors": listing("floors", FLOOR),
    "org.floor": {**FLOOR, "properties": {**FLOOR["properties"], "agents": arr(AGENT_BASE)}},
    "org.departments": listing("departments", DEPARTMENT),
    "org.offices": listing("offices", OFFICE),
    "org.office": obj(id=S, name=S, agents=arr(AGENT_BASE), task_ids=arr(S)),
    "supply.artifacts": listing("artifacts", ARTIFACT, paged=True),
    "supply.artifact": ARTIFACT,
    "supply.contracts": listing("contracts", CONTRACT),
    "supply.contract": CONTRACT,
    "supply.elevator": O,
    "supply.supply_store": obj(
        tools=arr(TOOL), checkouts=arr(CHECKOUT), available_count=I, checked_out_count=I
    ),
    "supply.checkouts": listing("checkouts", CHECKOUT),
    "supply.tools": listing("tools", TOOL),
    "supply.add_tool": COMMAND_ANSWER,
    "audit.events": {
        **listing("events", EVENT, paged=True),
        "properties": {
            **listing("events", EVENT, paged=True)["properties"],
            "head": S,
            "count": I,
            "first_seq": I,
        },
    },
    "audit.event": EVENT,
    "audit.lineage": obj(event=EVENT, ancestors=arr(EVENT), descendants=arr(EVENT)),
    "audit.verify": {**VERDICT, "properties": {**VERDICT["properties"], "scope": S}},
    "work.directives": listing("directives", DIRECTIVE),
    "work.create_directive": COMMAND_ANSWER,
    "work.directive": {**DIRECTIVE, "properties": {**DIRECTIVE["properties"], "tree": O}},
    "work.tasks": listing("tasks", TASK, paged=True),
    "work.task": TASK_DETAIL,
    "work.block_task": COMMAND_ANSWER,
    "work.unblock_task": COMMAND_ANSWER,
    "work.meetings": listing("meetings", MEETING),
    "work.meeting": MEETING,
    "work.votes": listing("votes", VOTE),
    "work.vote": VOTE,
    "work.override_vote": COMMAND_ANSWER,
    "runs.runs": listing("runs", RUN),
    "runs.run": RUN,
    "runs.verify": {**VERDICT, "properties": {**VERDICT["properties"], "run": I}},
    "runs.export": obj(
        format=I,
        run=I,
        seed=I,
        scenario=O,
        head=opt(S),
        count=opt(I),
        commands=arr(O),
        audit=arr(EVENT),
    ),
    "tokens.create_token": {
        **TOKEN,
        "required": [*TOKEN["required"], "token"],
        "properties": {**TOKEN["properties"], "token": S},
    },
    "tokens.list_tokens": listing("tokens", TOKEN, paged=True),
    "tokens.revoke_token": TOKEN,
    "tokens.security_events": listing("events", O, paged=True),
    "tokens.security_verify": obj(ok=B, count=I, head=S, first_broken=opt(I), reason=opt(S)),
    "world.state": STATE,
    "world.step": obj(success=B, queued=B, tick=I, time=I, tick_count=I, ticks=I),
    "world.start": CLOCK_ANSWER,
    "world.stop": CLOCK_ANSWER,
    "world.pause": COMMAND_ANSWER,
    "world.resume": COMMAND_ANSWER,
    "world.speed": COMMAND_ANSWER,
    "world.reset": obj(tick=I, seed=I, reset=B),
    "world.replay": obj(tick=I, snapshot=O, flow_history=arr(O)),
    "flow.current": O,
    "flow.history": O,
    "flow.stalls": O,
    "health.health": obj(
        status={"enum": ["healthy", "starting", "unhealthy"]},
        service=S,
        version=S,
        simulation={"enum": ["running", "paused", "initializing"]},
        engine=obj(state=S, reason=opt(S), seconds_since_tick=NUM_OR_NULL, advice=opt(S), tick=I),
        tick=I,
    ),
    "health.live": obj(status=S),
    "health.ready": obj(status=S),
}
#: Answers that are JSON but whose 2xx shape is not listed above are still objects.
DEFAULT_JSON: Schema = O


def response_schema(endpoint: str, content_type: str) -> Schema:
    """The documented schema of ``endpoint``'s successful answer in ``content_type``."""
    if content_type != "application/json":
        return S
    return RESPONSES.get(endpoint, DEFAULT_JSON)
