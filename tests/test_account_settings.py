"""The therapist's settings: a time zone for the times on their pages, and the crisis information
each phone's help screen shows, in every language, with a default when they wrote none."""

from __future__ import annotations

import html
import re
from datetime import datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text, update

from facilitator import create_app
from facilitator.config import PROJECT_ROOT
from facilitator.domain import session as domain
from facilitator.extensions import db
from facilitator.store import live as store
from facilitator.store.models import LiveSession, SessionEvent, Therapist
from facilitator.timezones import server_time_zone, time_zone_choices
from facilitator.web.forms import CRISIS_INFO_MAX_LENGTH
from tests.conftest import make_therapist
from tests.factories import two_step_exercise
from tests.record_schema import assert_valid_export
from tests.test_scaling import postgres_url  # noqa: F401  (the fixture)

DEFAULT_EN = "If you or someone else is in danger right now, call the emergency number"
DEFAULT_ES = "Si tú u otra persona están en peligro ahora mismo, llama al número de emergencias"
CLINIC_EN = "Call the Rivera clinic: 555 0100 (8 am to 8 pm).\nAt night: 911."
CLINIC_ES = "Llama a la clínica Rivera: 555 0100 (de 8 a 20 h).\nDe noche: 911."


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def settings(**fields) -> dict[str, str]:
    return {"time_zone": "UTC", "crisis_info_en": "", "crisis_info_es": "", **fields}


def saved(therapist_id: int = 1) -> Therapist:
    therapist = db.session.get(Therapist, therapist_id)
    db.session.refresh(therapist)
    return therapist


# --- The settings form -------------------------------------------------------------------------


def test_a_therapist_chooses_a_time_zone_and_writes_the_crisis_information(therapist_client):
    page = page_text(therapist_client.get("/account"))
    # Until they choose, the server's zone is selected, and the default text is quoted.
    assert re.search(r'<option selected value="UTC">UTC</option>', page)
    assert '<option value="America/Mexico_City">Mexico (Mexico City)</option>' in page
    assert f"Left empty, phones in this language show: “{DEFAULT_EN}" in page
    assert f"Left empty, phones in this language show: “{DEFAULT_ES}" in page

    response = therapist_client.post(
        "/account/settings",
        data=settings(
            time_zone="America/Mexico_City",
            crisis_info_en="  " + CLINIC_EN.replace("\n", "\r\n") + "\r\n\r\n",
            crisis_info_es=CLINIC_ES + "\tok",
        ),
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account#settings")
    therapist = saved()
    assert therapist.time_zone == "America/Mexico_City"
    # Line breaks arrive as one kind and blank margins go; tabs are kept.
    assert therapist.crisis_info == {"en": CLINIC_EN, "es": CLINIC_ES + "\tok"}
    assert therapist.language == "en", "the language setting is its own form"

    page = page_text(therapist_client.get("/account"))
    assert "Saved." in page
    assert '<option selected value="America/Mexico_City">' in page
    assert CLINIC_EN in page

    # Emptying a language goes back to the default text for it.
    therapist_client.post(
        "/account/settings", data=settings(time_zone="Europe/Madrid", crisis_info_es=CLINIC_ES)
    )
    assert saved().crisis_info == {"es": CLINIC_ES}
    assert saved().time_zone == "Europe/Madrid"


def test_the_language_form_still_sets_the_language_only(therapist_client):
    therapist_client.post("/account/settings", data=settings(crisis_info_en=CLINIC_EN))
    response = therapist_client.post("/account", data={"language": "es"})
    assert response.status_code == 302
    assert saved().language == "es"
    assert saved().crisis_info == {"en": CLINIC_EN}


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus_Mons", "", "Etc/GMT+6", "US/Central", "localtime", "utc", "x" * 500]
)
def test_a_zone_that_is_not_on_the_list_is_refused_and_nothing_changes(therapist_client, zone):
    therapist_client.post(
        "/account/settings", data=settings(time_zone="Asia/Tokyo", crisis_info_en=CLINIC_EN)
    )
    response = therapist_client.post(
        "/account/settings", data=settings(time_zone=zone, crisis_info_en="Something else")
    )
    assert response.status_code == 400
    page = page_text(response)
    assert "Please choose a time zone from the list." in page
    # What was typed is shown again, to fix rather than retype.
    assert "Something else" in page
    assert saved().time_zone == "Asia/Tokyo"
    assert saved().crisis_info == {"en": CLINIC_EN}


