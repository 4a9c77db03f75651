"""Therapist accounts in the database: signed-in browsers, sign-in pauses, recovery codes."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, insert, select, update

from facilitator import credentials
from facilitator.extensions import db
from facilitator.store import transaction
from facilitator.store.driver import DriverStatement
from facilitator.store.models import (
    LoginSession,
    LoginSocket,
    RecoveryCode,
    SignInThrottle,
    Therapist,
)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# Signed-in browsers


def new_login_session(therapist: Therapist, user_agent: str, now: datetime) -> str:
    """Record a signed-in browser; returns the random id its cookie carries (kept only hashed)."""
    token = secrets.token_urlsafe(32)
    login = LoginSession(
        token_hash=_hash(token),
        therapist_id=therapist.id,
        created_at=now,
        last_seen_at=now,
        user_agent=user_agent[:120],
    )
    db.session.add(login)
    db.session.flush()
    therapist.login_token, therapist.login_session_id = token, login.id
    return token


def find_login_session(token: str) -> LoginSession | None:
    if not isinstance(token, str) or len(token) > 100:
        return None
    return db.session.scalar(select(LoginSession).where(LoginSession.token_hash == _hash(token)))


@dataclass(frozen=True)
class SignInTimes:
    """When a browser session began and was last used: what its limits are checked against."""

    id: int
    therapist_id: int
    created_at: datetime
    last_seen_at: datetime

    @classmethod
    def of(cls, login: LoginSession) -> SignInTimes:
        return cls(login.id, login.therapist_id, login.created_at, login.last_seen_at)


_logins = LoginSession.__table__
_TIMES = (_logins.c.id, _logins.c.therapist_id, _logins.c.created_at, _logins.c.last_seen_at)
# Core statements built once: every console's connect runs the first two, on the driver's
# cursor like a phone's (driver.py), and each server process the others every few seconds for
# all its consoles.
SIGN_IN_TIMES = DriverStatement(
    select(*_TIMES).where(_logins.c.token_hash == bindparam("token_hash"))
)
RECORD_SOCKET = DriverStatement(
    insert(LoginSocket.__table__).values(
        sid=bindparam("sid"), login_session_id=bindparam("login_session_id")
    )
)
IDS_PER_STATEMENT = 500
_CHOSEN = _logins.c.id.in_(bindparam("ids", expanding=True))
SIGN_INS_BY_ID = select(*_TIMES).where(_CHOSEN)
TOUCH = update(_logins).where(_CHOSEN).values(last_seen_at=bindparam("at"))


def sign_in_times(token: object) -> SignInTimes | None:
    if not isinstance(token, str) or len(token) > 100:
        return None
    row = SIGN_IN_TIMES.first(transaction.connection(), {"token_hash": _hash(token)})
    return None if row is None else SignInTimes(*row)


def _in_slices(ids: set[int]) -> Iterator[list[int]]:
    # Databases cap how many values one statement may bind.
    wanted = sorted(ids)
    for start in range(0, len(wanted), IDS_PER_STATEMENT):
        yield wanted[start : start + IDS_PER_STATEMENT]


def sign_ins_by_id(ids: set[int]) -> dict[int, SignInTimes]:
    """The times of those of these browser sessions that still exist, by id."""
    found: dict[int, SignInTimes] = {}
    for chunk in _in_slices(ids):
        for row in db.session.connection().execute(SIGN_INS_BY_ID, {"ids": chunk}):
            found[row[0]] = SignInTimes(*row)
    return found


def touch_login_sessions(ids: set[int], at: datetime) -> None:
    """These browser sessions were used at `at`; one statement for many (the caller commits)."""
    for chunk in _in_slices(ids):
        db.session.connection().execute(TOUCH, {"ids": chunk, "at": at})


def login_sessions_of(therapist_id: int) -> list[LoginSession]:
    return list(
        db.session.scalars(
            select(LoginSession)
            .where(LoginSession.therapist_id == therapist_id)
            .order_by(LoginSession.last_seen_at.desc())
        )
    )


def record_socket(login_session_id: int, sid: str) -> None:
    """A console's socket, written and committed as it connects. Its sid is new: the server
    makes a random one for every connection."""
    RECORD_SOCKET.execute(
        transaction.connection(), {"sid": sid, "login_session_id": login_session_id}
    )
    transaction.commit()


def delete_login_sessions(ids: list[int]) -> list[str]:
    """Forget these signed-in browsers; returns the ids of the sockets they opened, to close."""
    if not ids:
        return []
    sids = list(
        db.session.scalars(select(LoginSocket.sid).where(LoginSocket.login_session_id.in_(ids)))
    )
    db.session.execute(delete(LoginSocket).where(LoginSocket.login_session_id.in_(ids)))
    db.session.execute(delete(LoginSession).where(LoginSession.id.in_(ids)))
    return sids


def other_login_session_ids(therapist_id: int, keep: int | None) -> list[int]:
    return [s.id for s in login_sessions_of(therapist_id) if s.id != keep]


def stale_login_session_ids(idle_since: datetime, created_since: datetime) -> list[int]:
    return list(
        db.session.scalars(
            select(LoginSession.id).where(
                (LoginSession.last_seen_at < idle_since) | (LoginSession.created_at < created_since)
            )
        )
    )


# Sign-in pauses (the policy and its reasons: credentials.pause_after)


def account_key(email: str) -> str:
    return "account:" + _hash(email.strip().lower())


def device_key(nonce: str) -> str:
    return "device:" + _hash(nonce)


def _throttle(key: str) -> SignInThrottle | None:
    return db.session.get(SignInThrottle, key)


def paused_for(key: str, now: datetime) -> timedelta | None:
    """How long sign-in for this key is still paused, or None."""
    throttle = _throttle(key)
    if throttle is None or throttle.locked_until is None or throttle.locked_until <= now:
        return None
    return throttle.locked_until - now


def record_failure(key: str, now: datetime) -> timedelta:
    """Count one more failure; returns the pause that starts now (zero while still free)."""
    throttle = _throttle(key) or SignInThrottle(key=key, failures=0)
    if throttle.failures and now - throttle.last_failure_at > credentials.FORGET_FAILURES_AFTER:
        throttle.failures = 0
    throttle.failures += 1
    throttle.last_failure_at = now
    pause = credentials.pause_after(throttle.failures)
    throttle.locked_until = now + pause if pause else None
    db.session.add(throttle)
    db.session.commit()
    return pause


def clear_failures(key: str) -> None:
    db.session.execute(delete(SignInThrottle).where(SignInThrottle.key == key))


def forget_old_failures(now: datetime) -> int:
    cutoff = now - credentials.FORGET_FAILURES_AFTER
    result = db.session.execute(
        delete(SignInThrottle).where(SignInThrottle.last_failure_at < cutoff)
    )
    return result.rowcount or 0


# Recovery codes


def replace_recovery_codes(therapist: Therapist) -> list[str]:
    """New codes for the therapist, the old ones no longer valid; returns them in clear, once."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.therapist_id == therapist.id))
    codes = credentials.new_recovery_codes()
    db.session.add_all(
        RecoveryCode(therapist_id=therapist.id, code_hash=credentials.recovery_code_hash(code))
        for code in codes
    )
    return codes


def use_recovery_code(therapist: Therapist, typed: str, now: datetime) -> bool:
    """Spend one of the therapist's unused codes; a code works once only."""
    code = db.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.therapist_id == therapist.id,
            RecoveryCode.code_hash == credentials.recovery_code_hash(typed),
            RecoveryCode.used_at.is_(None),
        )
    )
    if code is None:
        return False
    code.used_at = now
    return True


def unused_recovery_codes(therapist: Therapist) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.therapist_id == therapist.id, RecoveryCode.used_at.is_(None))
    )


def turn_off_two_factor(therapist: Therapist) -> None:
    therapist.totp_secret = None
    therapist.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.therapist_id == therapist.id))


# Therapists


def find_therapist(email: str) -> Therapist | None:
    return db.session.scalar(select(Therapist).where(Therapist.email == email.strip().lower()))


def all_therapists() -> list[Therapist]:
    return list(db.session.scalars(select(Therapist).order_by(Therapist.name, Therapist.id)))


def add_therapist(email: str, name: str, password: str, is_admin: bool = False) -> Therapist:
    therapist = Therapist(email=email, name=name, language="en", is_admin=is_admin)
    therapist.set_password(password)
    db.session.add(therapist)
    db.session.flush()
    return therapist
