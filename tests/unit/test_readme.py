"""The README's and docs' examples are valid: definitions, and calendar files (`year:` first).

Docs that cannot rot.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xunshi.definitions.loader import BUILTIN_GUARDS, parse_definition
from xunshi.routes import read_routes
from xunshi.workflow.calendar import parse_calendar_file

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))


def _yaml_blocks(path: Path, kind: str = "definition") -> list[str]:
    """The examples of one kind on a page: definitions, calendar files (`year:` first) or
    routes files (`roles:` first)."""
    blocks = re.findall(r"```yaml\n(.*?)```", path.read_text(encoding="utf-8"), re.S)
    return [block for block in blocks if _kind(block) == kind]


def _kind(block: str) -> str:
    if block.startswith("year:"):
        return "calendar"
    if block.startswith("roles:"):
        return "routes"
    return "definition"


def test_the_readme_calendar_file_example_loads() -> None:
    [block] = _yaml_blocks(README, "calendar")
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


def test_the_readme_routes_example_is_a_valid_routes_file() -> None:
    [block] = _yaml_blocks(README, "routes")
    routes = read_routes(block, "README.md")
    assert routes.channels() == {"wecom", "dingtalk", "feishu", "email"}
    assert routes.route("group_leader", "2025-R1", "G2").email


def test_the_docs_are_found() -> None:
    assert {p.name for p in DOCS} >= {"architecture.md", "definitions.md"}
    assert _yaml_blocks(REPO / "docs" / "definitions.md")
