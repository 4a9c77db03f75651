"""A whole therapy hour in the domain: an agenda, the door, private signals and passing."""

from __future__ import annotations

import dataclasses
import json

import pytest

from facilitator.domain import session as domain
from facilitator.domain.common import DomainError
from facilitator.domain.views import (
    DISPLAY_VIEWER,
    THERAPIST_VIEWER,
    SessionInfo,
    Viewer,
    view_for,
)
from tests.factories import Room, answer, requests_exercise, two_step_exercise

FAMILY = (
    domain.Member(1, "Sam", "adolescent"),
    domain.Member(2, "Maria", "parent"),
    domain.Member(3, "Jo", "other"),
)
INFO = SessionInfo(join_code="KQ7-M4P", join_url="http://clinic/join/KQ7M4P", family_name="Rivera")


def view(room: Room, name: str | None = None, kind: str = "participant") -> dict | None:
    if name is None:
        viewer = THERAPIST_VIEWER if kind == "therapist" else DISPLAY_VIEWER
    else:
        viewer = Viewer("participant", room.ids[name])
    return view_for(room.state, viewer, room.vocabulary, INFO)


def refused(code: str, action) -> None:
    with pytest.raises(DomainError) as raised:
        action()
    assert raised.value.code == code, raised.value


def check_in() -> domain.Exercise:
    return domain.Exercise(
        id="check-in",
        title={"en": "Check-in"},
        description={"en": "Arrive."},
        steps=(two_step_exercise().steps[1],),
    )


@pytest.fixture
def hour() -> Room:
    """Check-in, the main exercise, a request exercise; the family let in as its members."""
    room = Room([check_in(), two_step_exercise(), requests_exercise()], members=FAMILY)
    for name, role in (("Sam", "adolescent"), ("Maria", "parent")):
        room.ask_to_join(name, role)
    room.therapist(domain.AdmitAll())
    return room


def test_the_hour_runs_the_whole_agenda_with_the_same_people(hour: Room):
    assert view(hour, "Sam")["session"]["agenda"] == {"part": 0, "parts": 3}
    hour.open_step()
    assert view(hour, "Sam")["session"]["agenda"] == {"part": 1, "parts": 3}
    hour.by("Sam", domain.SubmitAnswer(answer(["hopeful"])))
    hour.by("Maria", domain.SubmitAnswer(answer(["hurt"])))
    # The check-in has one step: the next one is the main exercise's first.
    hour.open_step()
    assert hour.state.part.exercise.id == "test-exercise"
    assert view(hour, "Maria")["session"]["agenda"] == {"part": 2, "parts": 3}
    assert [p.status for p in hour.state.agenda] == ["done", "running", "pending"]
    # The therapist leaves the rest of the main exercise for the requests.
    hour.next_exercise()
    assert hour.state.part.exercise.id == "test-requests"
    refused("no_more_steps", hour.next_exercise)
    hour.therapist(domain.End())
    assert [p.status for p in hour.state.agenda] == ["done", "done", "done"]
    # Nobody joined twice: the same two people took part in every exercise.
    assert sorted(hour.state.participants) == sorted(hour.ids.values())


def test_a_double_click_does_not_open_two_steps(hour: Room):
    hour.open_step()
    # The second click still names the lobby, where the first click started from.
    refused("already_moved", lambda: hour.therapist(domain.OpenStep(None, None)))
    assert len(hour.state.rounds) == 1
    hour.lock()
    refused("wrong_phase", hour.lock)


def test_the_agenda_can_change_during_the_session(hour: Room):
    hour.open_step()
    hour.therapist(domain.AddExercise(check_in()))
    assert [p.id for p in hour.state.agenda] == [1, 2, 3, 4]
    hour.therapist(domain.MoveExercise(4, 0))
    assert [p.id for p in hour.state.agenda] == [1, 4, 2, 3]
    hour.therapist(domain.SkipExercise(2))
    assert view(hour, "Sam")["session"]["agenda"] == {"part": 1, "parts": 3}
    refused("already_started", lambda: hour.therapist(domain.SkipExercise(1)))
    refused("already_started", lambda: hour.therapist(domain.MoveExercise(1, 1)))
    hour.open_step()
    assert hour.state.part.id == 4
    hour.open_step()
    assert hour.state.part.id == 3, "the skipped exercise is passed over"
    hour.therapist(domain.RestoreExercise(2))
    hour.next_exercise()
    assert hour.state.part.id == 2
    therapist = view(hour, kind="therapist")
    assert [(p["id"], p["status"]) for p in therapist["agenda"]] == [
        (1, "done"), (4, "done"), (2, "running"), (3, "done")
    ]


