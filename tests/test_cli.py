"""The flask commands: therapist accounts, the demo account, purging old records, migrations."""

from __future__ import annotations

import re
from datetime import timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select

from facilitator import create_app
from facilitator.domain import session as domain
from facilitator.extensions import db
from facilitator.store import live as store
from facilitator.store.models import AuditEntry, LiveSession, Therapist, utcnow
from tests.conftest import make_therapist, sign_in
from tests.factories import two_step_exercise


def therapist_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Therapist))


def shown_password(output: str) -> str:
    match = re.search(r"Password \(shown only this once\): (\S+)", output)
    assert match, output
    return match.group(1)


def test_create_therapist_with_a_password(app):
    result = app.test_cli_runner().invoke(
        args=[
            "create-therapist",
            "--email",
            " Rivera@Clinic.test ",
            "--name",
            "Dr.  Rivera",
            "--password",
            "a long enough password",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created the therapist Dr. Rivera <rivera@clinic.test>." in result.output
    assert "a long enough password" not in result.output
    therapist = db.session.scalar(select(Therapist))
    assert (therapist.email, therapist.name) == ("rivera@clinic.test", "Dr. Rivera")
    assert therapist.password_hash.startswith("scrypt:")
    signed_in = sign_in(app.test_client(), "rivera@clinic.test", "a long enough password")
    assert signed_in.status_code == 302


def test_create_therapist_asks_for_the_password_and_can_generate_one(app):
    runner = app.test_cli_runner()
    typed = runner.invoke(
        args=["create-therapist", "--email", "a@clinic.test", "--name", "A"],
        input="typed in password\ntyped in password\n",
    )
    assert typed.exit_code == 0, typed.output
    assert "shown only this once" not in typed.output
    assert sign_in(app.test_client(), "a@clinic.test", "typed in password").status_code == 302

    generated = runner.invoke(
        args=["create-therapist", "--email", "b@clinic.test", "--name", "B"], input="\n\n"
    )
    assert generated.exit_code == 0, generated.output
    password = shown_password(generated.output)
    assert len(password) >= 12
    assert sign_in(app.test_client(), "b@clinic.test", password).status_code == 302


def test_create_therapist_refuses_a_duplicate_email(app):
    make_therapist("rivera@clinic.test")
    result = app.test_cli_runner().invoke(
        args=[
            "create-therapist",
            "--email",
            "RIVERA@clinic.test",
            "--name",
            "Someone else",
            "--password",
            "a long enough password",
        ]
    )
    assert result.exit_code != 0
    assert "There is already a therapist with the e-mail rivera@clinic.test." in result.output
    assert therapist_count() == 1


def test_create_therapist_refuses_a_short_password_and_a_bad_email(app):
    runner = app.test_cli_runner()
    short = runner.invoke(
        args=["create-therapist", "--email", "a@clinic.test", "--name", "A", "--password", "short"]
    )
    assert short.exit_code != 0
    assert "at least 12 characters" in short.output
    bad_email = runner.invoke(
        args=[
            "create-therapist",
            "--email",
            "not-an-email",
            "--name",
            "A",
            "--password",
            "a long enough password",
        ]
    )
    assert bad_email.exit_code != 0
    assert "does not look like an e-mail address" in bad_email.output
    assert therapist_count() == 0


def test_the_demo_therapist_is_created_once_and_only_on_an_empty_install(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["ensure-demo-therapist"])
    assert first.exit_code == 0, first.output
    password = shown_password(first.output)
    assert sign_in(app.test_client(), "demo@example.org", password).status_code == 302

    again = runner.invoke(args=["ensure-demo-therapist"])
    assert again.exit_code == 0
    assert "nothing to do" in again.output
    assert "Password" not in again.output
    assert therapist_count() == 1


def test_no_demo_therapist_when_a_real_one_exists(app, therapist):
    result = app.test_cli_runner().invoke(args=["ensure-demo-therapist"])
    assert result.exit_code == 0
    assert "Password" not in result.output
    assert db.session.scalar(select(Therapist).where(Therapist.email == "demo@example.org")) is None


def test_purge_deletes_sessions_past_the_retention_limit(app, therapist):
    app.config["RETENTION_DAYS"] = 30
    old = store.open_session(therapist, two_step_exercise())
    recent = store.open_session(therapist, two_step_exercise())
    still_open = store.open_session(therapist, two_step_exercise())
    for live in (old, recent):
        store.apply(live.id, domain.THERAPIST, domain.End())
    db.session.get(LiveSession, old.id).ended_at = utcnow() - timedelta(days=31)
    db.session.commit()
    old_id = old.id

    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 session past the retention limit (30 days" in result.output
    db.session.expire_all()
    assert db.session.get(LiveSession, old_id) is None
    assert db.session.get(LiveSession, recent.id) is not None
    assert db.session.get(LiveSession, still_open.id) is not None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.session_id == old_id))
    assert entry.action == "deleted" and entry.therapist_id is None

    nothing = app.test_cli_runner().invoke(args=["purge"])
    assert "Deleted 0 sessions" in nothing.output


def test_migrations_build_the_schema_the_models_describe(tmp_path):
    app = create_app(
        {
            "INSTANCE_PATH": tmp_path / "instance",
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrated.sqlite3'}",
            "SOCKETIO_ASYNC_MODE": "threading",
            "RATELIMIT_ENABLED": False,
        }
    )
    runner = app.test_cli_runner()
    with app.app_context():
        upgrade = runner.invoke(args=["db", "upgrade"])
        assert upgrade.exit_code == 0, upgrade.output
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert differences == []
        check = runner.invoke(args=["db", "check"])
        assert check.exit_code == 0, check.output

        # The migrated database works: a therapist signs in and opens a session.
        therapist = make_therapist("rivera@clinic.test")
        live = store.open_session(therapist, two_step_exercise())
        assert store.find_open_session(live.join_code) == live

        downgrade = runner.invoke(args=["db", "downgrade", "base"])
        assert downgrade.exit_code == 0, downgrade.output
        db.session.remove()
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
