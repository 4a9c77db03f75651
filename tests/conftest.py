"""Fixtures: a fresh app on a real SQLite file per test, therapists, and signed-in clients."""

from __future__ import annotations

import os

import pytest
from flask import g

from facilitator import create_app
from facilitator.extensions import db
from facilitator.store.models import Family, FamilyMember, Therapist
from tests.live_server import LiveServer

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(available: bool, reason: str) -> None:
    """Skip a test whose server is absent on a user's machine; fail it in CI."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI must have it)")
    pytest.skip(reason)


@pytest.fixture
def app(tmp_path):
    app = create_app(
        {
            "INSTANCE_PATH": tmp_path / "instance",
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.sqlite3'}",
            "SOCKETIO_ASYNC_MODE": "threading",
            "SOCKETIO_MESSAGE_QUEUE": None,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "PUBLIC_URL": "http://clinic.test",
            # Each test reads the screens right after a phone arrives; the gathering of
            # arrivals has tests of its own (test_presence_gathering.py).
            "PRESENCE_GATHER_SECONDS": 0,
        }
    )

    def each_request_knows_its_own_browser() -> None:
        # Tests hold one app context throughout, so Flask-Login would remember the last
        # signed-in therapist across test clients; a real server forgets it after each request.
        g.pop("_login_user", None)

    # First, before any other function of the request asks who is signed in.
    app.before_request_funcs.setdefault(None, []).insert(0, each_request_knows_its_own_browser)

    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


def make_therapist(email: str, password: str = "correct horse battery", name: str = "Dr. Rivera"):
    therapist = Therapist(email=email, name=name)
    therapist.set_password(password)
    db.session.add(therapist)
    db.session.commit()
    return therapist


@pytest.fixture
def therapist(app):
    return make_therapist("rivera@clinic.test")


@pytest.fixture
def other_therapist(app):
    return make_therapist("okafor@clinic.test", name="Dr. Okafor")


@pytest.fixture
def family(app, therapist) -> Family:
    """The therapist's family of one: Ana, an adolescent. Modules may define a larger one."""
    family = Family(therapist_id=therapist.id, name="García family")
    family.members = [FamilyMember(display_name="Ana", role="adolescent")]
    db.session.add(family)
    db.session.commit()
    return family


def sign_in(client, email: str, password: str = "correct horse battery"):
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def therapist_client(app, therapist):
    client = app.test_client()
    response = sign_in(client, therapist.email)
    assert response.status_code == 302, response.data
    return client


@pytest.fixture(params=["eventlet", "gevent"])
def async_mode(request) -> str:
    """The server library a real-server test runs under: each such test runs under both."""
    return request.param


@pytest.fixture
def live_server(tmp_path, async_mode):
    """The app under eventlet (or gevent) in its own process, on a real SQLite file."""
    server = LiveServer(
        tmp_path,
        f"sqlite:///{tmp_path / 'live.sqlite3'}",
        env_extra={"SOCKETIO_ASYNC_MODE": async_mode},
    )
    server.prepare()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, one per test module: launching it per test would eat the time budget."""
    from playwright.sync_api import sync_playwright

    from tests.browser_helpers import launch

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()