def test_holding_the_code_only_gets_you_into_the_waiting_room(hour: Room):
    hour.open_step()
    hour.by("Sam", domain.SubmitAnswer(answer(["hurt"])))
    hour.reveal_next()
    stranger = hour.ask_to_join("Jo", "other")
    waiting = view(hour, "Jo")
    assert waiting == {
        "kind": "waiting",
        "language": "en",
        "you": {"id": stranger, "name": "Jo", "role": "other"},
    }
    refused("unknown_participant", lambda: hour.by("Jo", domain.SubmitAnswer(answer(["hurt"]))))
    # The therapist sees who waits, and which family member the name suggests.
    at_door = view(hour, kind="therapist")["waiting"]
    assert at_door == [
        {"id": stranger, "name": "Jo", "role": "other", "language": "en", "connected": False,
         "suggested_member": 3}
    ]
    assert stranger not in json.dumps(view(hour, "Sam"))
    hour.therapist(domain.TurnAway(stranger))
    assert view(hour, "Jo") is None
    assert "hurt" not in json.dumps(waiting)


def test_nobody_takes_a_family_members_place(hour: Room):
    impostor = hour.ask_to_join("Maria", "parent")
    # The real Maria is already here as member 2: the therapist can't admit a second one.
    refused("member_taken", lambda: hour.therapist(domain.Admit(impostor, 2)))
    refused("unknown_member", lambda: hour.therapist(domain.Admit(impostor, 99)))
    assert view(hour, kind="therapist")["waiting"][0]["suggested_member"] is None
    hour.therapist(domain.TurnAway(impostor))
    assert [p.name for p in hour.state.present().values()] == ["Sam", "Maria"]


def test_admitted_as_a_family_member_takes_the_members_name_and_role():
    room = Room(members=FAMILY)
    pid = room.ask_to_join("mum", "other")
    room.therapist(domain.Admit(pid, 2))
    person = room.state.participants[pid]
    assert (person.name, person.role, person.member_id) == ("Maria", "parent", 2)


def test_closing_the_door(hour: Room):
    hour.therapist(domain.CloseJoining())
    refused("joining_closed", lambda: hour.ask_to_join("Jo", "other"))
    assert view(hour, kind="display")["session"]["join_code"] is None
    hour.therapist(domain.OpenJoining())
    hour.ask_to_join("Jo", "other")
    assert view(hour, kind="display")["session"]["join_code"] == "KQ7-M4P"


def test_a_removed_phone_is_shut_out_and_its_words_stay_in_the_record(hour: Room):
    hour.open_step()
    hour.by("Maria", domain.SubmitAnswer(answer(["hurt"])))
    hour.therapist(domain.Remove(hour.ids["Maria"]))
    assert view(hour, "Maria") is None
    refused("unknown_participant", lambda: hour.by("Maria", domain.RequestBreak()))
    assert [p["name"] for p in view(hour, "Sam")["people"]] == ["Sam"]
    therapist = view(hour, kind="therapist")
    maria = next(p for p in therapist["people"] if p["name"] == "Maria")
    assert maria["removed"] and maria["status"] == "removed"
    assert hour.state.round.answers[hour.ids["Maria"]].feelings == ("hurt",)
    assert hour.state.reveal_queue() == []


def test_asking_to_talk_alone_changes_no_other_screen(hour: Room):
    hour.open_step()
    others_before = [view(hour, "Maria"), view(hour, kind="display")]
    hour.by("Sam", domain.RequestTalkAlone())
    assert [view(hour, "Maria"), view(hour, kind="display")] == others_before
    assert view(hour, "Sam")["you"]["talk_alone_requested"] is True
    alert = view(hour, kind="therapist")["alerts"]
    assert alert == [
        {"kind": "talk_alone", "participant": {"id": hour.ids["Sam"], "name": "Sam",
                                               "role": "adolescent"},
         "since": hour.now}
    ]
    hour.therapist(domain.DismissTalkAlone(hour.ids["Sam"]))
    assert view(hour, kind="therapist")["alerts"] == []


