"""Hostile HTTP traffic against the real server process: it refuses at once and keeps serving."""

from __future__ import annotations

import json
import os
import socket
import time

import pytest
import requests

from tests.live_server import LiveServer

pytestmark = pytest.mark.server

SILENCE_LIMIT = 3  # SOCKET_TIMEOUT_SECONDS for this server


@pytest.fixture
def guarded_server(tmp_path, async_mode):
    server = LiveServer(
        tmp_path,
        f"sqlite:///{tmp_path / 'hostile.sqlite3'}",
        env_extra={"SOCKET_TIMEOUT_SECONDS": str(SILENCE_LIMIT), "SOCKETIO_ASYNC_MODE": async_mode},
    )
    server.prepare()
    server.start()
    yield server
    server.stop()


def open_files(server: LiveServer) -> int:
    return len(os.listdir(f"/proc/{server.process.pid}/fd"))


def handshake(server: LiveServer) -> str:
    """An Engine.IO polling handshake, as a phone's first request; returns the session id."""
    response = requests.get(f"{server.url}/socket.io/?EIO=4&transport=polling", timeout=2)
    assert response.status_code == 200 and response.text.startswith("0{"), response.text
    return json.loads(response.text[1:])["sid"]


def still_serving(server: LiveServer) -> None:
    assert requests.get(f"{server.url}/login", timeout=2).status_code == 200
    handshake(server)


def raw_request(server: LiveServer, head: str, body: bytes = b"") -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    connection.sendall(head.encode() + b"\r\n" + body)
    return connection


def polling_post(sid: str | None, length: str, extra: str = "") -> str:
    query = "EIO=4&transport=polling" + (f"&sid={sid}" if sid else "")
    return (
        f"POST /socket.io/?{query} HTTP/1.1\r\nHost: clinic\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {length}\r\n{extra}"
    )


def answer_and_close(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or 5 s pass)."""
    received = b""
    try:
        while chunk := connection.recv(4096):
            received += chunk
    except TimeoutError:
        kept = f"the server kept the connection open after {received[:80]!r}"
        raise AssertionError(kept) from None
    finally:
        connection.close()
    return received


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def test_two_thousand_oversized_polling_posts_are_refused_and_forgotten(guarded_server):
    server = guarded_server
    still_serving(server)
    baseline = open_files(server)

    # 2,000 POSTs announcing 100 KB and sending nothing, 250 held open at a time, half of
    # them for a real Engine.IO session: each gets 413 at once and its connection is closed.
    for wave in range(8):
        sid = handshake(server)
        held = [
            raw_request(server, polling_post(sid if n % 2 else None, "100000")) for n in range(250)
        ]
        answers = [answer_and_close(connection) for connection in held]
        assert {status_of(a) for a in answers} == {413}, wave
        still_serving(server)

    time.sleep(0.5)
    assert open_files(server) <= baseline + 3


def test_malformed_polling_requests_get_400_at_once(guarded_server):
    server = guarded_server
    sid = handshake(server)
    for length in ("abc", "-5", "1e9"):
        assert status_of(answer_and_close(raw_request(server, polling_post(sid, length)))) == 400
    chunked = polling_post(sid, "5").replace("Content-Length: 5", "Transfer-Encoding: chunked")
    assert status_of(answer_and_close(raw_request(server, chunked))) == 411
    # A packet type engineio does not accept from a client (9, or a ping: 2), and a body
    # that is not UTF-8: refused here, not left hanging in engineio's disconnect.
    for body in (b"9", b"2", b"4\xff\xfe", b"\x1e\x1e"):
        answer = answer_and_close(raw_request(server, polling_post(sid, str(len(body))), body))
        assert status_of(answer) == 400, body
    # A sound polling POST is still answered by engineio as usual.
    response = requests.post(
        f"{server.url}/socket.io/?EIO=4&transport=polling&sid={handshake(server)}",
        data="40",
        headers={"Content-Type": "text/plain"},
        timeout=2,
    )
    assert response.status_code == 200 and response.text == "OK"
    still_serving(server)
    assert "Traceback" not in server.log_text()


def test_clients_that_stop_sending_are_closed_after_the_socket_timeout(guarded_server):
    server = guarded_server
    still_serving(server)
    baseline = open_files(server)
    sid = handshake(server)
    silent = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(40)]
    half_headers = [raw_request(server, "GET /login HTTP/1.1\r\nHost: cl") for _ in range(40)]
    half_bodies = [raw_request(server, polling_post(sid, "100"), b"42[") for _ in range(40)]
    started = time.monotonic()
    while open_files(server) < baseline + 115 and time.monotonic() - started < 1:
        time.sleep(0.05)
    assert open_files(server) >= baseline + 115  # the server holds them for now
    still_serving(server)  # others are served meanwhile

    for connection in silent + half_headers + half_bodies:
        connection.settimeout(SILENCE_LIMIT + 5)
        answer = answer_and_close(connection)
        assert answer == b"" or status_of(answer) in (400, 408), answer[:80]
    assert time.monotonic() - started < SILENCE_LIMIT + 5
    time.sleep(0.5)
    assert open_files(server) <= baseline + 3
    still_serving(server)
