"""Initial schema: therapists, families, live sessions, their records and the audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Constraints are named so later migrations can alter them on SQLite (batch mode) and
PostgreSQL alike.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "therapists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_therapists"),
        sa.UniqueConstraint("email", name="uq_therapists_email"),
    )
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("therapist_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["therapists.id"],
            name="fk_audit_entries_therapist_id_therapists",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_audit_entries"),
    )
    op.create_index("ix_audit_entries_session_id", "audit_entries", ["session_id"])
    op.create_table(
        "custom_exercises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("therapist_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["therapists.id"],
            name="fk_custom_exercises_therapist_id_therapists",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_custom_exercises"),
    )
    op.create_index(
        "uq_custom_exercise_slug", "custom_exercises", ["therapist_id", "slug"], unique=True
    )
    op.create_table(
        "families",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("therapist_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["therapists.id"],
            name="fk_families_therapist_id_therapists",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_families"),
    )
    op.create_table(
        "family_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["families.id"],
            name="fk_family_members_family_id_families",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_family_members"),
    )
    op.create_table(
        "live_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("therapist_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=True),
        sa.Column("exercise_id", sa.String(length=64), nullable=False),
        sa.Column("join_code", sa.String(length=8), nullable=True),
        sa.Column("display_token", sa.String(length=64), nullable=False),
        sa.Column("rehearsal", sa.Boolean(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["families.id"],
            name="fk_live_sessions_family_id_families",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["therapists.id"],
            name="fk_live_sessions_therapist_id_therapists",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_live_sessions"),
        sa.UniqueConstraint("display_token", name="uq_live_sessions_display_token"),
        sa.UniqueConstraint("join_code", name="uq_live_sessions_join_code"),
    )
    op.create_table(
        "participant_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name="fk_participant_tokens_session_id_live_sessions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_participant_tokens"),
    )
    op.create_index("ix_participant_tokens_session_id", "participant_tokens", ["session_id"])
    op.create_table(
        "session_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name="fk_session_events_session_id_live_sessions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_session_events"),
    )
    op.create_index("ix_session_events_session", "session_events", ["session_id", "id"])


def downgrade():
    op.drop_index("ix_session_events_session", table_name="session_events")
    op.drop_table("session_events")
    op.drop_index("ix_participant_tokens_session_id", table_name="participant_tokens")
    op.drop_table("participant_tokens")
    op.drop_table("live_sessions")
    op.drop_table("family_members")
    op.drop_table("families")
    op.drop_index("uq_custom_exercise_slug", table_name="custom_exercises")
    op.drop_table("custom_exercises")
    op.drop_index("ix_audit_entries_session_id", table_name="audit_entries")
    op.drop_table("audit_entries")
    op.drop_table("therapists")
