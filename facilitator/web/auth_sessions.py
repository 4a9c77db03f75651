"""Signed-in browsers kept on the server: begun at sign-in, checked on every request and socket,
revoked at sign-out (with the sockets they opened), expired after a while without activity."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime, timedelta

from flask import Response, current_app, request, session, url_for
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from facilitator.extensions import db, socketio
from facilitator.store import accounts
from facilitator.store.models import Therapist, utcnow

log = logging.getLogger(__name__)

# Writing "last seen" on every request would turn each page view into a write.
TOUCH_EVERY = timedelta(seconds=60)
KNOWN_DEVICE_COOKIE = "known_device"
KNOWN_DEVICE_MAX_AGE = 180 * 24 * 3600


def now() -> datetime:
    """The time, from the app's CLOCK setting when tests set one, else the real clock (UTC)."""
    clock = current_app.config.get("CLOCK")
    return clock() if clock else utcnow()


def _expired(times: accounts.SignInTimes, at: datetime) -> bool:
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    lifetime = timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
    return at - times.last_seen_at > idle or at - times.created_at > lifetime


def _still_valid(times: accounts.SignInTimes) -> bool:
    """Revoke a browser session past its limits; count this use of a valid one as activity."""
    at = now()
    if _expired(times, at):
        revoke([times.id])
        db.session.commit()
        return False
    if at - times.last_seen_at >= TOUCH_EVERY:
        accounts.touch_login_sessions({times.id}, at)
        db.session.commit()
    return True


def begin(therapist: Therapist) -> None:
    """Sign this browser in: a new server-side session whose random id the cookie carries."""
    accounts.new_login_session(therapist, user_agent_summary(request.user_agent.string), now())
    db.session.commit()
    # No "remember me": a browser's sign-in lives in this one session cookie, which the
    # server can revoke. Flask-Login keeps get_login_token() (the session's id) in it.
    login_user(therapist, remember=False)


def therapist_for(token: str) -> Therapist | None:
    """Flask-Login's user loader: the therapist of a live, unexpired browser session."""
    login = accounts.find_login_session(token)
    if login is None or not _still_valid(accounts.SignInTimes.of(login)):
        return None
    therapist = login.therapist
    therapist.login_token, therapist.login_session_id = token, login.id
    return therapist


def revoke(login_session_ids: list[int]) -> None:
    """End these browser sessions now, closing every socket they opened (the caller commits)."""
    for sid in accounts.delete_login_sessions(login_session_ids):
        close_socket(sid)


def close_socket(sid: str) -> None:
    # Through the message queue when there is one, so a socket held by another server process
    # is closed too.
    forget_socket(sid)
    try:
        socketio.server.disconnect(sid, namespace="/")
    except Exception:  # a socket already gone is fine; nothing else may stop a sign-out
        log.warning("could not close socket %s", sid, exc_info=True)


def end_this_browser() -> None:
    """Sign out: the session is gone from the server, so a copy of the cookie opens nothing."""
    if current_user.is_authenticated and current_user.login_session_id is not None:
        revoke([current_user.login_session_id])
        db.session.commit()
    logout_user()


def sign_out_other_browsers(therapist: Therapist) -> int:
    """Every session of this therapist but the current one ends (after a password change)."""
    others = accounts.other_login_session_ids(therapist.id, therapist.login_session_id)
    revoke(others)
    return len(others)


def sign_out_everywhere(therapist: Therapist) -> None:
    revoke(accounts.other_login_session_ids(therapist.id, keep=None))


def attach_socket(sid: str, login_session_id: int) -> None:
    """Call when a signed-in therapist's socket connects: signing out will then close it.

    Its sid is kept with the browser session in the database, not only in this process, so a
    sign-out handled by another server process closes it too."""
    accounts.record_socket(login_session_id, sid)
    consoles = _consoles()
    if not consoles.sign_in_of:  # the only console: its sign-in was read as it connected
        consoles.read_at = now()
    consoles.sign_in_of[sid] = login_session_id


class ConsoleSockets:
    """The console sockets this process serves, by the browser sign-in each belongs to.

    Signing out closes the browser's sockets at once, on every server process (revoke, through
    the message queue). For a close that got lost, and for sign-ins that expire, this process
    reads the sign-ins of all its consoles together, in one query, at most every
    SOCKET_SIGN_IN_RECHECK_SECONDS: at a console's event when the last read is older, and on a
    timer (`python -m facilitator.serve`), so that a console that sends nothing is closed too.
    Read at each console's own events, that read was the largest single cost of a change."""

    def __init__(self) -> None:
        self.sign_in_of: dict[str, int] = {}
        # Sign-ins whose consoles sent events since the last read: that counts as use.
        self.used: set[int] = set()
        self.read_at: datetime | None = None

    def due(self, at: datetime) -> bool:
        recheck = timedelta(seconds=current_app.config["SOCKET_SIGN_IN_RECHECK_SECONDS"])
        return self.read_at is None or not timedelta(0) <= at - self.read_at < recheck


