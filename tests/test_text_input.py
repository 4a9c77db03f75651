"""Input that cannot break the record: text that is not valid, printable Unicode is refused at
every form with a clear sentence, and a session holding such text from before still renders."""

from __future__ import annotations

import json

import pytest

from facilitator.domain import session as domain
from facilitator.domain.text import INVALID_TEXT, printable, printable_data, text_problem
from facilitator.extensions import db
from facilitator.store import live as store
from facilitator.store.models import Family
from facilitator.web import forms
from tests.planted import plant_session

# What a phone or a pasted text can carry that no record can hold or show faithfully.
REFUSED = {
    "lone high surrogate": "I feel \ud83d",
    "lone low surrogate": "\ude00 there",
    "NUL": "a\x00b",
    "bell": "ding\x07",
    "escape": "\x1b[31mred",
    "vertical tab": "a\x0bb",
    "form feed": "a\x0cb",
    "DEL": "a\x7fb",
    "C1 control": "a\x85b",
    "private use": "a\ue000b",
    "private use, plane 16": "a\U00100000b",
    "noncharacter": "a\ufdd0b",
    "noncharacter U+FFFF": "a\uffffb",
    "right-to-left override": "evil\u202etxt.exe",
    "left-to-right isolate": "a\u2066b",
}
ACCEPTED = {
    "plain": "I felt unheard.",
    "line breaks and tab": "first\nsecond\r\nthird\tend",
    "Spanish": "¿Por qué nadie me escucha? Ñandú, pingüino.",
    "emoji with joiner": "👩‍👧 🙂",
    "an emoji newer than this Python's character database": "\U0001fae8",
    "zero-width joiner alone": "a\u200db",
    "right-to-left script": "مرحبا שלום",
    "replacement character": "\ufffd",
    "empty": "",
}


@pytest.mark.parametrize("text", REFUSED.values(), ids=REFUSED.keys())
def test_text_that_cannot_be_kept_or_shown_is_refused_with_a_stable_code(text):
    problem = text_problem(text)
    assert problem is not None
    assert problem.code == INVALID_TEXT == "invalid_text"
    assert "retype" in problem.message
    assert printable(text) != text and text_problem(printable(text)) is None


@pytest.mark.parametrize("text", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_what_people_write_is_accepted_as_it_is(text):
    assert text_problem(text) is None
    assert printable(text) == text


def test_the_problem_says_where_it_is():
    assert text_problem("ok \x00").position == 3


def test_printable_data_reaches_every_text_inside():
    data = {"a\ud83d": ["x\x00", ("y\u202e",)], "n": 3, "none": None}
    assert printable_data(data) == {"a\ufffd": ["x\ufffd", ["y\ufffd"]], "n": 3, "none": None}


# --- every form ---------------------------------------------------------------------------


def test_every_form_checks_its_text():
    """A new form that forgot the check would let broken text through: none may."""
    from facilitator.web import account_forms, record_notes

    classes = [
        value
        for module in (forms, account_forms, record_notes)
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, forms.FlaskForm)
        and value not in (forms.FlaskForm, forms.Form)
    ]
    assert len(classes) > 8
    assert all(issubclass(form, forms.Form) for form in classes)


@pytest.mark.parametrize(
    "text",
    [REFUSED["NUL"], REFUSED["escape"], REFUSED["right-to-left override"], REFUSED["private use"]],
    ids=["NUL", "escape", "bidi override", "private use"],
)
def test_a_family_name_with_a_broken_character_is_refused_on_the_field(therapist_client, text):
    response = therapist_client.post("/families/new", data={"name": f"García{text}"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "t be saved (an invisible or broken one)" in page
    assert 'aria-invalid="true"' in page
    assert db.session.query(Family).count() == 0


def test_a_lone_surrogate_sent_as_bytes_never_reaches_the_database(therapist_client):
    # UTF-8 cannot carry a lone surrogate: its bytes (as CESU-8 would send them) are invalid,
    # and are read as the replacement character.
    body = b"name=Garc%ED%A0%BDa"
    response = therapist_client.post(
        "/families/new", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 302
    (family,) = db.session.query(Family).all()
    assert text_problem(family.name) is None


def test_joining_with_a_control_character_in_the_name_is_refused_on_the_field(app, therapist):
    live = store.open_session(therapist, plant_exercise())
    phone = app.test_client()
    response = phone.post(
        f"/join/{live.join_code}",
        data={"name": "Sam\x1b", "role": "adolescent", "language": "en"},
    )
    assert response.status_code == 400
    assert "t be saved (an invisible or broken one)" in response.get_data(as_text=True)
    assert store.load_state(store.get_session(live.id)).participants == {}


def test_signing_in_with_a_control_character_is_refused_not_a_server_error(app, therapist):
    response = app.test_client().post(
        "/login", data={"email": therapist.email, "password": "correct\x00horse"}
    )
    assert response.status_code == 200
    assert "t be saved (an invisible or broken one)" in response.get_data(as_text=True)


def plant_exercise():
    from tests.planted import planting_exercise

    return planting_exercise()


# --- sessions saved before the check -------------------------------------------------------


def with_broken_text(planted) -> None:
    """Write, straight into the stored state and record, what older versions let in."""
    broken = "\ud83d\x07\u202e"
    live = store.get_session(planted.session_id)

    def spoil(data):
        text = json.dumps(data)
        for word in (planted.answer, planted.reflection, planted.note):
            text = text.replace(word, word + json.dumps(broken)[1:-1])
        return json.loads(text)

    live.state = spoil(live.state)
    for event in store.record_of(live):
        event.data = spoil(event.data)
    db.session.commit()
    db.session.expire_all()
    assert "\ud83d" in json.dumps(store.get_session(planted.session_id).state, ensure_ascii=False)


def test_a_session_holding_a_lone_surrogate_still_renders_its_record_and_export(
    app, therapist, therapist_client
):
    planted = plant_session(therapist)
    with_broken_text(planted)

    record = therapist_client.get(f"/sessions/{planted.session_id}/record")
    assert record.status_code == 200
    page = record.get_data(as_text=True)
    assert f"{planted.answer}\ufffd\ufffd\ufffd" in page
    assert f"{planted.note}\ufffd\ufffd\ufffd" in page

    export = therapist_client.get(f"/sessions/{planted.session_id}/export.json")
    assert export.status_code == 200
    document = json.loads(export.data.decode("utf-8"))
    assert f"{planted.answer}\ufffd\ufffd\ufffd" in json.dumps(document, ensure_ascii=False)
    assert document["notes"][0]["text"] == f"{planted.note}\ufffd\ufffd\ufffd"


def test_the_stored_text_is_kept_as_it_was(app, therapist, therapist_client):
    """Only what is shown is replaced: the record itself is not rewritten."""
    planted = plant_session(therapist)
    with_broken_text(planted)
    therapist_client.get(f"/sessions/{planted.session_id}/export.json")
    state = store.load_state(store.get_session(planted.session_id))
    assert state.notes[0].text == planted.note + "\ud83d\x07\u202e"
    assert any("\ud83d" in a.text for r in state.rounds for a in r.answers.values())
    store.apply(planted.session_id, domain.THERAPIST, domain.AddNote("after"))


def test_renaming_a_family_with_a_broken_character_shows_it_on_the_field(therapist_client):
    therapist_client.post("/families/new", data={"name": "García"})
    (family,) = db.session.query(Family).all()
    response = therapist_client.post(f"/families/{family.id}/rename", data={"name": "Gar\x00cía"})
    assert response.status_code == 400
    assert "t be saved (an invisible or broken one)" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Family, family.id).name == "García"
