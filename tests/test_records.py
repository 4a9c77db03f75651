"""A session's record afterwards: the PDF for the clinical file, the export's schema, notes
written after the session, and the therapist's own audit log."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from facilitator.domain import session as domain
from facilitator.domain.vocabulary import default_vocabulary
from facilitator.extensions import db
from facilitator.store import live as store
from facilitator.store.models import AuditEntry, Family, FamilyMember, LiveSession, SessionEvent
from facilitator.web.audit_log import ACTION_LABELS
from facilitator.web.record_pdf import printable
from tests.conftest import IN_CI, make_therapist, sign_in
from tests.factories import requests_exercise, two_step_exercise
from tests.realtime_helpers import let_in
from tests.record_schema import assert_valid_export, schema_errors
from tests.test_web import audit_actions, join_as, let_in_as_member, text, waiting

ARTIFACTS = Path(__file__).parent / "artifacts"
# What the family typed, in the words and characters people use.
ANA_WORDS = "¿Por qué nadie me escucha en la cena? Mañana sí 😀"
ANA_FIRST_WORDS = "Nadie me escucha."
MARTA_HEARD = "Oíste que en la cena te sientes sola, ¿verdad?"
ANA_CLARIFIES = "Más bien ignorada, no sola."
ANA_REQUEST = "¿Puedo salir el sábado con mis amigas?"
MARTA_REPLY = "si vuelves a las diez"
NOTE_DURING = "Ana se relajó después de la reflexión."
NOTE_AFTER = "Llamar a la escuela el lunes; revisar el acuerdo del sábado."
# The session happened on another day than today, in the therapist's zone (UTC-6).
SESSION_START = datetime(2026, 11, 20, 18, 0)
ZONE = "America/Mexico_City"


@pytest.fixture
def family(app, therapist) -> Family:
    family = Family(therapist_id=therapist.id, name="Familia Núñez")
    family.members = [
        FamilyMember(display_name="Ana", role="adolescent"),
        FamilyMember(display_name="Marta", role="parent"),
    ]
    db.session.add(family)
    db.session.commit()
    return family


@pytest.fixture
def held(app, therapist, family) -> dict:
    """A whole session of three exercises (the third taken off the agenda) with every kind of
    event: people let in, turned away and removed; answers, changes, passes and private ones;
    reveals, a skip, a reflect-back and its answer, a reply to a request, shared ground;
    a break, a pause, a request to talk alone; notes. Times are then set to a known day."""
    therapist.time_zone = ZONE
    db.session.commit()
    live = store.open_session(
        therapist, [two_step_exercise(), requests_exercise(), two_step_exercise()], family
    )
    vocabulary = default_vocabulary()
    feelings = [f.id for f in vocabulary.feelings()[:3]]
    needs = [n.id for n in vocabulary.needs()[:2]]

    def by(pid, command):
        return store.apply(live.id, domain.participant(pid), command)

    def therapist_does(command):
        return store.apply(live.id, domain.THERAPIST, command)

    def here():
        state = store.load_state(db.session.get(LiveSession, live.id))
        return (state.round.part_id, state.round.step_index) if state.round else (None, None)

    let_in_as_member(app, live, family, "Ana")
    let_in_as_member(app, live, family, "Marta")
    join_as(app, live, name="Pepe", role="other")
    therapist_does(domain.Admit(waiting(live)["Pepe"].id))
    join_as(app, live, name="Desconocido", role="other")
    therapist_does(domain.TurnAway(waiting(live)["Desconocido"].id))
    therapist_does(domain.CloseJoining())
    state = store.load_state(db.session.get(LiveSession, live.id))
    ids = {p.name: p.id for p in state.participants.values()}
    ana, marta, pepe = ids["Ana"], ids["Marta"], ids["Pepe"]
    therapist_does(domain.SkipExercise(3))

    # Exercise 1, step 1: everyone answers, each reveal is reflected back.
    therapist_does(domain.OpenStep(None, None))
    by(ana, domain.SubmitAnswer(domain.Answer((feelings[0],), (needs[0],), ANA_FIRST_WORDS)))
    by(ana, domain.SubmitAnswer(domain.Answer((feelings[0],), (needs[0],), ANA_WORDS)))
    by(marta, domain.SubmitAnswer(domain.Answer((feelings[1],), (needs[0], needs[1]), "Cansada.")))
    by(pepe, domain.PassStep())
    by(ana, domain.RequestBreak())
    therapist_does(domain.Pause())
    therapist_does(domain.Resume())
    by(marta, domain.RequestTalkAlone())
    therapist_does(domain.Reveal(ana, marta))
    by(marta, domain.SubmitFollowUp(MARTA_HEARD))
    therapist_does(domain.RevealFollowUp())
    by(ana, domain.ConfirmReflection("partly", ANA_CLARIFIES))
    therapist_does(domain.Reveal(marta, ana))
    therapist_does(domain.Reveal(pepe))
    therapist_does(domain.RevealSharedGround())
    therapist_does(domain.AddNote(NOTE_DURING))

    # Exercise 1, step 2: a check-out; Marta writes for the therapist only, her turn skipped.
    therapist_does(domain.OpenStep(*here()))
    by(ana, domain.SubmitAnswer(domain.Answer((feelings[2],))))
    by(marta, domain.SubmitAnswer(domain.Answer((feelings[1],), therapist_only=True)))
    therapist_does(domain.Remove(pepe))
    therapist_does(domain.Reveal(ana))
    therapist_does(domain.Skip(marta))

    # Exercise 2: a request and its reply.
    therapist_does(domain.OpenStep(*here()))
    by(ana, domain.SubmitAnswer(domain.Answer((), (needs[1],), request=ANA_REQUEST)))
    by(marta, domain.SubmitAnswer(domain.Answer((), (needs[0],), request="Que me avises.")))
    therapist_does(domain.Reveal(ana, marta))
    by(marta, domain.SubmitFollowUp(MARTA_REPLY, "yes_if"))
    therapist_does(domain.RevealFollowUp())
    therapist_does(domain.End())

    # A minute apart from the start of a day in November.
    live = db.session.get(LiveSession, live.id)
    events = store.record_of(live)
    for minute, event in enumerate(events):
        event.at = SESSION_START + timedelta(minutes=minute)
    live.created_at = SESSION_START
    live.ended_at = events[-1].at
    db.session.commit()
    return {"live": live, "ids": ids, "feelings": feelings, "needs": needs, "events": events}


def add_note_afterwards(client, live, words: str):
    return client.post(f"/sessions/{live.id}/notes", data={"text": words})


def download_pdf(client, live, language: str = "en") -> tuple[bytes, PdfReader]:
    response = client.get(f"/sessions/{live.id}/record.pdf?lang={language}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Content-Disposition"].endswith('.pdf"')
    return response.data, PdfReader(io.BytesIO(response.data))


def page_words(response) -> str:
    """A web page's words as a person reads them: no tags, single spaces."""
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split()).replace(" :", ":")


