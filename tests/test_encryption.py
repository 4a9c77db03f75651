"""Health data encrypted at rest: no planted word in the database's bytes, keys that rotate while
the app keeps reading, a clear refusal with the wrong key, and older plain rows migrated."""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from facilitator import create_app
from facilitator.domain import session as domain
from facilitator.extensions import db
from facilitator.store import crypto
from facilitator.store import live as store
from facilitator.store.models import AuditEntry, LiveSession, SessionEvent, Therapist
from tests.conftest import make_therapist, sign_in
from tests.planted import plant_session, postgres_table_bytes, sqlite_bytes
from tests.test_scaling import postgres_url  # noqa: F401  (a fixture)

HEALTH_TABLES = ["live_sessions", "session_events", "audit_entries"]


def app_on(database_uri: str, tmp_path: Path, **config):
    app = create_app(
        {
            "INSTANCE_PATH": tmp_path / "instance",
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_uri,
            "SOCKETIO_ASYNC_MODE": "threading",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            **config,
        }
    )
    return app


def everything_still_reads(client, planted) -> None:
    """The record page and the export show every marker the family and therapist wrote."""
    record = client.get(f"/sessions/{planted.session_id}/record")
    assert record.status_code == 200
    page = record.get_data(as_text=True)
    for what in ("answer", "request", "reflection", "clarification", "note"):
        assert getattr(planted, what) in page, what
    export = client.get(f"/sessions/{planted.session_id}/export.json")
    assert export.status_code == 200
    assert planted.note in export.get_data(as_text=True)


def the_draft_still_reads(planted) -> None:
    state = store.load_state(store.get_session(planted.session_id))
    (draft,) = state.rounds[1].drafts.values()
    assert draft.text == planted.draft


def test_no_planted_word_lies_in_the_sqlite_file_or_its_log(app, therapist, therapist_client):
    planted = plant_session(therapist, end=False)
    store.audit(therapist.id, "viewed_record", planted.session_id, planted.note)
    db.session.commit()

    raw = sqlite_bytes(app.config["SQLALCHEMY_DATABASE_URI"])
    assert planted.session_id.encode() in raw, "the bytes read are this database's"
    for what, word in planted.health_data.items():
        assert word.encode() not in raw, f"the {what} lies in the file as plain text"

    stored = db.session.execute(text("SELECT state FROM live_sessions")).scalar_one()
    assert stored.startswith(crypto.TOKEN_PREFIX)
    the_draft_still_reads(planted)
    store.apply(planted.session_id, domain.THERAPIST, domain.End())
    everything_still_reads(therapist_client, planted)


def test_no_planted_word_lies_in_the_postgresql_tables(postgres_url, tmp_path):  # noqa: F811
    app = app_on(postgres_url, tmp_path)
    with app.app_context():
        db.create_all()
        therapist = make_therapist("rivera@clinic.test")
        planted = plant_session(therapist, end=False)
        store.audit(therapist.id, "exported", planted.session_id, planted.note)
        db.session.commit()

        raw = postgres_table_bytes(postgres_url, HEALTH_TABLES)
        assert planted.session_id.encode() in raw, "the bytes read are this database's"
        for what, word in planted.health_data.items():
            assert word.encode() not in raw, f"the {what} lies in PostgreSQL as plain text"
        the_draft_still_reads(planted)
        store.apply(planted.session_id, domain.THERAPIST, domain.End())
        before = _stored_tokens()
        rotated = app.test_cli_runner().invoke(args=["rotate-key"])
        assert rotated.exit_code == 0, rotated.output
        assert not set(_stored_tokens()) & set(before)
        db.session.expire_all()

        client = app.test_client()
        sign_in(client, therapist.email)
        everything_still_reads(client, planted)
        db.session.remove()
        db.engine.dispose()


