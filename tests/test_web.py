"""The web pages: therapists and their families, opening and joining sessions, records, safety."""

from __future__ import annotations

import html
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import segno
from flask import Flask
from sqlalchemy import func, select

from facilitator import create_app
from facilitator.config import PROJECT_ROOT
from facilitator.domain import session as domain
from facilitator.domain.exercises import builtin_exercises, exercise_to_dict
from facilitator.domain.vocabulary import default_vocabulary
from facilitator.extensions import db
from facilitator.security import CONTENT_SECURITY_POLICY
from facilitator.store import live as store
from facilitator.store.models import (
    AuditEntry,
    CustomExercise,
    Family,
    FamilyMember,
    LiveSession,
    Therapist,
    utcnow,
)
from tests.conftest import make_therapist, sign_in
from tests.factories import two_step_exercise
from tests.record_schema import assert_valid_export

NOT_FOUND_MESSAGE = "We couldn't find an open session with that code."
EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'self'; base-uri 'self'; form-action 'self'"
)


def build_app(tmp_path: Path, name: str, **overrides) -> Flask:
    """An app of its own, for tests that need settings the shared fixture turns off."""
    config = {
        "INSTANCE_PATH": tmp_path / f"instance-{name}",
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / f'{name}.sqlite3'}",
        "SOCKETIO_ASYNC_MODE": "threading",
        "SOCKETIO_MESSAGE_QUEUE": None,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "PUBLIC_URL": "http://clinic.test",
        **overrides,
    }
    app = create_app(config)
    with app.app_context():
        db.create_all()
    return app


def first_builtin_key() -> str:
    return next(iter(builtin_exercises()))


@pytest.fixture
def family(app, therapist) -> Family:
    family = Family(therapist_id=therapist.id, name="García family")
    family.members = [
        FamilyMember(display_name="Ana", role="adolescent"),
        FamilyMember(display_name="Marta", role="parent"),
    ]
    db.session.add(family)
    db.session.commit()
    return family


@pytest.fixture
def live(app, therapist, family) -> LiveSession:
    return store.open_session(therapist, two_step_exercise(), family)


def member(family: Family, name: str) -> FamilyMember:
    return next(m for m in family.members if m.display_name == name)


def join_as(app, live: LiveSession, **fields):
    """A new phone asks to join; returns the phone's client and the response to its request."""
    phone = app.test_client()
    data = {"name": "", "role": "", "language": "en", **fields}
    response = phone.post(f"/join/{live.join_code}", data=data)
    return phone, response


def participants(live: LiveSession) -> dict[str, domain.Participant]:
    db.session.refresh(live)
    return {p.name: p for p in store.load_state(live).participants.values()}


def waiting(live: LiveSession) -> dict[str, domain.Waiting]:
    db.session.refresh(live)
    return {w.name: w for w in store.load_state(live).waiting.values()}


def let_in_as_member(app, live: LiveSession, family: Family, name: str):
    """A phone asks to join under a member's name and the therapist lets it in as them."""
    phone, _ = join_as(app, live, name=name, role="other")
    asking = waiting(live)[name]
    store.apply(live.id, domain.THERAPIST, domain.Admit(asking.id, member(family, name).id))
    return phone


def end(live: LiveSession) -> None:
    store.apply(live.id, domain.THERAPIST, domain.End())


def audit_actions(session_id: str) -> list[str]:
    rows = db.session.scalars(
        select(AuditEntry).where(AuditEntry.session_id == session_id).order_by(AuditEntry.id)
    )
    return [row.action for row in rows]


def text(response) -> str:
    """The page as a person reads it: entities such as &#39; turned back into characters."""
    return html.unescape(response.get_data(as_text=True))


