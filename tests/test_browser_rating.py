"""In a real Chromium: the check-in's scale on a 360 px phone, answered by touch and by keyboard,
then revealed on the other phone, the console and the room display."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from facilitator.domain.exercises import builtin_exercises
from tests.browser_helpers import (
    LAPTOP,
    PHONE,
    TV,
    assert_accessible,
    horizontal_overflow,
    screenshot,
    sign_in,
    small_touch_targets,
)
from tests.socket_clients import Client, therapist_cookie

pytestmark = [pytest.mark.browser, pytest.mark.server]


def join(browser, url: str, name: str, role: str):
    """Ask to join from the link; the therapist lets everyone in at once later."""
    page = browser.new_context(**PHONE).new_page()
    page.goto(url)
    page.get_by_label("Your first name").fill(name)
    page.get_by_label("You are here as").select_option(role)
    page.get_by_role("button", name="Ask to join").click()
    return page


def pick(page, search: str, label: str) -> None:
    page.locator("#concept-search").fill(search)
    page.locator("button.chip", has_text=re.compile(f"^{re.escape(label)}$")).click()
    page.locator("#concept-search").fill("")


def test_the_check_in_scale_is_answered_on_a_phone_and_revealed_everywhere(live_server, browser):
    keys = live_server.open_session(
        builtin_exercises()["check-in"], family_members=[("Ana", "adolescent"), ("Luis", "parent")]
    )
    console = browser.new_context(**LAPTOP).new_page()
    sign_in(console, live_server.url)
    console.goto(f"{live_server.url}/sessions/{keys['id']}")
    display = browser.new_context(**TV).new_page()
    display.goto(f"{live_server.url}/display/{keys['display_token']}")
    join_url = f"{live_server.url}/join/{keys['join_code'].replace('-', '')}"
    ana, luis = (
        join(browser, join_url, "Ana", "adolescent"),
        join(browser, join_url, "Luis", "parent"),
    )
    # The therapist's moves go through a socket of their own: the console's buttons for the
    # agenda and the door are not part of this story.
    therapist = Client("therapist").connect(
        live_server.url,
        {"session_id": keys["id"]},
        headers=therapist_cookie(live_server.signed_in()),
    )
    therapist.wait_for(lambda v: len(v["waiting"]) == 2)
    therapist.admit_everyone()
    therapist.open_step()

    # Eleven big numbers, one radio group named by the question, with the words at both ends.
    expect(ana.locator("#prompt")).to_contain_text("How are you arriving today?")
    scale = ana.get_by_role("group", name=re.compile("How close do you feel to your family"))
    expect(scale.get_by_role("radio")).to_have_count(11)
    expect(scale).to_contain_text("0: Not at all")
    expect(scale).to_contain_text("10: Very close")
    pick(ana, "angry", "angry")
    scale.get_by_role("radio", name="6", exact=True).check()
    expect(scale.get_by_role("radio", name="6", exact=True)).to_be_checked()
    # The keyboard works too: an arrow moves the choice to 7.
    ana.keyboard.press("ArrowRight")
    expect(scale.get_by_role("radio", name="7", exact=True)).to_be_checked()
    ana.set_viewport_size({"width": 360, "height": 740})
    assert horizontal_overflow(ana) == 0, "the scale is wider than a 360 px phone"
    numbers = scale.locator(".rating-number")
    for index in range(11):
        box = numbers.nth(index).bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, (index, box)
    scale.scroll_into_view_if_needed()
    screenshot(ana, "rating-composer-360")
    assert small_touch_targets(ana) == []
    assert_accessible(ana, "phone with the scale")
    ana.get_by_role("button", name="Send my answer").click()
    expect(ana.locator("#sent")).to_contain_text("7 out of 10")

    # Luis leaves the scale empty: it is optional, and nobody sees Ana's number yet.
    pick(luis, "worried", "worried")
    luis.get_by_role("button", name="Send my answer").click()
    expect(luis.get_by_role("heading", name="Your answer is with your therapist")).to_be_visible()
    expect(luis.locator("body")).not_to_contain_text("7 out of 10")

    expect(console.locator(".private-answer", has_text="Ana")).to_contain_text("7 out of 10")
    therapist.reveal_next()
    therapist.close()
    for page in (luis, display):
        card = page.locator(".reveal-card", has_text="Ana").first
        expect(card).to_contain_text("7 out of 10")
        expect(card).to_contain_text("10: Very close")
    screenshot(luis, "rating-revealed-phone")
    screenshot(display, "rating-revealed-display")
    assert_accessible(luis, "phone with a revealed rating")
    assert_accessible(display, "display with a revealed rating")
