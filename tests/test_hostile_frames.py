"""Bad Socket.IO frames, replayed reserved events and floods, as raw WebSocket frames against
the real server process: refused quietly, counted in one summary line, and the server serves."""

from __future__ import annotations

import json
import time

import pytest
import websocket

from facilitator.realtime.guard import TokenBucket
from tests.factories import two_step_exercise
from tests.live_server import LiveServer
from tests.socket_clients import Client, join_by_phone, therapist_cookie

pytestmark = pytest.mark.server

NOT_SIGNED_IN_LIMIT = 2  # UNAUTHENTICATED_SOCKET_SECONDS for this server

BAD_FRAMES = [
    "42",
    "42[]",
    "49",
    '42["save_draft", {"text": "half a',
    "42[" + "7" * 5000 + "]",
    "42" + "[" * 20000 + "]" * 20000,
    '42[{"not": "a name"}]',
    '42"just a string"',
    "43[1]",
    '451-["save_draft",{"_placeholder":true,"num":0}]',
    "44{}",
    "4",
    "4x",
    "41/admin,",
    '42/admin,["end"]',
    "40{",
    "9",
    "3probe",
    '42["connect"]',
    "",  # an empty WebSocket frame: engineio drops this connection (nothing else follows)
]


@pytest.fixture
def server(tmp_path, async_mode):
    server = LiveServer(
        tmp_path,
        f"sqlite:///{tmp_path / 'frames.sqlite3'}",
        env_extra={
            "UNAUTHENTICATED_SOCKET_SECONDS": str(NOT_SIGNED_IN_LIMIT),
            "EVENT_BURST": "20",
            "EVENT_RATE_PER_SECOND": "5",
            "SOCKETIO_ASYNC_MODE": async_mode,
        },
    )
    server.prepare()
    server.start()
    yield server
    server.stop()


class RawSocket:
    """A WebSocket speaking Engine.IO and Socket.IO by hand, frame by frame."""

    def __init__(self, server: LiveServer):
        url = server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(url, origin=server.url, timeout=5)
        assert self.ws.recv().startswith("0{")  # Engine.IO open

    def sign_in(self, auth: dict | None) -> str:
        """The server's answer to the connect packet: 40{sid} or 44{error}. (The first view
        can arrive just before it.)"""
        self.ws.send("40" + (json.dumps(auth) if auth else ""))
        while not (frame := self.next_message()).startswith(("40", "44")):
            pass
        return frame

    def next_message(self) -> str:
        """The next Socket.IO frame, answering Engine.IO pings on the way."""
        while True:
            frame = self.ws.recv()
            if frame == "2":
                self.ws.send("3")
                continue
            return frame

    def call(self, ack_id: int, event: str, payload=None) -> list:
        args = [event] if payload is None else [event, payload]
        self.ws.send(f"42{ack_id}{json.dumps(args)}")
        while True:
            frame = self.next_message()
            if frame.startswith(f"43{ack_id}["):
                return json.loads(frame[len(f"43{ack_id}") :])

    def closed_by_server(self, within: float) -> bool:
        self.ws.settimeout(within)
        try:
            while True:
                frame = self.ws.recv()
                if frame in ("", None) or frame == "1":
                    return True
                if frame == "2":
                    self.ws.send("3")
        except websocket.WebSocketConnectionClosedException:
            return True
        except websocket.WebSocketTimeoutException:
            return False

    def close(self) -> None:
        self.ws.close()


def open_room(server: LiveServer):
    keys = server.open_session(two_step_exercise())
    therapist = Client("therapist").connect(
        server.url, {"session_id": keys["id"]}, headers=therapist_cookie(server.signed_in())
    )
    return keys, therapist


def sam_is_connected(view: dict) -> bool:
    return next(p for p in view["people"] if p["name"] == "Sam")["connected"]


