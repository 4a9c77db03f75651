"""The Socket.IO protocol with real Socket.IO test clients: a session's story, frame by frame."""

from __future__ import annotations

import json

import pytest

from facilitator.extensions import db
from facilitator.store import live as store
from facilitator.store.models import LiveSession
from tests.conftest import make_therapist, sign_in
from tests.realtime_helpers import (
    Person,
    connect,
    connect_display,
    connect_therapist,
    join_participant,
    make_family,
    reflect_back_exercise,
)


@pytest.fixture
def live(app, therapist):
    return store.open_session(therapist, reflect_back_exercise(), make_family(therapist))


@pytest.fixture
def room(app, live, therapist_client):
    yield from whole_room(app, live, therapist_client)


def whole_room(app, live, therapist_client):
    """The therapist, the room display and three family members, all connected."""
    people = {
        "therapist": connect_therapist(app, therapist_client, live),
        "display": connect_display(app, live),
        "Sam": join_participant(app, live, "Sam", "adolescent"),
        "Maria": join_participant(app, live, "Maria", "parent", language="es"),
        "Jo": join_participant(app, live, "Jo", "other"),
    }
    yield people
    for person in people.values():
        if person.client.is_connected():
            person.disconnect()


def saved_state(live) -> dict:
    """The session as the database holds it now, not as this test last loaded it."""
    return db.session.get(LiveSession, live.id, populate_existing=True).state


def family_of(room: dict[str, Person]) -> list[Person]:
    return [room[name] for name in ("Sam", "Maria", "Jo")]


def everyone_drains(room: dict[str, Person]) -> None:
    for person in room.values():
        person.drain()


def test_a_whole_session_over_sockets_keeps_every_secret_frame_by_frame(room, live):
    therapist, display = room["therapist"], room["display"]
    sam, maria, jo = family_of(room)
    assert [p["connected"] for p in therapist.view()["people"]] == [True, True, True]

    therapist.open_step()
    assert sam.view()["step"]["prompt"] == "What has been hard for you lately?"
    sam.do("save_draft", {"feelings": ["hurt"], "text": "DRAFT-sam-half"})
    sam.do(
        "submit_answer",
        {"feelings": ["hurt"], "needs": ["respect", "space"], "text": "SECRET-sam-nobody-asks"},
    )
    maria.do(
        "submit_answer",
        {"feelings": ["lonely"], "needs": ["respect"], "text": "SECRET-maria-miss-him"},
    )
    jo.do(
        "submit_answer",
        {
            "feelings": ["angry"],
            "needs": ["trust"],
            "text": "SECRET-jo-for-therapist",
            "therapist_only": True,
        },
    )
    therapist.do("add_note", {"text": "NOTE-watch-the-tone"})
    everyone_drains(room)
    # The therapist sees answers as they arrive; nobody else sees what anyone wrote.
    assert "SECRET-sam-nobody-asks" in therapist.text()
    assert "DRAFT-sam-half" not in therapist.text()
    for person in (maria, jo, display):
        assert "SECRET-sam-nobody-asks" not in person.text()
    answered = {p["name"]: p["answered"] for p in maria.view()["people"]}
    assert answered == {"Sam": True, "Maria": True, "Jo": True}
    before_reveal = {p.name: len(p.frames) for p in room.values()}

    therapist.reveal_next()  # the adolescent first, as the step suggests
    turn = maria.view()["turns"][0]
    assert turn["speaker"]["name"] == "Sam"
    assert turn["answer"]["feelings"] == [
        {"id": "hurt", "label": "dolido/a", "pleasantness": "unpleasant", "energy": "low"}
    ]
    assert turn["follow_up"]["listener"]["name"] == "Maria"
    maria.do("submit_follow_up", {"text": "HEARD-you-feel-unasked"})
    assert "HEARD-you-feel-unasked" not in sam.text()
    therapist.do("reveal_follow_up")
    assert "HEARD-you-feel-unasked" in sam.text()
    sam.do("confirm_reflection", {"confirmation": "partly", "clarification": "Mostly by you"})
    assert display.view()["turns"][0]["follow_up"]["confirmation"] == "partly"

    therapist.reveal_next()  # Maria
    therapist.reveal_next()  # Jo's turn: what Jo wrote stays with the therapist
    assert display.view()["turns"][2]["outcome"] == "not_shared"
    assert display.view()["turns"][2]["answer"] is None
    therapist.do("reveal_shared_ground")
    assert [n["id"] for n in display.view()["shared_ground"]] == ["respect"]

    jo.do("request_break")
    assert next(p for p in therapist.view()["people"] if p["name"] == "Jo")["break_requested"]
    therapist.do("pause")
    assert all(p.view()["session"]["paused"] for p in room.values())
    therapist.do("resume")
    therapist.open_step()
    therapist.do("end")
    for person in room.values():
        assert person.view()["session"]["phase"] == "ended"
        assert person.view()["session"].get("join_code") is None

    # The privacy contract, over every frame each client ever received.
    for person in (*family_of(room), display):
        everything = person.text()
        assert "SECRET-jo-for-therapist" not in everything or person is jo
        assert "NOTE-watch-the-tone" not in everything
        assert "DRAFT-sam-half" not in everything or person is sam
        early = json.dumps(person.frames[: before_reveal[person.name]], ensure_ascii=False)
        for secret, author in (("SECRET-sam-nobody-asks", sam), ("SECRET-maria-miss-him", maria)):
            if person is not author:
                assert secret not in early, f"{person.name} saw {secret} before its reveal"
        for frame in person.frames:
            for shown in frame["args"][0].get("turns", []) if frame["name"] == "view" else []:
                assert shown["answer"] is None or shown["outcome"] == "revealed"
    assert "NOTE-watch-the-tone" in therapist.text()