def _consoles() -> ConsoleSockets:
    return current_app.extensions.setdefault("console_sockets", ConsoleSockets())


def socket_signed_in(sid: str) -> bool:
    """Whether this console socket's browser is still signed in, for each of its events."""
    consoles = _consoles()
    login_id = consoles.sign_in_of.get(sid)
    if login_id is None:
        return False
    consoles.used.add(login_id)
    if consoles.due(now()):
        check_console_sign_ins()
    return sid in consoles.sign_in_of


def consoles_due() -> bool:
    consoles = _consoles()
    return bool(consoles.sign_in_of) and consoles.due(now())


def check_console_sign_ins() -> None:
    """Read the sign-ins of this process's consoles: the sockets of one that ended or expired
    are closed, and those used since the last read count as activity."""
    consoles = _consoles()
    at = now()
    consoles.read_at = at
    used, consoles.used = consoles.used, set()
    found = accounts.sign_ins_by_id(set(consoles.sign_in_of.values()))
    expired = {login_id for login_id, times in found.items() if _expired(times, at)}
    accounts.touch_login_sessions(
        {i for i in used - expired if i in found and at - found[i].last_seen_at >= TOUCH_EVERY}, at
    )
    revoke(sorted(expired))  # closes their sockets on every process
    db.session.commit()
    for sid, login_id in list(consoles.sign_in_of.items()):
        if login_id in expired or login_id not in found:
            close_socket(sid)


def forget_socket(sid: str) -> None:
    _consoles().sign_in_of.pop(sid, None)


def signed_in() -> accounts.SignInTimes | None:
    """This browser's sign-in while it is valid, for a therapist's socket as it connects
    (which counts as activity against the idle limit). It reads the sign-in alone, not the
    therapist; the socket's events are then checked with every console's (ConsoleSockets)."""
    times = accounts.sign_in_times(session.get("_user_id"))
    return times if times is not None and _still_valid(times) else None


def purge_stale() -> int:
    """Forget expired browser sessions and old sign-in failures; for the purge command."""
    at = now()
    idle = at - timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    old = at - timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
    stale = accounts.stale_login_session_ids(idle, old)
    revoke(stale)
    accounts.forget_old_failures(at)
    db.session.commit()
    return len(stale)


# Known devices: a signed cookie saying "this browser signed in to this account before".


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="known-device")


def known_device_nonce(therapist: Therapist | None) -> str | None:
    """The nonce of this browser's known-device cookie, if it was issued for this therapist."""
    cookie = request.cookies.get(KNOWN_DEVICE_COOKIE)
    if therapist is None or not cookie:
        return None
    try:
        data = _device_serializer().loads(cookie, max_age=KNOWN_DEVICE_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("therapist") != therapist.id:
        return None
    nonce = data.get("nonce")
    return nonce if isinstance(nonce, str) else None


def remember_device(response: Response, therapist: Therapist) -> None:
    nonce = known_device_nonce(therapist) or secrets.token_urlsafe(16)
    value = _device_serializer().dumps({"therapist": therapist.id, "nonce": nonce})
    response.set_cookie(
        KNOWN_DEVICE_COOKIE,
        value,
        max_age=KNOWN_DEVICE_MAX_AGE,
        path=url_for("auth.login"),  # sent only to the sign-in pages
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )


# What a therapist sees of each signed-in browser, to recognise their own.

_BROWSERS = (
    ("Edge", r"Edg(e|A|iOS)?/"),
    ("Firefox", r"Firefox/|FxiOS/"),
    ("Chrome", r"Chrome/|CriOS/"),
    ("Safari", r"Safari/"),
)
_SYSTEMS = (
    ("iPhone", r"iPhone"),
    ("iPad", r"iPad"),
    ("Android", r"Android"),
    ("ChromeOS", r"CrOS"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X|Macintosh"),
    ("Linux", r"Linux"),
)


def user_agent_summary(user_agent: str) -> str:
    """e.g. "Firefox · Windows": enough to recognise a device, without keeping the whole string."""
    browser = next((name for name, pattern in _BROWSERS if re.search(pattern, user_agent)), "")
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, user_agent)), "")
    return " · ".join(part for part in (browser, system) if part)
