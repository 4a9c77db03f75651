"""SQLAlchemy models: therapists, families, live sessions, their records and the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from facilitator.extensions import db
from facilitator.store.crypto import EncryptedJSON, EncryptedText


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Therapist(UserMixin, db.Model):
    __tablename__ = "therapists"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    language: Mapped[str] = mapped_column(String(8), default="en")
    # An IANA zone for the times on their pages; None until chosen (the server's zone then).
    time_zone: Mapped[str | None] = mapped_column(String(64), default=None)
    # The clinic's crisis information for the phones' help screen, per language, plain text;
    # a language left out shows the default text.
    crisis_info: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Days an ended session is kept; None follows the server's RETENTION_DAYS.
    retention_days: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A clinic administrator adds therapists and resets their passwords.
    is_admin: Mapped[bool] = mapped_column(default=False)
    # Set by an administrator's reset: the next sign-in leads straight to choosing a password.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # Two-step sign-in: the authenticator app's shared secret (base32) once confirmed, and the
    # last time step whose code was accepted, so a code seen over a shoulder cannot be replayed.
    # Encrypted at rest: with it anyone could make this therapist's sign-in codes.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText, default=None)
    totp_last_step: Mapped[int | None] = mapped_column(default=None)

    families: Mapped[list[Family]] = relationship(
        back_populates="therapist", cascade="all, delete-orphan", order_by="Family.name"
    )

    def set_password(self, password: str) -> None:
        # scrypt: a current, memory-hard algorithm (werkzeug's default).
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_secret is not None

    # The signed-in browser session this object was loaded for (see web/auth_sessions.py); the
    # browser's cookie carries that session's id instead of the therapist's, so that signing
    # out can revoke it on the server. Not a column.
    login_token = None  # str | None
    login_session_id = None  # int | None

    def get_login_token(self) -> str | None:
        """What Flask-Login keeps in the cookie (its `id_attribute`): the browser session's id."""
        return self.login_token


class Family(db.Model):
    __tablename__ = "families"

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapists.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The exercise keys of the family's last session: the next session's default agenda.
    last_agenda: Mapped[list[str] | None] = mapped_column(JSON, default=None)

    therapist: Mapped[Therapist] = relationship(back_populates="families")
    members: Mapped[list[FamilyMember]] = relationship(
        back_populates="family", cascade="all, delete-orphan", order_by="FamilyMember.id"
    )


class FamilyMember(db.Model):
    __tablename__ = "family_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"))
    display_name: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(16))

    family: Mapped[Family] = relationship(back_populates="members")


class LiveSession(db.Model):
    """One session: its state machine as JSON, versioned so concurrent writers never clash."""

    __tablename__ = "live_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapists.id", ondelete="CASCADE"))
    family_id: Mapped[int | None] = mapped_column(ForeignKey("families.id", ondelete="SET NULL"))
    # The agenda's first exercise; the whole agenda is in the state.
    exercise_id: Mapped[str] = mapped_column(String(64))
    # Only open sessions hold a code, so a code is unique among open sessions.
    join_code: Mapped[str | None] = mapped_column(String(8), unique=True)
    display_token: Mapped[str] = mapped_column(String(64), unique=True)
    rehearsal: Mapped[bool] = mapped_column(default=False)
    # Answers, drafts, notes and reflections all live in the state: encrypted at rest.
    state: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    # The agenda's exercises by part id, apart from the state: they change only when the
    # agenda gains one, so a change's write leaves them be. Encrypted too: a therapist's own
    # exercise may say what a family is going through.
    exercises: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)

    family: Mapped[Family | None] = relationship()
    therapist: Mapped[Therapist] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def family_name(self) -> str:
        return self.family.name if self.family else ""


class SessionEvent(db.Model):
    """The session record: what happened, in order. Drafts and presence are never recorded."""

    __tablename__ = "session_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)

    __table_args__ = (Index("ix_session_events_session", "session_id", "id"),)


class ParticipantToken(db.Model):
    """A phone's rejoin token, stored only as a hash."""

    __tablename__ = "participant_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[str] = mapped_column(String(32))


class AuditEntry(db.Model):
    """Who viewed, exported or deleted what. Kept when the session itself is deleted."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    therapist_id: Mapped[int | None] = mapped_column(
        ForeignKey("therapists.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(40))
    session_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # Never meant to hold what someone wrote, and encrypted in case it ever names something.
    detail: Mapped[str] = mapped_column(EncryptedText, default="")


class CustomExercise(db.Model):
    """An exercise a therapist wrote, stored in the exercise file format."""

    __tablename__ = "custom_exercises"

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapists.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("uq_custom_exercise_slug", "therapist_id", "slug", unique=True),)


class LoginSession(db.Model):
    """One signed-in browser. Its cookie holds a random id; the database only its hash."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    therapist_id: Mapped[int] = mapped_column(
        ForeignKey("therapists.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A summary such as "Firefox on Windows", so a therapist recognises their own devices.
    user_agent: Mapped[str] = mapped_column(String(120), default="")

    therapist: Mapped[Therapist] = relationship()


class LoginSocket(db.Model):
    """A Socket.IO connection opened by a signed-in browser, to close it at sign-out."""

    __tablename__ = "login_sockets"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    login_session_id: Mapped[int] = mapped_column(
        ForeignKey("login_sessions.id", ondelete="CASCADE"), index=True
    )


class SignInThrottle(db.Model):
    """Failed sign-ins counted per account (or per known device), for the growing delays."""

    __tablename__ = "sign_in_throttles"

    # "account:" or "device:" and a hash: an e-mail that has no account is counted the same way,
    # so the lock-out does not tell which e-mails have accounts.
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)


class RecoveryCode(db.Model):
    """A one-time code to sign in without the authenticator app, stored only as a hash."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(
        ForeignKey("therapists.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(default=None)
