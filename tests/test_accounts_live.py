"""Signing out on the real server: a copied cookie is refused by the pages and by the socket,
and the therapist's open sockets are closed at once."""

from __future__ import annotations

import time

import pytest
import requests
import socketio

from facilitator import create_app
from facilitator.extensions import db
from facilitator.store.models import LoginSession
from tests.conftest import need
from tests.factories import two_step_exercise
from tests.live_server import LiveServer
from tests.socket_clients import Client, csrf_token, therapist_cookie
from tests.test_scaling import REDIS_URL, postgres_url, redis_running  # noqa: F401 (a fixture)

pytestmark = pytest.mark.server


def wait_until(check, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_sign_out_closes_the_console_and_a_copied_cookie_opens_nothing(live_server):
    keys = live_server.open_session(two_step_exercise())
    laptop = live_server.signed_in()
    stolen = therapist_cookie(laptop)  # copied before signing out
    console = Client("console").connect(live_server.url, {"session_id": keys["id"]}, stolen)
    copy = Client("copy").connect(live_server.url, {"session_id": keys["id"]}, stolen)
    console.wait_for(lambda view: "answers" in view)
    copy.wait_for(lambda view: "answers" in view)
    dashboard = requests.get(live_server.url + "/", headers=stolen, allow_redirects=False)
    assert dashboard.status_code == 200

    token = csrf_token(laptop.get(live_server.url + "/", timeout=5).text)
    signed_out = laptop.post(live_server.url + "/logout", data={"csrf_token": token}, timeout=5)
    assert signed_out.status_code == 200 and "You are signed out." in signed_out.text

    try:
        assert wait_until(lambda: not console.sio.connected and not copy.sio.connected)
        page = requests.get(live_server.url + "/", headers=stolen, allow_redirects=False)
        assert page.status_code == 302 and page.headers["Location"].startswith("/login")
        with pytest.raises(socketio.exceptions.ConnectionError):
            Client("replay").connect(live_server.url, {"session_id": keys["id"]}, stolen)
    finally:
        console.close()
        copy.close()


def test_sign_out_on_one_server_process_closes_the_console_held_by_another(
    tmp_path, postgres_url  # noqa: F811 (the fixture imported above)
):
    """Two processes behind a load balancer, one Redis queue: the browser signs out through the
    first, its console socket is held by the second, and is closed all the same."""
    need(redis_running(), "Redis is not running on 127.0.0.1:6379")
    queue = {"SOCKETIO_MESSAGE_QUEUE": REDIS_URL}
    first = LiveServer(tmp_path / "first", postgres_url, env_extra=queue)
    second = LiveServer(tmp_path / "second", postgres_url, env_extra=queue)
    for server in (first, second):
        server.workdir.mkdir()
    first.prepare()
    console = None
    try:
        first.start()
        second.start()
        keys = first.open_session(two_step_exercise())
        laptop = first.signed_in()
        console = Client("console").connect(
            second.url, {"session_id": keys["id"]}, headers=therapist_cookie(laptop)
        )
        console.wait_for(lambda view: "answers" in view)

        token = csrf_token(laptop.get(first.url + "/", timeout=5).text)
        laptop.post(first.url + "/logout", data={"csrf_token": token}, timeout=5)

        assert wait_until(lambda: not console.sio.connected)
    finally:
        if console is not None:
            console.close()
        first.stop()
        second.stop()


def test_a_listening_console_whose_close_got_lost_is_closed_within_seconds(live_server):
    """The server reads its consoles' sign-ins on a timer: a console that only listens, whose
    browser session went from the database without its close reaching this process (the
    message queue was down), is closed within seconds all the same."""
    keys = live_server.open_session(two_step_exercise())
    laptop = live_server.signed_in()
    console = Client("console").connect(
        live_server.url, {"session_id": keys["id"]}, therapist_cookie(laptop)
    )
    try:
        console.wait_for(lambda view: "answers" in view)
        app = create_app(live_server.app_config())
        with app.app_context():
            db.session.query(LoginSession).delete()  # as a sign-out elsewhere would
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        gone_at = time.monotonic()

        assert wait_until(lambda: not console.sio.connected, timeout=8)
        assert time.monotonic() - gone_at < 2 * 2 + 1  # SOCKET_SIGN_IN_RECHECK_SECONDS, twice
    finally:
        console.close()
