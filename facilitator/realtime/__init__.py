"""Socket.IO: who is connecting, their commands into the domain, and each viewer's own view."""

from __future__ import annotations

from flask import Flask

from facilitator.extensions import socketio
from facilitator.realtime.packets import TextPacket

# The largest Socket.IO message or polling request body a client may send.
MAX_MESSAGE_BYTES = 64 * 1024


def init_realtime(app: Flask) -> None:
    # Handlers must be declared before init_app, which binds all declared handlers to the
    # server it creates (one per app, so every app built in one process has them all).
    from facilitator.realtime import handlers  # noqa: F401

    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"],
        # None: only this server's own origin may open a socket (no cross-site hijacking).
        cors_allowed_origins=app.config["CORS_ALLOWED_ORIGINS"] or None,
        max_http_buffer_size=MAX_MESSAGE_BYTES,
        ping_interval=10,
        ping_timeout=10,
        serializer=TextPacket,
    )
    from facilitator.realtime import guard
    from facilitator.request_limits import RequestLimits

    guard.install(app, socketio.server)

    # Outside Socket.IO's own middleware: bodies are checked before engineio sees them.
    app.wsgi_app = RequestLimits(app.wsgi_app, "socket.io", MAX_MESSAGE_BYTES)
