"""Hot statements run straight on the driver cursor, compiled once per dialect by SQLAlchemy.

Firing an event runs three to five short statements; SQLAlchemy's per-execution work
(parameter construction, processor dispatch, result set-up) cost as much as the SQLite work
itself (bench/fire.py). A `Prepared` statement keeps what SQLAlchemy compiled — the SQL text,
the parameter order and the column types' bind and result processors — and runs it on the
connection's own DBAPI cursor, inside the transaction SQLAlchemy began. Driver errors are
wrapped in SQLAlchemy's exception classes, so callers handle them as usual.

On PostgreSQL the SQL is rewritten to positional parameters (`%s`, no name lookup per
execution) and every statement of a connection runs on one cursor kept for it: psycopg's
per-cursor set-up cost as much as a short statement's round trip (bench/load.py). Every
method reads what it needs before it returns, so no caller ever holds the shared cursor.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

Processor = Callable[[Any], Any] | None

# psycopg's named placeholder as SQLAlchemy renders it (a literal % is rendered as %%).
_NAMED = re.compile(r"%%|%\((\w+)\)s")

# PostgreSQL: each driver connection's one cursor (dropped with the connection).
_cursors: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    positional: tuple[str, ...] | None  # parameter order (qmark, or rewritten to %s)
    binds: Mapping[str, Callable[[Any], Any]]
    fixed: Mapping[str, Any]  # the values the statement itself holds (`status="done"`)
    columns: tuple[str, ...]
    results: tuple[Processor, ...]
    shared_cursor: bool  # run on the connection's kept cursor (PostgreSQL)


def _bind_processors(compiled: SQLCompiler) -> dict[str, Callable[[Any], Any]]:
    binds: dict[str, Callable[[Any], Any]] = {}
    for name, process in compiled._bind_processors.items():
        if not callable(process):  # tuple-valued (IN) parameters: not for hot statements
            raise ValueError(f"parameter {name} of a prepared statement must be a scalar")
        binds[name] = process
    return binds


def _to_positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """psycopg's `%(name)s` placeholders as `%s`, and the names in their order."""
    order: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return "%%"
        order.append(match.group(1))
        return "%s"

    return _NAMED.sub(placeholder, sql), tuple(order)


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
            sql = str(compiled)
            positional = tuple(compiled.positiontup) if compiled.positiontup else None
            shared = dialect.name == "postgresql" and dialect.paramstyle == "pyformat"
            if shared:
                sql, positional = _to_positional(sql)
            result_columns = compiled._result_columns or []
            found = _Compiled(
                sql=sql,
                positional=positional,
                binds=_bind_processors(compiled),
                fixed={
                    name: bind.effective_value
                    for name, bind in compiled.binds.items()
                    if not bind.required
                },
                columns=tuple(c[0] for c in result_columns),
                results=tuple(c[3]._cached_result_processor(dialect, None) for c in result_columns),
                shared_cursor=shared,
            )
            self._compiled[dialect.name] = found
        return found

    def _run(self, conn: Connection, params: Mapping[str, Any]) -> tuple[_Compiled, Any]:
        """Run it; the compiled form and the driver cursor holding the outcome."""
        compiled = self._for(conn.dialect)
        binds = compiled.binds
        if compiled.fixed:
            params = {**compiled.fixed, **params}
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
        driver = conn.connection.driver_connection
        if compiled.shared_cursor:
            cursor = _cursors.get(driver)
            if cursor is None or cursor.closed:
                cursor = _cursors[driver] = driver.cursor()  # type: ignore[union-attr]
        else:
            cursor = driver.cursor()  # type: ignore[union-attr]
        dbapi = conn.dialect.loaded_dbapi
        try:
            cursor.execute(compiled.sql, values)
        except dbapi.Error as exc:
            raise DBAPIError.instance(
                compiled.sql, values, exc, dbapi.Error, dialect=conn.dialect
            ) from exc
        return compiled, cursor

    def first(self, conn: Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row as a dict of processed values, or None."""
        compiled, cursor = self._run(conn, params)
        try:
            row = cursor.fetchone()
        finally:
            _done(compiled, cursor)
        if row is None:
            return None
        return {
            name: (process(value) if process is not None and value is not None else value)
            for name, process, value in zip(compiled.columns, compiled.results, row, strict=True)
        }

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row, as tuples of processed values in the statement's column order."""
        compiled, cursor = self._run(conn, params)
        try:
            rows = cursor.fetchall()
        finally:
            _done(compiled, cursor)
        results = compiled.results
        if not any(results):
            return [tuple(row) for row in rows]
        return [
            tuple(
                process(value) if process is not None and value is not None else value
                for process, value in zip(results, row, strict=True)
            )
            for row in rows
        ]

    def returns_row(self, conn: Connection, params: Mapping[str, Any]) -> bool:
        """Run it; whether it returned a row (an `INSERT … RETURNING` that inserted one)."""
        compiled, cursor = self._run(conn, params)
        try:
            return cursor.fetchone() is not None
        finally:
            _done(compiled, cursor)

    def rowcount(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Run a write; how many rows it touched."""
        compiled, cursor = self._run(conn, params)
        try:
            return int(cursor.rowcount)
        finally:
            _done(compiled, cursor)


def _done(compiled: _Compiled, cursor: Any) -> None:
    """Close a cursor of its own; the connection's kept one stays open."""
    if not compiled.shared_cursor:
        cursor.close()
