"""Statements compiled once and run on the driver's own cursor: for the few run per post.

Executing a Core statement costs SQLAlchemy several times the Python work of the
driver's own call around it (the execution context, its events, the result object):
counting a post, two small statements and a commit, spent four fifths of its CPU
there.  A ``Prepared`` statement is compiled once per dialect by SQLAlchemy's compiler
and its values converted by the column types' own bind processors, so the driver gets
the SQL and the values a Core execution would send; only the machinery around them is
left out, and with it the engine's events: the SQL echo, the statement counter and the
change stamp's watch (``database/changes.py``).  So only statements that change no
cached answer (the ``PER_POST`` kind) belong here.

Errors are raised as SQLAlchemy raises them (``IntegrityError``, ``OperationalError``,
...), and a connection the driver reports lost is not put back in the pool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol, cast
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["CoreStatements", "DriverTransaction", "Prepared", "Statements", "driver_transaction"]


class Prepared:
    """One statement compiled for one dialect: its SQL and how to make its parameters."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        self.sql = compiled.string
        self._compiled = compiled
        positions = compiled.positiontup if dialect.positional else None
        self._order = list(positions) if positions is not None else None
        self._processors: dict[str, Callable[[Any], Any]] = {}
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self._processors[name] = process

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters for ``values`` (by bind name), converted as Core would."""
        params = dict(self._compiled.construct_params(dict(values)) or {})
        for name, process in self._processors.items():
            params[name] = process(params[name])
        if self._order is None:
            return params
        return tuple(params[name] for name in self._order)


class Statements(Protocol):
    """Where a few statements run inside one transaction."""

    #: Whether the dialect can return rows from an UPDATE.
    update_returning: bool

    def execute(self, statement: ClauseElement, values: Mapping[str, Any]) -> int:
        """Run ``statement``; how many rows it changed."""
        ...

    def scalar(self, statement: ClauseElement, values: Mapping[str, Any]) -> Any:
        """Run ``statement``; the first column of its first row, or None."""
        ...


class CoreStatements:
    """``Statements`` on a Core connection (one a session is bound to, say)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.update_returning = bool(connection.dialect.update_returning)

    def execute(self, statement: ClauseElement, values: Mapping[str, Any]) -> int:
        result = self._connection.execute(statement, dict(values))  # type: ignore[call-overload]
        return int(getattr(result, "rowcount", 0))

    def scalar(self, statement: ClauseElement, values: Mapping[str, Any]) -> Any:
        return self._connection.scalar(statement, dict(values))  # type: ignore[call-overload]


class DriverTransaction:
    """``Statements`` run as ``Prepared`` on a pooled driver connection.

    Each statement is compiled once and kept for the life of the engine: pass
    statements built once (module constants), never one built per call.
    """

    def __init__(self, dialect: Dialect, connection: Any) -> None:
        self._dialect = dialect
        self.update_returning = bool(dialect.update_returning)
        self._cursor = connection.cursor()
        self._prepared = _PREPARED.setdefault(dialect, {})
        #: The SQL and parameters last sent, for the error raised if they fail.
        self.last: tuple[str | None, Any] = (None, None)

    def _run(self, statement: ClauseElement, values: Mapping[str, Any]) -> None:
        # Kept by the statement itself, which is built once (a module constant).
        prepared = self._prepared.get(statement)
        if prepared is None:
            prepared = self._prepared[statement] = Prepared(statement, self._dialect)
        params = prepared.parameters(values)
        self.last = (prepared.sql, params)
        self._cursor.execute(prepared.sql, params)

    def execute(self, statement: ClauseElement, values: Mapping[str, Any]) -> int:
        self._run(statement, values)
        return int(self._cursor.rowcount)

    def scalar(self, statement: ClauseElement, values: Mapping[str, Any]) -> Any:
        self._run(statement, values)
        row = self._cursor.fetchone()
        return None if row is None else row[0]


# Statements prepared, by dialect (an engine's, alive as long as the engine).
_PREPARED: WeakKeyDictionary[Dialect, dict[ClauseElement, Prepared]] = WeakKeyDictionary()


@contextmanager
def driver_transaction(engine: Engine) -> Iterator[DriverTransaction]:
    """A transaction on one of ``engine``'s pooled connections: committed at the end of
    the block, rolled back on an error, and driver errors raised as SQLAlchemy's."""
    dialect = engine.dialect
    dbapi_error: type[Exception] = dialect.loaded_dbapi.Error
    connection = engine.raw_connection()
    transaction: DriverTransaction | None = None
    try:
        transaction = DriverTransaction(dialect, connection)
        yield transaction
        connection.commit()
    except dbapi_error as error:
        lost = dialect.is_disconnect(cast(Any, error), connection.dbapi_connection, None)
        if lost:
            connection.invalidate(error)
        else:
            connection.rollback()
        sql, params = transaction.last if transaction is not None else (None, None)
        raise DBAPIError.instance(
            sql, params, error, dbapi_error, connection_invalidated=lost, dialect=dialect
        ) from error
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.close()