def test_a_break_request_changes_no_other_screen_either(hour: Room):
    others_before = view(hour, "Maria"), view(hour, kind="display")
    hour.by("Sam", domain.RequestBreak())
    assert (view(hour, "Maria"), view(hour, kind="display")) == others_before


@pytest.mark.parametrize("how", ["pass", "therapist_only", "skipped"])
def test_a_pass_a_therapist_only_answer_and_a_skip_look_the_same_to_everyone_else(how):
    def world(how: str) -> Room:
        room = Room(members=FAMILY)
        for name, role in (("Sam", "adolescent"), ("Maria", "parent"), ("Jo", "other")):
            room.join(name, role)
        room.open_step()
        room.by("Sam", domain.SubmitAnswer(answer(["hurt"], ["respect"], "Sam's words")))
        if how == "pass":
            room.by("Maria", domain.PassStep())
        else:
            private = how == "therapist_only"
            room.by("Maria", domain.SubmitAnswer(answer(["lonely"], therapist_only=private)))
        room.reveal_next()
        room.by("Maria", domain.SubmitFollowUp("You feel hurt"))
        room.therapist(domain.RevealFollowUp())
        if how == "skipped":
            room.therapist(domain.Skip(room.ids["Maria"]))
        else:
            room.reveal_next()
        room.therapist(domain.RevealSharedGround())
        return room

    seen = world(how)
    reference = world("pass")
    for name in ("Sam", "Jo"):
        assert view(seen, name) == view(reference, name)
    assert view(seen, kind="display") == view(reference, kind="display")
    assert view(seen, kind="display")["turns"][1]["outcome"] == "not_shared"
    therapist_turn = view(seen, kind="therapist")["turns"][1]["outcome"]
    assert therapist_turn == ("skipped" if how == "skipped" else "withheld")


def test_a_pass_needs_one_tap_and_can_be_changed_until_the_step_locks(hour: Room):
    hour.open_step()
    hour.by("Sam", domain.PassStep())
    assert view(hour, "Sam")["your_answer"]["passed"] is True
    assert view(hour, "Maria")["people"][0]["answered"] is True
    hour.by("Sam", domain.SubmitAnswer(answer(["hopeful"])))
    assert view(hour, "Sam")["your_answer"]["passed"] is False


def test_the_familys_name_is_the_therapists_alone(hour: Room):
    assert view(hour, kind="therapist")["session"]["family_name"] == "Rivera"
    hour.ask_to_join("Jo", "other")
    for seen in (view(hour, "Sam"), view(hour, "Maria"), view(hour, "Jo"), view(hour, kind="d")):
        assert "Rivera" not in json.dumps(seen)
    # Nor do phones receive the members' list or who waits at the door.
    assert "members" not in view(hour, "Sam") and "waiting" not in view(hour, "Sam")


def test_each_command_is_declared_once_with_its_senders_and_phases():
    events = [spec.event for spec in domain.SPECS.values() if spec.event]
    assert len(events) == len(set(events))
    for spec in domain.SPECS.values():
        assert spec.senders and spec.phases and spec.summary
        assert issubclass(spec.command, domain._Command)


def test_a_step_for_the_therapist_only_keeps_every_answer_from_the_family():
    step = dataclasses.replace(two_step_exercise().steps[1], therapist_only=True)
    going_home = domain.Exercise("out", {"en": "Going home"}, {"en": "."}, (step,))
    room = Room(going_home)
    room.join("Sam", "adolescent")
    room.join("Maria", "parent")
    room.open_step()
    room.by("Sam", domain.SubmitAnswer(answer(["hurt"])))
    assert room.state.round.answers[room.ids["Sam"]].therapist_only
    assert view(room, "Sam")["step"]["fields"]["therapist_only"] is True
    room.reveal_next()
    assert view(room, "Maria")["turns"][0] == {
        "speaker": {"id": room.ids["Sam"], "name": "Sam", "role": "adolescent"},
        "outcome": "not_shared",
        "answer": None,
        "follow_up": None,
    }
