"""Generate `tables.py` (plain Core tables) from the SQLModel schema in `models.py`.

    python -m xunshi.storage.codegen          # rewrite xunshi/storage/tables.py
    python -m xunshi.storage.codegen --check  # exit 1 if its DDL differs from the models

The models are the one place the schema is declared; the generated module lets every
command run without importing pydantic and SQLModel (a third of a second at start-up).

Indexes are generated too, but an index with dialect options (the partial `ix_timer_live`'s
`sqlite_where`/`postgresql_where`) goes into `attach_dialect_indexes()` instead of the table:
declaring such an option imports that dialect's module, and a read command on SQLite would
pay some 40 ms for PostgreSQL's (measured with `python -X importtime`). No query needs an
index declared (the migrations create them), so they are attached only when compared.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import (
    Column,
    ForeignKeyConstraint,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
)
from sqlalchemy.sql.elements import TextClause

TARGET = Path(__file__).with_name("tables.py")

HEADER = '''"""Core tables for the runtime. GENERATED from models.py: do not edit.

Regenerate with `python -m xunshi.storage.codegen`; `tests/unit/test_tables.py` fails
when this file and the models disagree (CREATE TABLE and CREATE INDEX, both dialects).

Indexes with dialect options (a partial index's WHERE) are declared only by
`attach_dialect_indexes()`: declaring them imports every dialect's module, which would slow
down every command, and no query needs them (see `codegen`).
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import (
{sqlalchemy}
)

from xunshi.storage.types import {types}

metadata = MetaData()
'''
_SQLALCHEMY_NAMES = (
    "Boolean",
    "Column",
    "Date",
    "ForeignKey",
    "Index",
    "Integer",
    "MetaData",
    "String",
    "Table",
    "Text",
    "UniqueConstraint",
    "text",
)
_TYPE_NAMES = ("ISODate", "UTCDateTime")


def render(metadata: MetaData) -> str:
    """The source of the Core tables module for `metadata`."""
    body = "\n".join(_table(table) for table in metadata.sorted_tables)
    body += _dialect_indexes(metadata)
    used = [n for n in _SQLALCHEMY_NAMES if re.search(rf"\b{n}\(", body) or n == "MetaData"]
    types = ", ".join(n for n in _TYPE_NAMES if re.search(rf"\b{n}\(", body))
    header = HEADER.format(sqlalchemy="\n".join(f"    {name}," for name in used), types=types)
    return header + "\n" + body


def _table(table: Table) -> str:
    lines = [f"\n{table.name} = Table(", f"    {table.name!r},", "    metadata,"]
    lines.extend(f"    {_column(column)}," for column in table.columns)
    for constraint in sorted(table.constraints, key=_constraint_key):
        if isinstance(constraint, UniqueConstraint):
            columns = list(constraint.columns)
            if len(columns) == 1 and columns[0].unique:
                continue  # rendered as the column's unique=True, in the same place
            names = ", ".join(repr(c.name) for c in columns)
            lines.append(f"    UniqueConstraint({names}),")
        elif not isinstance(constraint, PrimaryKeyConstraint | ForeignKeyConstraint):
            raise ValueError(f"cannot render {constraint!r} of {table.name}")
    for index in _sorted_indexes(table):
        if _is_column_index(index) or index.dialect_kwargs:
            continue  # the column's index=True, or in attach_dialect_indexes()
        names = ", ".join(repr(c.name) for c in _index_columns(index))
        lines.append(f"    Index({index.name!r}, {names}{_unique(index)}),")
    lines.append(")")
    return "\n".join(lines) + "\n"


def _dialect_indexes(metadata: MetaData) -> str:
    lines = [
        "\n\n@cache",
        "def attach_dialect_indexes() -> None:",
        '    """Declare the indexes that have dialect options (once; see the docstring)."""',
    ]
    for table in metadata.sorted_tables:
        for index in _sorted_indexes(table):
            if not index.dialect_kwargs:
                continue
            args = [repr(index.name)]
            args.extend(f"{table.name}.c.{c.name}" for c in _index_columns(index))
            args.extend(f"{k}={_option(v)}" for k, v in sorted(index.dialect_kwargs.items()))
            lines.append(f"    Index({', '.join(args)}{_unique(index)})")
    if len(lines) == 3:
        lines.append("    return")
    return "\n".join(lines) + "\n"


def _sorted_indexes(table: Table) -> list[Index]:
    return sorted(table.indexes, key=lambda index: str(index.name))


def _index_columns(index: Index) -> list[Column[object]]:
    columns = list(index.columns)
    if len(columns) != len(index.expressions):
        raise ValueError(f"cannot render index {index.name}: only plain columns are supported")
    return columns


def _is_column_index(index: Index) -> bool:
    columns = list(index.columns)
    return len(columns) == 1 and bool(columns[0].index) and not index.dialect_kwargs


def _unique(index: Index) -> str:
    return ", unique=True" if index.unique else ""


def _option(value: object) -> str:
    if isinstance(value, TextClause):
        return f"text({value.text!r})"
    raise ValueError(f"cannot render {value!r} (an index option, a default): write it as text(...)")


def _constraint_key(constraint: object) -> str:
    columns = getattr(constraint, "columns", ())
    return f"{type(constraint).__name__}:{','.join(c.name for c in columns)}"


def _column(column: Column[object]) -> str:
    args = [repr(column.name), _type(column)]
    args.extend(f"ForeignKey({fk.target_fullname!r})" for fk in column.foreign_keys)
    if column.primary_key:
        args.append("primary_key=True")
        if column.autoincrement is not True and column.autoincrement != "auto":
            args.append(f"autoincrement={column.autoincrement!r}")
    if column.unique:
        args.append("unique=True")
    if column.index:
        args.append("index=True")
    args.append(f"nullable={column.nullable!r}")
    if column.server_default is not None:
        args.append(f"server_default={_option(getattr(column.server_default, 'arg', None))}")
    return f"Column({', '.join(args)})"


def _type(column: Column[object]) -> str:
    kind = type(column.type).__name__
    if kind == "AutoString":  # SQLModel's string type: a plain String on every backend
        length = getattr(column.type, "length", None)
        return f"String({length})" if length else "String()"
    if kind in ("Integer", "Boolean", "Date", "Text", "UTCDateTime", "ISODate"):
        return f"{kind}()"
    raise ValueError(f"cannot render type {column.type!r} of column {column}")


def generated() -> str:
    """What tables.py should contain for the current models (before formatting)."""
    from xunshi.storage import models  # pydantic/SQLModel: only when generating

    return render(models.metadata)


def ddl(metadata: MetaData, dialect_name: str) -> list[str]:
    """Every CREATE TABLE and CREATE INDEX of `metadata` as one dialect compiles it."""
    # Every dialect's compiler, loaded only by this development tool.
    from sqlalchemy.dialects import registry
    from sqlalchemy.schema import CreateIndex, CreateTable

    dialect = registry.load(dialect_name)()
    statements = []
    for table in metadata.sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        statements.extend(
            str(CreateIndex(index).compile(dialect=dialect)).strip()
            for index in _sorted_indexes(table)
        )
    return statements


def differences() -> list[str]:
    """Where the generated tables and the models disagree (empty when current)."""
    from xunshi.storage import models, tables  # pydantic/SQLModel: only when comparing

    tables.attach_dialect_indexes()
    found: list[str] = []
    for dialect in ("sqlite", "postgresql"):
        declared, generated_ = ddl(models.metadata, dialect), ddl(tables.metadata, dialect)
        found.extend(f"{dialect}: {statement}" for statement in set(declared) ^ set(generated_))
    return sorted(found)


def main(argv: list[str] | None = None) -> None:
    """Rewrite (or, with --check, compare) tables.py."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether it is current")
    args = parser.parse_args(argv)
    if args.check:
        found = differences()
        for line in found:
            print(line, file=sys.stderr)
        if found:
            print(f"{TARGET} is out of date: run python -m xunshi.storage.codegen", file=sys.stderr)
            sys.exit(1)
        return
    TARGET.write_text(generated(), encoding="utf-8")
    # Formatting is cosmetic; without ruff the module is still valid Python.
    subprocess.run([sys.executable, "-m", "ruff", "format", "--quiet", str(TARGET)], check=False)
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