def test_an_authenticator_secret_is_not_in_the_sqlite_file(app, therapist):
    import pyotp

    secret = pyotp.random_base32()
    therapist.totp_secret = secret
    db.session.commit()
    raw = sqlite_bytes(app.config["SQLALCHEMY_DATABASE_URI"])
    assert therapist.email.encode() in raw, "the bytes read are this database's"
    assert secret.encode() not in raw
    db.session.expire_all()
    assert db.session.get(type(therapist), therapist.id).totp_secret == secret


def test_the_key_file_is_made_on_first_run_for_its_owner_only(app):
    key_file = Path(app.instance_path) / crypto.KEY_FILE_NAME
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    (key,) = crypto.parse_keys(key_file.read_text())
    Fernet(key)


def test_keys_from_the_environment_are_used_and_no_file_is_made(tmp_path):
    key = crypto.new_key()
    app = app_on(f"sqlite:///{tmp_path / 'env.sqlite3'}", tmp_path, DATA_ENCRYPTION_KEYS=key)
    assert not (tmp_path / "instance" / crypto.KEY_FILE_NAME).exists()
    with app.app_context():
        token = crypto.keyring().encrypt("hello")
    assert Fernet(key).decrypt(token.encode()) == b"hello"


def test_a_malformed_key_is_refused_with_a_clear_sentence(tmp_path):
    with pytest.raises(crypto.KeyConfigError, match="not a valid key"):
        app_on(f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path, DATA_ENCRYPTION_KEYS="secret")


def test_the_wrong_key_gives_a_clear_error_not_garbage(tmp_path):
    database = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    writer = app_on(database, tmp_path, DATA_ENCRYPTION_KEYS=crypto.new_key())
    with writer.app_context():
        db.create_all()
        planted = plant_session(make_therapist("rivera@clinic.test"))
        db.engine.dispose()

    # Not in testing mode: the page a therapist would get, not the exception.
    reader = app_on(database, tmp_path, DATA_ENCRYPTION_KEYS=crypto.new_key(), TESTING=False)
    with reader.app_context():
        with pytest.raises(crypto.UnreadableDataError, match="cannot be read with this server"):
            store.get_session(planted.session_id).state  # noqa: B018
        db.session.rollback()
        client = reader.test_client()
        sign_in(client, "rivera@clinic.test")
        page = client.get(f"/sessions/{planted.session_id}/record")
        assert page.status_code == 500
        assert "Nothing you saved is lost" in page.get_data(as_text=True)
        db.engine.dispose()


def test_altered_bytes_are_refused_not_read(app, therapist):
    planted = plant_session(therapist)
    stored = db.session.execute(text("SELECT state FROM live_sessions")).scalar_one()
    tampered = stored[:-8] + ("A" if stored[-8] != "A" else "B") + stored[-7:]
    db.session.execute(text("UPDATE live_sessions SET state = :s"), {"s": tampered})
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(crypto.UnreadableDataError):
        store.get_session(planted.session_id).state  # noqa: B018


def _stored_tokens() -> list[str]:
    rows = []
    for table, column in [("live_sessions", "state"), ("session_events", "data")]:
        rows += db.session.execute(text(f"SELECT {column} FROM {table}")).scalars().all()
    return rows


def test_rotate_key_re_encrypts_every_row_and_everything_still_reads(app, therapist):
    planted = plant_session(therapist)
    store.audit(therapist.id, "exported", planted.session_id, "json")
    db.session.commit()
    key_file = Path(app.instance_path) / crypto.KEY_FILE_NAME
    (old_key,) = crypto.parse_keys(key_file.read_text())
    before = _stored_tokens()

    result = app.test_cli_runner().invoke(args=["rotate-key"])
    assert result.exit_code == 0, result.output
    assert "older key(s) were removed" in result.output

    (new_key,) = crypto.parse_keys(key_file.read_text())
    assert new_key != old_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    after = _stored_tokens()
    assert len(after) == len(before) and not set(after) & set(before)
    for token in after + [
        r for r in db.session.execute(text("SELECT detail FROM audit_entries")).scalars()
    ]:
        Fernet(new_key).decrypt(token.encode())  # under the new key, every one
    db.session.expire_all()
    client = app.test_client()
    sign_in(client, therapist.email)
    everything_still_reads(client, planted)


