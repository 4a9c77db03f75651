"""The account pages in Chromium on a 360 px phone: two-step sign-in from set-up to a recovery
code, the browsers list, the administrator's page, a refused password and a paused sign-in."""

from __future__ import annotations

import re

import pyotp
import pytest

from facilitator import create_app
from facilitator.extensions import db
from facilitator.store.models import Therapist
from tests.browser_helpers import (
    assert_accessible,
    horizontal_overflow,
    screenshot,
    sign_in,
    small_touch_targets,
)
from tests.live_server import PASSWORD, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.server]

NARROW_PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def server(tmp_path):
    """The real server, with the therapist as the clinic's administrator."""
    server = LiveServer(tmp_path, f"sqlite:///{tmp_path / 'live.sqlite3'}")
    server.prepare()
    app = create_app(server.app_config())
    with app.app_context():
        db.session.query(Therapist).update({"is_admin": True})
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    server.start()
    yield server
    server.stop()


def looks_right(page, name: str) -> None:
    """Fits a 360 px screen, big enough to touch, no serious accessibility problem; a picture."""
    assert horizontal_overflow(page) == 0, name
    assert small_touch_targets(page) == [], name
    assert_accessible(page, name)
    screenshot(page, f"account-{name}", full_page=True)


def test_the_account_pages_on_a_phone(server, browser):
    context = browser.new_context(**NARROW_PHONE)
    page = context.new_page()
    sign_in(page, server.url)

    page.goto(f"{server.url}/account")
    page.get_by_role("link", name="Two-step sign-in").click()
    page.get_by_role("button", name="Set up two-step sign-in").click()
    key = page.locator("code.code").inner_text().replace(" ", "")
    looks_right(page, "two-factor-set-up")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Turn two-step sign-in on").click()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    looks_right(page, "recovery-codes")

    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("E-mail").fill("rivera@clinic.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/login/code")
    looks_right(page, "sign-in-code")
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/")
    assert "9 codes are left" in page.content()

    page.goto(f"{server.url}/account")
    looks_right(page, "account")
    page.goto(f"{server.url}/account/sessions")
    assert page.get_by_text("This browser").is_visible()
    looks_right(page, "sessions")

    page.goto(f"{server.url}/account/password")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("password1234")
    page.get_by_label("New password again").fill("password1234")
    page.get_by_role("button", name="Change the password").click()
    assert page.get_by_text("This password is too easy to guess").is_visible()
    looks_right(page, "password-refused")

    page.goto(f"{server.url}/admin/therapists")
    page.get_by_label("Name").fill("Dr. Okafor")
    page.get_by_label("E-mail").fill("okafor@clinic.test")
    page.get_by_role("button", name="Add the therapist").click()
    first_password = page.locator("code.one-time-password").inner_text()
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", first_password)
    looks_right(page, "first-password")
    page.goto(f"{server.url}/admin/therapists")
    looks_right(page, "admin-therapists")
    context.close()


def test_a_paused_sign_in_on_a_phone(server, browser):
    context = browser.new_context(**NARROW_PHONE)
    page = context.new_page()
    page.goto(f"{server.url}/login?lang=es")
    for _ in range(6):
        page.get_by_label("Correo electrónico").fill("rivera@clinic.test")
        page.get_by_label("Contraseña").fill("no es esta")
        page.get_by_role("button", name="Iniciar sesión").click()
    assert page.get_by_role("alert").inner_text().startswith("Demasiados intentos")
    looks_right(page, "sign-in-paused-es")
    context.close()
