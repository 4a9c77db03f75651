"""Real python-socketio clients for tests against a running server, recording every frame."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import requests
import socketio


class TherapistMoves:
    """The therapist's moves as the console makes them: each names the step its screen shows,
    read from a fresh view so that a move is never refused for a frame still on its way."""

    def current_view(self) -> dict[str, Any]:
        ack = self.send("get_view")
        assert ack["ok"], ack
        return ack["view"]

    def position(self) -> dict[str, Any]:
        step = self.current_view()["step"]
        return {
            "from_part": step["part_id"] if step else None,
            "from_step": step["index"] if step else None,
        }

    def open_step(self) -> Any:
        return self.do("open_step", self.position())

    def next_exercise(self) -> Any:
        return self.do("next_exercise", self.position())

    def lock(self) -> Any:
        here = self.position()
        return self.do("lock_step", {"part_id": here["from_part"], "step_index": here["from_step"]})

    def reveal_next(self, **extra: Any) -> Any:
        queue = self.current_view()["queue"]
        assert queue, "nobody left to reveal"
        return self.do("reveal", {"participant_id": queue[0], **extra})

    def admit_everyone(self) -> Any:
        return self.do("admit_all")


class Client(TherapistMoves):
    """One screen: a Socket.IO connection that keeps every view it receives."""

    def __init__(self, name: str):
        self.name = name
        self.frames: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.sio = socketio.Client(
            reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1
        )
        self.sio.on("view", self._on_view)

    def _on_view(self, view: dict[str, Any]) -> None:
        with self.lock:
            self.frames.append(view)

    def connect(
        self,
        url: str,
        auth: dict[str, Any],
        headers: dict[str, str] | None = None,
        transports: tuple[str, ...] = ("websocket",),
    ) -> Client:
        if "polling" in transports:
            # Every long-polling request, the POSTs too, carries the headers given here, as a
            # browser's requests all carry its User-Agent (engineio's own POSTs carry only a
            # Content-Type): behind nginx they all reach the same process.
            http = requests.Session()
            http.headers.update({k: v for k, v in (headers or {}).items() if k != "Cookie"})
            self.sio.eio.http = http
        self.sio.connect(
            url, auth=auth, headers=headers or {}, transports=list(transports), wait_timeout=10
        )
        return self

    def do(self, event: str, payload: Any = None) -> None:
        ack = self.send(event, payload)
        assert ack == {"ok": True}, f"{self.name} {event}: {ack}"

    def send(self, event: str, payload: Any = None) -> Any:
        # After a reconnect the server's first view can arrive a moment before the namespace's
        # connect packet; calls wait for the connection itself.
        deadline = time.monotonic() + 10
        while "/" not in self.sio.namespaces and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.sio.call(event, payload, timeout=10)

    def view(self) -> dict[str, Any]:
        with self.lock:
            assert self.frames, f"{self.name} has no view yet"
            return self.frames[-1]

    def mark(self) -> int:
        with self.lock:
            return len(self.frames)

    def wait_for(self, check, timeout: float = 10, after: int = 0) -> dict[str, Any]:
        """Wait until the latest view (received after frame `after`) satisfies `check`."""
        deadline = time.monotonic() + timeout
        latest = None
        while time.monotonic() < deadline:
            with self.lock:
                latest = self.frames[-1] if len(self.frames) > after else None
            if latest is not None:
                try:
                    if check(latest):
                        return latest
                except (KeyError, IndexError, TypeError):
                    pass
            time.sleep(0.05)
        raise AssertionError(f"{self.name}: view never matched; last: {latest}")

    def text(self) -> str:
        with self.lock:
            return json.dumps(self.frames, ensure_ascii=False)

    def close(self) -> None:
        # Also stops a reconnection loop, which would otherwise outlive the test.
        self.sio.shutdown()


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, "the form has no CSRF token"
    return found.group(1)


def join_by_phone(base_url: str, code: str, name: str, role: str, language: str = "en") -> str:
    """Ask to join through the real join form, as a phone would; returns the rejoin token.
    The phone then waits until the therapist lets it in."""
    http = requests.Session()
    form = http.get(f"{base_url}/join/{code}", timeout=10)
    assert form.status_code == 200, form.text[:300]
    page = http.post(
        f"{base_url}/join/{code}",
        data={
            "csrf_token": csrf_token(form.text),
            "name": name,
            "role": role,
            "language": language,
        },
        timeout=10,
    )
    token = re.search(r'data-token="([^"]+)"', page.text)
    assert page.status_code == 200 and token, page.text[:500]
    return token.group(1)


def therapist_cookie(http: requests.Session) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in http.cookies)}
