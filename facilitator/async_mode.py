"""The green-thread server library (eventlet by default, or gevent): every call specific to one."""

from __future__ import annotations

import os
import socket
import warnings
from typing import Any

ASYNC_MODES = ("eventlet", "gevent")
DEFAULT_ASYNC_MODE = "eventlet"

# Said once at start instead of eventlet's own multi-line deprecation banner, which reads like a
# fault to whoever watches the service's log.
EVENTLET_NOTE = (
    "Server library: eventlet (the default). Its makers keep it in maintenance mode and suggest "
    "other libraries for new projects; it works fully here. To switch, set "
    "SOCKETIO_ASYNC_MODE=gevent (see README, 'Choosing the server library')."
)


def chosen_mode() -> str:
    """SOCKETIO_ASYNC_MODE from the environment; read before anything else is imported."""
    mode = (os.environ.get("SOCKETIO_ASYNC_MODE") or DEFAULT_ASYNC_MODE).strip().lower()
    if mode not in ASYNC_MODES:
        raise SystemExit(
            f"SOCKETIO_ASYNC_MODE must be one of {', '.join(ASYNC_MODES)}, not {mode!r}."
        )
    return mode


def patch_standard_library(mode: str) -> None:
    """Make sockets, threads and sleeps cooperative; must run before Flask is imported."""
    if mode == "eventlet":
        with warnings.catch_warnings():
            # Replaced by EVENTLET_NOTE, printed by the server at start.
            warnings.simplefilter("ignore")
            import eventlet
        eventlet.monkey_patch()
    else:
        from gevent import monkey

        monkey.patch_all()


def patch_database_driver(mode: str, database_url: str) -> None:
    """psycopg2 waits on the network in C: without this, one query would block every socket."""
    if not database_url.startswith("postgresql"):
        return
    if mode == "eventlet":
        from psycogreen.eventlet import patch_psycopg
    else:
        from psycogreen.gevent import patch_psycopg
    patch_psycopg()


def start_note(mode: str) -> str:
    if mode == "eventlet":
        return EVENTLET_NOTE
    return "Server library: gevent (SOCKETIO_ASYNC_MODE=gevent)."


def _listen(host: str, port: int, backlog: int) -> socket.socket:
    # After patch_standard_library, this socket module is the chosen library's cooperative one.
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(backlog)
    # Views and acknowledgements are small frames written back to back: without this, the
    # kernel holds each one until the phone acknowledges the last (about 40 ms a change).
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return listener


def serve(app: Any, mode: str, host: str, port: int, settings: dict[str, Any]) -> None:
    """Listen and serve forever, with the capacity and timeout settings of config.py."""
    listener = _listen(host, port, settings["LISTEN_BACKLOG"])
    if mode == "eventlet":
        import eventlet.wsgi

        eventlet.wsgi.server(
            listener,
            app,
            log_output=False,
            max_size=settings["MAX_CONNECTIONS"],
            socket_timeout=settings["SOCKET_TIMEOUT_SECONDS"],
        )
    else:
        _serve_gevent(listener, app, settings)


def _serve_gevent(listener: socket.socket, app: Any, settings: dict[str, Any]) -> None:
    from gevent.pool import Pool
    from gevent.pywsgi import WSGIServer
    from geventwebsocket.handler import WebSocketHandler

    from facilitator.realtime.guard import count_refusal

    timeout = settings["SOCKET_TIMEOUT_SECONDS"]

    class TimedHandler(WebSocketHandler):
        """gevent's server has no socket timeout of its own: a client sending nothing is
        closed after SOCKET_TIMEOUT_SECONDS, as under eventlet. And gevent-websocket accepts a
        WebSocket before the app sees it: the origin is checked here first, as engineio would
        (a page on another site must not open a socket with a therapist's cookie)."""

        def upgrade_websocket(self):
            wants_websocket = self.environ.get("HTTP_UPGRADE", "").lower() == "websocket"
            if wants_websocket and _origin_refused(app, self.environ):
                self.start_response("400 Bad Request", [("Content-Type", "text/plain")])
                return [b"Not an accepted origin."]
            return super().upgrade_websocket()

        def run_websocket(self):
            try:
                super().run_websocket()
            except ValueError:
                # engineio decodes each WebSocket frame outside its error handling: an empty
                # or garbled frame ends that client's connection (as under eventlet), but is
                # only counted, not a traceback in the log.
                count_refusal("frame:undecodable_websocket")

        def handle(self):
            self.socket.settimeout(timeout)
            return super().handle()

        def log_request(self):
            # No access log, as under eventlet: its lines would carry the phones' join links.
            pass

    server = WSGIServer(
        listener,
        app,
        spawn=Pool(settings["MAX_CONNECTIONS"]),
        handler_class=TimedHandler,
        log=None,
    )
    server.serve_forever()


def _origin_refused(app: Any, environ: dict[str, Any]) -> bool:
    """engineio's own origin rule (same origin, or CORS_ALLOWED_ORIGINS), asked of the app's
    engineio server."""
    engine = app.extensions["socketio"].server.eio
    origin = environ.get("HTTP_ORIGIN")
    if not origin or engine.cors_allowed_origins == []:
        return False
    allowed = engine._cors_allowed_origins(environ)
    return allowed is not None and origin not in allowed


def close_after_response(environ: dict[str, Any]) -> None:
    """After this response, close the connection instead of reading the unread request body
    (a client may have announced a body it never sends; waiting for it holds the connection).
    Call it after writing the whole response through start_response's write()."""
    if "eventlet.input" in environ:
        import eventlet.wsgi

        # The flag eventlet's own WebSocket handler sets: the response is done, drop the socket.
        eventlet.wsgi.WSGI_LOCAL.already_handled = True
    elif type(environ.get("wsgi.input")).__module__.startswith("gevent"):
        # gevent reads the rest of the body after every response, even when closing: tell its
        # input there is none left. The 'Connection: close' header then makes it close.
        environ["wsgi.input"].content_length = 0
        environ["wsgi.input"].chunked_input = False