def test_a_participant_cannot_move_the_session_or_act_for_another(room):
    sam = room["Sam"]
    for event in ("open_step", "lock_step", "reveal", "end", "pause", "reveal_shared_ground",
                  "admit", "remove", "close_joining", "add_exercise"):
        ack = sam.send(event)
        assert ack["error"]["code"] == "not_allowed", event
    ack = sam.send("add_note", {"text": "mine"})
    assert ack["error"]["code"] == "not_allowed"
    # There is no way to name someone else: the token decides who you are.
    room["therapist"].open_step()
    ack = sam.send("submit_answer", {"feelings": ["hurt"], "participant_id": "someone"})
    assert ack["error"]["code"] == "invalid_payload"
    assert room["therapist"].view()["answers"] == []
    ack = room["display"].send("reveal")
    assert ack["error"]["code"] == "not_allowed"


def test_another_therapist_cannot_watch_or_touch_the_session(app, live, room):
    make_therapist("okafor@clinic.test", name="Dr. Okafor")
    intruder = app.test_client()
    assert sign_in(intruder, "okafor@clinic.test").status_code == 302
    client = connect(app, flask_test_client=intruder, auth={"session_id": live.id})
    assert not client.is_connected()
    nobody = connect(app, auth={"session_id": live.id})
    assert not nobody.is_connected()


@pytest.mark.parametrize(
    "auth",
    [None, {}, {"token": "made-up"}, {"display": "made-up"}, {"token": 12}, "garbage", [1, 2]],
)
def test_connections_without_a_valid_identity_are_refused(app, live, auth):
    client = connect(app, auth=auth)
    assert not client.is_connected()


def test_nothing_works_after_the_session_ends(app, room, live):
    sam = room["Sam"]
    room["therapist"].do("end")
    ack = sam.send("submit_answer", {"feelings": ["hurt"]})
    assert ack["error"]["code"] == "session_ended"
    again = connect(app, auth={"token": sam.token})
    assert not again.is_connected()
    assert store.find_open_session(live.join_code or "ACDEFG") is None


def test_a_phone_that_drops_gets_its_whole_view_back_with_its_draft(app, room):
    therapist, sam, maria = room["therapist"], room["Sam"], room["Maria"]
    therapist.open_step()
    maria.do("submit_answer", {"feelings": ["lonely"], "text": "sent before the drop"})
    sam.do("save_draft", {"feelings": ["hurt"], "text": "typing when the phone slept"})
    sam.disconnect()
    assert not next(p for p in therapist.view()["people"] if p["name"] == "Sam")["connected"]
    maria.disconnect()

    sam_again = Person("Sam", connect(app, auth={"token": sam.token}))
    maria_again = Person("Maria", connect(app, auth={"token": maria.token}))
    assert sam_again.view()["your_draft"]["text"] == "typing when the phone slept"
    assert maria_again.view()["your_answer"]["text"] == "sent before the drop"
    assert next(p for p in therapist.view()["people"] if p["name"] == "Sam")["connected"]
    ack = sam_again.send("get_view")
    assert ack["ok"] and ack["view"]["your_draft"]["feelings"] == ["hurt"]


