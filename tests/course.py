"""A family's course of three sessions (check-in, then check-out), for the timeline's tests."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from facilitator.domain import session as domain
from facilitator.domain.exercises import builtin_exercises
from facilitator.domain.vocabulary import default_vocabulary
from facilitator.extensions import db
from facilitator.store import live as store
from facilitator.store.models import Family, FamilyMember, LiveSession
from tests.factories import Room

# Who answered what, session by session: check-in feelings and closeness, check-out safety and
# the need each takes home. The adolescent's safety is for the therapist only, as the step says.
COURSE = [
    {
        "date": "2026-10-06",
        "Ana": {
            "feelings": ["angry", "fed_up"],
            "closeness": 2,
            "safety": 4,
            "need": "listened_to",
        },
        "Luis": {"feelings": ["worried"], "closeness": 5, "safety": 7, "need": "closeness"},
    },
    {
        "date": "2026-10-13",
        "Ana": {
            "feelings": ["annoyed", "calm"],
            "closeness": 4,
            "safety": 6,
            "need": "listened_to",
        },
        "Luis": {"feelings": ["hopeful"], "closeness": 6, "safety": None, "need": "closeness"},
    },
    {
        "date": "2026-10-20",
        "Ana": {"feelings": ["calm", "relieved"], "closeness": 7, "safety": 8, "need": "space"},
        "Luis": {
            "feelings": ["hopeful", "grateful"],
            "closeness": 8,
            "safety": 9,
            "need": "listened_to",
        },
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
        room.by(
            member.name,
            domain.SubmitAnswer(
                domain.Answer(feelings=tuple(said["feelings"]), rating=said["closeness"])
            ),
        )
    _reveal_all(room)
    room.open_step()  # check-out, going home: for the therapist only
    for member in members:
        said = plan[member.name]
        room.by(
            member.name,
            domain.SubmitAnswer(domain.Answer(feelings=("calm",), rating=said["safety"])),
        )
    _reveal_all(room)
    room.open_step()  # what I'm taking with me
    for member in members:
        said = plan[member.name]
        room.by(
            member.name,
            domain.SubmitAnswer(domain.Answer(feelings=("hopeful",), needs=(said["need"],))),
        )
    _reveal_all(room)
    return room


def _reveal_all(room: Room) -> None:
    room.lock()
    while room.state.reveal_queue():
        room.reveal_next()


def course(members=MEMBERS) -> list[HeldRoom]:
    return [HeldRoom(plan["date"], one_session(plan, members)) for plan in COURSE]


def store_course(therapist_id: int, family_name: str = "Ortiz family") -> Family:
    """The family Ana and Luis, and their three sessions, ended, in the database."""
    family = Family(therapist_id=therapist_id, name=family_name)
    family.members = [
        FamilyMember(display_name="Ana", role="adolescent"),
        FamilyMember(display_name="Luis", role="parent"),
    ]
    db.session.add(family)
    db.session.flush()
    members = tuple(domain.Member(m.id, m.display_name, m.role) for m in family.members)
    for held in course(members):
        held.room.therapist(domain.End())
        moment = datetime.fromisoformat(held.date + "T17:00:00")
        db.session.add(
            LiveSession(
                id=uuid.uuid4().hex,
                therapist_id=therapist_id,
                family_id=family.id,
                exercise_id="check-in",
                join_code=None,
                display_token=secrets.token_urlsafe(24),
                **store.stored_state(held.room.state),
                created_at=moment,
                ended_at=moment,
            )
        )
    db.session.commit()
    return family
