"""A change is written on the driver's own cursor (store/driver.py): on SQLite and PostgreSQL
alike, what it writes reads back through SQLAlchemy exactly as written, encrypted at rest, in
the caller's transaction, and only over the version it was applied to."""

from __future__ import annotations

import pytest
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from facilitator.domain import session as domain
from facilitator.extensions import db
from facilitator.store import crypto, snapshots, transaction
from facilitator.store import live as store
from facilitator.store.models import AuditEntry, LiveSession, SessionEvent
from tests.factories import requests_exercise, two_step_exercise
from tests.realtime_helpers import Person, admit, ask_to_join, connect, connect_therapist
from tests.test_scaling import app_with_session, database_url, postgres_url  # noqa: F401

MARKER = "the-words-nobody-else-may-read"


def stored_text(session_id: str, column: str) -> str:
    """A column of the session's row as the database holds it, past SQLAlchemy's decryption."""
    return db.session.execute(
        text(f"SELECT {column} FROM live_sessions WHERE id = :id"), {"id": session_id}
    ).scalar_one()


def stored_state_text(session_id: str) -> str:
    return stored_text(session_id, "state")


def test_the_agendas_exercises_are_written_only_when_the_agenda_gains_one(
    database_url,  # noqa: F811
    tmp_path,
):
    """A tap rewrites the state but not the exercises: most of what a session holds."""
    app, session_id = app_with_session(database_url, tmp_path)
    with app.app_context():
        exercises_before = stored_text(session_id, "exercises")
        store.apply(session_id, domain.THERAPIST, domain.Pause())
        store.apply(session_id, domain.THERAPIST, domain.Resume())
        db.session.remove()
        # Fernet tokens differ at every encryption: the same token was not written again.
        assert stored_text(session_id, "exercises") == exercises_before
        plain_state = crypto.keyring().decrypt(stored_state_text(session_id))
        assert "test-exercise" not in plain_state and '"agenda"' in plain_state

        added = requests_exercise()
        store.apply(session_id, domain.THERAPIST, domain.AddExercise(added))
        db.session.remove()
        assert stored_text(session_id, "exercises") != exercises_before
        assert added.title["en"] not in stored_text(session_id, "exercises")  # encrypted
        snapshots.drop(session_id)  # as another process would: read from the row alone
        state = snapshots.read(session_id).state
        assert [p.exercise for p in state.agenda] == [two_step_exercise(), added]


def test_a_change_reads_back_as_written_and_is_encrypted(database_url, tmp_path):  # noqa: F811
    app, session_id = app_with_session(database_url, tmp_path)
    with app.app_context():
        version = snapshots.read(session_id).facts.version
        outcome = store.apply(session_id, domain.THERAPIST, domain.AddNote(MARKER))
        db.session.remove()

        live = db.session.get(LiveSession, session_id)
        assert live.version == version + 1
        assert store.load_state(live) == outcome.state
        assert [n.text for n in store.load_state(live).notes] == [MARKER]
        assert MARKER not in stored_state_text(session_id)

        rows = store.record_of(live)
        assert [(r.actor, r.type) for r in rows][-1] == ("therapist", "note_added")
        assert rows[-1].data == outcome.events[-1].data
        assert rows[-1].at == live.updated_at  # one clock reading for the change
        stored = db.session.execute(
            select(SessionEvent.__table__.c.data).where(SessionEvent.id == rows[-1].id)
        ).scalar_one()
        assert MARKER not in stored


def test_a_change_over_a_version_someone_else_moved_writes_nothing(
    database_url,  # noqa: F811
    tmp_path,
):
    app, session_id = app_with_session(database_url, tmp_path)
    with app.app_context():
        facts = snapshots.read(session_id).facts
        before = stored_state_text(session_id)
        written = store.SAVES[False, False].execute(
            transaction.connection(),
            {
                "b_id": session_id,
                "b_version": facts.version + 7,
                "state": {"not": "this"},
                "new_version": facts.version + 8,
                "now": None,
            },
        )
        transaction.commit()
        assert written == 0
        assert stored_state_text(session_id) == before
        assert db.session.get(LiveSession, session_id).version == facts.version


def test_a_change_rolled_back_with_its_transaction_leaves_no_trace(
    database_url,  # noqa: F811
    tmp_path,
):
    app, session_id = app_with_session(database_url, tmp_path)
    with app.app_context():
        before = snapshots.read(session_id)
        facts = before.facts
        events = [domain.Event("note_added", "therapist", {"text": MARKER})]
        assert store._save(before, before.state, events) is not None
        transaction.rollback()
        transaction.commit()  # whatever the rollback left behind would be kept now
        live = db.session.get(LiveSession, session_id)
        assert live.version == facts.version
        assert [r.type for r in store.record_of(live)] == ["session_opened"]


