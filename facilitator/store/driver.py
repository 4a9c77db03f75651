"""The statements every change and every connect runs, handed to the database driver's cursor.

Every change to a live session writes its state and its record's rows, on every tap and every
phone's connect; every connect also reads a token and the session's facts. Run through
SQLAlchemy's `Connection.execute`, each statement also pays for an execution context, a look-up
of its compiled form and the result's set-up: timed in-process, about as much as the two writes
themselves (`docs/performance.md`). Here the statement is still written with SQLAlchemy (Core,
so the SQL is the dialect's own); its values still go through each column type's bind
processing (the encryption included), and a query's columns through their result processing
(the decryption included). Each is compiled once per dialect; only the execution is the
driver's.

They run on the connection `transaction.connection()` gives, in its transaction: what they write
is committed with whatever else is committed there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

from facilitator.store.transaction import StoreConnection


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Each parameter of the statement in the driver's order: its name, whether the caller must
    # give its value, the value it takes otherwise (a literal of the statement), and its type's
    # bind processing.
    parameters: tuple[tuple[str, bool, Any, Callable[[Any], Any] | None], ...]
    positional: bool
    # A query's columns, each with its type's result processing (None: taken as it comes).
    results: tuple[Callable[[Any], Any] | None, ...]

    def values_for(self, given: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        processed = []
        for name, required, default, process in self.parameters:
            if required and name not in given:
                # As SQLAlchemy refuses it: a value left out is not written as NULL.
                raise KeyError(f"a value is required for the parameter {name!r}")
            value = given.get(name, default)
            processed.append((name, value if process is None else process(value)))
        if self.positional:
            return tuple(value for _, value in processed)
        return dict(processed)

    def row(self, fetched: Any) -> tuple[Any, ...]:
        return tuple(
            value if process is None else process(value)
            for value, process in zip(fetched, self.results, strict=True)
        )


class DriverStatement:
    """A Core statement, compiled once per dialect, executed on the driver's cursor."""

    def __init__(self, statement: ClauseElement):
        self.statement = statement
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    def execute(self, connection: StoreConnection, values: dict[str, Any]) -> int:
        """Run the statement with these values; the number of rows it changed."""
        with self._run(connection, values) as (_, cursor):
            return cursor.rowcount

    def first(self, connection: StoreConnection, values: dict[str, Any]) -> tuple[Any, ...] | None:
        """A query's first row, its values as SQLAlchemy would give them; None for no row."""
        with self._run(connection, values) as (compiled, cursor):
            fetched = cursor.fetchone()
        return None if fetched is None else compiled.row(fetched)

    @contextmanager
    def _run(
        self, connection: StoreConnection, values: dict[str, Any]
    ) -> Iterator[tuple[_Compiled, Any]]:
        """The statement executed on a cursor of its own, closed once the caller is done."""
        compiled = self.compiled(connection.dialect)
        cursor = connection.cursor()
        try:
            cursor.execute(compiled.sql, compiled.values_for(values))
            yield compiled, cursor
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
            parameters.append((name, bind.required, bind.value, process))
        columns = getattr(self.statement, "selected_columns", ())
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in columns
        )
        return _Compiled(compiled.string, tuple(parameters), dialect.positional, results)
