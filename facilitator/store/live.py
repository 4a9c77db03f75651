"""Load a live session, apply one command through the domain, and save it in one transaction."""

from __future__ import annotations

import functools
import hashlib
import random
import secrets
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from facilitator.domain import session as domain
from facilitator.domain.common import DomainError
from facilitator.domain.course import kept_for_later
from facilitator.domain.exercises import Exercise
from facilitator.domain.views import SessionInfo
from facilitator.domain.vocabulary import default_vocabulary
from facilitator.extensions import db
from facilitator.store import snapshots, transaction
from facilitator.store.driver import DriverStatement
from facilitator.store.erasure import forget_deleted_bytes
from facilitator.store.models import (
    AuditEntry,
    Family,
    LiveSession,
    ParticipantToken,
    SessionEvent,
    Therapist,
    utcnow,
)
from facilitator.store.snapshots import SessionFacts, Snapshot

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a code read aloud or from across a room is not mistaken.
JOIN_CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
JOIN_CODE_LENGTH = 6
# Optimistic writes: another process may save the same session between our load and save.
MAX_WRITE_ATTEMPTS = 5


@dataclass
class Outcome:
    """One applied command: the session's snapshot before and after it, and what to record."""

    before_snapshot: Snapshot
    after: Snapshot
    events: list[domain.Event]

    @property
    def facts(self) -> SessionFacts:
        return self.after.facts

    @property
    def before(self) -> domain.SessionState:
        # Screens whose view did not change between these two states get nothing.
        return self.before_snapshot.state

    @property
    def state(self) -> domain.SessionState:
        return self.after.state

    @functools.cached_property
    def shut_out(self) -> list[str]:
        """Phones this command shut out: turned away, removed, or still waiting at the end.
        Worked out once: the write revokes their tokens, and the broadcast closes their
        sockets."""
        before = {*self.before.waiting, *self.before.present()}
        return sorted(before - {*self.state.waiting, *self.state.present()})


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def format_join_code(code: str) -> str:
    return f"{code[:3]}-{code[3:]}"


def normalise_join_code(typed: str) -> str:
    """What a person typed, as stored: upper case, without spaces or dashes."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def family_members(
    family: Family | None, invited: Collection[int] | None = None
) -> tuple[domain.Member, ...]:
    """The family's members as the session knows them; `invited` None invites everyone."""
    if family is None:
        return ()
    return tuple(
        domain.Member(m.id, m.display_name, m.role, invited is None or m.id in invited)  # type: ignore[arg-type]
        for m in family.members
    )


def open_session(
    therapist: Therapist,
    agenda: list[Exercise] | Exercise,
    family: Family | None = None,
    rehearsal: bool = False,
    invited: Collection[int] | None = None,
) -> LiveSession:
    """Start a session in its lobby with a fresh join code, unique among open sessions.

    `invited`: the ids of the members asked to this session (None: the whole family)."""
    members = family_members(family, invited)
    state = domain.new_session(agenda, rehearsal=rehearsal, members=members)
    first = state.agenda[0].exercise
    for _ in range(20):
        live = LiveSession(
            id=uuid.uuid4().hex,
            therapist_id=therapist.id,
            family_id=family.id if family else None,
            exercise_id=first.id,
            join_code=new_join_code(),
            display_token=secrets.token_urlsafe(24),
            rehearsal=rehearsal,
            **stored_state(state),
        )
        db.session.add(live)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            continue
        if not rehearsal:
            agenda_ids = [part.exercise.id for part in state.agenda]
            opened = domain.Event("session_opened", "therapist", {"agenda": agenda_ids})
            _record(transaction.connection(), live.id, [opened])
        db.session.commit()
        return live
    raise RuntimeError("could not find a free join code")


def stored_state(state: domain.SessionState) -> dict[str, Any]:
    """A new row's two columns for a state: the state without its exercises, and those."""
    return {
        "state": domain.state_to_dict(state, with_exercises=False),
        "exercises": domain.exercises_to_dict(state),
    }


