"""Meetings in motion: advancing a called meeting and concluding it (the data is meetings.py)."""

from __future__ import annotations

from .agents import Activity, Agent
from .assignment import assign, release
from .meetings import Meeting
from .members import ACTIVITY_BUILD, AGENT_IN_MEETING, ARTIFACT_DECISION_TRANSCRIPT
from .world import Office, World, set_status

DECISIONS = (
    "narrow the scope to the smallest useful change",
    "agree the interface before building",
    "split out the risky part behind a flag",
    "reuse the existing module instead of a new one",
    "write the acceptance test first",
)


def work_meeting(world: World, agent: Agent, activity: Activity) -> None:
    set_status(agent, AGENT_IN_MEETING, world)


def advance_meetings(world: World, office: Office) -> None:
    for meeting in [world.board.meetings[m] for m in _open_meetings(world, office)]:
        present = all(
            (a := world.building.agents.get(p)) is not None and a.status is AGENT_IN_MEETING
            for p in meeting.participants
        )
        if not present:
            continue
        if meeting.started_tick is None:
            meeting.started_tick = world.tick
        meeting.progress += 1
        speaker = meeting.participants[meeting.progress % len(meeting.participants)]
        meeting.transcript.append(
            {"tick": world.tick, "who": speaker, "said": world.pick(list(DECISIONS))}
        )
        world.changes.meetings[meeting.id] = None
        if meeting.progress >= meeting.duration:
            _conclude(world, meeting)


def _open_meetings(world: World, office: Office) -> list[str]:
    """The office's open meetings, in the order of their tasks in the office.

    Read from the index of called meetings (``world.board.open_meetings``); concluded ones leave it
    here, whichever way they ended.
    """
    called = world.board.open_meetings.get(office.id)
    if not called:
        return []
    meetings, tasks = world.board.meetings, world.board.tasks
    by_task: dict[str, str] = {}
    for meeting_id in list(called):
        meeting = meetings.get(meeting_id)
        if meeting is None or not meeting.open:
            del called[meeting_id]
            continue
        task = tasks.get(meeting.task_id)
        if task is not None and task.meeting_id == meeting_id:
            by_task[task.id] = meeting_id
    return [by_task[t] for t in world.board.in_office_order(list(by_task))]


def _conclude(world: World, meeting: Meeting) -> None:
    task = world.board.tasks[meeting.task_id]
    meeting.concluded_tick = world.tick
    task.ambiguity = round(task.ambiguity * world.settings.meeting_ambiguity_factor, 4)
    task.meeting_done = True
    decisions = [
        {"who": line["who"], "when": line["tick"], "what": line["said"]}
        for line in meeting.transcript
    ]
    transcript = world.add_artifact(
        ARTIFACT_DECISION_TRANSCRIPT,
        meeting.id,
        meeting.participants[0],
        {
            "task": task.id,
            "participants": meeting.participants,
            "decisions": decisions,
            "ambiguity_before": round(meeting.ambiguity_before, 3),
            "ambiguity_after": task.ambiguity,
        },
    )
    meeting.artifact_id = transcript.id
    task.artifacts.append(transcript.id)
    task.last_event = world.log(
        "meeting.concluded",
        meeting.participants[-1],
        meeting.id,
        {
            "task": task.id,
            "artifact": transcript.id,
            "hash": transcript.hash,
            "ambiguity_after": task.ambiguity,
        },
        (task.last_event,),
    )
    builder_id = meeting.participants[1]
    for agent_id in meeting.participants:
        agent = world.building.agents.get(agent_id)
        if agent is not None and agent.activity and agent.activity.target == meeting.id:
            release(world, agent)
    builder = world.building.agents.get(builder_id)
    if builder is not None and task.assignee == builder_id:
        assign(world, builder, Activity(ACTIVITY_BUILD, task.id, task.effort, "build"))
    else:
        task.assignee = None
    world.changes.tasks[task.id] = None
