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


def every(app, seconds: float, job, *, at_start: bool = False) -> None:
    """Run `job(app)` in an app context every `seconds` while the server runs. A round that
    fails (say, the database was away for a moment) is logged, and the next one tries again."""
    if not at_start:
        socketio.sleep(seconds)
    while True:
        with app.app_context():
            try:
                job(app)
            except Exception:
                app.logger.warning("%s failed; trying again later", job.__name__, exc_info=True)
            finally:
                db.session.remove()
        socketio.sleep(seconds)


def purge_expired(app) -> None:
    """Retention: ended sessions older than RETENTION_DAYS are deleted, checked every few hours."""
    deleted = store.purge_expired(app.config["RETENTION_DAYS"])
    if deleted:
        app.logger.info("deleted %d sessions past the retention limit", deleted)


def forget_idle_sessions(app) -> None:
    """The decoded copies of sessions nobody touched for a while leave memory, even when the
    server has nothing else to do (store/snapshots.py)."""
    snapshots.forget_idle()


def check_console_sign_ins(app) -> None:
    """A console whose sign-in ended while its close got lost, or expired, is closed within
    seconds even if it sends nothing (web/auth_sessions.py)."""
    if auth_sessions.consoles_due():
        auth_sessions.check_console_sign_ins()


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
    socketio.start_background_task(every, app, PURGE_EVERY_SECONDS, purge_expired, at_start=True)
    socketio.start_background_task(every, app, FORGET_IDLE_EVERY_SECONDS, forget_idle_sessions)
    recheck = app.config["SOCKET_SIGN_IN_RECHECK_SECONDS"]
    socketio.start_background_task(every, app, recheck, check_console_sign_ins)
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