def test_crisis_information_longer_than_the_limit_is_refused(therapist_client):
    at_limit = "a" * CRISIS_INFO_MAX_LENGTH
    assert therapist_client.post("/account/settings", data=settings(crisis_info_es=at_limit))
    assert saved().crisis_info == {"es": at_limit}

    response = therapist_client.post(
        "/account/settings", data=settings(crisis_info_es=at_limit + "b")
    )
    assert response.status_code == 400
    assert f"Please keep it under {CRISIS_INFO_MAX_LENGTH} characters." in page_text(response)
    assert saved().crisis_info == {"es": at_limit}
    assert f'maxlength="{CRISIS_INFO_MAX_LENGTH}"' in page_text(therapist_client.get("/account"))


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Call us\x00", "U+0000"),
        ("Call \x07us", "U+0007"),
        ("Call us\x1b[31m", "U+001B"),
        ("Call us\u2028now", "U+2028"),
        ("Call\x85us", "U+0085"),
        # What a browser sends in place of a lone surrogate or of bytes that were not text.
        ("Call us \ufffd", "U+FFFD"),
        ("Call us \uffff", "U+FFFF"),
    ],
)
def test_crisis_information_with_characters_a_phone_cannot_show_is_refused(
    therapist_client, typed, code
):
    response = therapist_client.post("/account/settings", data=settings(crisis_info_en=typed))
    assert response.status_code == 400
    assert f"This text has a character that can't be shown ({code})." in page_text(response)
    assert saved().crisis_info == {}


def test_the_settings_speak_spanish_to_a_spanish_speaking_therapist(therapist_client):
    page = page_text(therapist_client.get("/account?lang=es"))
    assert "Zona horaria" in page
    assert '<option value="America/Mexico_City">México (Ciudad de México)</option>' in page
    response = therapist_client.post("/account/settings?lang=es", data=settings(time_zone="?"))
    assert "Elige una zona horaria de la lista." in page_text(response)
    response = therapist_client.post(
        "/account/settings?lang=es", data=settings(crisis_info_en="\x00")
    )
    assert "Este texto tiene un carácter que no se puede mostrar (U+0000)." in page_text(response)


def test_settings_need_a_signed_in_therapist(app):
    response = app.test_client().post("/account/settings", data=settings())
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_every_zone_offered_is_named_and_the_list_starts_with_utc():
    for language in ("en", "es"):
        choices = time_zone_choices(language)
        assert choices[0] == ("UTC", "UTC")
        assert len(choices) > 300
        labels = [label for _, label in choices]
        assert all(labels), "a zone without a name"
        assert len(set(labels)) == len(labels), "two zones read the same"


@pytest.mark.parametrize(
    ("tz", "expected"),
    [
        ("America/Bogota", "America/Bogota"),
        (":Europe/Madrid", "Europe/Madrid"),
        ("Etc/UTC", "UTC"),
        ("Nowhere/Land", "UTC"),
    ],
)
def test_the_default_zone_is_the_servers_own(monkeypatch, tz, expected):
    monkeypatch.setenv("TZ", tz)
    assert server_time_zone() == expected


# --- Times in the therapist's zone -------------------------------------------------------------


def session_held_at(therapist, family, opened: datetime, ended: datetime) -> LiveSession:
    """A session held at given UTC times (naive, as stored): Ana joins, a step opens, the end."""
    live = store.open_session(therapist, two_step_exercise(), family)
    ana = next(iter(family.members))
    store.apply(live.id, domain.GUEST, domain.AskToJoin("ana", "Ana", "adolescent", "en"))
    store.apply(live.id, domain.THERAPIST, domain.Admit("ana", ana.id))
    store.apply(live.id, domain.THERAPIST, domain.OpenStep(None, None))
    store.apply(live.id, domain.THERAPIST, domain.End())
    db.session.execute(
        update(SessionEvent).where(SessionEvent.session_id == live.id).values(at=opened)
    )
    live = db.session.get(LiveSession, live.id)
    live.created_at, live.ended_at = opened, ended
    db.session.commit()
    return live


