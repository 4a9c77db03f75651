"""Therapist accounts that hold: server-side sign-ins, sign-in pauses, two-step sign-in, admins.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Every browser signed in before this revision is signed out by it: its cookie carries a
therapist's id, which is no longer a valid sign-in.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("therapists") as batch:
        batch.add_column(
            sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("therapist_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("user_agent", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["therapists.id"],
            name="fk_login_sessions_therapist_id_therapists",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_login_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_login_sessions_token_hash"),
    )
    op.create_index("ix_login_sessions_therapist_id", "login_sessions", ["therapist_id"])
    op.create_table(
        "login_sockets",
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("login_session_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["login_session_id"],
            ["login_sessions.id"],
            name="fk_login_sockets_login_session_id_login_sessions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sid", name="pk_login_sockets"),
    )
    op.create_index("ix_login_sockets_login_session_id", "login_sockets", ["login_session_id"])
    op.create_table(
        "sign_in_throttles",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_sign_in_throttles"),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("therapist_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["therapist_id"],
            ["therapists.id"],
            name="fk_recovery_codes_therapist_id_therapists",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_recovery_codes"),
    )
    op.create_index("ix_recovery_codes_therapist_id", "recovery_codes", ["therapist_id"])


def downgrade():
    op.drop_index("ix_recovery_codes_therapist_id", table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_table("sign_in_throttles")
    op.drop_index("ix_login_sockets_login_session_id", table_name="login_sockets")
    op.drop_table("login_sockets")
    op.drop_index("ix_login_sessions_therapist_id", table_name="login_sessions")
    op.drop_table("login_sessions")
    with op.batch_alter_table("therapists") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_secret")
        batch.drop_column("must_change_password")
        batch.drop_column("is_admin")
