"""The phone's help screen in a real Chromium: it opens with the network off, shows the clinic's
crisis information in the phone's language, works from the keyboard, and is accessible, on a phone
still waiting at the door for the therapist to let it in as on one that has been let in."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from facilitator import create_app
from facilitator.domain import session as domain
from facilitator.extensions import db
from facilitator.store import live as store
from facilitator.store.models import Therapist
from facilitator.web.forms import CRISIS_INFO_MAX_LENGTH
from scripts.measure_page_weight import join_over_http
from tests.browser_helpers import (
    LAPTOP,
    PHONE,
    assert_accessible,
    horizontal_overflow,
    screenshot,
    sign_in,
    small_touch_targets,
)
from tests.live_server import LiveServer
from tests.socket_clients import Client, therapist_cookie

pytestmark = [pytest.mark.browser, pytest.mark.server]

SMALL_PHONE = {**PHONE, "viewport": {"width": 360, "height": 740}}
CLINIC_EN = "Call the Rivera clinic: 555 0100 (8 am to 8 pm).\nAt night or at weekends: 911."
DEFAULT_ES = "Si tú u otra persona están en peligro ahora mismo"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("help")
    live = LiveServer(workdir, f"sqlite:///{workdir / 'live.sqlite3'}")
    live.prepare()
    set_crisis_info(live, {"en": CLINIC_EN})
    live.start()
    yield live
    live.stop()


def set_crisis_info(server: LiveServer, crisis_info: dict[str, str]) -> None:
    """As the therapist would from their account page."""
    app = create_app(server.app_config())
    with app.app_context():
        therapist = db.session.query(Therapist).filter_by(email="rivera@clinic.test").one()
        therapist.crisis_info = crisis_info
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def pause(server: LiveServer, session_id: str) -> None:
    """The therapist pauses the room (straight in the database: the phone reloads to see it)."""
    app = create_app(server.app_config())
    with app.app_context():
        store.apply(session_id, domain.THERAPIST, domain.Pause())
        db.session.remove()
        db.engine.dispose()


def phone_at_the_door(browser, server: LiveServer, language: str, init_script: str = ""):
    """A phone that asked to join a new session through the join form and waits to be let in;
    returns its browser context, its page and the session's keys."""
    keys = server.open_session(family_members=[("Dana", "parent")])
    http = join_over_http(server, keys["join_code"].replace("-", ""), language=language)
    context = browser.new_context(**SMALL_PHONE)
    context.add_cookies(
        [{"name": c.name, "value": c.value, "url": server.url} for c in http.cookies]
    )
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    page.goto(f"{server.url}/s/{keys['id']}")
    expect(page.locator("#waiting")).to_be_visible()
    return context, page, keys


def let_in(server: LiveServer, keys: dict, page) -> None:
    """The therapist lets everyone at the door in, from the console's socket; the phone's page
    turns into the session's lobby by itself."""
    console = Client("therapist").connect(
        server.url, {"session_id": keys["id"]}, headers=therapist_cookie(server.signed_in())
    )
    try:
        console.admit_everyone()
    finally:
        console.close()
    expect(page.locator("#lobby")).to_be_visible()


def admitted_phone(browser, server: LiveServer, language: str, init_script: str = ""):
    """A phone that asked to join and has been let in, on the session's lobby."""
    context, page, keys = phone_at_the_door(browser, server, language, init_script)
    let_in(server, keys, page)
    return context, page, keys


