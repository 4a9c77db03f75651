"""A therapist rehearses an exercise alone, with stand-in members' phones, and nothing is kept."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from facilitator.domain import session as domain
from facilitator.domain.vocabulary import default_vocabulary
from facilitator.extensions import db
from facilitator.store import live as store
from facilitator.store.models import (
    Family,
    LiveSession,
    ParticipantToken,
    SessionEvent,
)
from tests.conftest import sign_in
from tests.factories import two_step_exercise
from tests.realtime_helpers import let_in


def token_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ParticipantToken))


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def rehearse(client, exercise_key: str = "builtin:relational-reframe"):
    return client.post("/rehearse", data={"exercise": exercise_key})


def only_session() -> LiveSession:
    return db.session.scalar(select(LiveSession))


def stand_ins(live: LiveSession) -> dict[str, domain.Participant]:
    db.session.refresh(live)
    return {p.name: p for p in store.load_state(live).participants.values()}


@pytest.fixture
def rehearsal(therapist_client) -> LiveSession:
    response = rehearse(therapist_client)
    assert response.status_code == 302
    live = only_session()
    assert response.headers["Location"].endswith(f"/rehearse/{live.id}")
    return live


def test_rehearsing_opens_a_rehearsal_with_an_adolescent_and_a_parent_stand_in(
    therapist, rehearsal
):
    assert rehearsal.rehearsal and rehearsal.family_id is None
    assert rehearsal.therapist_id == therapist.id
    assert rehearsal.exercise_id == "relational-reframe"
    people = stand_ins(rehearsal)
    assert set(people) == {"Alex (stand-in)", "Parent (stand-in)"}
    assert people["Alex (stand-in)"].role == "adolescent"
    assert people["Parent (stand-in)"].role == "parent"
    assert all(person.simulated for person in people.values())


def test_an_exercise_that_asks_someone_else_gets_a_third_stand_in(therapist_client):
    rehearse(therapist_client, "builtin:check-in")
    people = stand_ins(only_session())
    assert people["Sam (stand-in)"].role == "other"


def test_the_rehearsal_page_shows_the_console_beside_each_phone(therapist_client, rehearsal):
    page = text(therapist_client.get(f"/rehearse/{rehearsal.id}"))
    assert "Rehearsal — nothing is recorded" in page
    assert f'<iframe src="/sessions/{rehearsal.id}"' in page
    for person in stand_ins(rehearsal).values():
        assert f'src="/rehearse/{rehearsal.id}/phone/{person.id}"' in page
        assert f"{person.name}\u2019s phone" in page


def test_a_stand_ins_phone_gets_a_fresh_token_for_that_stand_in(therapist_client, rehearsal):
    alex = stand_ins(rehearsal)["Alex (stand-in)"]
    tokens_before = token_count()
    page = text(therapist_client.get(f"/rehearse/{rehearsal.id}/phone/{alex.id}"))
    token = re.search(r'data-token="([^"]+)"', page).group(1)
    assert store.participant_for_token(token)[1] == alex.id
    assert "Welcome, Alex (stand-in)" in page
    # The frame is a family member's phone, not the therapist's pages.
    assert "Sign out" not in page
    again = text(therapist_client.get(f"/rehearse/{rehearsal.id}/phone/{alex.id}"))
    assert re.search(r'data-token="([^"]+)"', again).group(1) != token
    assert token_count() == tokens_before + 2


def test_a_rehearsal_is_the_therapists_own(app, rehearsal, other_therapist):
    alex = stand_ins(rehearsal)["Alex (stand-in)"]
    tokens_before = token_count()
    client = app.test_client()
    sign_in(client, other_therapist.email)
    assert client.get(f"/rehearse/{rehearsal.id}").status_code == 404
    assert client.get(f"/rehearse/{rehearsal.id}/phone/{alex.id}").status_code == 404
    anonymous = app.test_client()
    response = anonymous.get(f"/rehearse/{rehearsal.id}/phone/{alex.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert token_count() == tokens_before


def test_another_therapists_exercise_cannot_be_rehearsed(app, therapist_client, other_therapist):
    client = app.test_client()
    sign_in(client, other_therapist.email)
    client.post("/exercises/builtin/check-in/duplicate")
    assert rehearse(therapist_client, "custom:1").status_code == 404
    assert rehearse(therapist_client, "builtin:no-such-exercise").status_code == 404
    assert only_session() is None


def test_a_rehearsals_console_offers_no_record_and_leads_back_to_the_exercises(
    therapist, therapist_client, rehearsal
):
    console = therapist_client.get(f"/sessions/{rehearsal.id}").get_data(as_text=True)
    assert 'data-rehearsal="true"' in console
    assert f"/sessions/{rehearsal.id}/record" not in console
    assert 'href="/exercises" target="_top"' in console

    real = store.open_session(therapist, two_step_exercise())
    console = therapist_client.get(f"/sessions/{real.id}").get_data(as_text=True)
    assert "data-rehearsal" not in console
    assert f"/sessions/{real.id}/record" in console


def test_a_real_session_has_no_rehearsal_page_or_stand_in_phones(app, therapist, therapist_client):
    family = Family(therapist_id=therapist.id, name="García family")
    db.session.add(family)
    db.session.commit()
    live = store.open_session(therapist, two_step_exercise(), family)
    participant_id, _ = let_in(live, "Ana", "adolescent", "en")
    assert therapist_client.get(f"/rehearse/{live.id}").status_code == 404
    assert therapist_client.get(f"/rehearse/{live.id}/phone/{participant_id}").status_code == 404


def test_only_stand_ins_phones_are_shown(therapist_client, rehearsal):
    # Someone who joined the rehearsal with its code is a real phone, not a stand-in.
    real_id, _ = let_in(rehearsal, "Marta", "parent", "en")
    url = f"/rehearse/{rehearsal.id}/phone"
    assert therapist_client.get(f"{url}/{real_id}").status_code == 404
    assert therapist_client.get(f"{url}/nobody").status_code == 404
    assert f"{url}/{real_id}" not in text(therapist_client.get(f"/rehearse/{rehearsal.id}"))


def test_nothing_of_a_rehearsal_is_recorded(therapist_client, rehearsal):
    people = stand_ins(rehearsal)
    alex, parent = people["Alex (stand-in)"], people["Parent (stand-in)"]
    feeling = next(c.id for c in default_vocabulary().concepts.values() if c.kind == "feeling")
    answer = domain.Answer(feelings=(feeling,), text="I felt unheard.")

    store.apply(rehearsal.id, domain.THERAPIST, domain.OpenStep(None, None))
    store.apply(rehearsal.id, domain.participant(alex.id), domain.SubmitAnswer(answer))
    store.apply(rehearsal.id, domain.participant(parent.id), domain.SubmitAnswer(answer))
    store.apply(rehearsal.id, domain.THERAPIST, domain.LockStep(1, 0))
    outcome = store.apply(rehearsal.id, domain.THERAPIST, domain.Reveal(alex.id))
    assert outcome.state.round.turns[0].speaker == alex.id
    store.apply(rehearsal.id, domain.THERAPIST, domain.AddNote("Practice note"))
    store.apply(rehearsal.id, domain.THERAPIST, domain.End())

    assert db.session.scalar(select(func.count()).select_from(SessionEvent)) == 0
    record = text(therapist_client.get(f"/sessions/{rehearsal.id}/record"))
    assert "This was a rehearsal: nothing was recorded." in record
    assert "I felt unheard." not in record


def test_an_ended_rehearsal_is_not_listed_among_past_sessions(therapist, therapist_client):
    family = Family(therapist_id=therapist.id, name="García family")
    db.session.add(family)
    db.session.commit()
    practice = store.open_session(therapist, two_step_exercise(), family, rehearsal=True)
    real = store.open_session(therapist, two_step_exercise(), family)

    dashboard = therapist_client.get("/").get_data(as_text=True)
    assert f"/rehearse/{practice.id}" in dashboard
    assert f"/sessions/{real.id}" in dashboard

    for live in (practice, real):
        store.apply(live.id, domain.THERAPIST, domain.End())
    dashboard = therapist_client.get("/").get_data(as_text=True)
    assert f"/sessions/{real.id}/record" in dashboard
    assert practice.id not in dashboard
    family_page = therapist_client.get(f"/families/{family.id}").get_data(as_text=True)
    assert f"/sessions/{real.id}/record" in family_page
    assert practice.id not in family_page


def test_an_ended_rehearsal_sends_the_therapist_back_to_the_exercises(therapist_client, rehearsal):
    alex = stand_ins(rehearsal)["Alex (stand-in)"]
    store.apply(rehearsal.id, domain.THERAPIST, domain.End())
    response = therapist_client.get(f"/rehearse/{rehearsal.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/exercises")
    phone = therapist_client.get(f"/rehearse/{rehearsal.id}/phone/{alex.id}")
    assert phone.status_code == 200 and 'data-token="' not in phone.get_data(as_text=True)


def test_a_rehearsal_in_spanish(therapist_client):
    therapist_client.post("/rehearse?lang=es", data={"exercise": "builtin:check-in"})
    live = only_session()
    people = stand_ins(live)
    assert {"Alex (simulado)", "Madre/padre (simulado)", "Sam (simulado)"} == set(people)
    assert all(person.language == "es" for person in people.values())
    page = text(therapist_client.get(f"/rehearse/{live.id}?lang=es"))
    assert "Ensayo: no se registra nada" in page
    assert "Teléfono de Alex (simulado)" in page
