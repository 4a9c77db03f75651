"""Run the app: `python -m facilitator.serve [--host H] [--port P]` (eventlet, or gevent)."""

from facilitator import async_mode

# Before anything else imports socket or threading: everything must cooperate with the
# green-thread library.
MODE = async_mode.chosen_mode()
async_mode.patch_standard_library(MODE)

import argparse  # noqa: E402
import logging  # noqa: E402

from facilitator import capacity, create_app  # noqa: E402
from facilitator.extensions import db, socketio  # noqa: E402
from facilitator.network import reachable_from_phones  # noqa: E402
from facilitator.store import live as store  # noqa: E402
from facilitator.store import snapshots  # noqa: E402
from facilitator.web import auth_sessions  # noqa: E402

PURGE_EVERY_SECONDS = 6 * 60 * 60
FORGET_IDLE_EVERY_SECONDS = 60


def purge_forever(app) -> None:
    """Retention: ended sessions older than RETENTION_DAYS are deleted, checked every few hours."""
    while True:
        with app.app_context():
            deleted = store.purge_expired(app.config["RETENTION_DAYS"])
            if deleted:
                app.logger.info("deleted %d sessions past the retention limit", deleted)
        socketio.sleep(PURGE_EVERY_SECONDS)


def forget_idle_sessions_forever(app) -> None:
    """The decoded copies of sessions nobody touched for a while leave memory, even when the
    server has nothing else to do (store/snapshots.py)."""
    while True:
        socketio.sleep(FORGET_IDLE_EVERY_SECONDS)
        with app.app_context():
            snapshots.forget_idle()


def check_console_sign_ins_forever(app) -> None:
    """A console whose sign-in ended while its close got lost, or expired, is closed within
    seconds even if it sends nothing (web/auth_sessions.py)."""
    every = app.config["SOCKET_SIGN_IN_RECHECK_SECONDS"]
    while True:
        socketio.sleep(every)
        with app.app_context():
            try:
                if auth_sessions.consoles_due():
                    auth_sessions.check_console_sign_ins()
            except Exception:  # a database that is away for a moment: the next round tries again
                app.logger.warning("could not check the consoles' sign-ins", exc_info=True)
            finally:
                db.session.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    app = create_app({"SOCKETIO_ASYNC_MODE": MODE})
    async_mode.patch_database_driver(MODE, app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.config["SOCKETIO_MESSAGE_QUEUE"]:
        # A lone server: nobody can be connected before it starts.
        with app.app_context():
            store.reset_presence()
    socketio.start_background_task(purge_forever, app)
    socketio.start_background_task(forget_idle_sessions_forever, app)
    socketio.start_background_task(check_console_sign_ins_forever, app)
    capacity.tune_garbage_collection()

    print("\nFamily session facilitator is running.", flush=True)
    print(f"  On this computer:  http://127.0.0.1:{args.port}/", flush=True)
    for address in reachable_from_phones(args.host):
        print(f"  For phones on the same network:  http://{address}:{args.port}/", flush=True)
    print(f"  {async_mode.start_note(MODE)}", flush=True)
    for warning in capacity.check_at_start(app.config):
        print(f"  Warning: {warning}", flush=True)
    print("Press Ctrl+C to stop.\n", flush=True)
    async_mode.serve(app, MODE, args.host, args.port, app.config)


if __name__ == "__main__":
    main()
