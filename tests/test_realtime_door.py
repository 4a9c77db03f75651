"""The door and private signals over Socket.IO, every frame each screen receives recorded."""

from __future__ import annotations

import json

import pytest

from facilitator.store import live as store
from tests.realtime_helpers import (
    Person,
    ask_to_join,
    connect,
    connect_display,
    connect_therapist,
    join_participant,
    make_family,
    reflect_back_exercise,
)
from tests.test_realtime import family_of, whole_room


@pytest.fixture
def family(app, therapist):
    return make_family(therapist)


@pytest.fixture
def live(app, therapist, family):
    return store.open_session(therapist, [reflect_back_exercise()] * 2, family)


@pytest.fixture
def room(app, live, therapist_client):
    yield from whole_room(app, live, therapist_client)


def waiting_phone(app, live, name: str, role: str) -> Person:
    request_id, token = ask_to_join(app, live, name, role)
    client = connect(app, auth={"token": token})
    assert client.is_connected()
    return Person(name, client, request_id, token)


def test_an_outsider_with_the_code_gets_nothing_of_the_session_until_let_in(app, room, live):
    therapist, sam = room["therapist"], room["Sam"]
    therapist.open_step()
    sam.do("submit_answer", {"feelings": ["hurt"], "text": "SECRET-sam-before"})
    therapist.reveal_next()
    # Someone holding the code asks to join under a family member's name.
    outsider = waiting_phone(app, live, "Maria", "parent")
    therapist.do("add_note", {"text": "NOTE-private"})
    frames = outsider.drain()
    assert frames, "the waiting phone received its waiting view"
    for frame in outsider.frames:
        assert frame["args"][0]["kind"] == "waiting"
        assert set(frame["args"][0]) == {"kind", "language", "you"}
    for secret in ("SECRET-sam-before", "Rivera-Lopez", "NOTE-private", "Sam", "Jo"):
        assert secret not in outsider.text()
    ack = outsider.send("submit_answer", {"feelings": ["hurt"]})
    assert ack["error"]["code"] == "unknown_participant"
    assert outsider.send("get_view")["view"]["kind"] == "waiting"
    # The therapist sees them waiting, turns them away: their socket is closed for good.
    (asking,) = therapist.view()["waiting"]
    assert asking["name"] == "Maria" and asking["connected"]
    therapist.do("turn_away", {"request_id": outsider.participant_id})
    assert not outsider.client.is_connected()
    assert not connect(app, auth={"token": outsider.token}).is_connected()
    assert "SECRET-sam-before" not in outsider.text()


def test_once_let_in_a_phone_gets_the_session_and_never_waits_again(app, room, live):
    therapist = room["therapist"]
    lee = waiting_phone(app, live, "Lee", "other")
    lee.drain()
    waited = len(lee.frames)
    therapist.do("admit", {"request_id": lee.participant_id})
    assert lee.view()["kind"] == "participant"
    assert len(lee.frames) > waited
    lee.disconnect()
    again = Person("Lee", connect(app, auth={"token": lee.token}))
    assert again.view()["kind"] == "participant"
    assert all(f["args"][0]["kind"] == "participant" for f in again.frames)


def test_admitted_as_a_family_member(app, room, live, family):
    therapist = room["therapist"]
    member = next(m for m in family.members if m.display_name == "Sam")
    # The real Sam is here, but as themselves: the therapist matches this phone to the member.
    phone = waiting_phone(app, live, "sammy", "other")
    therapist.do("admit", {"request_id": phone.participant_id, "member_id": member.id})
    assert phone.view()["you"]["role"] == "adolescent"
    assert phone.view()["you"]["name"] == "Sam"
    other = waiting_phone(app, live, "Sam", "adolescent")
    ack = therapist.send("admit", {"request_id": other.participant_id, "member_id": member.id})
    assert ack["error"]["code"] == "member_taken"


def test_a_removed_phone_receives_no_frame_after_removal(app, room, live):
    therapist, jo = room["therapist"], room["Jo"]
    therapist.open_step()
    jo.do("submit_answer", {"feelings": ["angry"], "text": "WRITTEN-by-jo"})
    jo.drain()
    therapist.do("remove", {"participant_id": jo.participant_id})
    assert not jo.client.is_connected()
    received_at_removal = len(jo.frames)
    room["Sam"].do("submit_answer", {"feelings": ["hurt"], "text": "AFTER-removal"})
    therapist.reveal_next()
    assert len(jo.frames) == received_at_removal
    assert not connect(app, auth={"token": jo.token}).is_connected()
    people = {p["name"]: p for p in therapist.view()["people"]}
    assert people["Jo"]["removed"] and people["Jo"]["status"] == "removed"
    assert "WRITTEN-by-jo" in therapist.text()
    assert "Jo" not in [p["name"] for p in room["Sam"].view()["people"]]


def test_with_joining_closed_a_new_phone_is_refused_and_a_reconnect_works(app, room, live):
    therapist, sam = room["therapist"], room["Sam"]
    therapist.do("close_joining")
    assert room["display"].view()["session"]["join_code"] is None
    phone = app.test_client()
    response = phone.post(
        f"/join/{live.join_code}", data={"name": "Lee", "role": "other", "language": "en"}
    )
    assert response.status_code == 409
    sam.disconnect()
    back = Person("Sam", connect(app, auth={"token": sam.token}))
    assert back.view()["you"]["name"] == "Sam"
    therapist.do("open_joining")
    assert room["display"].view()["session"]["join_code"]


