"""Refused traffic: bad frames, replayed reserved events, floods and sockets that never sign in.

Every Socket.IO frame passes `FrameGuard.on_message` before python-socketio decodes it for real:
malformed packets, events outside the protocol's shape, a second connect and the reserved event
names are dropped here, counted, and summed up in the log once in a while (never a traceback
each). The per-socket event rate limit is `check_rate`, called by the dispatcher for each event.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import Any

from flask import Flask, current_app
from socketio import packet

from facilitator.realtime.protocol import error

log = logging.getLogger(__name__)

SUMMARY_EVERY_SECONDS = 60.0
# Names python-socketio gives its own handlers: a client emitting one would re-run it.
RESERVED_EVENTS = frozenset({"connect", "disconnect", "connect_error", "message"})
# A client may retry signing in on one connection (a refused token, then the right one).
MAX_CONNECT_ATTEMPTS = 3
# How often connections past their time to sign in are looked for.
LATE_CHECK_SECONDS = 1.0
SLOW_DOWN = error(
    "slow_down", "That was a lot of messages at once. Please wait a moment and try again."
)


class RefusalLog:
    """Counts refusals by reason; logs the first at once, then one summary line a minute."""

    def __init__(self, every: float = SUMMARY_EVERY_SECONDS):
        self.every = every
        self.counts: Counter[str] = Counter()
        self.total: Counter[str] = Counter()
        self.last_logged = float("-inf")
        self.lock = threading.Lock()

    def count(self, reason: str) -> None:
        with self.lock:
            self.counts[reason] += 1
            self.total[reason] += 1
            now = time.monotonic()
            if now - self.last_logged < self.every:
                return
            summary = ", ".join(f"{n} {why}" for why, n in sorted(self.counts.items()))
            self.counts.clear()
            self.last_logged = now
        log.warning(
            "refused input: %s (refusals are summed up here at most once every %d s)",
            summary,
            self.every,
        )


refusals = RefusalLog()


def count_refusal(reason: str) -> None:
    refusals.count(reason)


class TokenBucket:
    """`burst` events at once, then `rate` a second: far above what a person taps or types."""

    __slots__ = ("tokens", "updated")

    def __init__(self, burst: float):
        self.tokens = burst
        self.updated = time.monotonic()

    def take(self, rate: float, burst: float, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        self.tokens = min(burst, self.tokens + (now - self.updated) * rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


_buckets: dict[str, TokenBucket] = {}


def check_rate(sid: str) -> dict[str, Any] | None:
    """None while this socket is within its event rate; else the `slow_down` error to answer."""
    rate = current_app.config["EVENT_RATE_PER_SECOND"]
    burst = current_app.config["EVENT_BURST"]
    bucket = _buckets.get(sid)
    if bucket is None:
        bucket = _buckets[sid] = TokenBucket(burst)
    if bucket.take(rate, burst):
        return None
    count_refusal("event:slow_down")
    return SLOW_DOWN


def forget(sid: str) -> None:
    """A socket went away: its rate limit with it."""
    _buckets.pop(sid, None)


class FrameGuard:
    """Sits between engineio and python-socketio on one Socket.IO server."""

    def __init__(self, sio: Any, unauthenticated_seconds: float):
        self.sio = sio
        self.unauthenticated_seconds = unauthenticated_seconds
        self.connect_attempts: Counter[str] = Counter()
        # When each new connection must have signed in, in the order they opened (so, of
        # their deadlines): one task closes the late ones, instead of a task per connection.
        self.sign_in_deadlines: dict[str, float] = {}
        self.closing_late = False
        self.handle_message = sio.eio.handlers["message"]
        self.handle_connect = sio.eio.handlers["connect"]
        self.handle_disconnect = sio.eio.handlers["disconnect"]
        sio.eio.on("message", self.on_message)
        sio.eio.on("connect", self.on_connect)
        sio.eio.on("disconnect", self.on_disconnect)

    def on_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        if self.unauthenticated_seconds > 0:
            self.sign_in_deadlines[eio_sid] = time.monotonic() + self.unauthenticated_seconds
            if not self.closing_late:
                self.closing_late = True
                self.sio.start_background_task(self._close_late_connections)
        return self.handle_connect(eio_sid, environ)

    def on_disconnect(self, eio_sid: str, *reason: Any) -> Any:
        self.connect_attempts.pop(eio_sid, None)
        self.sign_in_deadlines.pop(eio_sid, None)
        return self.handle_disconnect(eio_sid, *reason)

    def on_message(self, eio_sid: str, data: Any) -> Any:
        refused = self.refusal(eio_sid, data)
        if refused:
            count_refusal(f"frame:{refused}")
            return None
        return self.handle_message(eio_sid, data)

    def refusal(self, eio_sid: str, data: Any) -> str | None:
        """Why this frame is dropped, or None to hand it to python-socketio."""
        if not isinstance(data, str):
            return "binary"  # the protocol has no binary events
        try:
            pkt = self.sio.packet_class(encoded_packet=data)
        except Exception:  # any way a client's bytes can fail to decode
            return "undecodable"
        namespace = pkt.namespace or "/"
        sid = self.sio.manager.sid_from_eio_sid(eio_sid, namespace)
        if pkt.packet_type == packet.CONNECT:
            return self._connect_refusal(eio_sid, sid)
        if pkt.packet_type == packet.DISCONNECT:
            return None
        if pkt.packet_type != packet.EVENT:
            return "unexpected_packet"  # acks, binary and error packets: the server asks none
        if sid is None or not self.sio.manager.is_connected(sid, namespace):
            return "not_signed_in"
        if not (isinstance(pkt.data, list) and pkt.data and isinstance(pkt.data[0], str)):
            return "malformed_event"
        if pkt.data[0] in RESERVED_EVENTS:
            return "reserved_event"
        return None

    def _connect_refusal(self, eio_sid: str, sid: str | None) -> str | None:
        if sid is not None:
            return "connect_again"
        self.connect_attempts[eio_sid] += 1
        if self.connect_attempts[eio_sid] > MAX_CONNECT_ATTEMPTS:
            return "too_many_connects"
        return None

    def _close_late_connections(self) -> None:
        """Runs while connections wait for their deadline; a new one starts it again."""
        try:
            while self.sign_in_deadlines:
                self.sio.sleep(LATE_CHECK_SECONDS)
                now = time.monotonic()
                while self.sign_in_deadlines:
                    eio_sid, deadline = next(iter(self.sign_in_deadlines.items()))
                    if deadline > now:
                        break  # the others opened later
                    del self.sign_in_deadlines[eio_sid]
                    try:
                        self._close_if_not_signed_in(eio_sid)
                    except Exception:  # one socket's failure must not leave the others open
                        log.warning("could not close socket %s", eio_sid, exc_info=True)
        finally:
            self.closing_late = False

    def _close_if_not_signed_in(self, eio_sid: str) -> None:
        socket = self.sio.eio.sockets.get(eio_sid)
        if socket is None or socket.closed:
            return
        if self.sio.manager.sid_from_eio_sid(eio_sid, "/") is not None:
            # Signed in, or its connect handler still runs (under load it may wait for the
            # database): only a socket that never asked, or was refused, is closed.
            return
        count_refusal("socket:never_signed_in")
        # wait=False: engineio's default close waits for a polling client to fetch its close
        # packet, which one that went quiet never does.
        socket.close(wait=False, abort=False)


def install(app: Flask, sio: Any) -> FrameGuard:
    return FrameGuard(sio, app.config["UNAUTHENTICATED_SOCKET_SECONDS"])
