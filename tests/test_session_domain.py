"""The live-session state machine, told as the stories of sessions."""

from __future__ import annotations

import json

import pytest

from facilitator.domain import session as domain
from facilitator.domain.common import DomainError
from facilitator.domain.views import DISPLAY_VIEWER, THERAPIST_VIEWER, Viewer, view_for
from tests.factories import Room, answer, requests_exercise


def view(room: Room, name: str | None = None, kind: str = "participant") -> dict:
    if name is None:
        viewer = THERAPIST_VIEWER if kind == "therapist" else DISPLAY_VIEWER
    else:
        viewer = Viewer("participant", room.ids[name])
    return view_for(room.state, viewer, room.vocabulary)


def text_of(room: Room, name: str | None = None, kind: str = "participant") -> str:
    return json.dumps(view(room, name, kind), ensure_ascii=False)


@pytest.fixture
def family() -> Room:
    room = Room()
    room.join("Sam", "adolescent")
    room.join("Maria", "parent", language="es")
    room.join("Jo", "other")
    return room


def refused(code: str, action) -> None:
    with pytest.raises(DomainError) as raised:
        action()
    assert raised.value.code == code, raised.value


def test_a_whole_session_from_lobby_to_end(family: Room):
    assert family.state.phase == "lobby"
    family.open_step()
    assert family.state.phase == "collecting"

    family.by("Sam", domain.SubmitAnswer(answer(["hurt"], ["respect", "space"], "Nobody asks me")))
    family.by("Maria", domain.SubmitAnswer(answer(["lonely"], ["respect", "trust"], "Miss him")))
    family.by("Jo", domain.SubmitAnswer(answer(["angry"], ["space"], "Tired of fights")))
    # The suggested order puts the adolescent first.
    assert family.state.reveal_queue() == [family.ids["Sam"], family.ids["Maria"], family.ids["Jo"]]

    family.reveal_next()
    assert family.state.phase == "revealing"
    turn = family.state.round.turns[0]
    assert turn.speaker == family.ids["Sam"]
    # A parent reflects back what an adolescent said.
    assert turn.follow_up.listener == family.ids["Maria"]

    family.by("Maria", domain.SaveFollowUpDraft("You feel nob"))
    family.by("Maria", domain.SubmitFollowUp("You feel nobody asks you"))
    family.therapist(domain.RevealFollowUp())
    family.by("Sam", domain.ConfirmReflection("partly", "Not nobody. You don't."))
    assert family.state.round.turns[0].follow_up.confirmation == "partly"
    # Each command made a new state: the one read before is as it was.
    assert turn.follow_up.confirmation is None

    family.reveal_next()
    family.therapist(domain.Skip(family.ids["Jo"]))
    family.therapist(domain.RevealSharedGround())
    assert family.state.round.shared_ground == ("respect",)

    family.by("Jo", domain.RequestBreak())
    family.therapist(domain.Pause())
    refused("paused", lambda: family.therapist(domain.RevealSharedGround()))
    family.therapist(domain.Resume())
    assert not family.state.participants[family.ids["Jo"]].break_requested

    family.open_step()
    family.by("Sam", domain.SubmitAnswer(answer(["hopeful"])))
    family.therapist(domain.AddNote("Sam softened after the reflection."))
    events = family.therapist(domain.End())
    assert [e.type for e in events] == ["ended"]
    assert family.state.phase == "ended"
    refused("session_ended", lambda: family.by("Maria", domain.SubmitAnswer(answer(["hurt"]))))


def test_after_the_last_step_there_is_no_next_one(family: Room):
    family.open_step()
    family.open_step()
    refused("no_more_steps", lambda: family.open_step())
    assert family.state.round.step_index == 1


def test_the_adolescent_answers_the_parent_cannot_see_it_until_revealed(family: Room):
    family.open_step()
    family.by("Sam", domain.SubmitAnswer(answer(["hurt"], ["respect"], "You never listen")))

    assert "You never listen" not in text_of(family, "Maria")
    assert "You never listen" not in text_of(family, kind="display")
    assert "You never listen" in text_of(family, "Sam")
    assert "You never listen" in text_of(family, kind="therapist")
    # Who has answered is shown to everyone; what they answered is not.
    sam = next(p for p in view(family, "Maria")["people"] if p["name"] == "Sam")
    assert sam["answered"] is True

    family.therapist(domain.Reveal(family.ids["Sam"]))
    assert "You never listen" in text_of(family, "Maria")
    assert "You never listen" in text_of(family, kind="display")


def test_a_feeling_chosen_in_spanish_reads_in_each_viewers_language(family: Room):
    family.open_step()
    family.by("Sam", domain.SubmitAnswer(answer(["hurt"], ["respect"])))
    family.reveal_next()
    for_maria = view(family, "Maria")["turns"][0]["answer"]
    for_jo = view(family, "Jo")["turns"][0]["answer"]
    assert for_maria["feelings"][0]["label"] == "dolido/a"
    assert for_jo["feelings"][0]["label"] == "hurt"
    assert for_maria["feelings"][0]["id"] == for_jo["feelings"][0]["id"] == "hurt"