def test_ending_a_session_frees_its_join_code(database_url, tmp_path):  # noqa: F811
    app, session_id = app_with_session(database_url, tmp_path)
    with app.app_context():
        assert db.session.get(LiveSession, session_id).join_code is not None
        store.apply(session_id, domain.THERAPIST, domain.End())
        db.session.remove()
        live = db.session.get(LiveSession, session_id)
        assert live.join_code is None
        assert live.ended_at is not None and live.ended_at == live.updated_at
        assert store.load_state(live).phase == "ended"


def test_a_query_reads_what_sqlalchemy_reads(database_url, tmp_path):  # noqa: F811
    """The session's facts and decrypted state, and a missing row, as Connection.execute
    gives them (types included: the rehearsal flag is a bool on SQLite too)."""
    app, session_id = app_with_session(database_url, tmp_path)
    with app.app_context():
        store.apply(session_id, domain.THERAPIST, domain.AddNote(MARKER))
        for session in (session_id, "no-such-session"):
            found = {"session_id": session}
            ours = snapshots.FACTS_AND_STATE.first(transaction.connection(), found)
            theirs = db.session.execute(snapshots.FACTS_AND_STATE.statement, found).one_or_none()
            assert ours == (None if theirs is None else tuple(theirs))
            if ours is not None:
                assert [type(value) for value in ours] == [type(value) for value in theirs]
                assert MARKER in str(ours[-2])  # the state, decrypted


def test_a_phones_connect_and_a_tap_are_written_without_the_orm_session(
    app, therapist, therapist_client
):
    """A socket event has no work of its own in the ORM session: its reads and its change run
    on one pooled connection, committed, and given back to the pool when the event ends."""
    live = store.open_session(therapist, two_step_exercise())
    console = connect_therapist(app, therapist_client, live)
    participant_id, token = ask_to_join(app, live, "Sam", "adolescent")
    admit(app, live, participant_id)
    version = snapshots.read(live.id).facts.version
    db.session.remove()
    begun: list[str] = []

    def orm_session_began(session, transaction, connection) -> None:
        begun.append(str(connection))

    sqlalchemy_event.listen(Session, "after_begin", orm_session_began)
    checked_out = db.engine.pool.checkedout()
    try:
        phone = Person("Sam", connect(app, auth={"token": token}), participant_id, token)
        console.do("pause")
    finally:
        sqlalchemy_event.remove(Session, "after_begin", orm_session_began)
    assert begun == []
    assert db.engine.pool.checkedout() == checked_out

    # Committed: another connection reads the phone's presence and the pause.
    with db.engine.connect() as other:
        row = other.execute(
            select(LiveSession.version, LiveSession.state).where(LiveSession.id == live.id)
        ).one()
    assert row.version == version + 2
    assert row.state["paused"] is True
    assert [p["connections"] for p in row.state["participants"]] == [1]
    assert phone.view()["session"]["paused"] is True and console.view()["session"]["paused"]


def test_a_change_made_by_a_page_is_one_transaction_with_the_pages_own_work(
    app, therapist
):
    """The page's uncommitted write holds SQLite's writer lock: a change written on another
    connection would wait for it, and fail."""
    session_id, therapist_id = store.open_session(therapist, two_step_exercise()).id, therapist.id
    version = snapshots.read(session_id).facts.version
    db.session.remove()
    with app.test_request_context():
        db.session.add(AuditEntry(therapist_id=therapist_id, action="noted", session_id=session_id))
        db.session.flush()
        store.apply(session_id, domain.THERAPIST, domain.AddNote(MARKER))
        with db.engine.connect() as other:
            audited = other.execute(
                select(AuditEntry.action).where(AuditEntry.session_id == session_id)
            ).all()
            moved = other.execute(
                select(LiveSession.version).where(LiveSession.id == session_id)
            ).scalar_one()
    assert [a.action for a in audited] == ["noted"]
    assert moved == version + 1


def test_a_value_left_out_is_refused_not_written_as_null(database_url, tmp_path):  # noqa: F811
    app, session_id = app_with_session(database_url, tmp_path)
    with app.app_context():
        before = stored_state_text(session_id)
        facts = snapshots.read(session_id).facts
        with pytest.raises(KeyError, match="state"):
            store.SAVES[False, False].execute(
                transaction.connection(),
                {"b_id": session_id, "b_version": facts.version, "new_version": 9, "now": None},
            )
        transaction.rollback()
        assert stored_state_text(session_id) == before


def test_the_connection_given_back_last_is_taken_first_with_room_for_the_sessions_pages(app):
    """SQLite keeps a cache of pages per connection, emptied by a write on another one: events
    that take the pool's connections in turn read the sessions' pages again at every change."""
    with app.app_context():
        first = transaction.connection().dbapi.driver_connection
        with app.app_context():  # an event handled meanwhile takes a second connection
            second = transaction.connection().dbapi.driver_connection
        assert second is not first
    # The second went back to the pool, then the first: the next event takes the first.
    with app.app_context():
        again = transaction.connection().dbapi.driver_connection
        assert again is first
        assert again.execute("PRAGMA cache_size").fetchone() == (-32000,)
