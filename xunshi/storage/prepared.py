"""Hot statements run straight on the driver cursor, compiled once per dialect by SQLAlchemy.

Firing an event runs three to five short statements; SQLAlchemy's per-execution work
(parameter construction, processor dispatch, result set-up) cost as much as the SQLite work
itself (bench/fire.py). A `Prepared` statement keeps what SQLAlchemy compiled — the SQL text,
the parameter order and the column types' bind and result processors — and runs it on the
connection's own DBAPI cursor, inside the transaction SQLAlchemy began. Driver errors are
wrapped in SQLAlchemy's exception classes, so callers handle them as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    positional: tuple[str, ...] | None  # parameter order for qmark drivers, else None
    binds: Mapping[str, Callable[[Any], Any]]
    columns: tuple[str, ...]
    results: tuple[Processor, ...]


def _bind_processors(compiled: SQLCompiler) -> dict[str, Callable[[Any], Any]]:
    binds: dict[str, Callable[[Any], Any]] = {}
    for name, process in compiled._bind_processors.items():
        if not callable(process):  # tuple-valued (IN) parameters: not for hot statements
            raise ValueError(f"parameter {name} of a prepared statement must be a scalar")
        binds[name] = process
    return binds


class Prepared:
    """A Core statement, executed with the driver's cursor on a SQLAlchemy connection."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            assert isinstance(compiled, SQLCompiler)
            positional = tuple(compiled.positiontup) if compiled.positiontup else None
            result_columns = compiled._result_columns or []
            found = _Compiled(
                sql=str(compiled),
                positional=positional,
                binds=_bind_processors(compiled),
                columns=tuple(c[0] for c in result_columns),
                results=tuple(c[3]._cached_result_processor(dialect, None) for c in result_columns),
            )
            self._compiled[dialect.name] = found
        return found

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """Run it; return the driver cursor (for `rowcount`, or rows via `first`)."""
        compiled = self._for(conn.dialect)
        binds = compiled.binds
        values: Any
        if compiled.positional is not None:
            values = [
                binds[name](params[name]) if name in binds else params[name]
                for name in compiled.positional
            ]
        else:
            values = {
                name: binds[name](value) if name in binds else value
                for name, value in params.items()
            }
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        dbapi = conn.dialect.loaded_dbapi
        try:
            cursor.execute(compiled.sql, values)
        except dbapi.Error as exc:
            raise DBAPIError.instance(
                compiled.sql, values, exc, dbapi.Error, dialect=conn.dialect
            ) from exc
        return cursor

    def first(self, conn: Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row as a dict of processed values, or None."""
        compiled = self._for(conn.dialect)
        cursor = self.execute(conn, params)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return None
        return {
            name: (process(value) if process is not None and value is not None else value)
            for name, process, value in zip(compiled.columns, compiled.results, row, strict=True)
        }

    def rowcount(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Run a write; how many rows it touched."""
        cursor = self.execute(conn, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()