def words_of(page) -> str:
    """A page's text with its line breaks and runs of spaces made single spaces."""
    return " ".join(page.extract_text().split())


def flat(value: str) -> str:
    return " ".join(value.split())


def render_pages(pdf: bytes, name: str) -> list[Path]:
    """The PDF's pages as PNG images in tests/artifacts, to look at."""
    if shutil.which("pdftoppm") is None:
        if IN_CI:
            pytest.fail("pdftoppm (poppler-utils) is needed to render the PDF (CI must have it)")
        pytest.skip("pdftoppm (Debian poppler-utils) is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    source = ARTIFACTS / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "80", "-png", str(source), str(ARTIFACTS / name)],
        check=True,
        timeout=60,
    )
    return sorted(ARTIFACTS.glob(f"{name}-*.png"))


# --- The PDF --------------------------------------------------------------------------------


def test_the_pdf_holds_the_whole_session_in_the_therapists_zone_with_every_page_marked(
    app, therapist, therapist_client, held
):
    live, vocabulary = held["live"], default_vocabulary()
    response = add_note_afterwards(therapist_client, live, NOTE_AFTER)
    assert response.status_code == 302
    pdf, reader = download_pdf(therapist_client, live)

    pages = [words_of(page) for page in reader.pages]
    count = len(pages)
    assert count >= 2
    for number, page in enumerate(pages, start=1):
        assert "Session record · Familia Núñez" in page, number
        assert "November 20, 2026" in page, number
        assert f"Page {number} of {count}" in page, number
        assert "Confidential: therapy record" in page, number
    whole = " ".join(pages)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "record.txt").write_text("\n\n".join(pages), encoding="utf-8")

    # The cover: family, agenda, times in the therapist's zone (18:00 UTC is noon there).
    assert "Nov 20, 2026, 12:00 PM" in whole
    assert "In your time zone: Mexico (Mexico City)." in whole
    assert "Therapist Dr. Rivera" in whole and "This PDF Made " in whole
    assert (
        "Ana (Adolescent), Marta (Parent or caregiver), Pepe (Someone else in the family, "
        "removed by the therapist)"
    ) in whole

    # Each exercise of the agenda, and each of its steps.
    assert "Exercise 1 of 3: Being heard (done)" in whole
    assert "Exercise 2 of 3: Requests (done)" in whole
    assert "Exercise 3 of 3: Being heard (taken off the agenda)" in whole
    assert whole.count("Step 1: Something hard") == 2
    assert "Step 2: Check-out" in whole
    assert "Step 1: A request" in whole
    assert "Not opened in this session." in whole

    # Every answer: who, when, feelings and needs in the therapist's language, the words.
    assert flat(ANA_WORDS) in whole and "😀" in whole and "ñ" in whole and "¿" in whole
    assert "Ana · 12:" in whole
    assert "Changed after it was first sent at 12:13 PM." in whole
    assert vocabulary.label(held["feelings"][0], "en") in whole
    assert vocabulary.label(held["needs"][1], "en") in whole
    assert "Pepe · " in whole and "[Passed]" in whole
    assert "Marta · " in whole and "[For the therapist only]" in whole
    assert flat(ANA_REQUEST) in whole

    # Turns in order, "not shared" ones told apart for the therapist; what followed them.
    first = whole.index("1. Ana: shown to the family")
    assert first < whole.index("2. Marta: shown to the family")
    assert whole.index("2. Marta: shown to the family") < whole.index(
        "3. Pepe: not shared (a pass or for the therapist only)"
    )
    assert "2. Marta: not shared (the therapist skipped the turn)" in whole
    assert "What Marta heard " + flat(MARTA_HEARD) in whole
    assert "Ana answered “Partly.” " + flat(ANA_CLARIFIES) in whole
    assert "What Ana heard" not in whole  # asked, never sent
    assert "Ana (no response sent)" in whole
    assert "Marta replied to the request yes, if… — " + MARTA_REPLY in whole
    assert "Shared needs " + vocabulary.label(held["needs"][0], "en") in whole

    # The door, the room and the notes, in the order they happened.
    story = whole[whole.index("What happened, in order") :]
    for line in (
        "Ana was let in (Adolescent).",
        "Pepe asked to join (Someone else in the family).",
        "Desconocido was turned away at the door.",
        "Joining was closed.",
        "Ana asked for a break.",
        "The session was paused.",
        "The session resumed.",
        "Marta asked to talk to the therapist alone.",
        "Pepe's phone was removed from the session.",
        "The session ended.",
    ):
        assert line in story, line
    assert story.index("paused") < story.index("resumed") < story.index("ended")
    assert flat(NOTE_DURING) in whole
    assert "Notes not tied to a step" in whole
    assert "Note written after the session:" in story
    # Written today, another day than the session's: the note says its date.
    assert flat(NOTE_AFTER) in story
    assert story.index("The session ended.") < story.index("Note written after the session:")
    assert "could not be drawn" not in whole

    assert audit_actions(live.id)[-1] == "exported"
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.therapist_id, entry.detail) == (therapist.id, "pdf")

    images = render_pages(pdf, "record")
    assert len(images) == count