def test_asking_to_talk_alone_reaches_the_therapist_and_no_other_screen(room):
    therapist, display = room["therapist"], room["display"]
    sam, maria, jo = family_of(room)
    therapist.open_step()
    for person in room.values():
        person.drain()
    others = (maria, jo, display)
    before = {person.name: len(person.frames) for person in others}
    assert all(before.values()), "every screen had received frames before"

    sam.do("request_talk_alone")

    for person in others:
        assert len(person.frames) == before[person.name], f"{person.name} received a frame"
        person.drain()
        assert len(person.frames) == before[person.name]
    assert sam.view()["you"]["talk_alone_requested"] is True
    (alert,) = therapist.view()["alerts"]
    assert alert["kind"] == "talk_alone" and alert["participant"]["name"] == "Sam"
    assert alert["since"].endswith("Z")
    therapist.do("dismiss_talk_alone", {"participant_id": sam.participant_id})
    assert therapist.view()["alerts"] == []
    for person in others:
        assert len(person.frames) == before[person.name]


def test_a_break_request_reaches_only_the_therapist_too(room):
    therapist, display = room["therapist"], room["display"]
    sam, maria, jo = family_of(room)
    for person in room.values():
        person.drain()
    before = {p.name: len(p.frames) for p in (maria, jo, display)}
    sam.do("request_break")
    assert {p.name: len(p.drain()) for p in (maria, jo, display)} == dict.fromkeys(before, 0)
    assert next(p for p in therapist.view()["people"] if p["name"] == "Sam")["break_requested"]


def test_a_saved_draft_sends_a_frame_to_nobody_but_its_author_and_the_therapist(room):
    therapist = room["therapist"]
    sam, maria, jo = family_of(room)
    therapist.open_step()
    sam.do("save_draft", {"feelings": ["hurt"]})  # the therapist now sees "writing"
    for person in room.values():
        person.drain()
    sam.do("save_draft", {"feelings": ["hurt"], "text": "still typing"})
    assert maria.drain() == [] and jo.drain() == [] and room["display"].drain() == []
    assert sam.view()["your_draft"]["text"] == "still typing"


@pytest.mark.parametrize("how", ["pass", "therapist_only", "skip"])
def test_a_pass_a_private_answer_and_a_skip_reach_the_others_as_the_same_frames(
    app, therapist_client, therapist, how
):
    def frames_seen_by_others(how: str) -> list[str]:
        live = store.open_session(therapist, reflect_back_exercise(), make_family(therapist))
        room = {
            "therapist": connect_therapist(app, therapist_client, live),
            "display": connect_display(app, live),
            "Sam": join_participant(app, live, "Sam", "adolescent"),
            "Maria": join_participant(app, live, "Maria", "parent"),
        }
        therapist_, sam, maria = room["therapist"], room["Sam"], room["Maria"]
        therapist_.open_step()
        sam.do("submit_answer", {"feelings": ["hurt"], "text": "Sam says"})
        if how == "pass":
            maria.do("pass_step")
        else:
            private = how == "therapist_only"
            maria.do("submit_answer", {"feelings": ["lonely"], "therapist_only": private})
        therapist_.reveal_next()
        maria.do("submit_follow_up", {"text": "I heard you"})
        therapist_.do("reveal_follow_up")
        if how == "skip":
            therapist_.do("skip", {"participant_id": maria.participant_id})
        else:
            therapist_.reveal_next()
        seen = []
        for name in ("Sam", "display"):
            room[name].drain()
            # Every frame, in order: the same number of frames with the same content.
            views = [f["args"][0] for f in room[name].frames]
            seen.append([json.dumps(_without_ids(v), sort_keys=True) for v in views])
        for person in room.values():
            person.disconnect()
        return seen

    assert frames_seen_by_others(how) == frames_seen_by_others("pass")


def _without_ids(view: dict) -> dict:
    """Ids differ from one session to the next; everything a person can read must not."""
    text = json.dumps(view)
    for person in view.get("people", []):
        text = text.replace(person["id"], person["name"])
    found = json.loads(text)
    for key in ("join_code", "join_url"):
        found.get("session", {}).pop(key, None)
    return found


def test_a_double_click_on_open_the_first_step_opens_only_step_one(room):
    therapist = room["therapist"]
    lobby = therapist.position()
    therapist.do("open_step", lobby)
    ack = therapist.send("open_step", lobby)
    assert ack["error"]["code"] == "already_moved"
    assert therapist.view()["step"]["index"] == 0


def test_the_agenda_is_run_with_the_same_sockets_from_start_to_end(room):
    therapist, display = room["therapist"], room["display"]
    sam = room["Sam"]
    assert sam.view()["session"]["agenda"] == {"part": 0, "parts": 2}
    therapist.open_step()
    therapist.next_exercise()
    assert sam.view()["session"]["agenda"] == {"part": 2, "parts": 2}
    assert [p["status"] for p in therapist.view()["agenda"]] == ["done", "running"]
    therapist.do("add_exercise", {"exercise_key": "builtin:check-out"})
    assert therapist.view()["agenda"][-1]["exercise_id"] == "check-out"
    assert display.view()["session"]["agenda"]["parts"] == 3
    ack = therapist.send("add_exercise", {"exercise_key": "custom:999"})
    assert ack["error"]["code"] == "unknown_exercise"
    assert all(person.client.is_connected() for person in room.values())


def test_events_with_extra_arguments_or_unknown_names_are_refused_with_a_code(room):
    sam = room["Sam"]
    with sam.client.app.app_context():
        extra = sam.client.emit("request_break", {}, "extra", callback=True)
    assert extra["error"]["code"] == "invalid_payload"
    assert sam.send("no_such_event", {})["error"]["code"] == "unknown_event"
    assert sam.send("request_break")["ok"]
