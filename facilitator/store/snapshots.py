"""Open sessions as this process last read or wrote them, trusted only while the row's version
says nobody else has written since.

Decrypting a session's state and decoding it into the domain's objects costs more than the rest
of a change. Every read here first fetches the row's small columns (its version, join code,
family name, the therapist's language: the facts every view needs, in one query); when the
version matches the copy kept here, the state is not read again. Every write still goes to the
database, guarded by that version (see `live.apply`), so several server processes stay correct:
a process whose copy is stale finds out at its next read or write and loads the row again.

Only open sessions are kept, never for long, and a deleted session's copy goes with it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, select

from facilitator.domain import session as domain
from facilitator.store import transaction
from facilitator.store.driver import DriverStatement
from facilitator.store.models import Family, LiveSession, Therapist

# Sessions kept per process: far above the open sessions one process serves.
MAX_SESSIONS = 20_000
# A session nobody touched for this long is dropped (its state need not sit in memory).
IDLE_SECONDS = 15 * 60


@dataclass(frozen=True)
class SessionFacts:
    """A session's row without its state: what the door, the handlers and the views need."""

    id: str
    version: int
    therapist_id: int
    family_id: int | None
    family_name: str
    therapist_language: str
    join_code: str | None
    rehearsal: bool
    is_open: bool


@dataclass(eq=False)
class Snapshot:
    """One version of a session: its facts, its state, and the views already built of it."""

    facts: SessionFacts
    state: domain.SessionState
    # Views of this very state as JSON text, by (viewer, session info): the next change
    # compares with them instead of building every screen's old view again. States are never
    # changed in place (domain.handle returns a new one), so these stay true.
    views: dict[Any, str | None] = field(default_factory=dict)
    used_at: float = field(default_factory=time.monotonic)


_sessions = LiveSession.__table__
_families = Family.__table__
_therapists = Therapist.__table__
_FACT_COLUMNS = (
    _sessions.c.id,
    _sessions.c.version,
    _sessions.c.therapist_id,
    _sessions.c.family_id,
    _families.c.name,
    _therapists.c.language,
    _sessions.c.join_code,
    _sessions.c.rehearsal,
    _sessions.c.ended_at,
)


def _facts_query(*extra: Any) -> Any:
    # Core, not ORM, statements: these run for every event of every screen.
    return (
        select(*_FACT_COLUMNS, *extra)
        .join_from(_sessions, _therapists, _therapists.c.id == _sessions.c.therapist_id)
        .outerjoin(_families, _families.c.id == _sessions.c.family_id)
        .where(_sessions.c.id == bindparam("session_id"))
    )


# Built once, and run on the driver's cursor (driver.py): every connect reads them.
FACTS = DriverStatement(_facts_query())
FACTS_AND_STATE = DriverStatement(_facts_query(_sessions.c.state, _sessions.c.exercises))


def _facts(row: Any) -> SessionFacts:
    return SessionFacts(
        id=row[0],
        version=row[1],
        therapist_id=row[2],
        family_id=row[3],
        family_name=row[4] or "",
        therapist_language=row[5],
        join_code=row[6],
        rehearsal=row[7],
        is_open=row[8] is None,
    )


class SnapshotCache:
    """The snapshots of one app (each test app has its own), least recently used first."""

    def __init__(self, max_sessions: int = MAX_SESSIONS, idle_seconds: float = IDLE_SECONDS):
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self.kept: OrderedDict[str, Snapshot] = OrderedDict()
        # Sessions deleted here: a read that began before the deletion must not keep them again.
        self.deleted: OrderedDict[str, None] = OrderedDict()

    def get(self, session_id: str) -> Snapshot | None:
        self.forget_idle()
        found = self.kept.get(session_id)
        if found is not None:
            found.used_at = time.monotonic()
            self.kept.move_to_end(session_id)
        return found

    def put(self, snapshot: Snapshot) -> None:
        if not snapshot.facts.is_open or snapshot.facts.id in self.deleted:
            self.drop(snapshot.facts.id)
            return
        self.kept[snapshot.facts.id] = snapshot
        self.kept.move_to_end(snapshot.facts.id)
        self.forget_idle()

    def drop(self, session_id: str) -> None:
        self.kept.pop(session_id, None)

    def delete(self, session_id: str) -> None:
        self.drop(session_id)
        self.deleted[session_id] = None
        while len(self.deleted) > self.max_sessions:
            self.deleted.popitem(last=False)

    def forget_idle(self) -> None:
        """Drop the sessions nobody touched for a while, and the least used beyond the most."""
        idle_since = time.monotonic() - self.idle_seconds
        while self.kept:
            oldest = next(iter(self.kept.values()))
            if len(self.kept) <= self.max_sessions and oldest.used_at >= idle_since:
                return
            self.kept.popitem(last=False)


def cache() -> SnapshotCache:
    return current_app.extensions.setdefault("live_snapshots", SnapshotCache())


def kept(session_id: str) -> Snapshot | None:
    """This process's copy, unchecked: for a write, which the row's version then guards."""
    return cache().get(session_id)


def drop(session_id: str) -> None:
    """This process's copy is behind the row: the next read loads the row again."""
    cache().drop(session_id)


def read(session_id: str) -> Snapshot | None:
    """The session as it is now in the database; its state decoded only when it changed."""
    kept = cache().get(session_id)
    if kept is None:  # nothing to compare the version with: one query for the whole row
        return load(session_id)
    row = FACTS.first(transaction.connection(), {"session_id": session_id})
    if row is None:
        cache().drop(session_id)
        return None
    facts = _facts(row)
    if kept.facts.version == facts.version:
        if kept.facts != facts:  # renamed family, another language: same state, fresh facts
            kept = Snapshot(facts, kept.state, kept.views)
            cache().put(kept)
        return kept
    return load(session_id)


def load(session_id: str) -> Snapshot | None:
    """Read the whole row again, state and all, and keep it."""
    row = FACTS_AND_STATE.first(transaction.connection(), {"session_id": session_id})
    if row is None:
        cache().drop(session_id)
        return None
    snapshot = Snapshot(_facts(row), domain.state_from_dict(row[-2], row[-1]))
    cache().put(snapshot)
    return snapshot


def written(snapshot: Snapshot) -> None:
    """A write of this process was committed: its snapshot is the session's newest."""
    cache().put(snapshot)


def forget(session_id: str) -> None:
    """The session was deleted: nothing of it stays in this process."""
    cache().delete(session_id)


def forget_idle() -> None:
    """For a timer: a process with nothing to do still lets go of what nobody touched."""
    cache().forget_idle()
