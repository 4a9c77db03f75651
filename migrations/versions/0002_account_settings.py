"""Therapist settings: the time zone of their pages and the clinic's crisis information.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("therapists") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))
        # Existing accounts start with no crisis information of their own: phones show the
        # default text until the therapist writes theirs.
        batch.add_column(
            sa.Column("crisis_info", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade():
    with op.batch_alter_table("therapists") as batch:
        batch.drop_column("crisis_info")
        batch.drop_column("time_zone")
