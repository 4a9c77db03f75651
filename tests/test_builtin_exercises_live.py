"""Every built-in exercise, played through the session state machine from lobby to end."""

from __future__ import annotations

import json

import pytest

from facilitator.domain import session as domain
from facilitator.domain.exercises import builtin_exercises
from facilitator.domain.views import DISPLAY_VIEWER, THERAPIST_VIEWER, Viewer, view_for
from facilitator.domain.vocabulary import default_vocabulary
from tests.factories import Room


def answer_for(step, vocabulary, who: str) -> domain.Answer:
    """The smallest answer the step accepts, with a word planted to look for leaks."""
    feelings = [c.id for c in vocabulary.feelings()][
        : step.feelings.min or min(1, step.feelings.max)
    ]
    needs = [c.id for c in vocabulary.needs()][: step.needs.min or min(1, step.needs.max)]
    text = f"words-of-{who}" if step.text.mode != "off" else ""
    request = f"request-of-{who}" if step.request.mode != "off" else ""
    return domain.Answer(tuple(feelings), tuple(needs), text, request)


@pytest.mark.parametrize("exercise_id", list(builtin_exercises()))
def test_each_builtin_exercise_runs_from_lobby_to_end(exercise_id):
    play_agenda([builtin_exercises()[exercise_id]])


def test_the_whole_library_runs_as_one_agenda_with_the_same_people():
    play_agenda(list(builtin_exercises().values()))


def play_agenda(exercises: list[domain.Exercise]) -> None:
    vocabulary = default_vocabulary()
    room = Room(exercises, vocabulary)
    for name, role, language in (
        ("Sam", "adolescent", "en"),
        ("Maria", "parent", "es"),
        ("Jo", "other", "en"),
    ):
        room.join(name, role, language)
    for exercise in exercises:
        play_exercise(room, exercise, vocabulary)
        assert room.state.part.exercise is exercise
    room.therapist(domain.End())
    assert room.state.phase == "ended"


def play_exercise(room: Room, exercise: domain.Exercise, vocabulary) -> None:
    exercise_id = exercise.id
    for index, step in enumerate(exercise.steps):
        room.open_step()
        answering = [
            n for n in room.ids if room.state.participants[room.ids[n]].role in step.answered_by
        ]
        assert answering, f"{exercise_id} step {step.id} has nobody in this family to answer"
        for name in answering:
            assert view_for(room.state, Viewer("participant", room.ids[name]), vocabulary)["step"][
                "prompt"
            ]
            room.by(name, domain.SubmitAnswer(answer_for(step, vocabulary, f"{name}-{index}")))
        while room.state.reveal_queue():
            room.reveal_next()
            turn = room.state.round.turns[-1]
            if turn.follow_up:
                listener = next(n for n, pid in room.ids.items() if pid == turn.follow_up.listener)
                speaker = next(n for n, pid in room.ids.items() if pid == turn.speaker)
                verdict = "yes_if" if turn.follow_up.kind == "reply" else None
                room.by(listener, domain.SubmitFollowUp(f"heard-by-{listener}", verdict))
                room.therapist(domain.RevealFollowUp())
                if turn.follow_up.kind == "reflect_back":
                    room.by(speaker, domain.ConfirmReflection("yes"))
        assert {t.speaker for t in room.state.round.turns} == {room.ids[n] for n in answering}
        room.therapist(domain.RevealSharedGround())
        for viewer in (
            THERAPIST_VIEWER,
            DISPLAY_VIEWER,
            *(Viewer("participant", pid) for pid in room.ids.values()),
        ):
            json.dumps(view_for(room.state, viewer, vocabulary))


def test_spanish_and_english_readers_see_the_same_revealed_answer_in_their_own_words():
    vocabulary = default_vocabulary()
    room = Room(builtin_exercises()["check-in"], vocabulary)
    room.join("Sam", "adolescent", "en")
    room.join("Maria", "parent", "es")
    room.open_step()
    room.by("Sam", domain.SubmitAnswer(domain.Answer(("hurt", "hopeful"), (), "tired today")))
    room.reveal_next()
    in_english = view_for(room.state, Viewer("participant", room.ids["Sam"]), vocabulary)
    in_spanish = view_for(room.state, Viewer("participant", room.ids["Maria"]), vocabulary)
    english_answer = in_english["turns"][0]["answer"]
    spanish_answer = in_spanish["turns"][0]["answer"]
    assert [f["id"] for f in english_answer["feelings"]] == ["hurt", "hopeful"]
    assert [f["id"] for f in spanish_answer["feelings"]] == ["hurt", "hopeful"]
    assert [f["label"] for f in english_answer["feelings"]] == [
        vocabulary.label("hurt", "en"),
        vocabulary.label("hopeful", "en"),
    ]
    assert [f["label"] for f in spanish_answer["feelings"]] == [
        vocabulary.label("hurt", "es"),
        vocabulary.label("hopeful", "es"),
    ]
    assert english_answer["feelings"] != spanish_answer["feelings"]
    # Free text is shown as it was written.
    assert english_answer["text"] == spanish_answer["text"] == "tired today"
    # The prompt is in each reader's language too.
    check_in = builtin_exercises()["check-in"].steps[0]
    assert in_spanish["step"]["title"] == check_in.title["es"]
    assert in_english["step"]["title"] == check_in.title["en"]
