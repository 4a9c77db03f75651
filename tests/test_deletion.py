"""Deletion that deletes: after a session or a family is deleted, none of its bytes are left in
the SQLite file or its log, its rows are gone from PostgreSQL, and the audit trail keeps only
the fact."""

from __future__ import annotations

from sqlalchemy import func, select, text

from facilitator.domain import session as domain
from facilitator.extensions import db
from facilitator.store import live as store
from facilitator.store.models import (
    AuditEntry,
    Family,
    FamilyMember,
    LiveSession,
    ParticipantToken,
    SessionEvent,
)
from tests.conftest import make_therapist, sign_in
from tests.planted import plant_session, planting_exercise, postgres_table_bytes, sqlite_bytes
from tests.test_encryption import HEALTH_TABLES, app_on
from tests.test_scaling import postgres_url  # noqa: F401  (a fixture)


def stored_traces(session_id: str) -> dict[str, bytes]:
    """What a session leaves in the database as stored: its encrypted state and record (a long
    slice of each token is as unique as the text it hides) and its phones' token hashes."""
    traces = {}
    state = db.session.execute(
        text("SELECT state FROM live_sessions WHERE id = :id"), {"id": session_id}
    ).scalar_one()
    traces["state"] = state[20:80].encode()
    events = db.session.execute(
        text("SELECT id, data FROM session_events WHERE session_id = :id"), {"id": session_id}
    ).all()
    for event_id, data in events:
        traces[f"event {event_id}"] = data[20:80].encode()
    for (token_hash,) in db.session.execute(
        text("SELECT token_hash FROM participant_tokens WHERE session_id = :id"),
        {"id": session_id},
    ):
        traces["phone token"] = token_hash.encode()
    return traces


def nothing_left(raw: bytes, traces: dict[str, bytes]) -> list[str]:
    return [what for what, trace in traces.items() if trace in raw]


def the_audit_keeps_the_fact_not_the_content(planted) -> None:
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert any(e.action == "deleted" and e.session_id == planted.session_id for e in entries)
    for entry in entries:
        for word in [*planted.health_data.values(), planted.family_name, planted.member_name]:
            assert word not in entry.detail


def test_a_deleted_session_leaves_no_bytes_in_the_sqlite_file_or_its_log(
    app, therapist, therapist_client
):
    planted = plant_session(therapist)
    kept = plant_session(therapist)
    traces = stored_traces(planted.session_id)
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    before = sqlite_bytes(database)
    assert len(traces) >= 10 and nothing_left(before, traces) == list(traces), "all on disk"

    response = therapist_client.post(
        f"/sessions/{planted.session_id}/delete",
        data={"confirm": "y", "reason": "family_request"},
    )
    assert response.status_code == 302

    after = sqlite_bytes(database)
    assert nothing_left(after, traces) == []
    assert all(t in after for t in stored_traces(kept.session_id).values()), "others are kept"
    db.session.expire_all()
    assert db.session.get(LiveSession, planted.session_id) is None
    assert (
        db.session.scalar(select(func.count()).where(SessionEvent.session_id == planted.session_id))
        == 0
    )
    the_audit_keeps_the_fact_not_the_content(planted)


def test_a_deleted_family_leaves_no_name_and_no_session_behind(app, therapist, therapist_client):
    planted = plant_session(therapist)
    second = store.open_session(therapist, planting_exercise(), db.session.get(Family, 1))
    store.apply(second.id, domain.THERAPIST, domain.End())
    traces = {
        **stored_traces(planted.session_id),
        **{f"second {k}": v for k, v in stored_traces(second.id).items()},
    }
    traces["family name"] = planted.family_name.encode()
    traces["member name"] = planted.member_name.encode()
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    assert nothing_left(sqlite_bytes(database), traces) == list(traces)

    response = therapist_client.post(f"/families/{planted.family_id}/delete", data={"confirm": "y"})
    assert response.status_code == 302

    assert nothing_left(sqlite_bytes(database), traces) == []
    db.session.expire_all()
    for model in (Family, FamilyMember, LiveSession, SessionEvent, ParticipantToken):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0, model
    the_audit_keeps_the_fact_not_the_content(planted)
    family_entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "family_deleted")
    )
    assert family_entry.detail == f"family {planted.family_id}, 2 sessions"


def rows_of(planted) -> dict[str, int]:
    counts = {
        "families": select(func.count()).where(Family.id == planted.family_id),
        "members": select(func.count()).where(FamilyMember.family_id == planted.family_id),
        "sessions": select(func.count()).where(LiveSession.id == planted.session_id),
        "events": select(func.count()).where(SessionEvent.session_id == planted.session_id),
        "tokens": select(func.count()).where(ParticipantToken.session_id == planted.session_id),
    }
    return {what: db.session.scalar(query) for what, query in counts.items()}


def test_deleted_rows_are_gone_from_postgresql(postgres_url, tmp_path):  # noqa: F811
    app = app_on(postgres_url, tmp_path)
    with app.app_context():
        db.create_all()
        therapist = make_therapist("rivera@clinic.test")
        planted = plant_session(therapist)
        kept = plant_session(therapist)
        traces = stored_traces(planted.session_id)
        traces["family name"] = planted.family_name.encode()
        assert all(rows_of(planted).values())
        client = app.test_client()
        sign_in(client, therapist.email)

        response = client.post(f"/families/{planted.family_id}/delete", data={"confirm": "y"})
        assert response.status_code == 302

        db.session.expire_all()
        assert rows_of(planted) == dict.fromkeys(rows_of(planted), 0)
        assert all(rows_of(kept).values()), "another family's session is kept"
        the_audit_keeps_the_fact_not_the_content(planted)
        # The app vacuums the tables after a deletion: their files keep nothing of it.
        tables = [*HEALTH_TABLES, "families", "family_members", "participant_tokens"]
        assert nothing_left(postgres_table_bytes(postgres_url, tables), traces) == []
        db.session.remove()
        db.engine.dispose()


def test_every_sqlite_connection_overwrites_what_it_deletes(app):
    """Set by the app, not left to how SQLite was built (Debian's default is on; others' off)."""
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