def test_a_running_server_keeps_reading_while_the_key_rotates(app, therapist, tmp_path):
    """Another process (here: a second app on the same files) rotates the key: this one picks up
    the new key from the key file and reads rows re-encrypted under it."""
    planted = plant_session(therapist)
    rotator = app_on(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    with rotator.app_context():
        result = rotator.test_cli_runner().invoke(args=["rotate-key"])
        assert result.exit_code == 0, result.output
        db.engine.dispose()
    db.session.expire_all()
    state = store.load_state(store.get_session(planted.session_id))
    assert state.notes[0].text == planted.note
    store.audit(therapist.id, "viewed_record", planted.session_id, "")
    db.session.commit()
    (key,) = crypto.parse_keys((Path(app.instance_path) / crypto.KEY_FILE_NAME).read_text())
    written = db.session.execute(
        text("SELECT detail FROM audit_entries ORDER BY id DESC LIMIT 1")
    ).scalar_one()
    Fernet(key).decrypt(written.encode())  # new writes use the new key at once


def test_rotating_keys_from_the_environment(tmp_path):
    database = f"sqlite:///{tmp_path / 'env.sqlite3'}"
    old, new = crypto.new_key(), crypto.new_key()
    first = app_on(database, tmp_path, DATA_ENCRYPTION_KEYS=old)
    with first.app_context():
        db.create_all()
        planted = plant_session(make_therapist("rivera@clinic.test"))
        alone = first.test_cli_runner().invoke(args=["rotate-key"])
        assert "put a new one first in DATA_ENCRYPTION_KEYS" in alone.output
        db.engine.dispose()

    second = app_on(database, tmp_path, DATA_ENCRYPTION_KEYS=f"{new},{old}")
    with second.app_context():
        result = second.test_cli_runner().invoke(args=["rotate-key"])
        assert result.exit_code == 0, result.output
        assert "remove them from DATA_ENCRYPTION_KEYS" in result.output
        for token in _stored_tokens():
            Fernet(new).decrypt(token.encode())
        db.engine.dispose()

    only_new = app_on(database, tmp_path, DATA_ENCRYPTION_KEYS=new)
    with only_new.app_context():
        state = store.load_state(store.get_session(planted.session_id))
        assert state.notes[0].text == planted.note
        db.engine.dispose()


# --- databases made before encryption ------------------------------------------------------


def _legacy_database(app) -> tuple[str, str]:
    """A database at the first schema revision, holding plain JSON as it was stored then."""
    runner = app.test_cli_runner()
    upgrade = runner.invoke(args=["db", "upgrade", "0001"])
    assert upgrade.exit_code == 0, upgrade.output
    word = "PLAINANSWERfromlongago"
    state = {"legacy": True, "rounds": [{"answers": {"p1": {"text": word}}}]}
    db.session.execute(
        text(
            "INSERT INTO therapists (id, email, name, password_hash, language, created_at) "
            "VALUES (1, 'old@clinic.test', 'Dr. Old', 'x', 'en', '2026-01-01')"
        )
    )
    db.session.execute(
        text(
            "INSERT INTO live_sessions (id, therapist_id, exercise_id, display_token, rehearsal,"
            " state, version, created_at, updated_at) VALUES ('s1', 1, 'x', 't', false, :state,"
            " 1, '2026-01-01', '2026-01-01')"
        ),
        {"state": json.dumps(state)},
    )
    db.session.execute(
        text(
            "INSERT INTO session_events (session_id, at, actor, type, data) VALUES "
            "('s1', '2026-01-01', 'p1', 'answer_submitted', :data)"
        ),
        {"data": json.dumps({"answer": {"text": word}})},
    )
    db.session.execute(
        text(
            "INSERT INTO audit_entries (at, action, session_id, detail) VALUES "
            "('2026-01-01', 'exported', 's1', 'json')"
        )
    )
    db.session.commit()
    return "s1", word


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_the_migration_encrypts_what_was_stored_in_plain_text(database, tmp_path, request):
    if database == "sqlite":
        uri = f"sqlite:///{tmp_path / 'legacy.sqlite3'}"
    else:
        uri = request.getfixturevalue("postgres_url")
    app = app_on(uri, tmp_path)
    with app.app_context():
        session_id, word = _legacy_database(app)
        # Before the migration, the plain rows read as they are: nothing is lost.
        assert db.session.get(SessionEvent, 1).data == {"answer": {"text": word}}
        db.session.rollback()

        upgrade = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert upgrade.exit_code == 0, upgrade.output
        db.session.expire_all()
        if database == "sqlite":
            raw = sqlite_bytes(uri)
        else:
            raw = postgres_table_bytes(uri, HEALTH_TABLES)
        assert session_id.encode() in raw
        assert word.encode() not in raw, "the older plain text is still on disk"
        live = db.session.get(LiveSession, session_id)
        assert live.state["rounds"][0]["answers"]["p1"]["text"] == word
        assert db.session.get(SessionEvent, 1).data == {"answer": {"text": word}}
        assert db.session.get(AuditEntry, 1).detail == "json"
        assert db.session.get(Therapist, 1).retention_days is None
        db.session.rollback()

        downgrade = app.test_cli_runner().invoke(args=["db", "downgrade", "0001"])
        assert downgrade.exit_code == 0, downgrade.output
        plain = db.session.execute(text("SELECT data FROM session_events")).scalar_one()
        assert word in (plain if isinstance(plain, str) else json.dumps(plain))
        db.session.remove()
        db.engine.dispose()


def test_plain_rows_left_unmigrated_are_encrypted_by_rotate_key(app, therapist):
    planted = plant_session(therapist)
    store.audit(therapist.id, "exported", planted.session_id, "")
    db.session.commit()
    db.session.execute(text("UPDATE audit_entries SET detail = 'plain detail'"))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["rotate-key"])
    assert result.exit_code == 0, result.output
    details = db.session.execute(text("SELECT detail FROM audit_entries")).scalars().all()
    assert details and all(d.startswith(crypto.TOKEN_PREFIX) for d in details)
    db.session.expire_all()
    assert {e.detail for e in db.session.query(AuditEntry)} == {"plain detail"}
    assert store.load_state(store.get_session(planted.session_id)).notes[0].text == planted.note


