"""The app as it really runs: an eventlet server process and real python-socketio clients."""

from __future__ import annotations

import re

import pytest
import requests
import socketio
import websocket

from tests.conftest import need
from tests.factories import two_step_exercise
from tests.live_server import LiveServer
from tests.socket_clients import Client, join_by_phone, therapist_cookie

pytestmark = pytest.mark.server


def open_room(server, exercise=None):
    """A session with the therapist and three phones connected through the real pages."""
    keys = server.open_session(exercise or two_step_exercise())
    http = server.signed_in()
    therapist = Client("therapist").connect(
        server.url, {"session_id": keys["id"]}, headers=therapist_cookie(http)
    )
    phones = {}
    for name, role, language in (
        ("Sam", "adolescent", "en"),
        ("Maria", "parent", "es"),
        ("Jo", "other", "en"),
    ):
        token = join_by_phone(server.url, keys["join_code"], name, role, language)
        phones[name] = Client(name).connect(server.url, {"token": token})
        phones[name].token = token
    display = Client("display").connect(server.url, {"display": keys["display_token"]})
    therapist.wait_for(lambda v: len(v["waiting"]) == 3)
    therapist.admit_everyone()
    therapist.wait_for(lambda v: sum(p["connected"] for p in v["people"]) == 3)
    return keys, therapist, phones, display


def close_all(*clients):
    for client in clients:
        client.close()


def test_a_full_session_with_three_phones_over_real_websockets(live_server):
    _, therapist, phones, display = open_room(live_server)
    sam, maria, jo = phones["Sam"], phones["Maria"], phones["Jo"]
    try:
        therapist.open_step()
        sam.wait_for(lambda v: v["step"]["you_answer"])
        sam.do(
            "submit_answer",
            {"feelings": ["hurt"], "needs": ["respect"], "text": "SECRET-sam-real-server"},
        )
        maria.do(
            "submit_answer",
            {"feelings": ["lonely"], "needs": ["respect"], "text": "SECRET-maria-real-server"},
        )
        jo.do(
            "submit_answer",
            {"feelings": ["angry"], "text": "SECRET-jo-only-therapist", "therapist_only": True},
        )
        therapist.wait_for(lambda v: len(v["answers"]) == 3)
        for client in (maria, jo, display):
            assert "SECRET-sam-real-server" not in client.text()

        therapist.reveal_next()
        maria.wait_for(lambda v: v["turns"][0]["answer"]["text"] == "SECRET-sam-real-server")
        assert maria.view()["turns"][0]["answer"]["feelings"][0]["label"] == "dolido/a"
        maria.do("submit_follow_up", {"text": "You feel hurt"})
        therapist.do("reveal_follow_up")
        sam.wait_for(lambda v: v["turns"][0]["follow_up"]["text"] == "You feel hurt")
        sam.do("confirm_reflection", {"confirmation": "yes"})
        therapist.reveal_next()
        therapist.do("reveal_shared_ground")
        display.wait_for(lambda v: [n["id"] for n in v["shared_ground"]] == ["respect"])
        jo.do("request_break")
        therapist.wait_for(lambda v: any(p["break_requested"] for p in v["people"]))
        therapist.do("pause")
        sam.wait_for(lambda v: v["session"]["paused"])
        therapist.do("resume")
        therapist.do("end")
        for client in (sam, maria, jo, display):
            client.wait_for(lambda v: v["session"]["phase"] == "ended")
            assert "SECRET-jo-only-therapist" not in client.text() or client is jo
    finally:
        close_all(therapist, display, *phones.values())


def test_a_websocket_from_another_site_is_refused(live_server):
    """Cross-site WebSocket hijacking: a page on another site opening a socket to this server."""
    keys = live_server.open_session(two_step_exercise())
    token = join_by_phone(live_server.url, keys["join_code"], "Sam", "adolescent")
    ws_url = live_server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(ws_url, origin="http://evil.example", timeout=5)
    polling = requests.get(
        f"{live_server.url}/socket.io/?EIO=4&transport=polling",
        headers={"Origin": "http://evil.example"},
        timeout=5,
    )
    assert polling.status_code == 400
    # The same handshake from the app's own pages is accepted.
    own = websocket.create_connection(ws_url, origin=live_server.url, timeout=5)
    assert own.recv().startswith("0{")  # the Engine.IO open packet
    own.close()
    phone = Client("Sam").connect(live_server.url, {"token": token})
    phone.close()


