"""The 0 to 10 scale on a step: in the exercise format, the session, the views, over sockets."""

from __future__ import annotations

import dataclasses
import json

import pytest

from facilitator.domain import session as domain
from facilitator.domain.common import DomainError
from facilitator.domain.exercises import (
    ExerciseError,
    RatingField,
    builtin_exercises,
    dump_exercise,
    exercise_from_dict,
    exercise_to_dict,
    parse_exercise_file,
)
from facilitator.domain.views import DISPLAY_VIEWER, THERAPIST_VIEWER, Viewer, view_for
from facilitator.store import live as store
from tests.factories import Room, two_step_exercise
from tests.realtime_helpers import (
    connect_display,
    connect_therapist,
    join_participant,
    make_family,
)

CLOSENESS = RatingField(
    mode="required",
    question={"en": "How close do you feel to your family this week?", "es": "¿Qué tan cerca?"},
    low={"en": "Not at all", "es": "Nada cerca"},
    high={"en": "Very close", "es": "Muy cerca"},
)


def rated_exercise(mode: str = "required", therapist_only: bool = False):
    """The test exercise whose first step also asks how close each person feels."""
    exercise = two_step_exercise()
    first = dataclasses.replace(
        exercise.steps[0],
        rating=dataclasses.replace(CLOSENESS, mode=mode),
        therapist_only=therapist_only,
        follow_up="none",
    )
    return dataclasses.replace(exercise, steps=(first, *exercise.steps[1:]))


@pytest.fixture
def family() -> Room:
    room = Room(rated_exercise())
    room.join("Sam", "adolescent")
    room.join("Maria", "parent", language="es")
    room.open_step()
    return room


def view(room: Room, name: str | None = None) -> dict:
    viewer = (
        THERAPIST_VIEWER
        if name == "therapist"
        else (DISPLAY_VIEWER if name is None else Viewer("participant", room.ids[name]))
    )
    return view_for(room.state, viewer, room.vocabulary)


def refused(code: str, action) -> None:
    with pytest.raises(DomainError) as raised:
        action()
    assert raised.value.code == code, raised.value


def rated(value, feelings=("hurt",), **extra) -> domain.Answer:
    return domain.Answer(feelings=tuple(feelings), rating=value, **extra)


# --- The session -------------------------------------------------------------------------------


def test_the_phone_is_given_the_scale_in_its_own_language(family: Room):
    assert view(family, "Sam")["step"]["fields"]["rating"] == {
        "mode": "required",
        "min": 0,
        "max": 10,
        "question": "How close do you feel to your family this week?",
        "low": "Not at all",
        "high": "Very close",
    }
    spanish = view(family, "Maria")["step"]["fields"]["rating"]
    assert (spanish["low"], spanish["high"]) == ("Nada cerca", "Muy cerca")


def test_a_number_from_0_to_10_is_kept_and_anything_else_refused(family: Room):
    family.by("Sam", domain.SubmitAnswer(rated(0)))
    family.by("Sam", domain.SubmitAnswer(rated(10)))
    assert family.state.round.answers[family.ids["Sam"]].rating == 10
    refused("out_of_range", lambda: family.by("Sam", domain.SubmitAnswer(rated(11))))
    refused("out_of_range", lambda: family.by("Sam", domain.SubmitAnswer(rated(-1))))
    # The refused answers changed nothing.
    assert family.state.round.answers[family.ids["Sam"]].rating == 10


def test_a_required_scale_must_be_answered_but_a_draft_may_wait(family: Room):
    family.by("Sam", domain.SaveDraft(rated(None)))
    refused("required", lambda: family.by("Sam", domain.SubmitAnswer(rated(None))))
    family.by("Sam", domain.SubmitAnswer(rated(3)))


def test_an_optional_scale_may_be_left_and_a_step_without_one_refuses_a_number():
    room = Room(rated_exercise(mode="optional"))
    room.join("Sam", "adolescent")
    room.open_step()
    room.by("Sam", domain.SubmitAnswer(rated(None)))
    assert room.state.round.answers[room.ids["Sam"]].rating is None
    room.lock()
    room.open_step()  # the check-out step has no scale
    refused("not_asked", lambda: room.by("Sam", domain.SubmitAnswer(rated(5))))


def test_a_pass_holds_no_number(family: Room):
    refused(
        "invalid_payload",
        lambda: family.by("Sam", domain.SubmitAnswer(domain.Answer(passed=True, rating=4))),
    )