def test_a_therapist_only_answer_is_never_revealed_to_the_family(family: Room):
    family.open_step()
    family.by(
        "Maria",
        domain.SubmitAnswer(answer(["lonely"], ["trust"], "I am scared", "", therapist_only=True)),
    )
    family.by("Sam", domain.SubmitAnswer(answer(["hurt"], ["trust"])))
    # Maria has her turn like anyone, but what she wrote stays with the therapist.
    assert family.state.reveal_queue() == [family.ids["Sam"], family.ids["Maria"]]
    family.reveal_next()
    family.reveal_next()
    assert family.state.round.turn_of(family.ids["Maria"]).outcome == "withheld"
    refused("nobody_to_reveal", lambda: family.reveal_next())
    family.therapist(domain.RevealSharedGround())
    # Maria's "trust" is for the therapist only, so it is not shared ground.
    assert family.state.round.shared_ground == ()
    for name in ("Sam", "Jo"):
        assert "I am scared" not in text_of(family, name)
    assert "I am scared" not in text_of(family, kind="display")
    assert "I am scared" in text_of(family, "Maria")
    assert "I am scared" in text_of(family, kind="therapist")


def test_a_draft_is_seen_by_its_author_alone_not_even_the_therapist(family: Room):
    family.open_step()
    family.by("Sam", domain.SaveDraft(answer(["hurt"], [], "half a thought")))
    assert view(family, "Sam")["your_draft"]["text"] == "half a thought"
    for others in (
        text_of(family, "Maria"),
        text_of(family, kind="therapist"),
        text_of(family, kind="display"),
    ):
        assert "half a thought" not in others
    therapist_sam = next(p for p in view(family, kind="therapist")["people"] if p["name"] == "Sam")
    assert therapist_sam["status"] == "writing"
    # Locking the step lets the unsent draft go: it can never be sent now.
    family.lock()
    assert family.state.round.drafts == {}


def test_answers_can_be_edited_until_the_step_is_locked(family: Room):
    family.open_step()
    family.by("Sam", domain.SubmitAnswer(answer(["hurt"], text="first")))
    events = family.by("Sam", domain.SubmitAnswer(answer(["angry"], text="second")))
    assert events[0].type == "answer_edited"
    assert family.state.round.answers[family.ids["Sam"]].text == "second"
    family.lock()
    refused("step_locked", lambda: family.by("Sam", domain.SubmitAnswer(answer(["hurt"]))))


def test_the_step_fields_are_enforced(family: Room):
    family.open_step()
    submit = lambda a: family.by("Sam", domain.SubmitAnswer(a))  # noqa: E731
    refused("too_few", lambda: submit(answer([])))
    refused("too_many", lambda: submit(answer(["hurt", "lonely", "angry", "hopeful"])))
    refused("unknown_concept", lambda: submit(answer(["not-a-feeling"])))
    refused("unknown_concept", lambda: submit(answer(["respect"])))  # a need is not a feeling
    refused("duplicate_concept", lambda: submit(answer(["hurt", "hurt"])))
    refused("too_long", lambda: submit(answer(["hurt"], text="x" * 201)))
    refused("not_asked", lambda: submit(answer(["hurt"], request="would you")))
    assert family.state.round.answers == {}


def test_only_the_named_listener_reflects_back_and_only_the_speaker_confirms(family: Room):
    family.open_step()
    family.by("Sam", domain.SubmitAnswer(answer(["hurt"])))
    family.reveal_next(listener_id=family.ids["Jo"])
    refused("not_listener", lambda: family.by("Maria", domain.SubmitFollowUp("I heard")))
    family.by("Jo", domain.SubmitFollowUp("You are hurt"))
    # The listener's words reach the family only when the therapist reveals them.
    assert "You are hurt" not in text_of(family, "Sam")
    assert "You are hurt" in text_of(family, kind="therapist")
    refused("not_ready", lambda: family.by("Sam", domain.ConfirmReflection("yes")))
    family.therapist(domain.RevealFollowUp())
    assert "You are hurt" in text_of(family, "Sam")
    refused("not_speaker", lambda: family.by("Jo", domain.ConfirmReflection("yes")))
    family.by("Sam", domain.ConfirmReflection("yes"))


def test_the_therapist_can_change_the_listener_before_the_reflection_is_shown(family: Room):
    family.open_step()
    family.by("Sam", domain.SubmitAnswer(answer(["hurt"])))
    family.reveal_next()
    family.by("Maria", domain.SaveFollowUpDraft("draft by Maria"))
    family.therapist(domain.SetListener(family.ids["Jo"]))
    follow_up = family.state.round.turns[-1].follow_up
    assert follow_up.listener == family.ids["Jo"] and follow_up.draft == ""
    refused("invalid_listener", lambda: family.therapist(domain.SetListener(family.ids["Sam"])))