def find_open_session(code: str) -> LiveSession | None:
    normalised = normalise_join_code(code)
    if len(normalised) != JOIN_CODE_LENGTH:
        return None
    return db.session.scalar(select(LiveSession).where(LiveSession.join_code == normalised))


def get_session(session_id: str) -> LiveSession | None:
    return db.session.get(LiveSession, session_id)


def load_state(live: LiveSession) -> domain.SessionState:
    return domain.state_from_dict(live.state, live.exercises)


def now_iso() -> str:
    return utcnow().isoformat(timespec="seconds") + "Z"


def apply(session_id: str, actor: domain.Actor, command: Any) -> Outcome:
    """Run one command: validate in the domain, persist state and record in one transaction.

    A refused command raises DomainError and nothing is saved. The command is applied to this
    process's copy of the session without reading the row first: the write succeeds only if
    the row is still at the copy's version. When another writer came first (another process,
    or a change to the family's name), the row is read again and the command applied to it.
    """
    ctx = domain.Context(default_vocabulary(), now_iso())
    before, checked = snapshots.kept(session_id), False
    collisions = 0
    while collisions < MAX_WRITE_ATTEMPTS:
        if before is None:
            before, checked = snapshots.read(session_id), True
            if before is None:
                raise DomainError("unknown_session", "This session no longer exists.")
        facts = before.facts
        if isinstance(command, domain.Admit | domain.AdmitAll) and not facts.rehearsal:
            ctx = replace(ctx, earlier_words=earlier_words(facts))
        try:
            state, events = domain.handle(before.state, actor, command, ctx)
        except DomainError:
            transaction.rollback()
            if checked:
                raise
            before = None  # refused by a copy that may be behind: ask the row, then decide
            continue
        after = _save(before, state, events)
        if after is None:  # another writer came first: read its version and apply again
            transaction.rollback()
            snapshots.drop(session_id)
            before, collisions = None, collisions + 1
            # Writers that collided wait a little, each a different time.
            time.sleep(random.uniform(0, 0.01 * collisions))
            continue
        outcome = Outcome(before, after, events)
        for participant_id in outcome.shut_out:
            _revoke_tokens(session_id, participant_id)
        transaction.commit()
        snapshots.written(after)
        return outcome
    raise DomainError("busy", "Many things happened at once. Please try again.")


_sessions = LiveSession.__table__


def facts_changed(*, family_id: int | None = None, therapist_id: int | None = None) -> None:
    """A family's name or a therapist's language changed: their open sessions' versions move,
    so every process's next change to them reads the new facts (the caller commits)."""
    if family_id is not None:
        chosen = _sessions.c.family_id == family_id
    elif therapist_id is not None:
        chosen = _sessions.c.therapist_id == therapist_id
    else:
        return
    db.session.execute(
        update(_sessions)
        .where(chosen, _sessions.c.ended_at.is_(None))
        .values(version=_sessions.c.version + 1)
    )


def _save_statement(*, ends: bool, exercises: bool) -> Any:
    # The write succeeds only if the row is still at the version the command was applied to.
    values = {
        "state": bindparam("state"),
        "version": bindparam("new_version"),
        "updated_at": bindparam("now"),
    }
    if ends:
        values |= {"ended_at": bindparam("now"), "join_code": None}
    if exercises:
        values |= {"exercises": bindparam("exercises")}
    return (
        update(_sessions)
        .where(_sessions.c.id == bindparam("b_id"), _sessions.c.version == bindparam("b_version"))
        .values(values)
    )


_events = SessionEvent.__table__
# Built once, and run on the driver's cursor (driver.py): a change runs them for every command.
# By (the session ends, the agenda's exercises changed): most changes write the state alone.
SAVES = {
    (ends, exercises): DriverStatement(_save_statement(ends=ends, exercises=exercises))
    for ends in (False, True)
    for exercises in (False, True)
}
RECORD = DriverStatement(
    insert(_events).values(
        {name: bindparam(name) for name in ("session_id", "at", "actor", "type", "data")}
    )
)


