"""A course over Socket.IO: the adolescent alone, the parents alone, then the whole family.

Every frame each screen receives is recorded: words kept for later in an alliance session
reach no screen of the joint session but their author's, unless the author sends them there.
"""

from __future__ import annotations

import re

import pytest

from facilitator.domain.exercises import CountLimits, Exercise, Step, TextField
from facilitator.store import live as store
from facilitator.store.models import Family, LiveSession
from tests.realtime_helpers import (
    Person,
    ask_to_join,
    connect,
    connect_display,
    connect_therapist,
    make_family,
)


@pytest.fixture
def family(app, therapist) -> Family:
    return make_family(therapist)


def member_id(family: Family, name: str) -> int:
    return next(m.id for m in family.members if m.display_name == name)


def start(therapist_client, family: Family, agenda: list[str], who: str, **more) -> LiveSession:
    """The therapist starts a session from the start page, choosing who is invited."""
    data = {"who": who, **{f"agenda-{i}": key for i, key in enumerate(agenda)}, **more}
    response = therapist_client.post(f"/families/{family.id}/sessions/new", data=data)
    assert response.status_code == 302, response.text
    session_id = response.headers["Location"].rsplit("/", 1)[-1]
    return store.get_session(session_id)


def arrive(app, live, therapist: Person, name: str, role: str, as_member: int | None) -> Person:
    """A phone asks to join and the therapist lets it in as the family member named."""
    request_id, token = ask_to_join(app, live, name, role)
    therapist.do("admit", {"request_id": request_id, "member_id": as_member})
    client = connect(app, auth={"token": token})
    assert client.is_connected(), f"{name} could not connect"
    return Person(name, client, request_id, token)


def hang_up(*people: Person) -> None:
    for person in people:
        if person.client.is_connected():
            person.disconnect()


def joint_exercise() -> Exercise:
    """The joint session's step offers each author the words they kept from before."""
    text = {"en": "Now, together", "es": "Ahora, en familia"}
    return Exercise(
        id="together",
        title=text,
        description=text,
        steps=(
            Step(
                id="together",
                title=text,
                prompts={"adolescent": text, "parent": text, "other": text},
                answered_by=("adolescent", "parent", "other"),
                feelings=CountLimits(0, 3),
                needs=CountLimits(0, 3),
                text=TextField("optional", 1000),
                offer_earlier_words=True,
            ),
        ),
    )


def test_the_start_page_invites_part_of_the_family(app, therapist_client, family):
    page = therapist_client.get(f"/families/{family.id}/sessions/new").text
    assert re.search(r'<input[^>]* checked [^>]*value="everyone"', page)
    assert "The adolescent alone" in page and "The parents alone" in page
    alone = start(therapist_client, family, ["builtin:adolescent-alliance"], "adolescents")
    invited = {m.name: m.invited for m in store.load_state(alone).members}
    assert invited == {"Sam": True, "Maria": False, "Jo": False}
    chosen = start(therapist_client, family, ["builtin:getting-ready"], "chosen",
                   invited=[member_id(family, "Maria"), member_id(family, "Jo")])
    invited = {m.name: m.invited for m in store.load_state(chosen).members}
    assert invited == {"Sam": False, "Maria": True, "Jo": True}
    everyone = start(therapist_client, family, ["builtin:check-in"], "everyone")
    assert all(m.invited for m in store.load_state(everyone).members)
    # Nobody at all is no session: the page says so and nothing opens.
    response = therapist_client.post(
        f"/families/{family.id}/sessions/new",
        data={"who": "chosen", "agenda-0": "builtin:check-in"},
    )
    assert response.status_code == 200
    assert "Nobody in the family fits that choice" in response.text


def alliance_session(app, therapist_client, family, exercise_key, who, name, role, answers):
    """One session with part of the family: its one invited member answers every step."""
    live = start(therapist_client, family, [exercise_key], who)
    therapist = connect_therapist(app, therapist_client, live)
    person = arrive(app, live, therapist, name, role, member_id(family, name))
    for answer in answers:
        therapist.open_step()
        person.do("submit_answer", answer)
    therapist.do("end")
    hang_up(therapist, person)
    return live


