"""In a real Chromium on a 390 px phone: the take-home summary after a session, and words a
teenager kept for later offered back on their own phone in the joint session."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from facilitator import create_app
from facilitator.domain import session as domain
from facilitator.domain.exercises import builtin_exercises
from facilitator.extensions import db
from facilitator.store import live as store
from facilitator.store.models import Family, FamilyMember, Therapist
from tests.browser_helpers import (
    LAPTOP,
    PHONE,
    FrameRecorder,
    assert_accessible,
    horizontal_overflow,
    screenshot,
    sign_in,
    small_touch_targets,
)
from tests.live_server import LiveServer
from tests.socket_clients import Client, join_by_phone, therapist_cookie

pytestmark = [pytest.mark.browser, pytest.mark.server]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("course")
    live = LiveServer(workdir, f"sqlite:///{workdir / 'live.sqlite3'}")
    live.prepare()
    live.start()
    yield live
    live.stop()


def join_on_phone(browser, url: str, member: str, role: str):
    """A phone opens the join link, writes its name and is in the waiting room."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    wire = FrameRecorder.attach(context, page, member)
    page.goto(url)
    page.get_by_label("Your first name").fill(member)
    page.get_by_label("You are here as").select_option(role)
    page.get_by_role("button", name="Ask to join").click()
    page.wait_for_url(re.compile(r".*/s/[0-9a-f]+$"))
    return context, page, wire


def console_for(server: LiveServer, session_id: str) -> tuple[Client, requests.Session]:
    http = server.signed_in()
    console = Client("console").connect(server.url, auth={"session_id": session_id},
                                        headers=therapist_cookie(http))
    return console, http


def token_of(page) -> str:
    return page.locator("#participant").get_attribute("data-token")


def test_the_take_home_summary_on_a_phone(server, browser):
    keys = server.open_session(
        exercise=builtin_exercises()["needs-and-requests"],
        family_members=[("Sam", "adolescent"), ("Maria", "parent")],
    )
    code = keys["join_code"].replace("-", "")
    sam_context, sam_page, sam_wire = join_on_phone(browser, f"{server.url}/join/{code}", "Sam",
                                                    "adolescent")
    maria_token = join_by_phone(server.url, code, "Maria", "parent", "es")
    console, _ = console_for(server, keys["id"])
    console.do("admit_all")
    # Both write on their phones; Sam's words go through a second connection of his own.
    sam = Client("Sam").connect(server.url, auth={"token": token_of(sam_page)})
    maria = Client("Maria").connect(server.url, auth={"token": maria_token})
    console.open_step()
    sam.do("submit_answer", {"feelings": ["lonely"], "needs": ["time_together"],
                             "text": "Dinner has been quiet lately.",
                             "request": "Would you eat with me on Sundays, phones away?"})
    maria.do("submit_answer", {"feelings": ["worried"], "needs": ["trust"],
                               "request": "¿Me avisarías cuando vayas a llegar tarde?"})
    ids = {p["name"]: p["id"] for p in console.current_view()["people"]}
    console.do("reveal", {"participant_id": ids["Sam"], "listener_id": ids["Maria"]})
    maria.do("submit_follow_up", {"verdict": "yes", "text": "Sí, me encantaría."})
    console.do("reveal_follow_up")
    console.do("reveal", {"participant_id": ids["Maria"], "listener_id": ids["Sam"]})
    sam.do("submit_follow_up", {"verdict": "yes_if", "text": "if you text me back too"})
    console.do("reveal_follow_up")
    console.do("add_note", {"text": "NOTEPLANT-course"})
    console.do("end")
    expect(sam_page.get_by_role("heading", name="Thank you")).to_be_visible()
    sam_wire.assert_never("What we shared")

    # The therapist previews the summary on the laptop and gives it to the family.
    therapist = browser.new_context(**LAPTOP)
    laptop = therapist.new_page()
    sign_in(laptop, server.url)
    laptop.goto(f"{server.url}/sessions/{keys['id']}/summary")
    expect(laptop.get_by_role("heading", name="Take-home summary")).to_be_visible()
    expect(laptop.locator(".summary-item")).to_have_count(2)
    screenshot(laptop, "summary-preview", full_page=True)
    assert_accessible(laptop, "summary preview")
    laptop.get_by_role("button", name="Give it to the family").click()
    expect(laptop.locator(".flashes")).to_contain_text("given to the family")

    # Sam's phone, still open on the ended screen, shows it at once.
    expect(sam_page.get_by_role("heading", name="What we shared")).to_be_visible()
    expect(sam_page.locator(".take-home")).to_contain_text("phones away")
    expect(sam_page.locator(".take-home")).to_contain_text("if you text me back too")
    screenshot(sam_page, "summary-phone-ended", full_page=True)
    assert horizontal_overflow(sam_page) == 0
    assert_accessible(sam_page, "phone ended with summary")
    assert small_touch_targets(sam_page) == []

    # The printable page and the file, through the phone's own browser.
    sam_page.get_by_role("link", name="Open a page to print").click()
    expect(sam_page.get_by_role("heading", name="What we shared", level=1)).to_be_visible()
    expect(sam_page.get_by_role("button", name="Print or save as PDF")).to_be_visible()
    screenshot(sam_page, "summary-printable", full_page=True)
    assert horizontal_overflow(sam_page) == 0
    assert_accessible(sam_page, "printable summary")
    assert small_touch_targets(sam_page) == []
    with sam_page.expect_download() as download:
        sam_page.get_by_role("link", name="Download as a file").click()
    with open(download.value.path(), encoding="utf-8") as file:
        saved = file.read()
    assert "Would you eat with me on Sundays, phones away?" in saved
    assert "Maria replied: Yes" in saved and "NOTEPLANT" not in saved
    sam_wire.assert_never("NOTEPLANT-course")
    assert "NOTEPLANT" not in sam_page.content()
    # Printed, the buttons are left off the paper.
    sam_page.emulate_media(media="print")
    expect(sam_page.get_by_role("button", name="Print or save as PDF")).to_be_hidden()
    screenshot(sam_page, "summary-print-media", full_page=True)
    for client in (console, sam, maria):
        client.close()
    sam_context.close()
    therapist.close()


