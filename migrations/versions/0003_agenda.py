"""A session is an agenda of exercises, with a waiting room and the family's members.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Every existing session becomes a one-exercise agenda: its exercise is part 1, its steps and
notes belong to part 1, nobody is waiting, joining stays open and nobody is removed. Families
gain the agenda of their last session. The conversion works on the stored JSON alone, so it
does not depend on the application's code as it is later.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

sessions = sa.table(
    "live_sessions",
    sa.column("id", sa.String),
    sa.column("family_id", sa.Integer),
    sa.column("state", sa.JSON),
)
members = sa.table(
    "family_members",
    sa.column("id", sa.Integer),
    sa.column("family_id", sa.Integer),
    sa.column("display_name", sa.String),
    sa.column("role", sa.String),
)


def _part_status(state):
    if not state.get("rounds"):
        return "pending"
    return "done" if state.get("phase") == "ended" else "running"


def to_agenda(state, family_members):
    """One session's state, from one exercise to an agenda holding it."""
    new = {key: value for key, value in state.items() if key != "exercise"}
    new["agenda"] = [{"id": 1, "status": _part_status(state), "exercise": state["exercise"]}]
    new["joining_open"] = True
    new["members"] = family_members
    new["waiting"] = []
    new["participants"] = [
        {**person, "talk_alone_since": None, "removed": False}
        for person in state.get("participants", [])
    ]
    new["rounds"] = [{**r, "part_id": 1} for r in state.get("rounds", [])]
    new["notes"] = [
        {**note, "part_id": None if note.get("step_index") is None else 1}
        for note in state.get("notes", [])
    ]
    return new


def from_agenda(state):
    """Back to one exercise: the first of the agenda (a later part's steps are dropped)."""
    first = state["agenda"][0]
    old = {
        key: value
        for key, value in state.items()
        if key not in ("agenda", "joining_open", "members", "waiting")
    }
    old["exercise"] = first["exercise"]
    old["participants"] = [
        {k: v for k, v in p.items() if k not in ("talk_alone_since", "removed")}
        for p in state["participants"]
    ]
    old["rounds"] = [
        {k: v for k, v in r.items() if k != "part_id"}
        for r in state["rounds"]
        if r["part_id"] == first["id"]
    ]
    old["notes"] = [{k: v for k, v in n.items() if k != "part_id"} for n in state["notes"]]
    return old


def _members_of(connection):
    found = {}
    for row in connection.execute(sa.select(members).order_by(members.c.id)):
        found.setdefault(row.family_id, []).append(
            {"id": row.id, "name": row.display_name, "role": row.role}
        )
    return found


def _convert(convert):
    connection = op.get_bind()
    rows = connection.execute(sa.select(sessions.c.id, sessions.c.family_id, sessions.c.state))
    for row in rows.fetchall():
        state = convert(row)
        if state is not None:
            connection.execute(
                sessions.update().where(sessions.c.id == row.id).values(state=state)
            )


def upgrade():
    with op.batch_alter_table("families") as batch:
        batch.add_column(sa.Column("last_agenda", sa.JSON(), nullable=True))
    by_family = _members_of(op.get_bind())

    def convert(row):
        # Only a session's state as the app saved it has an exercise to make an agenda of.
        if not isinstance(row.state, dict) or "exercise" not in row.state:
            return None
        return to_agenda(row.state, by_family.get(row.family_id, []))

    _convert(convert)


def downgrade():
    _convert(
        lambda row: from_agenda(row.state)
        if isinstance(row.state, dict) and "agenda" in row.state
        else None
    )
    with op.batch_alter_table("families") as batch:
        batch.drop_column("last_agenda")
