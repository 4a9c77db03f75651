"""Configuration read from the environment, with safe defaults for one machine and SQLite."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from facilitator.timezones import is_offered, server_time_zone

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_PATH = Path(os.environ.get("FACILITATOR_INSTANCE", PROJECT_ROOT / "instance"))


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept under instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


class Config:
    """Settings, each overridable by an environment variable of the same name."""

    def __init__(self, instance_path: Path = INSTANCE_PATH):
        self.SECRET_KEY = _secret_key(instance_path)
        self.SQLALCHEMY_DATABASE_URI = os.environ.get(
            "DATABASE_URL", f"sqlite:///{instance_path / 'facilitator.sqlite3'}"
        )
        # Database connections each server process keeps (and may add under a burst): every
        # socket's connect and change holds one while it runs. On PostgreSQL, the processes'
        # total must stay under its max_connections (100 by default).
        self.SQLALCHEMY_ENGINE_OPTIONS = {
            # A database server may drop idle connections (a restart, a proxy's timeout): each
            # connection is tested as it is taken from the pool. An SQLite file cannot drop one,
            # and there the test would be one more query on every socket event.
            "pool_pre_ping": not self.SQLALCHEMY_DATABASE_URI.startswith("sqlite"),
            "pool_size": int(os.environ.get("DATABASE_POOL_SIZE", "10")),
            "max_overflow": int(os.environ.get("DATABASE_MAX_OVERFLOW", "20")),
            # The connection given back last is taken first, so one connection does nearly all
            # the work and keeps what it read: SQLite's cache of pages is each connection's,
            # and a write on another connection empties it. Taken in turn, the connections
            # read the sessions' pages again at every change.
            "pool_use_lifo": True,
        }
        # Several server processes share one Redis queue, e.g. redis://127.0.0.1:6379/0.
        self.SOCKETIO_MESSAGE_QUEUE = os.environ.get("SOCKETIO_MESSAGE_QUEUE") or None
        # eventlet or gevent, for `python -m facilitator.serve` (see facilitator/async_mode.py).
        # None lets Flask-SocketIO pick the library it runs under.
        self.SOCKETIO_ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE") or None
        # A connection that sends nothing for this long is closed (a request never finished,
        # a silent client). Above the Socket.IO ping interval and timeout (10 s + 10 s), which
        # keep every live socket talking.
        self.SOCKET_TIMEOUT_SECONDS = float(os.environ.get("SOCKET_TIMEOUT_SECONDS", "30"))
        # A socket that has not signed in (a phone's token, the display link, the therapist's
        # session) this many seconds after opening is closed; 0 keeps it.
        self.UNAUTHENTICATED_SOCKET_SECONDS = float(
            os.environ.get("UNAUTHENTICATED_SOCKET_SECONDS", "10")
        )
        # A phone arriving or leaving changes every screen's list of who is here. The phone
        # gets its own view at once; the other screens get one view for all the arrivals and
        # departures of this many seconds (a family sitting down, every phone coming back after
        # the clinic's Wi-Fi dropped), not one each. 0 sends each at once.
        self.PRESENCE_GATHER_SECONDS = float(os.environ.get("PRESENCE_GATHER_SECONDS", "0.25"))
        # Each socket's events: a burst of EVENT_BURST at once, then EVENT_RATE_PER_SECOND;
        # beyond that the answer is `slow_down`. A person tapping and typing sends a few a
        # second at most (drafts are saved after a pause in typing).
        self.EVENT_BURST = float(os.environ.get("EVENT_BURST", "30"))
        self.EVENT_RATE_PER_SECOND = float(os.environ.get("EVENT_RATE_PER_SECOND", "5"))
        # Connections the kernel queues while the server is busy accepting (a family's five
        # screens arrive together, a restart brings every screen back at once), and the most
        # connections served at once. Each open connection is one open file: see README.
        self.LISTEN_BACKLOG = int(os.environ.get("LISTEN_BACKLOG", "4096"))
        self.MAX_CONNECTIONS = int(os.environ.get("MAX_CONNECTIONS", "10000"))
        # Other origins allowed to open a WebSocket; by default only this server's own.
        self.CORS_ALLOWED_ORIGINS = [
            o for o in os.environ.get("CORS_ALLOWED_ORIGINS", "").split(",") if o.strip()
        ]
        # The address phones use, for join links and QR codes; else the request's own host.
        self.PUBLIC_URL = os.environ.get("PUBLIC_URL", "").rstrip("/")
        # Behind a reverse proxy, how many proxies to trust for the client's address and scheme.
        self.PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", False)
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.WTF_CSRF_TIME_LIMIT = None
        # Set explicitly: the limiter is shared, and would otherwise keep a test app's setting.
        self.RATELIMIT_ENABLED = True
        self.RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_HEADERS_ENABLED = True
        # Wrong join codes: per phone, and (much higher) per network address, so one phone's
        # typos never lock out the other phones of a clinic's Wi-Fi.
        self.JOIN_RATE_LIMIT = os.environ.get("JOIN_RATE_LIMIT", "10 per minute")
        self.JOIN_ADDRESS_RATE_LIMIT = os.environ.get("JOIN_ADDRESS_RATE_LIMIT", "60 per minute")
        self.LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
        # A signed-in browser is signed out after this long without a page or a console action.
        # 60, not 30: a therapist may listen through most of a 50-minute session hour without a
        # click, and being signed out mid-session would cut the console off from the family.
        # Clinics that want a shorter automatic sign-out set it lower.
        self.SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "60"))
        # A console's events read its sign-in from the database at most this often. Signing
        # out closes its sockets at once; this bounds how long one whose close got lost (say,
        # the message queue was down) keeps working.
        self.SOCKET_SIGN_IN_RECHECK_SECONDS = float(
            os.environ.get("SOCKET_SIGN_IN_RECHECK_SECONDS", "2")
        )
        # However active, a browser signs in again after this long (a working day).
        self.SESSION_MAX_HOURS = int(os.environ.get("SESSION_MAX_HOURS", "12"))
        # Keys that encrypt health data at rest, newest first; else instance/data_keys.
        self.DATA_ENCRYPTION_KEYS = os.environ.get("DATA_ENCRYPTION_KEYS", "")
        # No request is read beyond this; the exercise editor and import set their own.
        self.MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(1024 * 1024)))
        # Ended sessions are deleted automatically after this many days.
        self.RETENTION_DAYS = int(os.environ.get("RETENTION_DAYS", "90"))
        self.BABEL_DEFAULT_LOCALE = "en"
        # Times are shown in each therapist's own zone; this one until they choose.
        zone = os.environ.get("DEFAULT_TIME_ZONE", "")
        self.BABEL_DEFAULT_TIMEZONE = zone if is_offered(zone) else server_time_zone()
        self.BABEL_TRANSLATION_DIRECTORIES = str(PROJECT_ROOT / "translations")
