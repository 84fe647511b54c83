"""The generated Core tables must be exactly the declared SQLModel schema."""

from __future__ import annotations

import subprocess
import sys

from xunshi.storage import codegen, models, tables


def test_generated_tables_match_the_models() -> None:
    assert codegen.differences() == []


def test_every_model_table_is_generated() -> None:
    assert sorted(tables.metadata.tables) == sorted(models.metadata.tables)


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
        "import xunshi.bootstrap, xunshi.workflow.views\n"
        "print('sqlmodel' in sys.modules, 'pydantic' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]