@pytest.mark.parametrize("where", ["at-the-door", "let-in"])
def test_the_help_screen_opens_with_the_network_off(server, browser, where):
    opened = phone_at_the_door if where == "at-the-door" else admitted_phone
    context, page, _ = opened(browser, server, "en")
    help_button = page.get_by_role("button", name="Help", exact=True)
    expect(help_button).to_be_visible()
    dialog = page.get_by_role("dialog", name="If you need help")
    expect(dialog).to_be_hidden()

    # The network drops; the phone says so, and the help still opens, asking nothing of anyone.
    context.set_offline(True)
    expect(page.locator("#connection")).to_contain_text("You're offline")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    # From the keyboard: focus moves into the dialog, to its title.
    help_button.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="If you need help")).to_be_focused()
    crisis = dialog.locator(".crisis-info:visible")
    expect(crisis).to_have_text(CLINIC_EN)
    assert "\n" in crisis.inner_text(), "the therapist's line breaks are kept"
    expect(dialog).to_contain_text("Only you see this screen.")
    page.keyboard.press("Tab")
    close = dialog.get_by_role("button", name="Close")
    expect(close).to_be_focused()
    box = close.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 280
    # The page behind is out of reach (inert): Tab goes round the dialog and the browser's own
    # controls, never to a button of the page behind it.
    for _ in range(4):
        page.keyboard.press("Tab")
        assert page.evaluate(
            "document.activeElement === document.body || "
            "document.activeElement.closest('dialog') !== null"
        ), "focus reached the page behind the help screen"
    assert horizontal_overflow(page) == 0
    assert_accessible(page, f"the help screen, offline, {where}")
    screenshot(page, f"help-screen-offline-{where}-360")

    # Escape closes it and focus goes back to the Help button.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(help_button).to_be_focused()

    # By touch: open, then the big Close button.
    help_button.tap()
    expect(dialog).to_be_visible()
    close.tap()
    expect(dialog).to_be_hidden()
    expect(help_button).to_be_focused()
    assert requests == [], "opening the help screen sent nothing"

    context.set_offline(False)
    expect(page.locator("#connection")).to_be_hidden(timeout=15000)
    assert small_touch_targets(page) == []
    assert_accessible(page, f"the phone with its Help button, {where}")
    screenshot(page, f"help-button-{where}-360")
    context.close()


def expect_spanish_help(page, shot: str) -> None:
    """The help screen in Spanish: the therapist wrote only in English, so the Spanish default
    comes first, then their words."""
    page.get_by_role("button", name="Ayuda", exact=True).click()
    dialog = page.get_by_role("dialog", name="Si necesitas ayuda")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".crisis-info:visible").first).to_contain_text(DEFAULT_ES)
    expect(dialog).to_contain_text("Tu terapeuta también escribió:")
    expect(dialog.locator('.crisis-info[lang="en"]')).to_have_text(CLINIC_EN)
    expect(page.get_by_text("If you need help", exact=True)).to_be_hidden()
    screenshot(page, shot)
    dialog.get_by_role("button", name="Cerrar").click()
    expect(dialog).to_be_hidden()


def test_the_help_screen_follows_the_phones_language(server, browser):
    # The language chosen at the door is the help screen's while the phone waits.
    context, page, keys = phone_at_the_door(browser, server, "es")
    screenshot(page, "help-button-es-at-the-door-360")
    expect_spanish_help(page, "help-screen-es-at-the-door-360")

    # Let in, the phone keeps its language.
    let_in(server, keys, page)
    screenshot(page, "help-button-es-360")
    expect_spanish_help(page, "help-screen-es-360")

    # Switched to English mid-session, the help screen is in English at once, offline too.
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    context.set_offline(True)
    page.get_by_role("button", name="Help", exact=True).click()
    dialog = page.get_by_role("dialog", name="If you need help")
    expect(dialog.locator(".crisis-info:visible")).to_have_text(CLINIC_EN)
    expect(page.get_by_text("Si necesitas ayuda")).to_be_hidden()
    context.close()


def test_the_longest_crisis_information_keeps_close_in_reach_even_in_a_pause(server, browser):
    paragraph = "Call the clinic on 555 0100, or the helpline on 555 0199, day or night.\n\n"
    longest = (paragraph * 20)[: CRISIS_INFO_MAX_LENGTH - 3].strip() + " END"
    set_crisis_info(server, {"en": longest})
    try:
        context, page, keys = admitted_phone(browser, server, "en")
        # The room is paused: "I need a break" goes, Help stays.
        pause(server, keys["id"])
        page.reload()
        expect(page.locator("#paused")).to_be_visible()
        expect(page.locator("#break-button")).to_be_hidden()
        screenshot(page, "help-button-paused-360")
        page.get_by_role("button", name="Help", exact=True).tap()
        dialog = page.get_by_role("dialog", name="If you need help")
        close = dialog.get_by_role("button", name="Close")
        expect(close).to_be_in_viewport()
        screenshot(page, "help-screen-longest-360")
        # The text scrolls inside the dialog, and scrolled to its end it is all above Close.
        assert dialog.evaluate("d => d.scrollHeight > d.clientHeight")
        dialog.evaluate("d => { d.scrollTop = d.scrollHeight; }")
        expect(close).to_be_in_viewport()
        text_bottom = dialog.locator(".crisis-info:visible").bounding_box()
        assert text_bottom["y"] + text_bottom["height"] <= close.bounding_box()["y"]
        screenshot(page, "help-screen-longest-end-360")
        assert horizontal_overflow(page) == 0
        close.tap()
        expect(dialog).to_be_hidden()
        context.close()
    finally:
        set_crisis_info(server, {"en": CLINIC_EN})


