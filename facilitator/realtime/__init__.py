"""Socket.IO: who is connecting, their commands into the domain, and each viewer's own view."""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from werkzeug.routing import MapAdapter

from facilitator.extensions import socketio
from facilitator.realtime.fanout import ViewsQueue
from facilitator.realtime.packets import TextPacket
from facilitator.realtime.rooms import Rooms

# The largest Socket.IO message or polling request body a client may send.
MAX_MESSAGE_BYTES = 64 * 1024
SOCKET_PATH = "socket.io"


def init_realtime(app: Flask) -> None:
    # Handlers must be declared before init_app, which binds all declared handlers to the
    # server it creates (one per app, so every app built in one process has them all).
    from facilitator.realtime import handlers  # noqa: F401

    queue = app.config["SOCKETIO_MESSAGE_QUEUE"]

    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=queue,
        # With a queue, one that carries all of a change's views in one message (fanout.py).
        # Either way, one that knows each socket's rooms (rooms.py).
        client_manager=ViewsQueue(queue, channel="flask-socketio") if queue else Rooms(),
        # None: only this server's own origin may open a socket (no cross-site hijacking).
        cors_allowed_origins=app.config["CORS_ALLOWED_ORIGINS"] or None,
        max_http_buffer_size=MAX_MESSAGE_BYTES,
        ping_interval=10,
        ping_timeout=10,
        serializer=TextPacket,
    )
    app.session_interface = SocketOpensSessionOnce()
    from facilitator.realtime import guard
    from facilitator.request_limits import RequestLimits

    guard.install(app, socketio.server)

    # Outside Socket.IO's own middleware: bodies are checked before engineio sees them.
    app.wsgi_app = RequestLimits(app.wsgi_app, SOCKET_PATH, MAX_MESSAGE_BYTES)


class FacilitatorApp(Flask):
    """Flask, with socket events that match no route.

    Every socket event runs in a request context made from the socket's opening request
    (Flask-SocketIO), and Flask matches its address against the routes at each one. Werkzeug's
    matcher leaves a reference cycle at every match (a closure that calls itself), which only
    the garbage collector frees: under load, those were most of the objects its collections
    walked, while every screen waited. Engineio answers every request to the socket path before
    Flask sees it, so an event's request has nothing to match: it gets no URL adapter (and no
    endpoint, nor `url_for` of its own; nothing in the socket handlers builds URLs)."""

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        if request is not None and request.path.strip("/") == SOCKET_PATH:
            return None
        return super().create_url_adapter(request)


class SocketOpensSessionOnce(SecureCookieSessionInterface):
    """The signed session cookie, verified and decoded once per request environment.

    Every event of a socket runs in a request context made from the socket's opening request,
    and Flask opens the session at each of them: verifying the cookie's signature again for
    every event of a therapist's console (Flask-SocketIO then swaps in the session it keeps per
    socket anyway). An HTTP request has an environment of its own, so it is unaffected."""

    ENVIRON_KEY = "facilitator.opened_session"

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        environ = request.environ
        if self.ENVIRON_KEY not in environ:
            environ[self.ENVIRON_KEY] = super().open_session(app, request)
        return environ[self.ENVIRON_KEY]