def csrf_token_in(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, "the page has no CSRF token"
    return match.group(1)


# --- Signing in and out ------------------------------------------------------------------


def test_a_therapist_signs_in_sees_their_page_and_signs_out(app, therapist):
    client = app.test_client()
    assert client.get("/").status_code == 302  # not signed in: sent to the sign-in page

    response = sign_in(client, therapist.email)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Hello, Dr. Rivera" in page.text

    assert client.get("/logout").status_code == 405  # signing out is a POST only
    response = client.post("/logout")
    assert response.status_code == 302
    assert urlsplit(client.get("/").headers["Location"]).path == "/login"


def test_sign_in_accepts_the_email_in_any_case_and_with_spaces(app, therapist):
    client = app.test_client()
    response = client.post(
        "/login", data={"email": "  Rivera@Clinic.TEST ", "password": "correct horse battery"}
    )
    assert response.status_code == 302


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(app, therapist):
    client = app.test_client()
    wrong_password = sign_in(client, therapist.email, "not the password")
    unknown_email = sign_in(client, "nobody@clinic.test", "correct horse battery")
    for response in (wrong_password, unknown_email):
        assert response.status_code == 200
        assert "That e-mail and password don't match." in text(response)
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    ("next_value", "expected_path"),
    [
        ("/families/new", "/families/new"),
        ("https://elsewhere.example/steal", "/"),
        ("//elsewhere.example/steal", "/"),
        ("/\\elsewhere.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_after_signing_in_only_local_pages_are_followed(app, therapist, next_value, expected_path):
    client = app.test_client()
    response = client.post(
        "/login",
        data={"email": therapist.email, "password": "correct horse battery", "next": next_value},
    )
    location = urlsplit(response.headers["Location"])
    assert location.netloc in ("", "localhost")
    assert location.path == expected_path


def test_the_login_page_carries_the_next_page_through_the_form(app, therapist):
    client = app.test_client()
    redirect = client.get("/families/new")
    login_page = client.get(redirect.headers["Location"])
    assert 'name="next" type="hidden" value="/families/new"' in login_page.text


def test_passwords_are_stored_as_scrypt_hashes(app, therapist):
    stored = db.session.get(Therapist, therapist.id).password_hash
    assert stored.startswith("scrypt:")
    assert "correct horse battery" not in stored


def test_session_cookies_are_http_only_and_same_site(app, therapist):
    client = app.test_client()
    response = sign_in(client, therapist.email)
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_forms_need_their_csrf_token_when_protection_is_on(tmp_path):
    app = build_app(tmp_path, "csrf", WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_therapist("rivera@clinic.test")
    client = app.test_client()

    refused = sign_in(client, "rivera@clinic.test")
    assert refused.status_code == 400
    assert "This form expired, please try again." in refused.text

    token = csrf_token_in(client.get("/login").text)
    accepted = client.post(
        "/login",
        data={
            "email": "rivera@clinic.test",
            "password": "correct horse battery",
            "csrf_token": token,
        },
    )
    assert accepted.status_code == 302

    # Signing out from another site's form (no token) does not sign anyone out.
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_too_many_sign_in_attempts_are_slowed_down(tmp_path):
    app = build_app(
        tmp_path, "login-limit", RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute"
    )
    client = app.test_client()
    for _ in range(2):
        assert sign_in(client, "someone@clinic.test", "guess").status_code == 200
    refused = sign_in(client, "someone@clinic.test", "guess")
    assert refused.status_code == 429
    assert "Too many tries" in refused.text


def test_the_account_page_sets_the_language_of_the_therapists_pages(app, therapist_client):
    response = therapist_client.post("/account", data={"language": "es"})
    assert response.status_code == 302
    assert db.session.get(Therapist, 1).language == "es"
    page = therapist_client.get("/")
    assert "Familias y sesiones" in page.text
    assert '<html lang="es">' in page.text

    refused = therapist_client.post("/account", data={"language": "fr"})
    assert refused.status_code == 200
    assert db.session.get(Therapist, 1).language == "es"


# --- Families -----------------------------------------------------------------------------


def test_a_therapist_adds_a_family_and_its_members(app, therapist, therapist_client):
    response = therapist_client.post("/families/new", data={"name": "  Núñez   family "})
    family = db.session.scalar(select(Family))
    assert response.headers["Location"].endswith(f"/families/{family.id}")
    assert family.name == "Núñez family"
    assert family.therapist_id == therapist.id

    therapist_client.post(
        f"/families/{family.id}/members", data={"display_name": "Leo", "role": "adolescent"}
    )
    therapist_client.post(
        f"/families/{family.id}/members", data={"display_name": "Rosa", "role": "parent"}
    )
    page = therapist_client.get(f"/families/{family.id}")
    assert "Leo" in page.text and "Rosa" in page.text
    db.session.refresh(family)
    leo, rosa = family.members
    assert (leo.display_name, leo.role) == ("Leo", "adolescent")

    therapist_client.post(
        f"/families/{family.id}/members/{leo.id}",
        data={"display_name": "Leonardo", "role": "other"},
    )
    therapist_client.post(f"/families/{family.id}/members/{rosa.id}/remove")
    therapist_client.post(f"/families/{family.id}/rename", data={"name": "Núñez"})
    db.session.expire_all()
    family = db.session.get(Family, family.id)
    assert [(m.display_name, m.role) for m in family.members] == [("Leonardo", "other")]
    assert family.name == "Núñez"
    assert "Núñez" in therapist_client.get("/").text


def test_deleting_a_family_needs_confirmation_and_deletes_its_records(
    app, therapist_client, family, live
):
    refused = therapist_client.post(f"/families/{family.id}/delete", data={"confirm": "y"})
    assert refused.status_code == 302
    assert db.session.get(Family, family.id) is not None, "its session is still open"
    end(live)
    therapist_client.post(f"/families/{family.id}/delete", data={})
    assert db.session.get(Family, family.id) is not None

    response = therapist_client.post(f"/families/{family.id}/delete", data={"confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Family, family.id) is None
    assert db.session.scalar(select(func.count()).select_from(FamilyMember)) == 0
    assert db.session.get(LiveSession, live.id) is None
    assert therapist_client.get(f"/sessions/{live.id}/record").status_code == 404
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["deleted", "family_deleted"]


@pytest.mark.parametrize(
    "data",
    [
        {"display_name": "x" * 41, "role": "parent"},
        {"display_name": "", "role": "parent"},
        {"display_name": "Leo", "role": "king"},
        {"display_name": "Leo"},
        {"display_name": "Leo\x1b", "role": "parent"},
    ],
)
def test_bad_member_input_is_refused_with_a_message(app, therapist_client, family, data):
    """The family's page again, with the message on the field and what was typed kept."""
    response = therapist_client.post(f"/families/{family.id}/members", data=data)
    assert response.status_code == 400
    assert 'class="error"' in response.text and 'aria-invalid="true"' in response.text
    db.session.refresh(family)
    assert len(family.members) == 2


def test_a_family_name_that_is_too_long_is_refused(app, therapist_client):
    response = therapist_client.post("/families/new", data={"name": "x" * 121})
    assert response.status_code == 200
    assert "Please keep it under 120 characters." in response.text
    assert db.session.scalar(select(func.count()).select_from(Family)) == 0


# --- Another therapist's things do not exist for you ------------------------------------------


def test_another_therapists_families_and_sessions_are_not_found(app, other_therapist, family, live):
    end(live)
    intruder = app.test_client()
    sign_in(intruder, other_therapist.email)
    ana = member(family, "Ana")
    for url in [
        f"/families/{family.id}",
        f"/families/{family.id}/sessions/new",
        f"/sessions/{live.id}",
        f"/sessions/{live.id}/qr.svg",
        f"/sessions/{live.id}/display-link",
        f"/sessions/{live.id}/record",
        f"/sessions/{live.id}/export.json",
        f"/sessions/{live.id}/record.pdf",
    ]:
        assert intruder.get(url).status_code == 404, url
    for url, data in [
        (f"/families/{family.id}/rename", {"name": "Mine now"}),
        (f"/families/{family.id}/members", {"display_name": "Spy", "role": "other"}),
        (f"/families/{family.id}/members/{ana.id}", {"display_name": "Spy", "role": "other"}),
        (f"/families/{family.id}/members/{ana.id}/remove", {}),
        (f"/families/{family.id}/delete", {"confirm": "y"}),
        (f"/families/{family.id}/sessions/new", {"agenda-0": f"builtin:{first_builtin_key()}"}),
        (f"/sessions/{live.id}/delete", {"confirm": "y", "reason": "not_needed"}),
        (f"/sessions/{live.id}/notes", {"text": "Not mine to write"}),
    ]:
        assert intruder.post(url, data=data).status_code == 404, url

    db.session.expire_all()
    family = db.session.get(Family, family.id)
    assert family.name == "García family"
    assert [m.display_name for m in family.members] == ["Ana", "Marta"]
    assert db.session.get(LiveSession, live.id) is not None
    assert audit_actions(live.id) == []
    dashboard = intruder.get("/").text
    assert "García" not in dashboard


def test_a_member_of_another_family_cannot_be_edited_through_yours(
    app, therapist, therapist_client
):
    mine = Family(therapist_id=therapist.id, name="Mine")
    theirs = Family(therapist_id=make_therapist("x@clinic.test").id, name="Theirs")
    theirs.members = [FamilyMember(display_name="Kim", role="parent")]
    db.session.add_all([mine, theirs])
    db.session.commit()
    kim = theirs.members[0]
    response = therapist_client.post(
        f"/families/{mine.id}/members/{kim.id}", data={"display_name": "Changed", "role": "other"}
    )
    assert response.status_code == 404
    db.session.refresh(kim)
    assert kim.display_name == "Kim"


# --- Starting a session, its console and QR ----------------------------------------------------


def test_starting_a_session_opens_its_console_with_the_join_code(app, therapist_client, family):
    page = therapist_client.get(f"/families/{family.id}/sessions/new")
    for exercise in builtin_exercises().values():
        assert exercise.title["en"] in text(page)

    key = first_builtin_key()
    response = therapist_client.post(
        f"/families/{family.id}/sessions/new", data={"agenda-0": f"builtin:{key}"}
    )
    live = db.session.scalar(select(LiveSession))
    assert urlsplit(response.headers["Location"]).path == f"/sessions/{live.id}"
    assert live.family_id == family.id and live.exercise_id == key and not live.rehearsal
    db.session.refresh(family)
    assert family.last_agenda == [f"builtin:{key}"]

    console = therapist_client.get(f"/sessions/{live.id}")
    assert console.status_code == 200
    assert store.format_join_code(live.join_code) in console.text
    assert f'data-session-id="{live.id}"' in console.text
    assert f"http://clinic.test/join/{live.join_code}" in console.text
    assert f"http://clinic.test/display/{live.display_token}" in console.text
    assert f"/sessions/{live.id}/qr.svg" in console.text


def test_a_rehearsal_can_be_started(app, therapist_client, family):
    therapist_client.post(
        f"/families/{family.id}/sessions/new",
        data={"agenda-0": f"builtin:{first_builtin_key()}", "rehearsal": "y"},
    )
    assert db.session.scalar(select(LiveSession)).rehearsal


def test_an_unknown_exercise_is_refused(app, therapist_client, family):
    response = therapist_client.post(
        f"/families/{family.id}/sessions/new", data={"agenda-0": "builtin:no-such-exercise"}
    )
    assert response.status_code == 200
    assert "That exercise is not available." in text(response)
    assert db.session.scalar(select(func.count()).select_from(LiveSession)) == 0


def test_the_therapists_own_exercises_can_be_started_too(app, therapist, therapist_client, family):
    own = exercise_to_dict(two_step_exercise())
    broken = {**own, "id": "broken", "steps": []}
    db.session.add_all(
        [
            CustomExercise(therapist_id=therapist.id, slug="test-exercise", data=own),
            CustomExercise(therapist_id=therapist.id, slug="broken", data=broken),
        ]
    )
    db.session.commit()
    page = therapist_client.get(f"/families/{family.id}/sessions/new")
    assert "Being heard" in page.text
    assert 'value="custom:2"' not in page.text

    therapist_client.post(f"/families/{family.id}/sessions/new", data={"agenda-0": "custom:1"})
    live = db.session.scalar(select(LiveSession))
    assert live.exercise_id == "test-exercise"


def test_the_qr_code_is_an_svg_of_the_join_address(app, therapist_client, live):
    response = therapist_client.get(f"/sessions/{live.id}/qr.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Cache-Control"] == "no-store"
    root = ET.fromstring(response.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"

    join_url = f"http://clinic.test/join/{live.join_code}"
    expected = io.BytesIO()
    segno.make(join_url, error="m", micro=False).save(
        expected, kind="svg", scale=8, border=4, dark="#1d2b33", light="#ffffff", xmldecl=True
    )
    assert response.data == expected.getvalue()
    elsewhere = io.BytesIO()
    segno.make("http://clinic.test/join/AAAAAA", error="m", micro=False).save(
        elsewhere, kind="svg", scale=8, border=4, dark="#1d2b33", light="#ffffff", xmldecl=True
    )
    assert response.data != elsewhere.getvalue()


def test_an_ended_session_has_no_qr_and_its_console_leads_to_the_record(
    app, therapist_client, live
):
    end(live)
    assert therapist_client.get(f"/sessions/{live.id}/qr.svg").status_code == 404
    response = therapist_client.get(f"/sessions/{live.id}")
    assert urlsplit(response.headers["Location"]).path == f"/sessions/{live.id}/record"


def test_the_display_link_is_given_to_the_console(app, therapist_client, live):
    response = therapist_client.get(f"/sessions/{live.id}/display-link")
    assert response.get_json() == {
        "display_url": f"http://clinic.test/display/{live.display_token}"
    }


def test_the_dashboard_lists_open_and_ended_sessions(app, therapist, therapist_client, family):
    exercise = two_step_exercise()
    still_open = store.open_session(therapist, exercise, family)
    finished = store.open_session(therapist, exercise, family)
    end(finished)
    page = therapist_client.get("/").text
    assert store.format_join_code(still_open.join_code) in page
    assert f"/sessions/{still_open.id}" in page
    assert f"/sessions/{finished.id}/record" in page


# --- Joining from a phone ----------------------------------------------------------------------


def test_a_phone_asks_to_join_by_code_and_waits_to_be_let_in(app, live, family):
    phone = app.test_client()
    typed = store.format_join_code(live.join_code).lower()
    page = phone.get(f"/join/{typed}")
    assert page.status_code == 200
    # Holding the code tells nobody who is in the family or who the therapist is.
    for name in ("Ana", "Marta", "García", "Dr. Rivera"):
        assert name not in text(page)

    response = phone.post(
        f"/join/{typed}", data={"name": " Ana ", "role": "adolescent", "language": "es"}
    )
    assert urlsplit(response.headers["Location"]).path == f"/s/{live.id}"
    assert "lang=es" in " ".join(response.headers.getlist("Set-Cookie"))
    asking = waiting(live)["Ana"]
    assert (asking.role, asking.language) == ("adolescent", "es")
    assert participants(live) == {}
    with phone.session_transaction() as kept:
        token = kept["participant_tokens"][live.id]
    assert store.participant_for_token(token) == (live, asking.id)
    participant_page = phone.get(f"/s/{live.id}")
    assert participant_page.status_code == 200
    assert f'data-token="{token}"' in participant_page.text

    store.apply(live.id, domain.THERAPIST, domain.Admit(asking.id, member(family, "Ana").id))
    person = participants(live)["Ana"]
    ana = member(family, "Ana")
    assert (person.id, person.member_id, person.language) == (asking.id, ana.id, "es")
    # The same phone opening the link again goes straight back in: it never waits twice.
    again = phone.get(f"/join/{live.join_code}")
    assert urlsplit(again.headers["Location"]).path == f"/s/{live.id}"


def test_someone_not_on_the_family_list_asks_under_their_own_name(app, live):
    phone, response = join_as(app, live, name="  Tío   Luis ", role="other", language="en")
    assert response.status_code == 302
    assert waiting(live)["Tío Luis"].role == "other"
    assert 'data-token="' in phone.get(f"/s/{live.id}").text


def test_nobody_takes_a_members_place_by_typing_their_name(app, live, family):
    let_in_as_member(app, live, family, "Ana")
    _, response = join_as(app, live, name="Ana", role="adolescent")
    # Asking is allowed; being Ana is the therapist's decision, and the member is taken.
    assert response.status_code == 302
    impostor = waiting(live)["Ana"]
    with pytest.raises(domain.DomainError) as refused:
        store.apply(live.id, domain.THERAPIST, domain.Admit(impostor.id, member(family, "Ana").id))
    assert refused.value.code == "member_taken"


def test_with_joining_closed_a_new_phone_is_refused_and_a_known_one_gets_back_in(
    app, live, family
):
    ana = let_in_as_member(app, live, family, "Ana")
    store.apply(live.id, domain.THERAPIST, domain.CloseJoining())
    _, response = join_as(app, live, name="Lee", role="other")
    assert response.status_code == 409
    assert "not taking new people right now" in text(response)
    assert waiting(live) == {}
    assert ana.get(f"/s/{live.id}").status_code == 200
def test_typing_a_code_leads_to_its_join_page(app, live):
    client = app.test_client()
    code = store.format_join_code(live.join_code).lower().replace("-", " ")
    response = client.get("/join", query_string={"code": f" {code} "})
    assert urlsplit(response.headers["Location"]).path == f"/join/{live.join_code}"
    assert client.get("/join").status_code == 200


@pytest.mark.parametrize("code", ["ZZZZZZ", "ACD", "ACD-EFGH", "%20"])
def test_a_wrong_code_is_explained_not_an_error(app, live, code):
    client = app.test_client()
    response = client.get(f"/join/{code}")
    assert response.status_code == 404
    assert NOT_FOUND_MESSAGE in text(response)
    posted = client.post(
        f"/join/{code}", data={"name": "Ana", "role": "adolescent"}
    )
    assert posted.status_code == 404
    assert NOT_FOUND_MESSAGE in text(posted)


def test_a_typed_code_with_no_letters_is_explained(app):
    response = app.test_client().get("/join", query_string={"code": "---"})
    assert response.status_code == 404
    assert NOT_FOUND_MESSAGE in text(response)


def test_the_code_of_an_ended_session_no_longer_works(app, live):
    code = live.join_code
    end(live)
    client = app.test_client()
    assert NOT_FOUND_MESSAGE in text(client.get(f"/join/{code}"))
    posted = app.test_client().post(
        f"/join/{code}", data={"name": "Ana", "role": "adolescent"}
    )
    assert posted.status_code == 404
    assert participants(live) == {}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "x" * 41, "role": "parent"}, "Names can be up to 40 characters."),
        ({"name": "", "role": "parent"}, "Please write your name."),
        ({"name": "Sam", "role": "king"}, "Not a valid choice"),
        ({"name": "Sam", "role": ""}, "Please choose how you are here."),
        ({"name": "Sam", "role": "parent", "language": "fr"}, "Not a valid choice"),
    ],
)
def test_bad_join_input_shows_the_form_again_with_a_message(app, live, fields, message):
    _, response = join_as(app, live, **fields)
    assert response.status_code == 400
    assert message in response.text
    assert waiting(live) == {}


def test_the_participant_page_works_only_in_the_browser_that_joined(app, therapist, live):
    phone, _ = join_as(app, live, name="Sam", role="adolescent")
    assert phone.get(f"/s/{live.id}").status_code == 200

    stranger = app.test_client()
    response = stranger.get(f"/s/{live.id}")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/join"
    assert "data-token" not in stranger.get(f"/s/{live.id}", follow_redirects=True).text

    # Sam's token is for this session only, even if filed under another session's id.
    other_live = store.open_session(therapist, two_step_exercise())
    assert phone.get(f"/s/{other_live.id}").status_code == 302
    with phone.session_transaction() as kept:
        tokens = kept["participant_tokens"]
        kept["participant_tokens"] = {**tokens, other_live.id: tokens[live.id]}
    assert phone.get(f"/s/{other_live.id}").status_code == 302


def test_after_the_session_ends_the_phone_sees_a_closing_page(app, live):
    phone, _ = join_as(app, live, name="Sam", role="adolescent")
    store.apply(live.id, domain.THERAPIST, domain.Admit(waiting(live)["Sam"].id))
    end(live)
    page = phone.get(f"/s/{live.id}")
    assert page.status_code == 200
    assert "The session has ended" in page.text
    assert "data-token" not in page.text


def test_wrong_codes_are_rate_limited_with_a_friendly_page(tmp_path):
    app = build_app(tmp_path, "join-limit", RATELIMIT_ENABLED=True, JOIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        therapist = make_therapist("rivera@clinic.test")
        live = store.open_session(therapist, two_step_exercise())
        code = live.join_code
    phone = app.test_client()
    # Looking up a real code costs nothing: a family on one network all join freely.
    for _ in range(5):
        assert phone.get(f"/join/{code}").status_code == 200
    for _ in range(3):
        assert phone.get("/join/ZZZZZZ").status_code == 404
    refused = phone.get("/join/ZZZZZZ")
    assert refused.status_code == 429
    assert "Too many tries" in refused.text
    assert "Please wait a minute" in refused.text
    # This phone waits a minute; another phone on the same clinic network is not held back.
    assert phone.post(f"/join/{code}", data={"name": "Sam", "role": "other"}).status_code == 429
    other_phone = app.test_client()
    asking = {"name": "Ana", "role": "other", "language": "en"}
    joined = other_phone.post(f"/join/{code}", data=asking)
    assert joined.status_code == 302
    assert other_phone.get("/join/ZZZZZZ").status_code == 404


def test_many_wrong_codes_from_one_address_are_limited_too(tmp_path):
    """A guesser who throws away cookies still meets the (higher) limit of the address."""
    app = build_app(
        tmp_path, "address-limit", RATELIMIT_ENABLED=True, JOIN_ADDRESS_RATE_LIMIT="4 per minute"
    )
    for _ in range(4):
        assert app.test_client().get("/join/ZZZZZZ").status_code == 404
    assert app.test_client().get("/join/ZZZZZZ").status_code == 429


def test_joining_tells_the_therapists_screen_at_once(app, therapist, live):
    """The arrival is broadcast: a connected console receives the new participant."""
    from facilitator.extensions import socketio

    console = app.test_client()
    sign_in(console, therapist.email)
    socket = socketio.test_client(app, flask_test_client=console, auth={"session_id": live.id})
    assert socket.is_connected()
    socket.get_received()
    join_as(app, live, name="Sam", role="adolescent")
    views = [m["args"][0] for m in socket.get_received() if m["name"] == "view"]
    assert views, "the console received no view after the join"
    assert "Sam" in json.dumps(views[-1])
    socket.disconnect()


# --- The room display ----------------------------------------------------------------------


def test_the_room_display_opens_with_its_secret_link_only(app, live):
    screen = app.test_client()
    page = screen.get(f"/display/{live.display_token}")
    assert page.status_code == 200
    assert f'data-display-token="{live.display_token}"' in page.text
    assert store.format_join_code(live.join_code) in page.text
    qr = screen.get(f"/display/{live.display_token}/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"

    assert screen.get("/display/not-the-token").status_code == 404
    assert screen.get("/display/not-the-token/qr.svg").status_code == 404


def test_the_room_display_speaks_the_therapists_language(app, therapist, live):
    therapist.language = "es"
    db.session.commit()
    screen = app.test_client()
    page = screen.get(f"/display/{live.display_token}", headers={"Accept-Language": "en"})
    assert '<html lang="es">' in page.text
    english = screen.get(f"/display/{live.display_token}?lang=en")
    assert '<html lang="en">' in english.text


def test_the_room_display_after_the_session_ends(app, live):
    end(live)
    screen = app.test_client()
    page = screen.get(f"/display/{live.display_token}")
    assert "The session has ended" in page.text
    assert screen.get(f"/display/{live.display_token}/qr.svg").status_code == 404


# --- Records ------------------------------------------------------------------------------------


def held_session(app, live, family) -> dict[str, str]:
    """Ana and Marta join, both answer (Marta for the therapist only), Ana is revealed, a note,
    the end. Returns their participant ids."""
    vocabulary = default_vocabulary()
    feeling, other_feeling = vocabulary.feelings()[0].id, vocabulary.feelings()[1].id
    need = vocabulary.needs()[0].id
    for name in ("Ana", "Marta"):
        let_in_as_member(app, live, family, name)
    ids = {name: p.id for name, p in participants(live).items()}
    store.apply(live.id, domain.THERAPIST, domain.OpenStep(None, None))
    store.apply(
        live.id,
        domain.participant(ids["Ana"]),
        domain.SubmitAnswer(domain.Answer((feeling,), (need,), "Nobody listens to me at dinner.")),
    )
    store.apply(
        live.id,
        domain.participant(ids["Marta"]),
        domain.SubmitAnswer(
            domain.Answer((other_feeling,), (), "I am scared of losing her.", therapist_only=True)
        ),
    )
    store.apply(live.id, domain.THERAPIST, domain.Reveal(ids["Ana"]))
    store.apply(live.id, domain.THERAPIST, domain.AddNote("Ana softened after the reveal."))
    end(live)
    return ids


def test_the_record_reads_as_the_story_of_the_session_and_is_audited(
    app, therapist, therapist_client, live, family
):
    held_session(app, live, family)
    vocabulary = default_vocabulary()
    page = therapist_client.get(f"/sessions/{live.id}/record")
    assert page.status_code == 200
    story = text(page)
    assert "Ana asked to join (Someone else in the family)." in story
    assert "Ana was let in (Adolescent)." in story
    assert "Marta was let in (Parent or caregiver)." in story
    assert "Opened step 1, “Something hard”." in story
    assert vocabulary.label(vocabulary.feelings()[0].id, "en") in story
    assert vocabulary.label(vocabulary.needs()[0].id, "en") in story
    assert "Nobody listens to me at dinner." in story
    assert "I am scared of losing her." in story
    assert "For the therapist only" in story
    assert "Ana's answer was shown to the family." in story
    assert "Ana softened after the reveal." in story
    assert "The session ended." in story
    assert story.index("Ana was let in") < story.index("Opened step 1")
    assert story.index("Opened step 1") < story.index("session ended")
    assert audit_actions(live.id) == ["viewed_record"]
    entry = db.session.scalar(select(AuditEntry))
    assert entry.therapist_id == therapist.id


def test_the_record_is_in_spanish_for_a_spanish_reader(app, therapist_client, live, family):
    held_session(app, live, family)
    vocabulary = default_vocabulary()
    story = text(therapist_client.get(f"/sessions/{live.id}/record?lang=es"))
    assert "Ana entró (Adolescente)." in story
    assert vocabulary.label(vocabulary.feelings()[0].id, "es") in story
    assert "Se mostró a la familia la respuesta de Ana." in story


def test_the_export_holds_the_record_and_final_answers(app, therapist_client, live, family):
    ids = held_session(app, live, family)
    response = therapist_client.get(f"/sessions/{live.id}/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    document = assert_valid_export(response.get_json())
    assert document["format"] == "facilitator-session-record"
    assert document["session"]["family"] == "García family"
    assert {p["name"] for p in document["participants"]} == {"Ana", "Marta"}
    answers = {a["name"]: a for a in document["steps"][0]["answers"]}
    assert answers["Ana"]["text"] == "Nobody listens to me at dinner."
    assert answers["Ana"]["shown_to_family"] is True
    assert answers["Marta"]["therapist_only"] is True
    assert answers["Marta"]["shown_to_family"] is False
    assert answers["Ana"]["participant"] == ids["Ana"]
    assert document["timeline"][0]["type"] == "session_opened"
    assert document["notes"] == [{"text": "Ana softened after the reveal.", "part": 1, "step": 0}]
    assert document["version"] == 2
    assert [p["exercise"] for p in document["session"]["agenda"]] == [live.exercise_id]
    assert document["steps"][0]["part"] == 1
    assert audit_actions(live.id) == ["exported"]


def test_deleting_a_session_needs_confirmation_and_leaves_the_audit_trail(
    app, therapist, therapist_client, live, family
):
    held_session(app, live, family)
    therapist_client.post(f"/sessions/{live.id}/delete", data={"reason": "family_request"})
    assert db.session.get(LiveSession, live.id) is not None

    response = therapist_client.post(
        f"/sessions/{live.id}/delete", data={"reason": "family_request", "confirm": "y"}
    )
    assert urlsplit(response.headers["Location"]).path == "/"
    db.session.expire_all()
    assert db.session.get(LiveSession, live.id) is None
    assert store.record_of(live) == []
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "deleted"))
    assert (entry.therapist_id, entry.session_id, entry.detail) == (
        therapist.id,
        live.id,
        "family_request",
    )
    assert therapist_client.get(f"/sessions/{live.id}/record").status_code == 404


def test_an_open_session_is_not_deleted_from_its_record(app, therapist_client, live):
    response = therapist_client.post(
        f"/sessions/{live.id}/delete", data={"reason": "not_needed", "confirm": "y"}
    )
    assert response.status_code == 302
    assert db.session.get(LiveSession, live.id) is not None
    page = therapist_client.get(f"/sessions/{live.id}/record")
    assert "This session is still open." in page.text


def test_an_unknown_deletion_reason_is_refused(app, therapist_client, live):
    end(live)
    therapist_client.post(f"/sessions/{live.id}/delete", data={"reason": "<b>", "confirm": "y"})
    assert db.session.get(LiveSession, live.id) is not None


def test_a_rehearsal_record_says_nothing_was_kept(app, therapist, therapist_client):
    rehearsal = store.open_session(therapist, two_step_exercise(), rehearsal=True)
    end(rehearsal)
    story = text(therapist_client.get(f"/sessions/{rehearsal.id}/record"))
    assert "This was a rehearsal: nothing was recorded." in story


# --- Languages ----------------------------------------------------------------------------------


def test_pages_are_in_spanish_when_asked_and_stay_so(app):
    client = app.test_client()
    page = client.get("/login?lang=es")
    assert '<html lang="es">' in page.text
    assert "Iniciar sesión" in page.text
    assert "lang=es" in page.headers["Set-Cookie"]
    assert "Iniciar sesión" in client.get("/login").text  # remembered by the cookie
    assert "Sign in" in client.get("/login?lang=en").text
    assert '<html lang="en">' in client.get("/login").text


def test_an_unknown_language_is_ignored(app):
    page = app.test_client().get("/login?lang=xx")
    assert '<html lang="en">' in page.text
    assert "lang=xx" not in " ".join(page.headers.getlist("Set-Cookie"))


def test_the_browsers_language_is_used_when_nothing_else_was_chosen(app):
    client = app.test_client()
    page = client.get("/join", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert "Unirse a una sesión" in page.text
    page = client.get("/join", headers={"Accept-Language": "de-DE"})
    assert "Join a session" in page.text


def test_a_spanish_speaking_therapist_gets_spanish_pages(app):
    therapist = make_therapist("lopez@clinic.test", name="Dra. López")
    therapist.language = "es"
    db.session.commit()
    client = app.test_client()
    sign_in(client, therapist.email)
    assert "Hola, Dra. López" in client.get("/").text


def test_form_messages_are_translated(app, live):
    phone = app.test_client()
    response = phone.post(
        f"/join/{live.join_code}?lang=es", data={"name": "", "role": "parent"}
    )
    assert "Escribe tu nombre." in response.text
    response = phone.post("/join/ZZZZZZ?lang=es", data={})
    assert "No encontramos ninguna sesión abierta con ese código." in response.text


def test_every_string_of_the_pages_has_a_spanish_translation(tmp_path):
    """Extracted afresh from the code and templates, so a new English string without its
    Spanish one fails here rather than showing up untranslated on a parent's screen."""
    import subprocess
    import sys

    from babel.messages.pofile import read_po

    extracted = tmp_path / "messages.pot"
    extract = ["extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "--no-location"]
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", *extract, "-o", str(extracted), "."],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    with extracted.open("rb") as pot:
        wanted = {m.id for m in read_po(pot) if m.id}
    with open(PROJECT_ROOT / "translations/es/LC_MESSAGES/messages.po", "rb") as po:
        catalog = read_po(po)
    translated = {
        m.id
        for m in catalog
        if m.id and not m.fuzzy and m.string and (not isinstance(m.string, tuple) or all(m.string))
    }
    assert len(wanted) > 200
    assert sorted(map(str, wanted - translated)) == []


# --- Headers, errors and templates ------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["br", "gzip"])
@pytest.mark.parametrize("url", ["/static/css/live.css", "/vocabulary/es.json"])
def test_what_every_phone_downloads_is_compressed(app, url, encoding):
    import gzip
    import zlib

    import brotli

    client = app.test_client()
    plain = client.get(url).get_data()
    # gzip is offered only where a whole body is compressed at once; a file streamed from disk
    # gets brotli, zstd or deflate.
    response = client.get(url, headers={"Accept-Encoding": f"{encoding}, deflate"})
    assert response.status_code == 200
    chosen = response.headers["Content-Encoding"]
    assert chosen in (encoding, "deflate")
    body = response.get_data()
    unpacked = {"br": brotli.decompress, "gzip": gzip.decompress, "deflate": zlib.decompress}[
        chosen
    ](body)
    assert unpacked == plain
    assert len(body) < len(plain) / 2
    assert "Accept-Encoding" in response.headers["Vary"]


def test_pages_with_tokens_are_never_compressed(app, therapist, therapist_client):
    """A page holding a token next to text someone typed is sent as it is (BREACH)."""
    live = store.open_session(therapist, two_step_exercise())
    phone, _ = join_as(app, live, name="Sam <b>", role="adolescent")
    pages = [
        (app.test_client(), "/login"),
        (app.test_client(), "/join"),
        (phone, f"/s/{live.id}"),
        (therapist_client, f"/sessions/{live.id}"),
        (therapist_client, "/exercises/new"),
    ]
    for client, url in pages:
        response = client.get(url, headers={"Accept-Encoding": "br, zstd, gzip, deflate"})
        assert response.status_code == 200, url
        assert "Content-Encoding" not in response.headers, url
    assert 'data-token="' in phone.get(f"/s/{live.id}").text


@pytest.mark.parametrize("url", ["/login", "/join", "/no-such-page"])
def test_every_page_has_the_security_headers(app, url):
    response = app.test_client().get(url)
    assert response.headers["Content-Security-Policy"] == EXPECTED_CSP == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    permissions = response.headers["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in permissions
    assert response.headers["Cache-Control"] == "no-store"


def test_templates_have_no_inline_scripts_or_styles():
    for path in (PROJECT_ROOT / "templates").rglob("*.html"):
        html = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"<[^>]*\sstyle\s*=", html), path
        assert not re.search(r"<[^>]*\son[a-z]+\s*=", html), path
        assert "<style" not in html, path


def test_pages_built_for_people_have_no_inline_scripts_or_styles(
    app, therapist_client, family, live
):
    for url in [
        "/",
        f"/families/{family.id}",
        f"/families/{family.id}/sessions/new",
        f"/sessions/{live.id}",
        f"/sessions/{live.id}/record",
        f"/join/{live.join_code}",
        f"/display/{live.display_token}",
    ]:
        page = therapist_client.get(url).text
        scripts = re.findall(r"<script\b[^>]*>", page)
        assert all(re.search(r'\ssrc="/static/', tag) for tag in scripts), (url, scripts)
        assert 'style="' not in page, url


def test_a_missing_page_is_friendly(app):
    response = app.test_client().get("/families/12345")
    assert response.status_code in (302, 404)
    page = app.test_client().get("/nowhere")
    assert page.status_code == 404
    assert "Page not found" in page.text


def test_an_unexpected_failure_shows_a_calm_page_without_details(tmp_path):
    app = build_app(tmp_path, "failing", PROPAGATE_EXCEPTIONS=False)

    @app.route("/fails")
    def fails():
        raise RuntimeError("secret internal detail")

    response = app.test_client().get("/fails")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text


def test_old_sessions_are_listed_by_when_they_ended(app, therapist, therapist_client):
    older = store.open_session(therapist, two_step_exercise())
    newer = store.open_session(therapist, two_step_exercise())
    end(older)
    end(newer)
    db.session.get(LiveSession, older.id).ended_at = utcnow() - timedelta(days=2)
    db.session.commit()
    page = therapist_client.get("/").text
    assert page.index(f"/sessions/{newer.id}/record") < page.index(f"/sessions/{older.id}/record")
