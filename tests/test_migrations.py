"""The schema migrations keep what a clinic already holds: a database made before agendas."""

from __future__ import annotations

import json

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from facilitator.config import PROJECT_ROOT
from facilitator.domain.exercises import exercise_to_dict
from facilitator.extensions import db
from facilitator.store import crypto
from facilitator.store import live as store
from facilitator.store.models import LiveSession
from facilitator.web.records import export_document, timeline
from tests.factories import two_step_exercise
from tests.test_account_settings import migrated_app
from tests.test_scaling import postgres_url  # noqa: F401 (a fixture)

MIGRATIONS = str(PROJECT_ROOT / "migrations")


def old_exercise() -> dict:
    """An exercise as sessions stored it before the format had languages (format 1)."""
    data = exercise_to_dict(two_step_exercise())
    data.pop("languages")
    data["format"] = 1
    for step in data["steps"]:
        step.pop("therapist_only", None)
    return data


def old_state(exercise: dict) -> dict:
    """A session as the app saved it before agendas: one exercise, two people, a revealed turn
    with its reflection, a therapist-only answer, a draft and a note."""
    person = {"connections": 0, "break_requested": False, "simulated": False}
    return {
        "exercise": exercise,
        "phase": "revealing",
        "paused": False,
        "rehearsal": False,
        "participants": [
            {"id": "sam1", "name": "Sam", "role": "adolescent", "language": "en",
             "member_id": 1, **person},
            {"id": "mar1", "name": "Maria", "role": "parent", "language": "es",
             "member_id": 2, **person},
        ],
        "rounds": [
            {
                "step_index": 0,
                "locked": True,
                "answers": {
                    "sam1": {"feelings": ["hurt"], "needs": ["respect"],
                             "text": "KEPT-sam-words", "request": "", "therapist_only": False},
                    "mar1": {"feelings": ["lonely"], "needs": [], "text": "KEPT-maria-private",
                             "request": "", "therapist_only": True},
                },
                "drafts": {},
                "turns": [
                    {"speaker": "sam1", "outcome": "revealed",
                     "follow_up": {"kind": "reflect_back", "listener": "mar1", "draft": "",
                                   "text": "KEPT-heard", "verdict": None, "revealed": True,
                                   "confirmation": "yes", "clarification": ""}},
                ],
                "shared_ground": None,
            }
        ],
        "notes": [{"id": 1, "text": "KEPT-note", "step_index": 0}],
    }


def fill_old_database() -> None:
    """Rows written with the first schema, by plain SQL as that version of the app did."""
    exercise = old_exercise()
    statements = [
        "INSERT INTO therapists (id, email, name, password_hash, language, created_at) "
        "VALUES (1, 'rivera@clinic.test', 'Dr. Rivera', 'x', 'en', '2026-11-30 10:00:00')",
        "INSERT INTO families (id, therapist_id, name, created_at) "
        "VALUES (1, 1, 'Rivera-Lopez', '2026-11-30 10:00:00')",
        "INSERT INTO family_members (id, family_id, display_name, role) "
        "VALUES (1, 1, 'Sam', 'adolescent'), (2, 1, 'Maria', 'parent')",
    ]
    for statement in statements:
        db.session.execute(text(statement))
    db.session.execute(
        text(
            "INSERT INTO live_sessions (id, therapist_id, family_id, exercise_id, join_code, "
            "display_token, rehearsal, state, version, created_at, updated_at) VALUES "
            "('s1', 1, 1, :exercise_id, 'ACDEFG', 'display-1', :false, :state, 3, "
            "'2026-11-30 10:00:00', '2026-11-30 10:30:00')"
        ),
        {"exercise_id": exercise["id"], "state": json.dumps(old_state(exercise)), "false": False},
    )
    events = [
        ("therapist", "session_opened", {"exercise": exercise["id"]}),
        ("sam1", "joined", {"name": "Sam", "role": "adolescent", "simulated": False}),
        ("therapist", "step_opened", {"step": 0}),
        ("sam1", "answer_submitted", {"step": 0, "answer": old_state(exercise)["rounds"][0]
                                      ["answers"]["sam1"]}),
        ("therapist", "revealed", {"step": 0, "speaker": "sam1"}),
    ]
    for n, (actor, kind, data) in enumerate(events):
        db.session.execute(
            text(
                "INSERT INTO session_events (session_id, at, actor, type, data) "
                "VALUES ('s1', :at, :actor, :type, :data)"
            ),
            {"at": f"2026-11-30 10:0{n}:00", "actor": actor, "type": kind,
             "data": json.dumps(data)},
        )
    db.session.commit()


def check_nothing_lost(database_url: str, tmp_path) -> None:
    app = migrated_app(database_url, tmp_path)
    with app.app_context(), app.test_request_context():
        upgrade(directory=MIGRATIONS, revision="0001")
        fill_old_database()
        upgrade(directory=MIGRATIONS, revision="head")
        db.session.expire_all()

        # The agenda's exercise is kept apart from the state, and both are encrypted.
        stored_state, stored_exercises = db.session.execute(
            text("SELECT state, exercises FROM live_sessions")
        ).one()
        ring = crypto.keyring()
        assert "exercise" not in json.loads(ring.decrypt(stored_state))["agenda"][0]
        assert json.loads(ring.decrypt(stored_exercises))["1"]["id"] == "test-exercise"

        live = db.session.get(LiveSession, "s1")
        state = store.load_state(live)
        assert [(p.id, p.status, p.exercise.id) for p in state.agenda] == [
            (1, "running", "test-exercise")
        ]
        assert state.phase == "revealing" and state.joining_open and state.waiting == {}
        assert [m.name for m in state.members] == ["Sam", "Maria"]
        assert [p.name for p in state.present().values()] == ["Sam", "Maria"]
        current = state.round
        assert current.part_id == 1
        assert current.answers["sam1"].text == "KEPT-sam-words"
        assert current.answers["mar1"].therapist_only
        assert current.turns[0].follow_up.text == "KEPT-heard"
        assert state.notes[0].text == "KEPT-note" and state.notes[0].part_id == 1

        lines = " ".join(line.text for line in timeline(live, "en"))
        assert "Opened step 1, “Something hard”." in lines
        document = json.dumps(export_document(live, "en"))
        for kept in ("KEPT-sam-words", "KEPT-maria-private", "KEPT-heard", "KEPT-note"):
            assert kept in document

        # The session carries on from where it was: the next step opens as part 1's second.
        outcome = store.apply("s1", store.domain.THERAPIST, store.domain.OpenStep(1, 0))
        assert (outcome.state.round.part_id, outcome.state.round.step_index) == (1, 1)

        # And back down: the first schema reads its one exercise again.
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="0001")
        row = db.session.execute(text("SELECT state FROM live_sessions")).scalar_one()
        back = row if isinstance(row, dict) else json.loads(row)
        assert back["exercise"]["id"] == "test-exercise" and "agenda" not in back
        assert back["rounds"][0]["answers"]["sam1"]["text"] == "KEPT-sam-words"
        db.session.remove()
        db.engine.dispose()


def test_a_database_from_before_agendas_migrates_with_nothing_lost_on_sqlite(tmp_path):
    check_nothing_lost(f"sqlite:///{tmp_path / 'old.sqlite3'}", tmp_path)


@pytest.mark.postgres
def test_a_database_from_before_agendas_migrates_with_nothing_lost_on_postgresql(
    postgres_url, tmp_path  # noqa: F811
):
    check_nothing_lost(postgres_url, tmp_path)
