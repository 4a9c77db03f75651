"""Run the app under eventlet: `python -m facilitator.serve [--host H] [--port P]`."""

import warnings

# The eventlet server is this app's chosen stack; its deprecation notice is not for the people
# starting the app.
warnings.filterwarnings("ignore", message=".*Eventlet is deprecated")

import eventlet  # noqa: E402
import eventlet.wsgi  # noqa: E402

# Before anything else imports socket or threading: everything must cooperate with eventlet.
eventlet.monkey_patch()

import argparse  # noqa: E402
import logging  # noqa: E402
import socket  # noqa: E402

from facilitator import create_app  # noqa: E402
from facilitator.extensions import socketio  # noqa: E402
from facilitator.network import reachable_from_phones  # noqa: E402
from facilitator.store import live as store  # noqa: E402

PURGE_EVERY_SECONDS = 6 * 60 * 60


def purge_forever(app) -> None:
    """Retention: ended sessions older than RETENTION_DAYS are deleted, checked every few hours."""
    while True:
        with app.app_context():
            deleted = store.purge_expired(app.config["RETENTION_DAYS"])
            if deleted:
                app.logger.info("deleted %d sessions past the retention limit", deleted)
        socketio.sleep(PURGE_EVERY_SECONDS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    app = create_app({"SOCKETIO_ASYNC_MODE": "eventlet"})
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        from psycogreen.eventlet import patch_psycopg

        patch_psycopg()
    if not app.config["SOCKETIO_MESSAGE_QUEUE"]:
        # A lone server: nobody can be connected before it starts.
        with app.app_context():
            store.reset_presence()
    socketio.start_background_task(purge_forever, app)

    print("\nFamily session facilitator is running.", flush=True)
    print(f"  On this computer:  http://127.0.0.1:{args.port}/", flush=True)
    for address in reachable_from_phones(args.host):
        print(f"  For phones on the same network:  http://{address}:{args.port}/", flush=True)
    print("Press Ctrl+C to stop.\n", flush=True)
    listener = eventlet.listen((args.host, args.port))
    # Views and acknowledgements are small frames written back to back: without this, the
    # kernel holds each one until the phone acknowledges the last (about 40 ms a change).
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    eventlet.wsgi.server(listener, app, log_output=False)


if __name__ == "__main__":
    main()