def test_a_request_gets_a_reply():
    room = Room(requests_exercise())
    room.join("Sam", "adolescent")
    room.join("Maria", "parent")
    room.open_step()
    refused("required", lambda: room.by("Sam", domain.SubmitAnswer(answer([], ["space"]))))
    room.by("Sam", domain.SubmitAnswer(answer([], ["space"], request="Knock before coming in?")))
    room.reveal_next()
    refused("required", lambda: room.by("Maria", domain.SubmitFollowUp("", "yes_if")))
    room.by("Maria", domain.SubmitFollowUp("If you answer when I knock", "yes_if"))
    room.therapist(domain.RevealFollowUp())
    reply = view(room, "Sam")["turns"][0]["follow_up"]
    assert reply["verdict"] == "yes_if" and reply["text"] == "If you answer when I knock"


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (domain.OpenStep(None, None), "not_allowed"),
        (domain.Reveal("p1-sam"), "not_allowed"),
        (domain.LockStep(1, 0), "not_allowed"),
        (domain.End(), "not_allowed"),
        (domain.Pause(), "not_allowed"),
        (domain.AddNote("sneaky"), "not_allowed"),
        (domain.DismissBreak("p1-sam"), "not_allowed"),
    ],
)
def test_a_participant_cannot_move_the_session(family: Room, command, code):
    before = domain.state_to_dict(family.state)
    refused(code, lambda: family.by("Sam", command))
    assert domain.state_to_dict(family.state) == before


def test_the_therapist_and_display_cannot_answer_for_someone(family: Room):
    family.open_step()
    refused("not_allowed", lambda: family.therapist(domain.SubmitAnswer(answer(["hurt"]))))
    refused("not_allowed", lambda: family.do(domain.DISPLAY, domain.SubmitAnswer(answer())))
    refused("not_allowed", lambda: family.do(domain.DISPLAY, domain.Reveal(family.ids["Sam"])))
    refused(
        "unknown_participant",
        lambda: family.do(domain.participant("p-nobody"), domain.SubmitAnswer(answer())),
    )


def test_a_not_now_reply_needs_no_words():
    room = Room(requests_exercise())
    room.join("Sam", "adolescent")
    room.join("Maria", "parent")
    room.open_step()
    room.by("Sam", domain.SubmitAnswer(answer([], ["space"], request="Knock first?")))
    room.reveal_next()
    room.by("Maria", domain.SubmitFollowUp("", "not_now"))
    room.therapist(domain.RevealFollowUp())
    assert view(room, "Sam")["turns"][0]["follow_up"]["verdict"] == "not_now"


def test_asking_to_join_checks_names_and_roles(family: Room):
    # Two people may give the same first name: who is who is the therapist's decision.
    family.ask_to_join("sam", "adolescent")
    refused("required", lambda: family.join("   ", "parent"))
    refused("invalid_role", lambda: family.join("Lee", "grandparent"))
    refused("too_long", lambda: family.join("L" * 41, "parent"))


def test_notes_never_reach_a_participant_or_the_display(family: Room):
    family.therapist(domain.AddNote("Watch the father's tone"))
    assert "father's tone" in text_of(family, kind="therapist")
    for name in ("Sam", "Maria", "Jo"):
        assert "father's tone" not in text_of(family, name)
    assert "father's tone" not in text_of(family, kind="display")


def test_presence_follows_connections(family: Room):
    sam = family.ids["Sam"]
    family.do(domain.participant(sam), domain.Connect())
    family.do(domain.participant(sam), domain.Connect())
    family.do(domain.participant(sam), domain.Disconnect())
    assert next(p for p in view(family, "Jo")["people"] if p["id"] == sam)["connected"]
    family.do(domain.participant(sam), domain.Disconnect())
    assert not next(p for p in view(family, "Jo")["people"] if p["id"] == sam)["connected"]


def test_the_state_survives_a_round_trip_through_its_saved_form(family: Room):
    family.open_step()
    family.by("Sam", domain.SubmitAnswer(answer(["hurt"], ["respect"], "text")))
    family.by("Maria", domain.SaveDraft(answer(["lonely"])))
    family.therapist(domain.AddNote("note"))
    saved = json.loads(json.dumps(domain.state_to_dict(family.state)))
    assert domain.state_to_dict(domain.state_from_dict(saved)) == domain.state_to_dict(family.state)


def test_a_note_written_after_the_end_is_about_the_whole_session(family: Room):
    family.open_step()
    family.therapist(domain.AddNote("during"))
    family.therapist(domain.End())
    events = family.therapist(domain.AddNote("  afterwards  "))
    during, afterwards = family.state.notes
    assert (during.part_id, during.step_index) == (1, 0)
    assert (afterwards.text, afterwards.part_id, afterwards.step_index) == (
        "afterwards",
        None,
        None,
    )
    assert events == [
        domain.Event(
            "note_added",
            "therapist",
            {"text": "afterwards", "part": None, "step": None, "after_session": True},
        )
    ]
