"""The README's and docs' examples are valid: definitions, and calendar files (`year:` first).

Docs that cannot rot.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xunshi.definitions.loader import BUILTIN_GUARDS, parse_definition
from xunshi.workflow.calendar import parse_calendar_file

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))


def _yaml_blocks(path: Path, *, calendars: bool = False) -> list[str]:
    """The definition examples of a page (or, `calendars`, its calendar files)."""
    blocks = re.findall(r"```yaml\n(.*?)```", path.read_text(encoding="utf-8"), re.S)
    return [block for block in blocks if block.startswith("year:") == calendars]


def test_the_readme_calendar_file_example_loads() -> None:
    [block] = _yaml_blocks(README, calendars=True)
    example = parse_calendar_file(block, "README.md")
    assert (example.year, len(example.holidays), len(example.workdays)) == (2027, 12, 1)


def test_the_readme_definition_example_validates() -> None:
    blocks = _yaml_blocks(README)
    assert blocks, "the README shows a definition"
    for block in blocks:
        definition = parse_definition(block, "README.md", guards=BUILTIN_GUARDS)
        assert definition.state(definition.initial).due is not None


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_the_docs_definition_examples_validate(path: Path) -> None:
    for block in _yaml_blocks(path):
        parse_definition(block, path.name, guards=BUILTIN_GUARDS)


def test_the_docs_are_found() -> None:
    assert {p.name for p in DOCS} >= {"architecture.md", "definitions.md"}
    assert _yaml_blocks(REPO / "docs" / "definitions.md")