def test_a_rating_is_seen_by_others_only_once_revealed_with_its_words(family: Room):
    family.by("Sam", domain.SubmitAnswer(rated(7)))
    family.by("Maria", domain.SubmitAnswer(rated(4, feelings=("lonely",))))
    # Before the reveal: Sam and the therapist see Sam's 7; Maria and the display do not.
    assert view(family, "Sam")["your_answer"]["rating"] == 7
    therapist = {
        a["participant"]["name"]: a["answer"] for a in view(family, "therapist")["answers"]
    }
    assert therapist["Sam"]["rating"] == 7
    assert view(family, "Maria")["turns"] == [] and view(family)["turns"] == []

    family.lock()
    family.reveal_next()
    for name in ("Maria", None):
        shown = view(family, name)["turns"][0]["answer"]
        assert shown["rating"] == 7
    assert view(family, "Maria")["turns"][0]["answer"]["rating_scale"]["high"] == "Muy cerca"
    assert view(family)["turns"][0]["answer"]["rating_scale"] == {
        "min": 0,
        "max": 10,
        "question": "How close do you feel to your family this week?",
        "low": "Not at all",
        "high": "Very close",
    }


def test_a_rating_on_a_therapist_only_step_never_reaches_the_family():
    room = Room(rated_exercise(therapist_only=True))
    room.join("Sam", "adolescent")
    room.join("Maria", "parent")
    room.open_step()
    room.by("Sam", domain.SubmitAnswer(rated(2)))
    room.lock()
    room.reveal_next()
    assert room.state.round.turns[0].outcome == "withheld"
    for name in ("Maria", None):
        turn = view(room, name)["turns"][0]
        assert turn["outcome"] == "not_shared" and turn["answer"] is None
    assert view(room, "Sam")["your_answer"]["rating"] == 2
    assert view(room, "therapist")["answers"][0]["answer"]["rating"] == 2


def test_a_rating_survives_the_saved_state(family: Room):
    family.by("Sam", domain.SubmitAnswer(rated(6)))
    saved = json.loads(json.dumps(domain.state_to_dict(family.state)))
    again = domain.state_from_dict(saved)
    assert again.round.answers[family.ids["Sam"]].rating == 6
    assert again.step.rating == CLOSENESS


# --- The exercise format -----------------------------------------------------------------------


def test_a_rated_exercise_goes_out_and_comes_back_unchanged_in_yaml_and_json():
    exercise = rated_exercise()
    for fmt in ("yaml", "json"):
        text = dump_exercise(exercise, fmt)
        assert "Very close" in text
        assert parse_exercise_file(text, f"x.{fmt}") == exercise
    yaml_text = dump_exercise(exercise)
    assert "  rating:\n    mode: required\n    question:\n" in yaml_text


def test_the_built_in_check_in_and_check_out_ask_their_scales_in_both_languages():
    library = builtin_exercises()
    arriving = library["check-in"].steps[0].rating
    assert arriving.mode == "optional"
    assert arriving.low == {"en": "Not at all", "es": "Nada cerca"}
    going_home = library["check-out"].steps[0]
    assert going_home.therapist_only and going_home.rating.high["es"] == "Muy a salvo"
    for exercise in (library["check-in"], library["check-out"]):
        assert parse_exercise_file(dump_exercise(exercise)) == exercise


def _with_rating(rating: object, format_version: int = 2) -> dict:
    data = exercise_to_dict(two_step_exercise())
    data["format"] = format_version
    data["steps"][0]["rating"] = rating
    return data


@pytest.mark.parametrize(
    ("rating", "expected"),
    [
        ({"mode": "required", "high": {"en": "a", "es": "b"}}, "steps[0].rating.low: missing"),
        (
            {"mode": "often", "low": {"en": "a", "es": "b"}, "high": {"en": "a", "es": "b"}},
            "steps[0].rating.mode: must be one of off, optional, required, not text ('often')",
        ),
        (
            {"mode": "optional", "low": {"en": "a"}, "high": {"en": "a", "es": "b"}},
            "steps[0].rating.low.es: missing",
        ),
        (
            {"mode": "optional", "lo": {"en": "a", "es": "b"}, "high": {"en": "a", "es": "b"}},
            "steps[0].rating: unknown key 'lo' (did you mean 'low'?)",
        ),
        (
            "required",
            "steps[0].rating: must be a mapping (mode, question, low, high), not text ('required')",
        ),
    ],
)
def test_a_wrong_scale_is_refused_with_a_precise_error(rating, expected):
    with pytest.raises(ExerciseError) as caught:
        exercise_from_dict(_with_rating(rating))
    assert expected in caught.value.errors, caught.value.errors


def test_a_scale_alone_is_enough_for_a_step_to_ask_something():
    data = _with_rating(
        {"mode": "required", "low": {"en": "a", "es": "b"}, "high": {"en": "c", "es": "d"}}
    )
    step = data["steps"][0]
    step.update(feelings={"max": 0}, needs={"max": 0}, text={"mode": "off"}, follow_up="none")
    assert exercise_from_dict(data).steps[0].rating.low == {"en": "a", "es": "b"}


