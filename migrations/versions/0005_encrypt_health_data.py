"""Encrypt health data at rest, and let a therapist set their own retention limit.

Revision ID: 0005
Revises: 0004
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
down_revision = "0004"
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


def _change_json_columns(old: sa.types.TypeEngine, new: sa.types.TypeEngine, cast: str) -> None:
    # On SQLite a batch alteration copies the table and drops the old one: migrations/env.py
    # turns foreign keys off for the whole run, or that drop would cascade.
    for table, column in JSON_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column,
                existing_type=old,
                type_=new,
                existing_nullable=False,
                postgresql_using=f"{column}::{cast}",
            )


def upgrade():
    with op.batch_alter_table("therapists") as batch:
        batch.add_column(sa.Column("retention_days", sa.Integer(), nullable=True))
    _change_json_columns(sa.JSON(), sa.Text(), "text")
    connection = op.get_bind()
    for target in ENCRYPTED:
        crypto.reencrypt_column(connection, target, _keyring(), commit=False)
    _leave_no_plain_copy(connection.dialect.name)


def _leave_no_plain_copy(dialect: str) -> None:
    """The rows' former plain text must not linger in the files after being encrypted.

    SQLite zeroes what it frees (secure_delete), but the write-ahead log keeps the pages as they
    were until a checkpoint empties it. PostgreSQL keeps an updated row's former version in the
    table file until it is rewritten: VACUUM FULL writes a new file and removes the old one.
    Neither can run inside the migration's transaction, hence the autocommit block.
    """
    with op.get_context().autocommit_block():
        if dialect == "sqlite":
            op.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        elif dialect == "postgresql":
            for target in ENCRYPTED:
                op.execute(f"VACUUM FULL {target.table.name}")


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
    _change_json_columns(sa.Text(), sa.JSON(), "json")
    with op.batch_alter_table("therapists") as batch:
        batch.drop_column("retention_days")
