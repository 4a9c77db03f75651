"""A session's exercises are stored apart from its state.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

The agenda's exercises never change during a change of the session (only when an exercise is
added), yet they made up most of the state written, encrypted and decrypted at every tap: 3 to
5 KB each for the library's exercises. They move to their own column, `exercises`, a map from
part id to exercise, encrypted with the data keys like the state. Each stored state loses its
parts' "exercise" and keeps their id and status.
"""

import json

import sqlalchemy as sa
from alembic import op
from flask import current_app

from facilitator.store import crypto

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The table as this revision knows it, whatever the models say later.
SESSIONS = sa.Table(
    "live_sessions",
    sa.MetaData(),
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("state", sa.Text()),
    sa.Column("exercises", sa.Text()),
)


def _keyring() -> crypto.Keyring:
    return current_app.extensions["data_keyring"]


def _read(ring: crypto.Keyring, stored: str) -> dict:
    return json.loads(ring.decrypt(stored) if crypto.is_token(stored) else stored)


def _write(ring: crypto.Keyring, data: dict) -> str:
    return ring.encrypt(json.dumps(data, ensure_ascii=False))


def _batches(connection):
    """Every session's row, a batch at a time in id order: a clinic's sessions (tens of KB of
    state each) need not all be in memory at once."""
    columns = (SESSIONS.c.id, SESSIONS.c.state, SESSIONS.c.exercises)
    last = None
    while True:
        query = sa.select(*columns).order_by(SESSIONS.c.id).limit(crypto.ROTATION_BATCH)
        if last is not None:
            query = query.where(SESSIONS.c.id > last)
        rows = connection.execute(query).all()
        if not rows:
            return
        last = rows[-1][0]
        yield rows


def _rewrite_each(change) -> None:
    """Rewrite every session's state and exercises with `change(state, exercises)`."""
    connection, ring = op.get_bind(), _keyring()
    rows = (row for batch in _batches(connection) for row in batch)
    for session_id, stored_state, stored_exercises in rows:
        state = _read(ring, stored_state)
        exercises = _read(ring, stored_exercises) if stored_exercises else {}
        state, exercises = change(state, exercises)
        values = {"state": _write(ring, state)}
        if exercises is not None:
            values["exercises"] = _write(ring, exercises)
        connection.execute(sa.update(SESSIONS).where(SESSIONS.c.id == session_id).values(values))


# A state without an agenda is left as it is, as the earlier migrations leave it.


def _take_exercises_out(state: dict, _: dict) -> tuple[dict, dict]:
    parts = [part for part in state.get("agenda", ()) if "exercise" in part]
    exercises = {str(part["id"]): part.pop("exercise") for part in parts}
    return state, exercises


def _put_exercises_back(state: dict, exercises: dict) -> tuple[dict, None]:
    for part in state.get("agenda", ()):
        if str(part["id"]) in exercises:
            part["exercise"] = exercises[str(part["id"])]
    return state, None


def upgrade():
    with op.batch_alter_table("live_sessions") as batch:
        batch.add_column(sa.Column("exercises", sa.Text(), nullable=True))
    _rewrite_each(_take_exercises_out)
    # On SQLite the batch rebuild runs with foreign keys off (migrations/env.py).
    with op.batch_alter_table("live_sessions") as batch:
        batch.alter_column("exercises", existing_type=sa.Text(), nullable=False)


def downgrade():
    _rewrite_each(_put_exercises_back)
    with op.batch_alter_table("live_sessions") as batch:
        batch.drop_column("exercises")