def test_the_pdf_is_in_spanish_for_a_spanish_reader(app, therapist_client, held):
    live, vocabulary = held["live"], default_vocabulary()
    pdf, reader = download_pdf(therapist_client, live, "es")
    pages = [words_of(page) for page in reader.pages]
    for number, page in enumerate(pages, start=1):
        assert f"Página {number} de {len(pages)}" in page
        assert "Registro de la sesión · Familia Núñez" in page
        assert "20 de noviembre de 2026" in page
    whole = " ".join(pages)
    assert vocabulary.label(held["feelings"][0], "es") in whole
    assert "Ejercicio 1 de 3" in whole
    assert "Ejercicio 3 de 3: (es) Being heard (quitado del plan)" in whole
    assert "[Solo para la persona terapeuta]" in whole
    assert "Se le pidió responder" in whole and "Lo que pasó, en orden" in whole
    render_pages(pdf, "record-es")


def test_text_the_font_cannot_draw_is_marked_and_a_broken_character_does_not_break_the_pdf(
    app, therapist_client, held
):
    live = held["live"]
    # Saved before input was checked: a lone surrogate; and script the font does not have.
    db.session.add(
        SessionEvent(
            session_id=live.id,
            actor="therapist",
            type="note_added",
            data={"text": "roto \ud83d aquí, 家族 y un tab\tcontrol\x07 fin", "step": None},
        )
    )
    db.session.commit()
    _, reader = download_pdf(therapist_client, live)
    whole = " ".join(words_of(page) for page in reader.pages)
    assert "roto � aquí, �� y un tab control fin" in whole
    assert "Some characters could not be drawn in this PDF and show as “�”." in whole