def test_notes_written_while_the_key_rotates_all_read_afterwards(app, therapist, tmp_path):
    """A therapist keeps writing notes on one server while another process rotates the key: no
    note is lost, and once the old key is gone every row is under the new one."""
    planted = plant_session(therapist, end=False)
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    writing = threading.Event()
    written: list[str] = []
    failures: list[BaseException] = []

    def therapist_writes_notes() -> None:
        with app.app_context():
            try:
                for n in range(60):
                    store.apply(planted.session_id, domain.THERAPIST, domain.AddNote(f"note {n}"))
                    written.append(f"note {n}")
                    writing.set()
            except BaseException as failure:  # reported below
                failures.append(failure)
            finally:
                db.session.remove()

    writer = threading.Thread(target=therapist_writes_notes)
    writer.start()
    writing.wait(timeout=30)
    rotator = app_on(database, tmp_path)
    with rotator.app_context():
        result = rotator.test_cli_runner().invoke(args=["rotate-key"])
        db.engine.dispose()
    writer.join(timeout=120)
    assert not failures, failures
    assert result.exit_code == 0, result.output

    db.session.expire_all()
    state = store.load_state(store.get_session(planted.session_id))
    assert [n.text for n in state.notes][1:] == written == [f"note {n}" for n in range(60)]
    (key,) = crypto.parse_keys((Path(app.instance_path) / crypto.KEY_FILE_NAME).read_text())
    for token in _stored_tokens():
        Fernet(key).decrypt(token.encode())