def _save(
    before: Snapshot, state: domain.SessionState, events: list[domain.Event]
) -> Snapshot | None:
    """Write the new state if the row is still at the version read; None if it is not."""
    facts = before.facts
    ends = state.phase == "ended" and facts.is_open
    new_exercises = not domain.same_exercises(before.state, state)
    values = {
        "b_id": facts.id,
        "b_version": facts.version,
        "state": domain.state_to_dict(state, with_exercises=False),
        "new_version": facts.version + 1,
        "now": utcnow(),
    }
    if new_exercises:
        values["exercises"] = domain.exercises_to_dict(state)
    connection = transaction.connection()
    written = SAVES[ends, new_exercises].execute(connection, values)
    if written != 1:
        return None
    if not facts.rehearsal:
        _record(connection, facts.id, events, values["now"])
    new_facts = replace(
        facts,
        version=facts.version + 1,
        join_code=None if ends else facts.join_code,
        is_open=facts.is_open and not ends,
    )
    return Snapshot(new_facts, state)


def _event_row(session_id: str, event: domain.Event, at: datetime) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "at": at,
        "actor": event.actor,
        "type": event.type,
        "data": event.data,
    }


def earlier_words(facts: SessionFacts) -> dict[int, tuple[domain.EarlierWords, ...]]:
    """What each member of this session's family kept "for later" in its earlier sessions,
    oldest first. Handed to the domain when someone is let in; it offers them to their author."""
    if facts.family_id is None:
        return {}
    earlier = db.session.scalars(
        select(LiveSession)
        .where(
            LiveSession.family_id == facts.family_id,
            LiveSession.id != facts.id,
            LiveSession.ended_at.is_not(None),
            LiveSession.rehearsal.is_(False),
        )
        .order_by(LiveSession.created_at)
    ).all()
    found: dict[int, list[domain.EarlierWords]] = {}
    for session in earlier:
        day = session.created_at.date().isoformat()
        for member_id, words in kept_for_later(load_state(session), day).items():
            found.setdefault(member_id, []).extend(words)
    return {member_id: tuple(words) for member_id, words in found.items()}


def _record(
    connection: Any, session_id: str, events: list[domain.Event], at: datetime | None = None
) -> None:
    """The events' rows, on the connection the change is written on, in their order."""
    at = at or utcnow()
    for event in events:
        RECORD.execute(connection, _event_row(session_id, event, at))


def issue_token(session_id: str, participant_id: str) -> str:
    """A new rejoin token for one person's phone; only its hash is kept."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        ParticipantToken(
            token_hash=token_hash(token), session_id=session_id, participant_id=participant_id
        )
    )
    db.session.commit()
    return token


_tokens = ParticipantToken.__table__
REVOKE_TOKENS = DriverStatement(
    delete(_tokens).where(
        _tokens.c.session_id == bindparam("session_id"),
        _tokens.c.participant_id == bindparam("participant_id"),
    )
)


def _revoke_tokens(session_id: str, participant_id: str) -> None:
    """On the change's own connection: revoked in the same transaction as the change."""
    REVOKE_TOKENS.execute(
        transaction.connection(), {"session_id": session_id, "participant_id": participant_id}
    )


def new_participant_id() -> str:
    return uuid.uuid4().hex[:12]


def participant_for_token(token: str) -> tuple[LiveSession, str] | None:
    """The open session and participant a rejoin token belongs to."""
    holder = token_holder(token)
    if holder is None:
        return None
    live = db.session.get(LiveSession, holder.session_id)
    return None if live is None else (live, holder.participant_id)


@dataclass(frozen=True)
class TokenHolder:
    session_id: str
    participant_id: str
    session_open: bool


# Built once, run on the driver's cursor (driver.py): every phone's and display's connect
# runs one. A phone's says in the same query whether its session is still open, which is all
# its connect needs to know of the session before writing its arrival.
TOKEN_HOLDER = DriverStatement(
    select(_tokens.c.session_id, _tokens.c.participant_id, _sessions.c.ended_at.is_(None))
    .join(_sessions, _sessions.c.id == _tokens.c.session_id)
    .where(_tokens.c.token_hash == bindparam("token_hash"))
)
DISPLAY_SESSION = DriverStatement(
    select(_sessions.c.id).where(_sessions.c.display_token == bindparam("token"))
)


