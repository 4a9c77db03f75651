"""The secret of a therapist's authenticator app is encrypted at rest, like health data.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Whoever reads the database file could otherwise make the codes of every therapist's second
factor. The column becomes text (a token is longer than the secret) and every stored secret is
encrypted with the data keys; `flask rotate-key` then keeps it under the newest key like the
other encrypted columns.
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from facilitator.store import crypto

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The column as this revision knows it, whatever the models say later.
SECRET = crypto.EncryptedColumn(
    sa.Table(
        "therapists",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("totp_secret", sa.Text()),
    ),
    "totp_secret",
)


def upgrade():
    # On SQLite the batch rebuild runs with foreign keys off (migrations/env.py).
    with op.batch_alter_table("therapists") as batch:
        batch.alter_column(
            "totp_secret", existing_type=sa.String(64), type_=sa.Text(), existing_nullable=True
        )
    ring = current_app.extensions["data_keyring"]
    crypto.reencrypt_column(op.get_bind(), SECRET, ring, commit=False)


def downgrade():
    connection = op.get_bind()
    ring = current_app.extensions["data_keyring"]
    column = SECRET.table.c["totp_secret"]
    for key, value in connection.execute(sa.select(SECRET.key, column)).all():
        if value is not None and crypto.is_token(value):
            connection.execute(
                sa.update(SECRET.table)
                .where(SECRET.key == key)
                .values(totp_secret=ring.decrypt(value))
            )
    with op.batch_alter_table("therapists") as batch:
        batch.alter_column(
            "totp_secret", existing_type=sa.Text(), type_=sa.String(64), existing_nullable=True
        )