def test_twenty_bad_frames_leave_one_summary_line_and_no_traceback(server):
    keys, therapist = open_room(server)
    try:
        stranger = RawSocket(server)
        assert stranger.sign_in(None).startswith("44")  # refused: not signed in
        for frame in BAD_FRAMES:
            stranger.ws.send(frame)
        stranger.close()

        token = join_by_phone(server.url, keys["join_code"], "Sam", "adolescent")
        sam = RawSocket(server)
        assert sam.sign_in({"token": token}).startswith("40{")
        for frame in BAD_FRAMES[:-1]:
            sam.ws.send(frame)
        # Sam's socket still works after all that, and so does everyone else's.
        assert sam.call(1, "get_view")[0]["ok"] is True
        therapist.open_step()
        sam.close()
    finally:
        therapist.close()

    log = server.log_text()
    assert "Traceback" not in log
    assert "Exception" not in log and "handler error" not in log
    summaries = [line for line in log.splitlines() if "refused input" in line]
    assert len(summaries) <= 2, summaries


def test_a_phone_cannot_replay_the_reserved_connect_and_disconnect_events(server):
    keys, therapist = open_room(server)
    try:
        token = join_by_phone(server.url, keys["join_code"], "Sam", "adolescent")
        sam = RawSocket(server)
        assert sam.sign_in({"token": token}).startswith("40{")
        therapist.wait_for(lambda v: len(v["waiting"]) == 1)
        therapist.admit_everyone()
        therapist.wait_for(sam_is_connected)

        for _ in range(3):
            sam.ws.send(json.dumps(["connect", {"token": token}]).join(["42", ""]))
            sam.ws.send("40" + json.dumps({"token": token}))
        sam.ws.send('42["disconnect"]')
        assert sam.call(1, "get_view")[0]["ok"] is True  # every frame above was read by now
        assert sam_is_connected(therapist.view())  # the disconnect replay changed nothing

        mark = therapist.mark()
        sam.close()
        # One real connection, one real goodbye: the therapist sees Sam away.
        therapist.wait_for(lambda v: not sam_is_connected(v), after=mark)
    finally:
        therapist.close()


def test_a_socket_that_never_signs_in_is_closed_after_a_few_seconds(server):
    keys, therapist = open_room(server)
    try:
        silent = RawSocket(server)
        refused = RawSocket(server)
        assert refused.sign_in({"token": "not-a-real-token"}).startswith("44")
        token = join_by_phone(server.url, keys["join_code"], "Sam", "adolescent")
        sam = RawSocket(server)
        assert sam.sign_in({"token": token}).startswith("40{")

        assert silent.closed_by_server(within=NOT_SIGNED_IN_LIMIT + 3)
        assert refused.closed_by_server(within=1)
        assert not sam.closed_by_server(within=1)  # a signed-in phone stays
        assert sam.call(1, "get_view")[0]["ok"] is True
        sam.close()
    finally:
        therapist.close()


def test_a_flood_of_events_meets_slow_down_and_the_console_stays_quick(server):
    keys, therapist = open_room(server)
    try:
        token = join_by_phone(server.url, keys["join_code"], "Sam", "adolescent")
        sam = RawSocket(server)
        assert sam.sign_in({"token": token}).startswith("40{")
        therapist.wait_for(lambda v: len(v["waiting"]) == 1)
        therapist.admit_everyone()
        therapist.open_step()

        for n in range(300):
            sam.ws.send(f'42{n}["save_draft",{{"text":"flood {n}"}}]')
        answers = []
        while len(answers) < 300:
            frame = sam.next_message()
            if frame.startswith("43"):
                answers.append(json.loads(frame[frame.index("[") :])[0])
        refused = [a for a in answers if not a["ok"]]
        assert len(refused) >= 250, len(refused)
        assert {a["error"]["code"] for a in refused} == {"slow_down"}
        assert refused[0]["error"]["message"].endswith("try again.")

        started = time.monotonic()
        therapist.do("add_note", {"text": "still quick"})
        assert time.monotonic() - started < 0.5
        time.sleep(1)  # the bucket refills: Sam's next draft is saved
        assert sam.call(999, "save_draft", {"text": "after a pause"})[0]["ok"] is True
        sam.close()
    finally:
        therapist.close()
    assert "Traceback" not in server.log_text()


def test_a_person_typing_and_tapping_never_meets_the_limit():
    """The default limits (a burst of 30, then 5 a second) against a busy person's pace: a
    draft saved every second for ten minutes, with ten quick taps every half minute."""
    bucket, now = TokenBucket(30), 0.0
    bucket.updated = now
    for second in range(600):
        events = 1 + (10 if second % 30 == 0 else 0)
        for _ in range(events):
            assert bucket.take(5, 30, now=now + second), second