def test_another_therapist_gets_no_pdf_and_nothing_is_audited(app, held):
    intruder = app.test_client()
    make_therapist("okafor@clinic.test", name="Dr. Okafor")
    sign_in(intruder, "okafor@clinic.test")
    live = held["live"]
    assert intruder.get(f"/sessions/{live.id}/record.pdf").status_code == 404
    assert app.test_client().get(f"/sessions/{live.id}/record.pdf").status_code in (302, 401)
    assert "exported" not in audit_actions(live.id)


def test_the_record_page_offers_the_pdf(therapist_client, held):
    page = text(therapist_client.get(f"/sessions/{held['live'].id}/record"))
    assert f'href="/sessions/{held["live"].id}/record.pdf"' in page
    assert "Download PDF" in page


# --- The export's schema ----------------------------------------------------------------------


def test_the_export_of_a_whole_session_fits_its_schema(therapist_client, held):
    live = held["live"]
    add_note_afterwards(therapist_client, live, NOTE_AFTER)
    document = therapist_client.get(f"/sessions/{live.id}/export.json").get_json()
    assert_valid_export(document)
    assert document["version"] == 2
    kinds = {line["type"] for line in document["timeline"]}
    assert {"turned_away", "removed", "paused", "talk_alone_requested", "skipped"} <= kinds
    assert {"note_added", "reflection_confirmed", "shared_ground_revealed"} <= kinds
    assert document["notes"][-1] == {"text": NOTE_AFTER, "part": None, "step": None}

    # The schema can fail: a changed shape is caught.
    broken = dict(document, version=3)
    broken["steps"] = [dict(document["steps"][0], answers=[{"participant": "x"}])]
    errors = schema_errors(broken)
    assert any("version" in e or e.startswith("(top)") for e in errors)
    assert any(e.startswith("steps/0/answers/0") for e in errors)


def test_the_schema_is_documented(app):
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert "docs/schemas/session-record-2.schema.json" in readme


