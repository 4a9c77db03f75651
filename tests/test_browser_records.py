"""A session's record in Chromium on a 360 px phone: the PDF downloads, a note is added after
the session, and the therapist reads their own audit log."""

from __future__ import annotations

import pytest

from facilitator import create_app
from facilitator.domain import session as domain
from facilitator.domain.vocabulary import default_vocabulary
from facilitator.extensions import db
from facilitator.store import live as store
from facilitator.store.models import LiveSession
from tests.browser_helpers import (
    assert_accessible,
    horizontal_overflow,
    screenshot,
    sign_in,
    small_touch_targets,
)
from tests.factories import two_step_exercise
from tests.live_server import LiveServer
from tests.realtime_helpers import let_in

pytestmark = [pytest.mark.browser, pytest.mark.server]

NARROW_PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def server(tmp_path):
    server = LiveServer(tmp_path, f"sqlite:///{tmp_path / 'live.sqlite3'}")
    server.prepare()
    server.start()
    yield server
    server.stop()


def ended_session(server: LiveServer) -> str:
    """Sam answers in Spanish, is revealed, and the session ends."""
    keys = server.open_session(two_step_exercise(), family_members=(("Sam", "adolescent"),))
    app = create_app(server.app_config())
    with app.app_context():
        live = db.session.get(LiveSession, keys["id"])
        sam, _ = let_in(live, "Sam", "adolescent", "es")
        feeling = default_vocabulary().feelings()[0].id
        store.apply(live.id, domain.THERAPIST, domain.OpenStep(None, None))
        store.apply(
            live.id,
            domain.participant(sam),
            domain.SubmitAnswer(domain.Answer((feeling,), (), "¿Me escuchan? Sí 😀")),
        )
        store.apply(live.id, domain.THERAPIST, domain.Reveal(sam))
        store.apply(live.id, domain.THERAPIST, domain.End())
        db.session.remove()
        db.engine.dispose()
    return keys["id"]


def looks_right(page, name: str) -> None:
    assert horizontal_overflow(page) == 0, name
    assert small_touch_targets(page) == [], name
    assert_accessible(page, name)
    screenshot(page, f"records-{name}", full_page=True)


def test_the_record_its_pdf_a_late_note_and_the_audit_log_on_a_phone(server, browser):
    session_id = ended_session(server)
    context = browser.new_context(accept_downloads=True, **NARROW_PHONE)
    page = context.new_page()
    sign_in(page, server.url)

    page.goto(f"{server.url}/sessions/{session_id}/record")
    looks_right(page, "record")
    with page.expect_download() as waiting:
        page.get_by_role("link", name="Download PDF").click()
    download = waiting.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    page.get_by_label("A note on this session").fill("Llamar a la familia el lunes.")
    page.get_by_role("button", name="Add the note").click()
    page.get_by_text("Your note was added to the record.").wait_for()
    assert page.get_by_text("Note written after the session:").is_visible()
    looks_right(page, "record-with-note")

    page.goto(f"{server.url}/account")
    page.get_by_role("link", name="Your audit log").click()
    page.get_by_role("heading", name="Your audit log").wait_for()
    log = page.locator("main").inner_text()
    assert "Exported a session record · as a PDF" in log
    assert "Added a note to a session record" in log
    assert "Signed in" in log
    looks_right(page, "audit-log")
    context.close()
