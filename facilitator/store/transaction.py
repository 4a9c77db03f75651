"""The connection a live session's reads and changes run on, and its one transaction.

A page works through the ORM session, and a change it makes (`live.apply`) must be in the same
transaction as the page's own work. A socket event has no work of its own in the ORM session:
a phone's connect reads its token and the session and writes its presence, a tap writes the
change and its record. Through the ORM session, each of those events also paid for the
session's transaction, its connection from the pool and its commit: as much, timed in-process,
as SQLAlchemy's execution of the statements (`docs/performance.md`).

So the store asks here for its connection:
- while the ORM session is in a transaction, its connection: one transaction with the page;
- else a connection of the same pool, taken for this app context (one request or one socket
  event), committed by `commit()` and given back to the pool when the context ends.

Either way one app context writes on one connection at a time: SQLite's writer lock can never
be held by one connection of an event while another waits for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, g
from sqlalchemy.engine import Dialect

from facilitator.extensions import db

_HELD = "facilitator_store_connection"


@dataclass(frozen=True)
class StoreConnection:
    """A pooled DBAPI connection and the dialect its SQL is written for."""

    dialect: Dialect
    dbapi: Any

    def cursor(self) -> Any:
        return self.dbapi.cursor()


def _orm_session_in_transaction() -> bool:
    # Asked without making an ORM session for an app context that has none (a socket event's):
    # one would be made, and closed at the context's end, for nothing.
    registry = db.session.registry
    return registry.has() and registry().in_transaction()


def connection() -> StoreConnection:
    """The connection the store's next statement runs on (see the module's docstring)."""
    if _orm_session_in_transaction():
        orm = db.session.connection()
        return StoreConnection(orm.dialect, orm.connection)
    held = g.get(_HELD)
    if held is None:
        engine = db.engine
        held = StoreConnection(engine.dialect, engine.raw_connection())
        setattr(g, _HELD, held)
    return held


def commit() -> None:
    """Commit what the store wrote, on whichever connection it went."""
    held = g.get(_HELD)
    if held is not None:
        held.dbapi.commit()
    if _orm_session_in_transaction():
        db.session.commit()


def rollback() -> None:
    held = g.get(_HELD)
    if held is not None:
        held.dbapi.rollback()
    if db.session.registry.has():
        db.session.rollback()


def release(_: BaseException | None = None) -> None:
    """The app context ends: its own connection goes back to the pool (which rolls back
    whatever was left uncommitted)."""
    held = g.pop(_HELD, None)
    if held is not None:
        held.dbapi.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(release)
