"""Encrypt health data at rest, and let a therapist set their own retention limit.

Revision ID: 0005
Revises: 0001
Create Date: 2026-12-01

The session state, the record's event data and the audit details become text holding Fernet
tokens; rows written before are encrypted here with the server's data keys (the environment's
DATA_ENCRYPTION_KEYS, else instance/data_keys, created now if missing).
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from facilitator.store import crypto

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None

# The columns as this revision knows them, whatever the models say later.
_metadata = sa.MetaData()
ENCRYPTED = [
    crypto.EncryptedColumn(
        sa.Table(
            table,
            _metadata,
            sa.Column(key, key_type, primary_key=True),
            sa.Column(column, sa.Text()),
        ),
        column,
    )
    for table, key, key_type, column in [
        ("live_sessions", "id", sa.String(32), "state"),
        ("session_events", "id", sa.Integer(), "data"),
        ("audit_entries", "id", sa.Integer(), "detail"),
    ]
]
JSON_COLUMNS = [("live_sessions", "state"), ("session_events", "data")]


def _keyring() -> crypto.Keyring:
    return current_app.extensions["data_keyring"]


def upgrade():
    with op.batch_alter_table("therapists") as batch:
        batch.add_column(sa.Column("retention_days", sa.Integer(), nullable=True))
    for table, column in JSON_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column,
                existing_type=sa.JSON(),
                type_=sa.Text(),
                existing_nullable=False,
                postgresql_using=f"{column}::text",
            )
    connection = op.get_bind()
    for target in ENCRYPTED:
        crypto.reencrypt_column(connection, target, _keyring(), commit=False)


def downgrade():
    connection = op.get_bind()
    ring = _keyring()
    for target in ENCRYPTED:
        column = target.table.c[target.column]
        rows = connection.execute(sa.select(target.key, column)).all()
        for key, value in rows:
            if value is not None and crypto.is_token(value):
                connection.execute(
                    sa.update(target.table)
                    .where(target.key == key)
                    .values({column: ring.decrypt(value)})
                )
    for table, column in JSON_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column,
                existing_type=sa.Text(),
                type_=sa.JSON(),
                existing_nullable=False,
                postgresql_using=f"{column}::json",
            )
    with op.batch_alter_table("therapists") as batch:
        batch.drop_column("retention_days")