def seed_alliance(server: LiveServer) -> dict:
    """An ended session with Sam alone, where he kept one answer for later; then a joint one."""
    app = create_app(server.app_config())
    with app.app_context():
        therapist = db.session.query(Therapist).filter_by(email="rivera@clinic.test").one()
        family = Family(therapist_id=therapist.id, name="Okafor")
        family.members = [FamilyMember(display_name="Sam", role="adolescent"),
                          FamilyMember(display_name="Ada", role="parent")]
        db.session.add(family)
        db.session.commit()
        sam_id = family.members[0].id
        alone = store.open_session(therapist, builtin_exercises()["adolescent-alliance"], family,
                                   invited={sam_id})
        pid = store.new_participant_id()
        store.apply(alone.id, domain.GUEST, domain.AskToJoin(pid, "Sam", "adolescent", "en"))
        store.apply(alone.id, domain.THERAPIST, domain.Admit(pid, sam_id))
        store.apply(alone.id, domain.THERAPIST, domain.OpenStep(None, None))
        store.apply(alone.id, domain.participant(pid), domain.SubmitAnswer(domain.Answer(
            feelings=("hurt",), share_later=True,
            text="KEPTWORDS: When you look at your phone while I talk, I stop talking.")))
        store.apply(alone.id, domain.THERAPIST, domain.End())
        joint = store.open_session(therapist, builtin_exercises()["adolescents-voice"], family)
        keys = {"id": joint.id, "join_code": store.format_join_code(joint.join_code)}
        db.session.remove()
        db.engine.dispose()
    return keys


