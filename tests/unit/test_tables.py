"""The generated Core tables must be exactly the declared SQLModel schema, indexes included."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import text

from xunshi.storage import codegen, models, tables


def test_generated_tables_match_the_models() -> None:
    assert codegen.differences() == []


def test_every_model_table_is_generated() -> None:
    assert sorted(tables.metadata.tables) == sorted(models.metadata.tables)


def test_every_model_index_is_generated() -> None:
    tables.attach_dialect_indexes()
    for name, table in models.metadata.tables.items():
        declared = {i.name for i in table.indexes}
        assert {i.name for i in tables.metadata.tables[name].indexes} == declared, name


def test_partial_index_where_is_compared_on_both_dialects() -> None:
    tables.attach_dialect_indexes()
    (live,) = [i for i in tables.timer.indexes if i.name == "ix_timer_live"]
    create = "CREATE INDEX ix_timer_live ON timer (fire_at) WHERE"
    for dialect in ("sqlite", "postgresql"):
        assert f"{create} status IN ('pending', 'claimed')" in codegen.ddl(tables.metadata, dialect)
        options = live.dialect_options[dialect]
        original = options["where"]
        options["where"] = text("status = 'pending'")
        try:
            assert [line for line in codegen.differences() if "ix_timer_live" in line] == [
                f"{dialect}: {create} status = 'pending'",  # generated
                f"{dialect}: {create} status IN ('pending', 'claimed')",  # declared
            ]
        finally:
            options["where"] = original


def test_a_changed_model_is_a_difference() -> None:
    before = codegen.ddl(tables.metadata, "postgresql")
    column = tables.unit.c.category
    original = column.nullable
    column.nullable = not original
    try:
        assert codegen.ddl(tables.metadata, "postgresql") != before
        assert any("unit" in line for line in codegen.differences())
    finally:
        column.nullable = original


def test_commands_run_without_importing_sqlmodel() -> None:
    # What the generated module is for: a read command must not pay for pydantic.
    code = (
        "import sys; from xunshi.cli import main\n"
        "import xunshi.bootstrap, xunshi.read.reader, xunshi.services.inspection\n"
        "print('sqlmodel' in sys.modules, 'pydantic' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]


def test_tables_load_no_dialect_until_indexes_are_attached() -> None:
    # Why the partial index is attached on demand: its WHERE options import every dialect's
    # module, and a command on SQLite must not pay for PostgreSQL's.
    code = (
        "import sys, xunshi.storage.tables as t\n"
        "loaded = lambda: sorted(m for m in sys.modules if m.startswith('sqlalchemy.dialects.'))\n"
        "print(loaded()); t.attach_dialect_indexes(); print('postgresql' in str(loaded()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines() == ["[]", "True"]


def test_a_text_with_line_breaks_stays_on_its_row() -> None:
    # Issue #8, defect 7: a line break in a cell must not break the table.
    from xunshi.display import table

    assert table(["问题", "措施"], [["一\n二", "甲\r\n乙"]]) == "问题   措施\n一 二  甲 乙"