BAD_EVENTS = [
    ("submit_answer", "not a dict", "invalid_payload"),
    ("submit_answer", ["hurt"], "invalid_payload"),
    ("submit_answer", {"feelings": "hurt"}, "invalid_payload"),
    ("submit_answer", {"feelings": [1, 2]}, "invalid_payload"),
    ("submit_answer", {"feelings": ["hurt"] * 50}, "invalid_payload"),
    ("submit_answer", {"feelings": ["not-a-feeling"]}, "unknown_concept"),
    ("submit_answer", {"feelings": ["respect"]}, "unknown_concept"),
    ("submit_answer", {"feelings": []}, "too_few"),
    ("submit_answer", {"feelings": ["hurt"], "text": "x" * 5000}, "too_long"),
    ("submit_answer", {"feelings": ["hurt"], "text": "x" * 201}, "too_long"),
    ("submit_answer", {"feelings": ["hurt"], "text": 42}, "invalid_payload"),
    ("submit_answer", {"feelings": ["hurt"], "therapist_only": "yes"}, "invalid_payload"),
    ("submit_answer", {"feelings": ["hurt"], "extra": 1}, "invalid_payload"),
    ("save_draft", {"needs": [None]}, "invalid_payload"),
    ("confirm_reflection", {"confirmation": "maybe"}, "invalid_payload"),
    ("confirm_reflection", {}, "invalid_payload"),
    ("confirm_reflection", {"confirmation": "yes"}, "wrong_phase"),
    ("submit_follow_up", {"text": "I heard"}, "wrong_phase"),
    ("submit_answer", {"feelings": ["hurt"], "text": "lone \ud83d surrogate"}, "invalid_text"),
    ("submit_answer", {"feelings": ["hurt"], "text": "bell \x07"}, "invalid_text"),
    ("submit_answer", {"feelings": ["hurt"], "text": "\u202eevil"}, "invalid_text"),
    ("save_draft", {"feelings": ["hurt\x00"]}, "invalid_payload"),
    ("set_language", {"language": "klingon"}, "invalid_language"),
    ("set_language", {"language": None}, "invalid_payload"),
    ("request_break", {"please": True}, "invalid_payload"),
]


@pytest.mark.parametrize(("event", "payload", "code"), BAD_EVENTS)
def test_bad_input_gets_a_clear_error_and_changes_nothing(room, live, event, payload, code):
    therapist, sam = room["therapist"], room["Sam"]
    therapist.open_step()
    sam.do("submit_answer", {"feelings": ["hurt"], "text": "already saved"})
    before = saved_state(live)

    ack = sam.send(event, payload)

    assert ack["ok"] is False
    assert ack["error"]["code"] == code
    assert ack["error"]["message"] and len(ack["error"]["message"]) < 200
    assert saved_state(live) == before
    assert sam.client.is_connected()
    assert sam.send("get_view")["view"]["your_answer"]["text"] == "already saved"


@pytest.mark.parametrize(
    ("event", "payload", "code"),
    [
        ("reveal", {"participant_id": 7}, "invalid_payload"),
        ("reveal", {"participant_id": "nobody"}, "wrong_phase"),
        ("skip", {}, "invalid_payload"),
        ("add_note", {"text": ""}, "required"),
        ("add_note", {"text": "n" * 5000}, "too_long"),
        ("no_such_event", {}, "unknown_event"),
        ("resume", None, "not_paused"),
        ("set_listener", {"listener_id": "x"}, "wrong_phase"),
    ],
)
def test_bad_therapist_events_are_refused_and_the_server_keeps_serving(room, event, payload, code):
    therapist = room["therapist"]
    ack = therapist.send(event, payload)
    assert ack["error"]["code"] == code
    therapist.open_step()
    assert therapist.view()["session"]["phase"] == "collecting"


def test_the_therapist_sees_arrivals_live_from_the_join_page(app, live, therapist_client):
    therapist = connect_therapist(app, therapist_client, live)
    therapist.drain()
    phone = app.test_client()
    response = phone.post(
        f"/join/{live.join_code}", data={"name": "Ana", "role": "parent", "language": "es"}
    )
    assert response.status_code == 302
    (ana,) = therapist.view()["waiting"]
    assert ana["name"] == "Ana" and ana["role"] == "parent" and not ana["connected"]
    assert therapist.view()["people"] == []
