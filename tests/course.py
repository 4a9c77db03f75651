"""A family's course of three sessions (check-in, then check-out), for the timeline's tests."""

from __future__ import annotations

from dataclasses import dataclass

from facilitator.domain import session as domain
from facilitator.domain.exercises import builtin_exercises
from facilitator.domain.vocabulary import default_vocabulary
from tests.factories import Room

# Who answered what, session by session: check-in feelings and closeness, check-out safety and
# the need each takes home. The adolescent's safety is for the therapist only, as the step says.
COURSE = [
    {
        "date": "2026-10-06",
        "Ana": {"feelings": ["angry", "fed_up"], "closeness": 2, "safety": 4, "need": "listened_to"},
        "Luis": {"feelings": ["worried"], "closeness": 5, "safety": 7, "need": "closeness"},
    },
    {
        "date": "2026-10-13",
        "Ana": {"feelings": ["annoyed", "calm"], "closeness": 4, "safety": 6, "need": "listened_to"},
        "Luis": {"feelings": ["hopeful"], "closeness": 6, "safety": None, "need": "closeness"},
    },
    {
        "date": "2026-10-20",
        "Ana": {"feelings": ["calm", "relieved"], "closeness": 7, "safety": 8, "need": "space"},
        "Luis": {"feelings": ["hopeful", "grateful"], "closeness": 8, "safety": 9, "need": "listened_to"},
    },
]
MEMBERS = (domain.Member(1, "Ana", "adolescent"), domain.Member(2, "Luis", "parent"))


@dataclass
class HeldRoom:
    date: str
    room: Room


def one_session(plan: dict, members=MEMBERS) -> Room:
    """Check-in then check-out, everyone answering, every answer revealed in turn."""
    library = builtin_exercises()
    room = Room([library["check-in"], library["check-out"]], default_vocabulary(), members)
    for member in members:
        pid = room.ask_to_join(member.name, member.role)
        room.therapist(domain.Admit(pid, member.id))
    room.open_step()
    for member in members:
        said = plan[member.name]
        room.by(member.name, domain.SubmitAnswer(
            domain.Answer(feelings=tuple(said["feelings"]), rating=said["closeness"])))
    _reveal_all(room)
    room.open_step()  # check-out, going home: for the therapist only
    for member in members:
        said = plan[member.name]
        room.by(member.name, domain.SubmitAnswer(
            domain.Answer(feelings=("calm",), rating=said["safety"])))
    _reveal_all(room)
    room.open_step()  # what I'm taking with me
    for member in members:
        said = plan[member.name]
        room.by(member.name, domain.SubmitAnswer(
            domain.Answer(feelings=("hopeful",), needs=(said["need"],))))
    _reveal_all(room)
    return room


def _reveal_all(room: Room) -> None:
    room.lock()
    while room.state.reveal_queue():
        room.reveal_next()


def course() -> list[HeldRoom]:
    return [HeldRoom(plan["date"], one_session(plan)) for plan in COURSE]
