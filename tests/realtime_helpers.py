"""Socket.IO clients for tests that record every frame each person receives."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from facilitator.domain import session as domain
from facilitator.extensions import db, socketio
from facilitator.realtime.broadcast import perform
from facilitator.store import live as store
from facilitator.store.models import Family, FamilyMember
from tests.socket_clients import TherapistMoves


def connect(app, **kwargs) -> Any:
    """A Socket.IO test client. Like a real request, each event gets its own app context (and
    so its own signed-in user and database session), not the test's."""
    with app.app_context():
        return socketio.test_client(app, **kwargs)


@dataclass
class Person(TherapistMoves):
    """One connected client and every frame it has received, in order."""

    name: str
    client: Any
    participant_id: str | None = None
    token: str | None = None
    frames: list[dict[str, Any]] = field(default_factory=list)

    def drain(self) -> list[dict[str, Any]]:
        fresh = self.client.get_received() if self.client.is_connected() else []
        self.frames.extend(fresh)
        return fresh

    def send(self, event: str, payload: Any = None) -> dict[str, Any]:
        with self.client.app.app_context():
            if payload is None:
                return self.client.emit(event, callback=True)
            return self.client.emit(event, payload, callback=True)

    def disconnect(self) -> None:
        with self.client.app.app_context():
            self.client.disconnect()

    def do(self, event: str, payload: Any = None) -> dict[str, Any]:
        """Send an event that must be accepted."""
        ack = self.send(event, payload)
        assert ack == {"ok": True}, f"{self.name} {event}: {ack}"
        return ack

    def view(self) -> dict[str, Any]:
        self.drain()
        views = [f["args"][0] for f in self.frames if f["name"] == "view"]
        assert views, f"{self.name} has received no view"
        return views[-1]

    def text(self) -> str:
        self.drain()
        return json.dumps(self.frames, ensure_ascii=False)


def make_family(therapist, name: str = "Rivera-Lopez") -> Family:
    family = Family(therapist_id=therapist.id, name=name)
    family.members = [
        FamilyMember(display_name="Sam", role="adolescent"),
        FamilyMember(display_name="Maria", role="parent"),
        FamilyMember(display_name="Jo", role="other"),
    ]
    db.session.add(family)
    db.session.commit()
    return family


def reflect_back_exercise():
    """A built-in exercise with a reflect-back step, so whole stories can be told."""
    from tests.factories import two_step_exercise

    return two_step_exercise()


def ask_to_join(app, live, name: str, role: str, language: str = "en") -> tuple[str, str]:
    """What the join form does: ask to join, and keep the token the phone connects with."""
    with app.test_request_context():
        request_id = store.new_participant_id()
        perform(live.id, domain.GUEST, domain.AskToJoin(request_id, name, role, language))
        return request_id, store.issue_token(live.id, request_id)


def let_in(live, name: str, role: str, language: str = "en") -> tuple[str, str]:
    """In the store alone, with no sockets: someone asks to join and is let in as themselves."""
    participant_id = store.new_participant_id()
    store.apply(live.id, domain.GUEST, domain.AskToJoin(participant_id, name, role, language))
    store.apply(live.id, domain.THERAPIST, domain.Admit(participant_id))
    return participant_id, store.issue_token(live.id, participant_id)


def admit(app, live, participant_id: str, member_id: int | None = None) -> None:
    with app.test_request_context():
        perform(live.id, domain.THERAPIST, domain.Admit(participant_id, member_id))


def join_participant(app, live, name: str, role: str, language: str = "en") -> Person:
    """Someone asks to join, is let in by the therapist, and connects their phone."""
    participant_id, token = ask_to_join(app, live, name, role, language)
    admit(app, live, participant_id)
    client = connect(app, auth={"token": token})
    assert client.is_connected(), f"{name} could not connect"
    return Person(name, client, participant_id, token)


def connect_therapist(app, flask_client, live) -> Person:
    client = connect(app, flask_test_client=flask_client, auth={"session_id": live.id})
    assert client.is_connected()
    return Person("therapist", client)


def connect_display(app, live) -> Person:
    client = connect(app, auth={"display": live.display_token})
    assert client.is_connected()
    return Person("display", client)
