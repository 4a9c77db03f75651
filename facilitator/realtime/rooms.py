"""Which rooms each socket is in, kept as they are entered, so a disconnect costs the same with
ten families on the server as with a thousand.

python-socketio finds a leaving socket's rooms by copying and searching every room on the
server (each socket has one of its own, and here each screen one more): about 10,000 at 1,000
families, some 2 ms of CPU per disconnect, all of it while every other screen waits. A Wi-Fi
drop in a busy clinic, or a restart, brings thousands of disconnects at once.
"""

from __future__ import annotations

from typing import Any

import socketio


class RoomsBySocket:
    """For a python-socketio client manager: remembers each socket's rooms as it enters them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rooms_of: dict[tuple[str, str], set[Any]] = {}

    def basic_enter_room(self, sid: str, namespace: str, room: Any, eio_sid: Any = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # type: ignore[misc]
        self.rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        rooms = self.rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self.rooms_of[(namespace, sid)]

    def get_rooms(self, sid: str, namespace: str) -> list[Any]:
        return [room for room in self.rooms_of.get((namespace, sid), ()) if room is not None]

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        """The library's disconnect, leaving the socket's own rooms instead of searching all."""
        for room in list(self.rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.rooms_of.pop((namespace, sid), None)
        self.callbacks.pop(sid, None)  # type: ignore[attr-defined]
        for pending in (self.pending_connect, self.pending_disconnect):  # type: ignore[attr-defined]
            waiting = pending.get(namespace)
            if waiting is not None and sid in waiting:
                waiting.remove(sid)
                if not waiting:
                    del pending[namespace]


class Rooms(RoomsBySocket, socketio.Manager):
    """The client manager of a server process without a message queue."""
