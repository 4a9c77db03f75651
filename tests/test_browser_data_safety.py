"""In a real Chromium on a phone-sized screen: the therapist sets how long records are kept, and
a family name with a hidden control character is refused on its field."""

from __future__ import annotations

import pytest

from tests.browser_helpers import (
    assert_accessible,
    horizontal_overflow,
    screenshot,
    sign_in,
    small_touch_targets,
)

pytestmark = [pytest.mark.browser, pytest.mark.server]

PHONE = {"viewport": {"width": 360, "height": 740}}


def test_the_therapist_sets_a_retention_limit_on_a_small_screen(live_server, browser):
    page = browser.new_page(**PHONE)
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/account")
    page.fill("#retention_days", "0")
    with page.expect_navigation():
        page.click("#retention button[type=submit]")
    assert "from 1 to 3650" in page.locator("#retention .error").inner_text()
    assert page.get_attribute("#retention_days", "aria-invalid") == "true"
    screenshot(page, "account-retention-refused", full_page=True)

    page.fill("#retention_days", "30")
    with page.expect_navigation():
        page.click("#retention button[type=submit]")
    assert page.input_value("#retention_days") == "30"
    assert "deleted after this many days" in page.inner_text("body")
    assert horizontal_overflow(page) == 0
    assert small_touch_targets(page) == []
    assert_accessible(page, "account page with the retention setting")
    screenshot(page, "account-retention-saved", full_page=True)
    page.close()


def test_a_pasted_control_character_is_refused_on_the_family_name(live_server, browser):
    page = browser.new_page(**PHONE)
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/families/new")
    page.fill("#name", "García\u202efamily")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    error = page.locator("#name-error").inner_text()
    assert "can't be saved" in error
    assert page.get_attribute("#name", "aria-invalid") == "true"
    screenshot(page, "family-name-refused", full_page=True)
    page.close()
