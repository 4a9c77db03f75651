"""`/healthz` tells a load balancer whether this process can serve: its database and queue."""

from __future__ import annotations

import pytest
import requests

from facilitator import create_app
from tests.conftest import need
from tests.live_server import LiveServer
from tests.test_scaling import REDIS_URL, redis_running

UNREACHABLE_POSTGRES = "postgresql://postgres@127.0.0.1:9/nowhere?connect_timeout=2"
UNREACHABLE_REDIS = "redis://127.0.0.1:9/0"


def app_with(tmp_path, **config):
    settings = {
        "INSTANCE_PATH": tmp_path / "instance",
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'health.sqlite3'}",
        "SOCKETIO_ASYNC_MODE": "threading",
        "SOCKETIO_MESSAGE_QUEUE": None,
    }
    settings.update(config)
    return create_app(settings)


@pytest.fixture
def live_server_with_redis(tmp_path):
    need(redis_running(), "Redis is not running on 127.0.0.1:6379")
    server = LiveServer(
        tmp_path,
        f"sqlite:///{tmp_path / 'live.sqlite3'}",
        env_extra={"SOCKETIO_MESSAGE_QUEUE": REDIS_URL},
    )
    server.prepare()
    server.start()
    yield server
    server.stop()


def test_a_healthy_process_answers_200_with_each_check(tmp_path):
    response = app_with(tmp_path).test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_an_unreachable_database_answers_503(tmp_path):
    app = app_with(tmp_path, SQLALCHEMY_DATABASE_URI=UNREACHABLE_POSTGRES)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"ok": False, "database": "unreachable"}


def test_an_unreachable_message_queue_answers_503(tmp_path):
    app = app_with(tmp_path)
    # Set after the app is built: the check reads it per request, and the Socket.IO server,
    # shared by every app of this test process, is kept off a queue that is not there.
    app.config["SOCKETIO_MESSAGE_QUEUE"] = UNREACHABLE_REDIS
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"ok": False, "database": "ok", "message_queue": "unreachable"}


def test_the_real_server_reports_its_redis_queue(live_server_with_redis):
    response = requests.get(f"{live_server_with_redis.url}/healthz", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "database": "ok", "message_queue": "ok"}