# --- Notes after the session ----------------------------------------------------------------


def test_a_note_written_after_the_session_joins_the_record_and_is_audited(
    therapist, therapist_client, held
):
    live = held["live"]
    page = text(therapist_client.get(f"/sessions/{live.id}/record"))
    assert "Add a note" in page

    response = add_note_afterwards(therapist_client, live, f"  {NOTE_AFTER}\r\n2ª línea  ")
    assert response.status_code == 302
    record = text(therapist_client.get(response.headers["Location"]))
    assert "Your note was added to the record." in record
    assert "Note written after the session:" in record
    assert f"{NOTE_AFTER}\n2ª línea" in record
    state = store.load_state(db.session.get(LiveSession, live.id))
    assert state.notes[-1].text == f"{NOTE_AFTER}\n2ª línea"
    assert (state.notes[-1].part_id, state.notes[-1].step_index) == (None, None)
    assert "note_added" in audit_actions(live.id)


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ("   ", "The note is empty."),
        ("n" * (domain.NOTE_MAX_LENGTH + 1), "Please keep it under 4000 characters."),
        ("bell\x07", "This text has a character that can't be shown (U+0007)."),
    ],
)
def test_a_refused_note_says_why_and_keeps_nothing(therapist_client, held, words, message):
    live = held["live"]
    before = len(store.record_of(live))
    response = add_note_afterwards(therapist_client, live, words)
    assert response.status_code == 400
    assert message in text(response)
    db.session.expire_all()
    assert len(store.record_of(live)) == before
    assert "note_added" not in audit_actions(live.id)


def test_an_open_session_takes_its_notes_from_the_console_not_the_record(
    therapist, therapist_client, family
):
    live = store.open_session(therapist, two_step_exercise(), family)
    page = text(therapist_client.get(f"/sessions/{live.id}/record"))
    assert "Add a note" not in page
    response = therapist_client.post(f"/sessions/{live.id}/notes", data={"text": "early"})
    assert response.status_code == 302
    assert store.load_state(db.session.get(LiveSession, live.id)).notes == []


# --- The audit log ---------------------------------------------------------------------------


def test_the_audit_log_lists_only_my_entries_in_my_zone_with_plain_labels(
    app, therapist, therapist_client, held
):
    live = held["live"]
    therapist_client.get(f"/sessions/{live.id}/record")
    therapist_client.get(f"/sessions/{live.id}/record.pdf")
    therapist_client.get(f"/sessions/{live.id}/export.json")
    other = make_therapist("okafor@clinic.test", name="Dr. Okafor")
    store.audit(other.id, "viewed_record", "okafor01" + "0" * 24, "")
    store.audit(None, "admin_granted", None, f"therapist {therapist.id}")
    store.audit(None, "admin_granted", None, f"therapist {other.id}")
    entry = AuditEntry(therapist_id=therapist.id, action="deleted", session_id="0" * 32,
                       detail="family_request", at=datetime(2026, 11, 21, 3, 30))
    db.session.add(entry)
    db.session.commit()

    account = text(therapist_client.get("/account"))
    assert 'href="/account/audit"' in account
    response = therapist_client.get("/account/audit")
    assert f'href="/sessions/{live.id}/record"' in text(response)
    log = page_words(response)
    assert "Your audit log" in log
    assert "Signed in" in log
    assert "Opened a session record" in log
    assert "Exported a session record · as a PDF" in log
    assert "Exported a session record · as JSON" in log
    # 03:30 UTC on Nov 21 is the evening before in Mexico City.
    assert "Nov 20, 2026, 9:30 PM" in log
    assert "Deleted a session · The family asked for it to be deleted" in log
    assert "Session 00000000 (deleted)" in log
    assert "Session of Familia Núñez, Nov 20, 2026" in log
    assert "The server's command line: Made a therapist an administrator · you" in log
    assert "okafor01" not in log
    assert "Dr. Okafor" not in log
    assert "Made a therapist an administrator" in log and log.count("administrator ·") == 1