def refusal_of(url: str, auth: dict) -> dict:
    """What the server says when it refuses this connect (`connect_error`'s data)."""
    said: list[dict] = []
    sio = socketio.Client(reconnection=False)
    sio.on("connect_error", said.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=10)
    sio.disconnect()
    assert said, "the connect was refused without a reason"
    return said[0]


def test_a_phone_is_told_why_it_cannot_connect(live_server):
    _, therapist, phones, display = open_room(live_server)
    sam = phones["Sam"]
    try:
        assert refusal_of(live_server.url, {"token": "made-up"}) == {
            "message": "This phone is not part of an open session.",
            "data": {"code": "unknown_token"},
        }
        therapist.do("end")
        sam.wait_for(lambda v: v["session"]["phase"] == "ended")
        assert refusal_of(live_server.url, {"token": sam.token}) == {
            "message": "This session has ended.",
            "data": {"code": "session_ended"},
        }
    finally:
        close_all(therapist, display, *phones.values())
    assert "Traceback" not in live_server.log_text()


def test_killing_the_server_mid_session_loses_nothing(live_server):
    _, therapist, phones, display = open_room(live_server)
    sam, maria = phones["Sam"], phones["Maria"]
    try:
        therapist.open_step()
        sam.do("submit_answer", {"feelings": ["hurt"], "text": "said before the crash"})
        maria.do("save_draft", {"feelings": ["lonely"], "text": "half-written before the crash"})
        therapist.do("add_note", {"text": "note before the crash"})

        marks = {client.name: client.mark() for client in (therapist, sam, maria)}
        live_server.restart()  # SIGKILL, then a fresh process on the same database

        # The clients reconnect by themselves with the same credentials, and get their views
        # from the new process.
        sam.wait_for(
            lambda v: v["your_answer"]["text"] == "said before the crash",
            timeout=20,
            after=marks["Sam"],
        )
        maria.wait_for(
            lambda v: v["your_draft"]["text"] == "half-written before the crash",
            timeout=20,
            after=marks["Maria"],
        )
        assert sam.view()["session"]["phase"] == "collecting"
        therapist.wait_for(
            lambda v: v["notes"][0]["text"] == "note before the crash",
            timeout=20,
            after=marks["therapist"],
        )
        therapist.reveal_next()
        maria.wait_for(lambda v: v["turns"][0]["answer"]["text"] == "said before the crash")
    finally:
        close_all(therapist, display, *phones.values())


def test_the_server_tells_which_addresses_phones_can_open(tmp_path):
    """`scripts/run.sh` listens on every interface and prints the addresses for phones; each
    printed address serves the app."""
    server = LiveServer(tmp_path, f"sqlite:///{tmp_path / 'lan.sqlite3'}", host="0.0.0.0")
    server.prepare()
    server.start()
    try:
        printed = re.findall(r"For phones on the same network:\s+(\S+)", server.log_text())
        need(printed != [], "this machine has no network address besides loopback")
        for url in printed:
            assert not url.startswith("http://127."), url
            assert requests.get(f"{url}login", timeout=5).status_code == 200, url
    finally:
        server.stop()


def test_a_server_kept_to_this_computer_offers_no_address_to_phones(live_server):
    assert "For phones on the same network" not in live_server.log_text()
    assert f"On this computer:  http://127.0.0.1:{live_server.port}/" in live_server.log_text()


def test_the_server_names_its_library_in_one_calm_line(live_server, async_mode):
    log = live_server.log_text()
    assert f"Server library: {async_mode}" in log
    assert "deprecated" not in log.lower()


def test_a_form_sent_with_a_null_origin_reaches_the_page(live_server):
    """Browsers send `Origin: null` with forms under this app's no-referrer policy: only a
    WebSocket's origin is checked, never a page's."""
    response = requests.post(
        f"{live_server.url}/login", headers={"Origin": "null"}, data={}, timeout=5
    )
    assert "Not an accepted origin" not in response.text
    assert "<form" in response.text or response.status_code == 400