def test_a_version_1_file_with_a_scale_is_told_to_say_format_2():
    data = _with_rating({"mode": "off"}, format_version=1)
    del data["languages"]
    for step in data["steps"]:
        del step["therapist_only"]
    with pytest.raises(ExerciseError) as caught:
        exercise_from_dict(data)
    assert caught.value.errors == [
        "steps[0].rating: is new in format 2: write 'format: 2' at the top"
    ]


# --- Over sockets ------------------------------------------------------------------------------


@pytest.fixture
def rated_room(app, therapist, therapist_client):
    live = store.open_session(therapist, rated_exercise(), make_family(therapist))
    people = {
        "therapist": connect_therapist(app, therapist_client, live),
        "display": connect_display(app, live),
        "Sam": join_participant(app, live, "Sam", "adolescent"),
        "Maria": join_participant(app, live, "Maria", "parent", language="es"),
    }
    yield people
    for person in people.values():
        if person.client.is_connected():
            person.disconnect()


def test_a_rating_over_sockets_is_checked_kept_private_and_revealed_in_turn(rated_room):
    therapist, display = rated_room["therapist"], rated_room["display"]
    sam, maria = rated_room["Sam"], rated_room["Maria"]
    therapist.open_step()
    assert sam.view()["step"]["fields"]["rating"]["low"] == "Not at all"

    for bad, code in (
        (11, "out_of_range"),
        ("7", "invalid_payload"),
        (True, "invalid_payload"),
        (7.5, "invalid_payload"),
    ):
        ack = sam.send("submit_answer", {"feelings": ["hurt"], "rating": bad})
        assert ack["ok"] is False and ack["error"]["code"] == code, (bad, ack)
    ack = sam.send("submit_answer", {"feelings": ["hurt"]})
    assert ack["error"]["code"] == "required"

    sam.do("save_draft", {"feelings": ["hurt"], "rating": 3})
    assert sam.view()["your_draft"]["rating"] == 3
    sam.do("submit_answer", {"feelings": ["hurt"], "rating": 9})
    maria.do("submit_answer", {"feelings": ["lonely"], "rating": 4})
    assert sam.view()["your_answer"]["rating"] == 9
    for person in (maria, display):
        person.drain()
        assert person.frames, f"{person.name}'s screen received frames all along"
    for person in (maria, display):
        assert all(
            t["answer"] is None
            for f in person.frames
            if f["name"] == "view"
            for t in f["args"][0].get("turns", [])
        )
        assert '"rating": 9' not in person.text()

    therapist.lock()
    therapist.reveal_next()
    for person in (maria, display):
        answer = person.view()["turns"][0]["answer"]
        assert answer["rating"] == 9
    assert maria.view()["turns"][0]["answer"]["rating_scale"]["low"] == "Nada cerca"


# --- The editor --------------------------------------------------------------------------------


def test_the_editor_adds_a_scale_saves_it_shows_it_and_takes_it_off_again(therapist_client):
    from tests.test_authoring import editor_fields, english_only_form, filled, only_custom, save

    fields = filled(
        english_only_form(therapist_client),
        steps__0__rating__mode="required",
        steps__0__rating__question__en="How close do you feel to your family this week?",
        steps__0__rating__low__en="Not at all",
        steps__0__rating__high__en="Very close",
    )
    response = save(therapist_client, fields)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert only_custom().steps[0].rating == RatingField(
        "required",
        {"en": "How close do you feel to your family this week?"},
        {"en": "Not at all"},
        {"en": "Very close"},
    )
    shown = therapist_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "0 is “Not at all”, 10 is “Very close”." in shown

    url = response.headers["Location"] + "/edit"
    fields = editor_fields(therapist_client.get(url).get_data(as_text=True))
    assert fields["steps-0-rating-mode"] == ["required"]
    assert fields["steps-0-rating-high-en"] == ["Very close"]
    assert (
        save(therapist_client, filled(fields, steps__0__rating__mode="off"), url).status_code == 302
    )
    assert only_custom().steps[0].rating == RatingField()


def test_a_scale_without_its_end_words_is_reported_at_the_field(therapist_client):
    from tests.test_authoring import container, english_only_form, filled, save, text

    fields = filled(
        english_only_form(therapist_client),
        steps__0__rating__mode="optional",
        steps__0__rating__low__en="Not at all",
    )
    page = text(save(therapist_client, fields))
    assert "must not be empty" in container(page, "steps-0-rating-high-en-field")
    assert "must not be empty" not in container(page, "steps-0-rating-low")
