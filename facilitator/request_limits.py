"""Refuse oversized, malformed or unending request bodies at once, before anything waits on them.

Why it exists: engineio answers a polling POST whose body is too long, or holds a packet it does
not know, by disconnecting the socket with `Socket.close(wait=True)` (engineio/server.py, the
POST branch of `handle_request`, then `Server.disconnect`), and that waits for the socket's
send queue to be drained by a polling GET that never comes: the request, its green thread and
its connection are held for good. Even when it answers, the server then tries to read the body
the client announced (eventlet/wsgi.py `handle_one_response`, `request_input.discard()`; gevent
does the same), which a client can simply never send. So a polling POST reaches engineio only
with its whole body read here and its packets known to be ones engineio handles; anything else
is answered here and its connection closed.
"""

from __future__ import annotations

import binascii
import io
import logging
from collections.abc import Callable, Iterable
from typing import Any

from engineio import packet
from engineio.payload import Payload

from facilitator.async_mode import close_after_response
from facilitator.realtime.guard import count_refusal

log = logging.getLogger(__name__)

# Packets a client may send over polling: engineio refuses the others by hanging (see above).
CLIENT_POLLING_PACKETS = {packet.CLOSE, packet.PONG, packet.MESSAGE, packet.UPGRADE}
# Exercise files and the editor's form stay well under this (web/exercises.py limits them).
MAX_REQUEST_BYTES = 16 * 1024 * 1024

StartResponse = Callable[..., Any]


class RequestLimits:
    """WSGI middleware in front of the whole app, Socket.IO included."""

    def __init__(self, app: Callable, socket_path: str, max_socket_body: int):
        self.app = app
        self.socket_path = "/" + socket_path.strip("/") + "/"
        self.max_socket_body = max_socket_body

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        is_socket = (environ.get("PATH_INFO", "") + "/").startswith(self.socket_path)
        limit = self.max_socket_body if is_socket else MAX_REQUEST_BYTES
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return _refuse(environ, start_response, "411 Length Required", "length_required")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0:
            return _refuse(environ, start_response, "400 Bad Request", "bad_length")
        if length > limit:
            return _refuse(environ, start_response, "413 Content Too Large", "too_large")
        if is_socket and environ.get("REQUEST_METHOD") == "POST":
            return self._polling_post(environ, start_response, length)
        return self.app(environ, start_response)

    def _polling_post(
        self, environ: dict[str, Any], start_response: StartResponse, length: int
    ) -> Iterable[bytes]:
        try:
            body = _read_exactly(environ["wsgi.input"], length)
        except OSError:  # the socket timeout: the client stopped sending
            return _refuse(environ, start_response, "408 Request Timeout", "slow_body")
        if body is None:
            return _refuse(environ, start_response, "400 Bad Request", "short_body")
        if not sound_polling_payload(body):
            return _refuse(environ, start_response, "400 Bad Request", "bad_payload")
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


def _read_exactly(stream: Any, length: int) -> bytes | None:
    chunks, remaining = [], length
    while remaining:
        chunk = stream.read(min(remaining, 16 * 1024))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def sound_polling_payload(body: bytes) -> bool:
    """Decodes as engineio will, and holds only packets engineio accepts from a client."""
    try:
        packets = Payload(encoded_payload=body.decode("utf-8")).packets
    except (UnicodeDecodeError, ValueError, IndexError, binascii.Error):
        return False
    return all(p.packet_type in CLIENT_POLLING_PACKETS for p in packets)


def _refuse(
    environ: dict[str, Any], start_response: StartResponse, status: str, reason: str
) -> Iterable[bytes]:
    count_refusal(f"http:{reason}")
    body = status.split(" ", 1)[1].encode() + b"\n"
    write = start_response(
        status,
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ],
    )
    write(body)
    close_after_response(environ)
    return []