def test_record_and_dashboard_times_are_in_the_therapists_zone(therapist, therapist_client, family):
    # 03:05 UTC on 2 December is still the evening of 1 December in Mexico City (UTC-6).
    live = session_held_at(
        therapist, family, datetime(2026, 12, 2, 3, 5), datetime(2026, 12, 2, 4, 10)
    )
    utc_record = page_text(therapist_client.get(f"/sessions/{live.id}/record"))
    assert "Dec 2, 2026, 3:05\u202fAM" in utc_record
    assert "in your time zone: UTC." in utc_record

    therapist_client.post("/account/settings", data=settings(time_zone="America/Mexico_City"))
    record = page_text(therapist_client.get(f"/sessions/{live.id}/record"))
    assert "Dec 1, 2026, 9:05\u202fPM" in record  # opened
    assert "Dec 1, 2026, 10:10\u202fPM" in record  # ended
    assert re.search(r'<time datetime="2026-12-02T03:05:00Z">9:05\u202fPM</time>', record)
    assert ">3:05" not in record and " 3:05" not in record
    assert "in your time zone: Mexico (Mexico City). The export gives them in UTC." in record

    dashboard = page_text(therapist_client.get("/"))
    assert "Dec 1, 2026, 10:10\u202fPM" in dashboard
    family_page = page_text(therapist_client.get(f"/families/{family.id}"))
    assert "Dec 1, 2026, 9:05\u202fPM" in family_page

    spanish = page_text(therapist_client.get(f"/sessions/{live.id}/record?lang=es"))
    assert "1 dic 2026, 21:05" in spanish
    assert "en tu zona horaria: México (Ciudad de México)." in spanish

    # The export keeps its shape, in UTC, and says so.
    document = assert_valid_export(
        therapist_client.get(f"/sessions/{live.id}/export.json").get_json()
    )
    assert document["time_zone"] == "UTC"
    assert document["session"]["opened_at"] == "2026-12-02T03:05:00Z"
    assert document["session"]["ended_at"] == "2026-12-02T04:10:00Z"
    assert {line["at"] for line in document["timeline"]} == {"2026-12-02T03:05:00Z"}


def test_each_therapist_reads_times_in_their_own_zone(app, therapist, family):
    from tests.conftest import sign_in

    live = session_held_at(
        therapist, family, datetime(2026, 7, 1, 12, 0), datetime(2026, 7, 1, 13, 0)
    )
    therapist.time_zone = "Europe/Madrid"  # summer time there: UTC+2
    db.session.commit()
    madrid = app.test_client()
    sign_in(madrid, therapist.email)
    assert "Jul 1, 2026, 2:00\u202fPM" in page_text(madrid.get(f"/sessions/{live.id}/record"))

    other = make_therapist("okafor@clinic.test", name="Dr. Okafor")
    other.time_zone = "America/Mexico_City"
    db.session.commit()
    mexico = app.test_client()
    sign_in(mexico, other.email)
    # Dr. Okafor's zone does not leak into Dr. Rivera's pages, nor the other way round.
    assert "Jul 1, 2026, 2:00\u202fPM" in page_text(madrid.get(f"/sessions/{live.id}/record"))
    assert mexico.get(f"/sessions/{live.id}/record").status_code == 404


# --- The phone's help screen -------------------------------------------------------------------


@pytest.fixture
def live(app, therapist, family) -> LiveSession:
    return store.open_session(therapist, two_step_exercise(), family)


