"""Deletion that deletes: a family with its sessions' records, and no bytes left behind."""

from __future__ import annotations

import logging
import time

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from facilitator.extensions import db
from facilitator.store.models import AuditEntry, Family, LiveSession

logger = logging.getLogger(__name__)

CHECKPOINT_ATTEMPTS = 20
VACUUM_WAIT_SECONDS = 5
# Where a session or a family leaves rows.
ERASED_TABLES = (
    "live_sessions",
    "session_events",
    "participant_tokens",
    "families",
    "family_members",
)
CHECKPOINT_PAUSE_SECONDS = 0.05


def forget_deleted_bytes() -> bool:
    """After a deletion, leave none of the deleted rows' bytes in the database's files.

    SQLite: every connection overwrites deleted content with zeros (PRAGMA secure_delete, set in
    extensions.py), but the write-ahead log still holds the pages as they were before, until a
    checkpoint copies the new pages into the database and empties the log. A reader in the
    middle of a transaction can hold the checkpoint back, so it is tried a few times.
    PostgreSQL: deleted rows are gone from every query at once, but their former versions stay
    in the table files until a vacuum rewrites them; it is run at once rather than left to
    autovacuum (see the README for what it does not reach).
    Returns whether the files were left clean, as far as this server can tell.
    """
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if connection.dialect.name == "postgresql":
            return _vacuum(connection)
        if connection.dialect.name != "sqlite":
            return True
        for _ in range(CHECKPOINT_ATTEMPTS):
            busy, _log, _done = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            if not busy:
                return True
            time.sleep(CHECKPOINT_PAUSE_SECONDS)
    logger.warning("the write-ahead log could not be emptied after a deletion; will retry later")
    return False


def _vacuum(connection: Connection) -> bool:
    try:
        # An autovacuum holding a table is cancelled after a second; anything longer gives up.
        connection.exec_driver_sql(f"SET lock_timeout = '{VACUUM_WAIT_SECONDS}s'")
        # FULL: a plain VACUUM frees the dead rows' space but may leave their bytes in the
        # page until it is reused; rewriting the (small) tables leaves none. It holds the
        # tables for the moment of the rewrite, which a deletion, a rare act, can afford.
        connection.exec_driver_sql(f"VACUUM FULL {', '.join(ERASED_TABLES)}")
    except OperationalError:
        logger.warning("could not vacuum after a deletion; autovacuum will reclaim the rows")
        return False
    finally:
        connection.exec_driver_sql("RESET lock_timeout")
    return True


def delete_family(family: Family, therapist_id: int) -> int:
    """Delete a family, its members and every one of its sessions with their records."""
    # Imported here: live.py imports this module for forget_deleted_bytes.
    from facilitator.store import live

    sessions = db.session.scalars(select(LiveSession).where(LiveSession.family_id == family.id))
    count = 0
    for session in sessions.all():
        live.delete_session(session, therapist_id, "family_deleted", scrub=False)
        count += 1
    # The fact, never the content: no family name, no member name.
    db.session.add(
        AuditEntry(
            therapist_id=therapist_id,
            action="family_deleted",
            session_id=None,
            detail=f"family {family.id}, {count} sessions",
        )
    )
    db.session.delete(family)
    db.session.commit()
    forget_deleted_bytes()
    return count