def test_a_browser_without_dialogs_still_opens_and_closes_the_help_screen(server, browser):
    """Safari before 15.4 has no <dialog> methods: the help screen opens all the same."""
    older_browser = (
        "delete HTMLDialogElement.prototype.showModal; delete HTMLDialogElement.prototype.close;"
    )
    context, page, keys = phone_at_the_door(browser, server, "en", init_script=older_browser)
    assert page.evaluate("typeof document.createElement('dialog').showModal") == "undefined"
    help_button = page.get_by_role("button", name="Help", exact=True)
    dialog = page.locator("#help-screen")
    # At the door: opened and closed by touch.
    help_button.tap()
    expect(dialog).to_be_in_viewport()
    expect(dialog.locator(".crisis-info:visible")).to_have_text(CLINIC_EN)
    screenshot(page, "help-screen-without-dialog-at-the-door-360")
    dialog.get_by_role("button", name="Close").tap()
    expect(dialog).to_be_hidden()

    # Let in: from the keyboard, Escape included, then by touch.
    let_in(server, keys, page)
    help_button.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_in_viewport()
    expect(dialog.get_by_role("heading", name="If you need help")).to_be_focused()
    expect(dialog.locator(".crisis-info:visible")).to_have_text(CLINIC_EN)
    screenshot(page, "help-screen-without-dialog-360")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(help_button).to_be_focused()
    help_button.tap()
    dialog.get_by_role("button", name="Close").tap()
    expect(dialog).to_be_hidden()
    expect(help_button).to_be_focused()
    context.close()


def test_a_rehearsal_stand_ins_phone_has_the_help_screen(server, browser):
    context = browser.new_context(**{**LAPTOP, "viewport": {"width": 1600, "height": 1000}})
    page = context.new_page()
    sign_in(page, server.url)
    page.goto(f"{server.url}/exercises")
    page.get_by_role("button", name="Rehearse").first.click()
    alex = page.frame_locator("figure:has(figcaption:has-text('Alex (stand-in)')) iframe")
    expect(alex.get_by_role("heading", name="Welcome, Alex (stand-in)")).to_be_visible()
    alex.get_by_role("button", name="Help", exact=True).click()
    dialog = alex.get_by_role("dialog", name="If you need help")
    expect(dialog.locator(".crisis-info:visible")).to_have_text(CLINIC_EN)
    screenshot(page, "help-screen-rehearsal")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    context.close()


def test_the_therapist_writes_the_crisis_information_on_the_account_page(server, browser):
    context = browser.new_context(**SMALL_PHONE)
    page = context.new_page()
    sign_in(page, server.url)
    page.goto(f"{server.url}/account")
    settings = page.locator("#settings")
    settings.get_by_label("Time zone").select_option(label="Mexico (Mexico City)")
    spanish = settings.get_by_label("In Spanish")
    spanish.fill("Llama a la clínica: 555 0100.\nDe noche: 911.")
    assert_accessible(page, "the account page")
    assert small_touch_targets(page) == []
    assert horizontal_overflow(page) == 0
    settings.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_have_text("Saved.")
    expect(settings.get_by_label("Time zone")).to_have_value("America/Mexico_City")
    expect(spanish).to_have_value("Llama a la clínica: 555 0100.\nDe noche: 911.")
    expect(settings.get_by_label("In English")).to_have_value(CLINIC_EN)
    screenshot(page, "account-settings-360", full_page=True)
    set_crisis_info(server, {"en": CLINIC_EN})
    context.close()
