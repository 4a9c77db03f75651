"""The statements every change runs, handed to the database driver's own cursor.

Every change to a live session writes its state and its record's rows: two statements, on
every phone's connect and every tap. Run through SQLAlchemy's `Connection.execute`, each also
pays for an execution context, a look-up of its compiled form and the result's set-up; timed
in-process, that was as much as the two writes themselves (`docs/performance.md`). Here the
statement is still written with SQLAlchemy (Core, so the SQL is the dialect's own) and its
values still go through each column type's own bind processing (the encryption included),
once compiled for each dialect; only the execution is the driver's.

They run on the connection of the caller's database session, in its transaction: nothing
about when a change is committed, or with what, differs from `Connection.execute`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Each parameter of the statement in the driver's order: its name, the value it takes when
    # the caller gives none (a literal of the statement), and its type's bind processing.
    parameters: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]
    positional: bool

    def values_for(self, given: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        processed = []
        for name, default, process in self.parameters:
            value = given.get(name, default)
            processed.append((name, value if process is None else process(value)))
        if self.positional:
            return tuple(value for _, value in processed)
        return dict(processed)


class DriverStatement:
    """A Core statement, compiled once per dialect, executed on the driver's cursor."""

    def __init__(self, statement: ClauseElement):
        self.statement = statement
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    def execute(self, connection: Connection, values: dict[str, Any]) -> int:
        """Run the statement with these values; the number of rows it changed."""
        compiled = self.compiled(connection.dialect)
        cursor = connection.connection.cursor()
        try:
            cursor.execute(compiled.sql, compiled.values_for(values))
            return cursor.rowcount
        finally:
            cursor.close()

    def compiled(self, dialect: Dialect) -> _Compiled:
        key = (dialect.name, dialect.driver)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        # Positional drivers (SQLite's) take a value for each placeholder in order, a name
        # used twice included; the others (psycopg2's) take each name once.
        rendered = list(compiled.bind_names.values())
        names = compiled.positiontup if dialect.positional else list(dict.fromkeys(rendered))
        parameters = []
        for name in names or ():
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            parameters.append((name, bind.value, process))
        return _Compiled(compiled.string, tuple(parameters), dialect.positional)
