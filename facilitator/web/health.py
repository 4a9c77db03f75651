"""`/healthz` for a load balancer: is this process able to serve (database, message queue)?"""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from werkzeug.wrappers import Response

from facilitator.extensions import db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

# A load balancer asks every few seconds; an answer slower than this is as good as none.
CHECK_TIMEOUT_SECONDS = 2


def _database_reachable() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception as failure:  # any driver error means the same: not reachable
        log.warning("health check: the database is not reachable (%s)", type(failure).__name__)
        return False
    finally:
        db.session.rollback()


def _queue_reachable(url: str) -> bool:
    client = redis.Redis.from_url(
        url, socket_timeout=CHECK_TIMEOUT_SECONDS, socket_connect_timeout=CHECK_TIMEOUT_SECONDS
    )
    try:
        return bool(client.ping())
    except redis.RedisError as failure:
        log.warning("health check: the message queue is not reachable (%s)", failure)
        return False
    finally:
        client.close()


@bp.route("/healthz")
def healthz() -> tuple[Response, int]:
    checks = {"database": "ok" if _database_reachable() else "unreachable"}
    queue = current_app.config["SOCKETIO_MESSAGE_QUEUE"]
    if queue:
        checks["message_queue"] = "ok" if _queue_reachable(queue) else "unreachable"
    healthy = all(state == "ok" for state in checks.values())
    response = jsonify(ok=healthy, **checks)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if healthy else 503