def test_kept_words_come_back_to_their_author_alone(server, browser):
    keys = seed_alliance(server)
    code = keys["join_code"].replace("-", "")
    sam_context, sam_page, _ = join_on_phone(browser, f"{server.url}/join/{code}", "Sam",
                                             "adolescent")
    ada_context, _, ada_wire = join_on_phone(browser, f"{server.url}/join/{code}", "Ada",
                                                    "parent")
    console, _ = console_for(server, keys["id"])
    console.do("admit_all")
    # The parent's step first, then Sam's, which offers earlier words.
    console.open_step()
    console.open_step()
    offer = sam_page.locator("#earlier-words")
    expect(offer).to_be_visible()
    expect(offer).to_contain_text("KEPTWORDS")
    # Above the phone's bar at the bottom of the screen, as a person scrolls to read it.
    offer.get_by_role("button", name="Not now").evaluate("b => b.scrollIntoView({block: 'center'})")
    screenshot(sam_page, "earlier-words-offer")
    assert_accessible(sam_page, "earlier words offered")
    assert small_touch_targets(sam_page) == []
    assert "has_earlier_words" in console.text()
    assert "KEPTWORDS" not in console.text()
    # The therapist's console says that words are waiting, and never what they are.
    laptop_context = browser.new_context(**LAPTOP)
    laptop = laptop_context.new_page()
    laptop_wire = FrameRecorder.attach(laptop_context, laptop, "console page")
    sign_in(laptop, server.url)
    laptop.goto(f"{server.url}/sessions/{keys['id']}")
    expect(laptop.locator("#earlier-words-note")).to_have_text(
        "Sam has words from an earlier session.")
    screenshot(laptop, "earlier-words-console")
    laptop_wire.assert_never("KEPTWORDS")
    # Nothing is in his draft until he taps.
    expect(sam_page.locator("#answer-text")).to_have_value("")
    offer.get_by_role("button", name="Use these words").click()
    expect(sam_page.locator("#answer-text")).to_have_value(re.compile("^KEPTWORDS"))
    sam_page.locator("#answer-text").scroll_into_view_if_needed()
    screenshot(sam_page, "earlier-words-used")
    ada_wire.assert_never("KEPTWORDS")
    assert "KEPTWORDS" not in console.text()
    laptop_wire.assert_never("KEPTWORDS")
    console.close()
    sam_context.close()
    ada_context.close()
    laptop_context.close()


def test_a_teenager_keeps_words_for_later_from_the_phone(server, browser):
    app = create_app(server.app_config())
    with app.app_context():
        therapist = db.session.query(Therapist).filter_by(email="rivera@clinic.test").one()
        family = Family(therapist_id=therapist.id, name="Lind")
        family.members = [FamilyMember(display_name="Noa", role="adolescent"),
                          FamilyMember(display_name="Per", role="parent")]
        db.session.add(family)
        db.session.commit()
        alone = store.open_session(therapist, builtin_exercises()["adolescent-alliance"], family,
                                   invited={family.members[0].id})
        keys = {"id": alone.id, "code": alone.join_code}
        db.session.remove()
        db.engine.dispose()
    context, page, _ = join_on_phone(browser, f"{server.url}/join/{keys['code']}", "Noa",
                                     "adolescent")
    console, _ = console_for(server, keys["id"])
    console.do("admit_all")
    console.open_step()
    box = page.get_by_label("I might share this with my family later")
    expect(box).not_to_be_checked()
    page.locator("#concept-search").fill("hurt")
    page.locator("button.chip", has_text=re.compile("^hurt$")).click()
    page.locator("#answer-text").fill("You always take my brother's side.")
    box.check()
    box.evaluate("b => b.scrollIntoView({block: 'center'})")
    screenshot(page, "share-later-box")
    assert_accessible(page, "share-later box")
    page.get_by_role("button", name="Send my answer").click()
    answers = console.wait_for(lambda v: v["answers"])["answers"]
    assert answers[0]["answer"]["text"] == "You always take my brother's side."
    with app.app_context():
        state = store.load_state(store.get_session(keys["id"]))
        (kept,) = state.round.answers.values()
        assert kept.share_later, "the tick reached the server with the answer"
        db.session.remove()
        db.engine.dispose()
    console.close()
    context.close()
