"""Signing out on the real server: a copied cookie is refused by the pages and by the socket,
and the therapist's open sockets are closed at once."""

from __future__ import annotations

import time

import pytest
import requests
import socketio

from tests.factories import two_step_exercise
from tests.socket_clients import Client, csrf_token, therapist_cookie

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
