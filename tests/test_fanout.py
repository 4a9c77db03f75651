"""Several server processes: one change's views cross the Redis queue as one message, which
names a room no socket joins (an older process that does not know it sends it to nobody)."""

from __future__ import annotations

import json
import time

import pytest
import redis

from facilitator import create_app
from facilitator.domain import session as domain
from facilitator.extensions import db
from facilitator.realtime import fanout
from facilitator.realtime.broadcast import perform
from facilitator.store import live as store
from tests.conftest import make_therapist, need
from tests.factories import two_step_exercise
from tests.test_scaling import REDIS_URL, redis_running


@pytest.fixture
def queue():
    need(redis_running(), "Redis is not running on 127.0.0.1:6379")
    listener = redis.Redis.from_url(REDIS_URL).pubsub(ignore_subscribe_messages=True)
    listener.subscribe("flask-socketio")
    yield listener
    listener.close()


def published(listener, seconds: float = 1.0) -> list[dict]:
    found, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        message = listener.get_message(timeout=0.1)
        if message:
            found.append(json.loads(message["data"]))
    return found


def test_one_change_is_one_message_through_the_queue_naming_a_room_nobody_joins(
    tmp_path, queue
):
    app = create_app(
        {
            "INSTANCE_PATH": tmp_path / "instance",
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.sqlite3'}",
            "SOCKETIO_ASYNC_MODE": "threading",
            "SOCKETIO_MESSAGE_QUEUE": REDIS_URL,
        }
    )
    with app.app_context():
        db.create_all()
        therapist = make_therapist("rivera@clinic.test")
        session_id = store.open_session(therapist, two_step_exercise()).id
    with app.test_request_context():
        for pid, role in (("sam", "adolescent"), ("maria", "parent")):
            perform(session_id, domain.GUEST, domain.AskToJoin(pid, pid.title(), role, "en"))
        perform(session_id, domain.THERAPIST, domain.AdmitAll())
        published(queue, 0.5)  # what letting them in sent

        perform(session_id, domain.THERAPIST, domain.Pause())

    (message,) = published(queue)
    assert message["event"] == fanout.VIEWS_EVENT and message["room"] == fanout.NOBODY
    (sends,) = message["data"]
    rooms = sorted(room for room, _ in sends)
    assert rooms == sorted(
        f"session:{session_id}:{who}"
        for who in ("therapist", "display", "participant:sam", "participant:maria")
    )
    for _, view in sends:
        assert json.loads(view)["session"]["paused"] is True
