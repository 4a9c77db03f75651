"""Sending the screens whose view a change altered their new views, in one go.

With several server processes, every emit goes through the Redis message queue and every
process reads every message: five screens' views were five messages published and ten read
for each change, which made two processes cost twice the CPU of one for the same work. The
queue here carries all of one change's views in a single message; each process then sends
the views of the screens it holds, through the library's own path for one emit.
"""

from __future__ import annotations

from typing import Any

import socketio

from facilitator.fastjson import RawJSON
from facilitator.realtime.rooms import RoomsBySocket

VIEW_EVENT = "view"
# The name the queue's message of several views travels under. It is never sent to a client:
# each process unpacks it into one "view" emit per screen.
VIEWS_EVENT = "facilitator:views"
# The room that message names, which no socket ever joins: a process that does not know the
# message (an older one, during an upgrade) then sends it to nobody, not to every socket.
NOBODY = "facilitator:nobody"


def send_views(server: Any, sends: list[tuple[str, RawJSON]]) -> None:
    """Each (room, view): the view goes to the sockets of that room, on whichever process."""
    if not sends:
        return
    if isinstance(server.manager, ViewsQueue):
        server.manager.emit_views(sends)
        return
    for room, view in sends:
        server.emit(VIEW_EVENT, view, to=room)


class ViewsQueue(RoomsBySocket, socketio.RedisManager):
    """python-socketio's Redis queue, with one message for all the views of one change."""

    def emit_views(self, sends: list[tuple[str, RawJSON]]) -> None:
        message = {
            "method": "emit",
            "event": VIEWS_EVENT,
            "data": [[[room, str(view)] for room, view in sends]],
            "binary": False,
            "namespace": "/",
            "room": NOBODY,
            "skip_sid": None,
            "callback": None,
            "host_id": self.host_id,
        }
        self._handle_emit(message)  # this process's screens
        self._publish(message)  # the other processes'

    def _handle_emit(self, message: dict[str, Any]) -> None:
        if message.get("event") != VIEWS_EVENT:
            super()._handle_emit(message)
            return
        (sends,) = message["data"]
        for room, view in sends:
            one = {**message, "event": VIEW_EVENT, "data": [RawJSON(view)], "room": room}
            super()._handle_emit(one)