def test_a_course_words_kept_for_later_reach_their_author_alone(
    app, therapist, therapist_client, family
):
    sam_id, maria_id = member_id(family, "Sam"), member_id(family, "Maria")
    # 1. The adolescent alone. Maria, at the door, cannot be let in as herself.
    live = start(therapist_client, family, ["builtin:adolescent-alliance"], "adolescents")
    console = connect_therapist(app, therapist_client, live)
    request_id, _ = ask_to_join(app, live, "Maria", "parent")
    assert console.view()["waiting"][0]["suggested_member"] is None
    ack = console.send("admit", {"request_id": request_id, "member_id": maria_id})
    assert ack["error"]["code"] == "not_invited"
    console.do("turn_away", {"request_id": request_id})
    sam = arrive(app, live, console, "Sam", "adolescent", sam_id)
    assert sam.view()["you"]["may_share_later"]
    console.open_step()
    sam.do("submit_answer", {"feelings": ["hurt"], "share_later": True,
                             "text": "KEPT-sam: you never ask how school is"})
    console.open_step()
    sam.do("submit_answer", {"text": "UNMARKED-sam: I wish you knew"})
    console.do("end")
    hang_up(console, sam)

    # 2. The parents alone.
    alliance_session(app, therapist_client, family, "builtin:parent-alliance", "parents",
                     "Maria", "parent", [
                         {"text": "KEPT-maria: I want you to be happy", "share_later": True},
                         {"feelings": ["tired"], "text": "UNMARKED-maria: work"},
                     ])

    # 3. The whole family, on a step that offers earlier words.
    joint = store.open_session(therapist, [joint_exercise()], family)
    console = connect_therapist(app, therapist_client, joint)
    display = connect_display(app, joint)
    sam = arrive(app, joint, console, "Sam", "adolescent", sam_id)
    maria = arrive(app, joint, console, "Maria", "parent", maria_id)
    jo = arrive(app, joint, console, "Jo", "other", member_id(family, "Jo"))
    screens = {"therapist": console, "display": display, "Sam": sam, "Maria": maria, "Jo": jo}
    assert sam.view()["earlier_words"] == [], "nothing offered before the step asks"
    console.open_step()
    (offered,) = sam.view()["earlier_words"]
    assert offered["text"] == "KEPT-sam: you never ask how school is"
    assert offered["asked"] == "What gets in the way"
    (hers,) = maria.view()["earlier_words"]
    assert hers["text"] == "KEPT-maria: I want you to be happy"
    assert jo.view()["earlier_words"] == []
    # The therapist learns only that words are waiting.
    waiting_words = {p["name"]: p["has_earlier_words"] for p in console.view()["people"]}
    assert waiting_words == {"Sam": True, "Maria": True, "Jo": False}

    def seen_by(secret: str) -> set[str]:
        return {name for name, screen in screens.items() if secret in screen.text()}

    assert seen_by("KEPT-sam") == {"Sam"} and seen_by("KEPT-maria") == {"Maria"}
    # Wrong taps are refused with a stable code and change nothing.
    for payload, code in (({"index": True}, "invalid_payload"), ({"index": 7}, "unknown_words"),
                          ({}, "invalid_payload"), ({"index": 0, "x": 1}, "invalid_payload")):
        assert sam.send("use_earlier_words", payload)["error"]["code"] == code
    assert jo.send("use_earlier_words", {"index": 0})["error"]["code"] == "unknown_words"
    ack = console.send("release_summary", {"left_out": []})
    assert ack["error"]["code"] == "wrong_phase", "a summary is given only after the end"
    # Sam taps "Use these words": they are his draft, still his alone.
    sam.do("use_earlier_words", {"index": 0})
    assert sam.view()["your_draft"]["text"] == "KEPT-sam: you never ask how school is"
    assert seen_by("KEPT-sam") == {"Sam"}
    # Maria sets hers aside: nothing is sent, and no other screen gets a single frame for it.
    for screen in screens.values():
        screen.drain()
    before = {name: len(screen.frames) for name, screen in screens.items() if name != "Maria"}
    maria.do("set_aside_earlier_words", {"index": 0})
    assert maria.view()["earlier_words"] == []
    after = {name: len(screen.drain()) + before[name] for name, screen in screens.items()
             if name != "Maria"}
    assert after["therapist"] == before["therapist"] + 1, "its 'words waiting' note goes away"
    assert after["Sam"] == before["Sam"] and after["Jo"] == before["Jo"]
    assert after["display"] == before["display"]
    # Sam changes the words a little and sends them: now they are an answer like any other.
    sam.do("submit_answer", {"text": "KEPT-sam: you never ask how school is. SENT-sam"})
    assert seen_by("SENT-sam") == {"Sam", "therapist"}
    maria.do("submit_answer", {"text": "MARIA-today"})
    console.reveal_next()
    assert seen_by("SENT-sam") == set(screens), "revealed, the whole family sees it"
    # Whatever was not marked, and Maria's words she set aside, reached no screen at all.
    assert seen_by("UNMARKED-sam") == set() and seen_by("UNMARKED-maria") == set()
    assert seen_by("KEPT-maria") == {"Maria"}
    for name, screen in screens.items():
        assert screen.frames, f"{name} received frames"
    hang_up(*screens.values())
