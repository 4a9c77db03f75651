"""More than one writer: no lost updates on SQLite or PostgreSQL, and two server processes
sharing one session through the Redis message queue."""

from __future__ import annotations

import threading
import uuid

import psycopg2
import pytest
import redis

from facilitator import create_app
from facilitator.domain import session as domain
from facilitator.extensions import db
from facilitator.store import live as store
from facilitator.store.models import Therapist
from tests.conftest import need
from tests.factories import two_step_exercise
from tests.live_server import LiveServer
from tests.socket_clients import Client, join_by_phone, therapist_cookie

POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
REDIS_URL = "redis://127.0.0.1:6379/0"


def postgres_running() -> bool:
    try:
        psycopg2.connect(connect_timeout=2, **POSTGRES).close()
    except psycopg2.OperationalError:
        return False
    return True


def redis_running() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def postgres_url():
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    need(postgres_running(), "PostgreSQL is not running on 127.0.0.1:5432")
    name = f"facilitator_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(**POSTGRES)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'concurrent.sqlite3'}"
    return request.getfixturevalue("postgres_url")


def app_with_session(database_url: str, tmp_path):
    """An app on `database_url` with its schema, a therapist, and one open session."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_PATH": tmp_path / "instance",
            "SOCKETIO_ASYNC_MODE": "threading",
        }
    )
    with app.app_context():
        db.create_all()
        therapist = Therapist(email="rivera@clinic.test", name="Dr. Rivera")
        therapist.set_password("correct horse battery")
        db.session.add(therapist)
        db.session.commit()
        session_id = store.open_session(therapist, two_step_exercise()).id
    return app, session_id


def test_people_joining_at_the_same_moment_are_all_kept(database_url, tmp_path):
    """Twelve phones ask to join at once from two threads: every one is kept (no lost update)."""
    app, session_id = app_with_session(database_url, tmp_path)

    failures: list[BaseException] = []

    def join_many(prefix: str) -> None:
        try:
            for n in range(6):
                with app.app_context():
                    request_id = store.new_participant_id()
                    ask = domain.AskToJoin(request_id, f"{prefix}{n}", "parent", "en")
                    store.apply(session_id, domain.GUEST, ask)
        except BaseException as failure:  # reported by the assertion below
            failures.append(failure)

    threads = [threading.Thread(target=join_many, args=(p,)) for p in ("Ana", "Ben")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    with app.app_context():
        state = store.load_state(store.get_session(session_id))
        assert sorted(p.name for p in state.waiting.values()) == sorted(
            [f"Ana{n}" for n in range(6)] + [f"Ben{n}" for n in range(6)]
        )
        db.session.remove()
        db.engine.dispose()


def test_a_refused_command_on_postgresql_saves_nothing(postgres_url, tmp_path):
    app, session_id = app_with_session(postgres_url, tmp_path)
    with app.app_context():
        live = store.get_session(session_id)
        store.apply(live.id, domain.GUEST, domain.AskToJoin("sam", "Sam", "adolescent", "en"))
        before = store.get_session(live.id).state
        with pytest.raises(domain.DomainError):
            store.apply(live.id, domain.GUEST, domain.OpenStep(None, None))
        db.session.expire_all()
        assert store.get_session(live.id).state == before
        db.session.remove()
        db.engine.dispose()


@pytest.mark.server
def test_two_server_processes_share_a_session_through_redis(tmp_path, postgres_url):
    """The therapist is on one server process, the phones on another: they see each other."""
    need(redis_running(), "Redis is not running on 127.0.0.1:6379")
    queue = {"SOCKETIO_MESSAGE_QUEUE": REDIS_URL}
    first = LiveServer(tmp_path / "first", postgres_url, env_extra=queue)
    second = LiveServer(tmp_path / "second", postgres_url, env_extra=queue)
    for server in (first, second):
        server.workdir.mkdir()
    first.prepare()
    clients: list[Client] = []
    try:
        first.start()
        second.start()
        keys = first.open_session(two_step_exercise())
        therapist = Client("therapist").connect(
            second.url, {"session_id": keys["id"]}, headers=therapist_cookie(second.signed_in())
        )
        sam = Client("Sam").connect(
            first.url, {"token": join_by_phone(first.url, keys["join_code"], "Sam", "adolescent")}
        )
        maria = Client("Maria").connect(
            first.url, {"token": join_by_phone(first.url, keys["join_code"], "Maria", "parent")}
        )
        clients += [therapist, sam, maria]
        therapist.wait_for(lambda v: len(v["waiting"]) == 2)
        therapist.admit_everyone()  # the phones on the first process are let in by the second
        therapist.wait_for(lambda v: [p["connected"] for p in v["people"]] == [True, True])

        therapist.open_step()  # handled by the second process
        sam.wait_for(lambda v: v["session"]["phase"] == "collecting")  # delivered by the first
        sam.do("submit_answer", {"feelings": ["hurt"], "text": "across two processes"})
        therapist.wait_for(lambda v: v["answers"][0]["answer"]["text"] == "across two processes")
        assert "across two processes" not in maria.text()
        therapist.reveal_next()
        maria.wait_for(lambda v: v["turns"][0]["answer"]["text"] == "across two processes")
    finally:
        for client in clients:
            client.close()
        first.stop()
        second.stop()