def test_every_audited_action_has_a_plain_label():
    actions = {
        "signed_in", "signed_out", "sign_in_paused", "recovery_code_used", "password_changed",
        "two_factor_on", "two_factor_off", "recovery_codes_replaced", "signed_out_elsewhere",
        "therapist_added", "password_reset", "admin_granted", "admin_revoked",
        "viewed_record", "exported", "deleted", "note_added",
    }
    assert actions <= set(ACTION_LABELS)
    # Every action the code writes is among them (the command line picks one of two).
    root = Path(__file__).parent.parent / "facilitator"
    written = set()
    for path in root.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        written |= set(re.findall(r'audit\(\s*[^,()]+,\s*"([a-z_]+)"', source))
        written |= set(re.findall(r'"(admin_(?:granted|revoked))"', source))
    assert {"signed_in", "exported", "deleted", "admin_granted"} <= written
    assert written <= set(ACTION_LABELS), written - set(ACTION_LABELS)


def test_the_audit_log_is_paged_and_in_spanish(app, therapist, therapist_client):
    for index in range(120):
        store.audit(therapist.id, "viewed_record", f"s{index:03d}", "")
    db.session.commit()
    first = text(therapist_client.get("/account/audit"))
    assert "Page 1 of 3" in first
    assert 'href="/account/audit?page=2"' in first
    assert "Newer" not in first
    last = text(therapist_client.get("/account/audit?page=3"))
    assert "Session s000" in last and "Session s119" not in last
    assert therapist_client.get("/account/audit?page=4").status_code == 404
    assert therapist_client.get("/account/audit?page=abc").status_code == 404
    spanish = page_words(therapist_client.get("/account/audit?lang=es"))
    assert "Tu registro de actividad" in spanish
    assert "Tú: Abrió el registro de una sesión" in spanish


def test_the_audit_log_needs_signing_in(app):
    response = app.test_client().get("/account/audit")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]



def test_a_long_session_fills_many_pages_and_keeps_every_answer(app, therapist, therapist_client):
    """Eight people through six exercises (twelve steps), long answers: nothing is cut."""
    live = store.open_session(therapist, [two_step_exercise()] * 6, None)
    feeling = default_vocabulary().feelings()[0].id
    people = [let_in(live, f"Persona {n}", ("adolescent", "parent")[n % 2])[0] for n in range(8)]
    for step in range(12):
        state = store.load_state(db.session.get(LiveSession, live.id))
        here = (state.round.part_id, state.round.step_index) if state.round else (None, None)
        store.apply(live.id, domain.THERAPIST, domain.OpenStep(*here))
        for n, pid in enumerate(people):
            words = f"P{n}S{step} " + "palabra " * 22 if step % 2 == 0 else ""
            store.apply(live.id, domain.participant(pid),
                        domain.SubmitAnswer(domain.Answer((feeling,), (), words.strip())))
    store.apply(live.id, domain.THERAPIST, domain.End())

    started = time.perf_counter()
    pdf, reader = download_pdf(therapist_client, live)
    took = time.perf_counter() - started
    pages = [words_of(page) for page in reader.pages]
    whole = " ".join(pages)
    for step in range(0, 12, 2):
        for n in range(8):
            assert f"P{n}S{step} palabra" in whole, (n, step)
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
    print(f"\nlong session: {len(pages)} pages, {len(pdf) // 1024} KB, {took:.2f} s")


def test_text_is_made_printable_without_losing_what_the_font_can_draw():
    assert printable("Mañana ¿sí? 😀\n2ª") == ("Mañana ¿sí? 😀\n2ª", False)
    # A pair saved as two halves is the one character; a lone half is not text.
    assert printable("\ud83d\ude00 y \ud83d") == ("😀 y �", True)
    assert printable("a\u200db\x00c\r\nd\te") == ("abc\nd e", False)
    assert printable("家") == ("�", True)
