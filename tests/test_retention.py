"""Retention: ended sessions are deleted once past their therapist's limit, or the server's, on
a clock the test sets."""

from __future__ import annotations

from datetime import datetime, timedelta

from facilitator.domain import session as domain
from facilitator.extensions import db
from facilitator.store import live as store
from facilitator.store.models import AuditEntry, LiveSession, Therapist
from tests.conftest import make_therapist
from tests.factories import two_step_exercise

NOW = datetime(2027, 3, 1, 12, 0)


def ended_on(therapist: Therapist, moment: datetime) -> str:
    live = store.open_session(therapist, two_step_exercise())
    store.apply(live.id, domain.THERAPIST, domain.End())
    live = db.session.get(LiveSession, live.id)
    live.ended_at = live.updated_at = moment
    db.session.commit()
    return live.id


def kept(*session_ids: str) -> list[bool]:
    db.session.expire_all()
    return [db.session.get(LiveSession, s) is not None for s in session_ids]


def test_each_therapist_s_own_limit_wins_over_the_server_s(app):
    brief = make_therapist("brief@clinic.test")
    brief.retention_days = 7
    usual = make_therapist("usual@clinic.test")
    db.session.commit()
    brief_old = ended_on(brief, NOW - timedelta(days=8))
    brief_recent = ended_on(brief, NOW - timedelta(days=6))
    usual_old = ended_on(usual, NOW - timedelta(days=31))
    usual_recent = ended_on(usual, NOW - timedelta(days=8))
    still_open = store.open_session(usual, two_step_exercise()).id

    assert store.purge_expired(30, now=NOW) == 2
    assert kept(brief_old, brief_recent, usual_old, usual_recent, still_open) == [
        False, True, False, True, True,
    ]  # fmt: skip
    reasons = {e.session_id: e.detail for e in db.session.query(AuditEntry)}
    assert reasons == {
        brief_old: "retention limit of 7 days",
        usual_old: "retention limit of 30 days",
    }

    # A week later, on the same clock: the brief therapist's recent session is past its limit.
    assert store.purge_expired(30, now=NOW + timedelta(days=2)) == 1
    assert kept(brief_recent, usual_recent) == [False, True]


def test_a_longer_own_limit_keeps_records_past_the_server_s(app):
    keeper = make_therapist("keeper@clinic.test")
    keeper.retention_days = 365
    db.session.commit()
    session = ended_on(keeper, NOW - timedelta(days=200))
    assert store.purge_expired(90, now=NOW) == 0
    assert kept(session) == [True]
    assert store.purge_expired(90, now=NOW + timedelta(days=166)) == 1


def test_the_therapist_sets_their_own_limit_on_the_account_page(therapist_client, therapist):
    page = therapist_client.get("/account").get_data(as_text=True)
    assert "How long records are kept" in page and "limit of 90 days" in page

    response = therapist_client.post("/account/retention", data={"retention_days": " 30 "})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Therapist, therapist.id).retention_days == 30
    assert 'value="30"' in therapist_client.get("/account").get_data(as_text=True)

    for wrong in ("0", "abc", "99999", "-5", "3.5"):
        refused = therapist_client.post("/account/retention", data={"retention_days": wrong})
        assert refused.status_code == 400, wrong
        assert "from 1 to 3650" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Therapist, therapist.id).retention_days == 30

    cleared = therapist_client.post("/account/retention", data={"retention_days": ""})
    assert cleared.status_code == 302
    db.session.expire_all()
    assert db.session.get(Therapist, therapist.id).retention_days is None