def token_holder(token: str) -> TokenHolder | None:
    """Whose a rejoin token is, and whether their session is open, without loading the
    session."""
    if not token or len(token) > 200:
        return None
    row = TOKEN_HOLDER.first(transaction.connection(), {"token_hash": token_hash(token)})
    return None if row is None else TokenHolder(row[0], row[1], bool(row[2]))


def display_session_id(token: str) -> str | None:
    """The session a room display's link opens, without loading the session."""
    if not token or len(token) > 200:
        return None
    row = DISPLAY_SESSION.first(transaction.connection(), {"token": token})
    return None if row is None else row[0]


def session_for_display(token: str) -> LiveSession | None:
    if not token or len(token) > 200:
        return None
    return db.session.scalar(select(LiveSession).where(LiveSession.display_token == token))


def session_info(session: LiveSession | SessionFacts, base_url: str) -> SessionInfo:
    code = format_join_code(session.join_code) if session.join_code else None
    return SessionInfo(
        join_code=code,
        join_url=f"{base_url}/join/{session.join_code}" if session.join_code else None,
        family_name=session.family_name,
    )


def record_of(live: LiveSession) -> list[SessionEvent]:
    return list(
        db.session.scalars(
            select(SessionEvent).where(SessionEvent.session_id == live.id).order_by(SessionEvent.id)
        )
    )


def audit(therapist_id: int | None, action: str, session_id: str | None, detail: str = "") -> None:
    db.session.add(
        AuditEntry(therapist_id=therapist_id, action=action, session_id=session_id, detail=detail)
    )


def delete_session(
    live: LiveSession, therapist_id: int | None, reason: str, scrub: bool = True
) -> None:
    """Delete a session with its answers, record and tokens; the audit trail keeps the fact.

    `scrub` then clears the deleted bytes from the database's files (erasure.py); a caller
    deleting many sessions at once does it once at the end.
    """
    session_id = live.id
    db.session.execute(delete(SessionEvent).where(SessionEvent.session_id == session_id))
    db.session.execute(delete(ParticipantToken).where(ParticipantToken.session_id == session_id))
    db.session.delete(live)
    audit(therapist_id, "deleted", session_id, reason)
    db.session.commit()
    snapshots.forget(session_id)
    if scrub:
        forget_deleted_bytes()


def _expired(therapist: Therapist, days: int, now: datetime) -> list[LiveSession]:
    ended_long_ago = LiveSession.ended_at.is_not(None) & (
        LiveSession.ended_at < now - timedelta(days=days)
    )
    abandoned_rehearsal = LiveSession.rehearsal.is_(True) & (
        LiveSession.updated_at < now - timedelta(days=1)
    )
    return list(
        db.session.scalars(
            select(LiveSession).where(
                LiveSession.therapist_id == therapist.id, ended_long_ago | abandoned_rehearsal
            )
        )
    )


def purge_expired(retention_days: int, now: datetime | None = None) -> int:
    """Delete sessions past their therapist's retention limit, and abandoned rehearsals.

    A therapist's own limit (`Therapist.retention_days`) wins over the server's.
    """
    now = now or utcnow()
    deleted = 0
    for therapist in db.session.scalars(select(Therapist)).all():
        days = therapist.retention_days or retention_days
        for live in _expired(therapist, days, now):
            delete_session(live, None, f"retention limit of {days} days", scrub=False)
            deleted += 1
    if deleted:
        forget_deleted_bytes()
    return deleted


def reset_presence() -> None:
    """Mark everyone away: used when a lone server starts, as no phone can be connected yet."""
    for live in db.session.scalars(select(LiveSession).where(LiveSession.ended_at.is_(None))):
        state = load_state(live)
        if any(p.connections for p in [*state.participants.values(), *state.waiting.values()]):
            for person in [*state.participants.values(), *state.waiting.values()]:
                person.connections = 0
            live.state = domain.state_to_dict(state, with_exercises=False)
    db.session.commit()