def phone_page(app, live: LiveSession, language: str) -> str:
    phone = app.test_client()
    response = phone.post(
        f"/join/{live.join_code}",
        data={"name": f"Sam {language}", "role": "other", "language": language},
    )
    assert response.status_code == 302, response.data
    page = phone.get(f"/s/{live.id}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def help_section(page: str, language: str) -> tuple[str, bool]:
    """The help screen's text in one language, and whether it is the one shown."""
    match = re.search(
        rf'<section class="help-body" lang="{language}" data-help-language="{language}"'
        rf"(?P<hidden> hidden)?>(?P<body>.*?)</section>",
        page,
        re.S,
    )
    assert match, f"no help screen in {language}"
    return html.unescape(match.group("body")), match.group("hidden") is None


def test_every_phone_carries_the_default_help_screen_in_each_language(app, live):
    for language, default, title, close in [
        ("en", DEFAULT_EN, "If you need help", "Close"),
        ("es", DEFAULT_ES, "Si necesitas ayuda", "Cerrar"),
    ]:
        page = phone_page(app, live, language)
        assert '<dialog id="help-screen"' in page
        assert 'id="help-button"' in page
        assert "build/phone-help.js" in page
        body, shown = help_section(page, language)
        assert shown, "the phone's own language is the one shown"
        assert default in body and title in body and close in body
        # The other language is in the page too, for a phone that switches mid-session.
        other = "es" if language == "en" else "en"
        other_body, other_shown = help_section(page, other)
        assert not other_shown
        assert (DEFAULT_ES if other == "es" else DEFAULT_EN) in other_body


def test_a_phone_shows_the_therapists_own_crisis_information(app, therapist, live):
    therapist.crisis_info = {"en": CLINIC_EN + " <b>now</b>", "es": CLINIC_ES}
    db.session.commit()
    page = phone_page(app, live, "es")
    body, _ = help_section(page, "es")
    assert CLINIC_ES in body
    assert DEFAULT_ES not in body
    body, _ = help_section(page, "en")
    assert CLINIC_EN + " <b>now</b>" in body
    # Plain text: what the therapist typed never becomes markup.
    assert "&lt;b&gt;now&lt;/b&gt;" in page
    assert "<b>now</b>" not in page


def test_a_language_the_therapist_left_empty_gets_the_default_and_their_other_text(
    app, therapist, live
):
    therapist.crisis_info = {"en": CLINIC_EN}
    db.session.commit()
    body, _ = help_section(phone_page(app, live, "es"), "es")
    assert DEFAULT_ES in body
    assert "Tu terapeuta también escribió:" in body
    assert f'<p class="crisis-info" lang="en">{CLINIC_EN}</p>' in body
    # English phones read the therapist's own text alone.


def test_a_rehearsal_stand_ins_phone_has_the_help_screen(app, therapist, therapist_client):
    therapist.crisis_info = {"en": CLINIC_EN}
    db.session.commit()
    from facilitator.domain.exercises import builtin_exercises

    key = f"builtin:{next(iter(builtin_exercises()))}"
    response = therapist_client.post("/rehearse", data={"exercise": key})
    session_id = response.headers["Location"].rsplit("/", 1)[-1]
    live = db.session.get(LiveSession, session_id)
    stand_in = next(iter(store.load_state(live).participants))
    page = page_text(therapist_client.get(f"/rehearse/{session_id}/phone/{stand_in}"))
    body, shown = help_section(page, "en")
    assert shown and CLINIC_EN in body
    assert "build/phone-help.js" in page


# --- The migration -----------------------------------------------------------------------------


def migrated_app(database_url: str, tmp_path):
    return create_app(
        {
            "INSTANCE_PATH": tmp_path / "instance",
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SOCKETIO_ASYNC_MODE": "threading",
            "RATELIMIT_ENABLED": False,
        }
    )


def check_migration_keeps_therapists(database_url: str, tmp_path) -> None:
    app = migrated_app(database_url, tmp_path)
    migrations = str(PROJECT_ROOT / "migrations")
    with app.app_context():
        upgrade(directory=migrations, revision="0001")
        db.session.execute(
            text(
                "INSERT INTO therapists (email, name, password_hash, language, created_at) "
                "VALUES ('rivera@clinic.test', 'Dr. Rivera', 'x', 'es', '2026-11-30 10:00:00')"
            )
        )
        db.session.commit()
        # Up to the newest schema, which the model describes.
        upgrade(directory=migrations, revision="head")
        therapist = db.session.scalar(select(Therapist))
        assert (therapist.name, therapist.language) == ("Dr. Rivera", "es")
        assert therapist.time_zone is None
        assert therapist.crisis_info == {}
        therapist.crisis_info = {"es": CLINIC_ES}
        db.session.commit()
        db.session.remove()
        downgrade(directory=migrations, revision="0001")
        names = db.session.execute(text("SELECT name, language FROM therapists")).all()
        assert names == [("Dr. Rivera", "es")]
        db.session.remove()
        db.engine.dispose()


def test_the_migration_keeps_every_therapist_on_sqlite(tmp_path):
    check_migration_keeps_therapists(f"sqlite:///{tmp_path / 'old.sqlite3'}", tmp_path)


def test_the_migration_keeps_every_therapist_on_postgresql(postgres_url, tmp_path):  # noqa: F811
    check_migration_keeps_therapists(postgres_url, tmp_path)
