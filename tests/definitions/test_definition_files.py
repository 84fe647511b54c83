"""Every YAML file under valid/ loads; every file under invalid/ fails exactly as it says.

An invalid file starts with one `# expect: LINE:COL: message` comment per expected problem.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xunshi.definitions.loader import DefinitionError, Problem, load_definition_file
from xunshi.definitions.schema import definition_from_dict

HERE = Path(__file__).parent
GUARDS = frozenset({"all_items_settled"})
EXPECT = re.compile(r"# expect: (\d+):(\d+): (.*)")


def _files(folder: str) -> list[Path]:
    return sorted((HERE / folder).glob("*.yaml"))


def _expected(path: Path) -> list[Problem]:
    problems = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = EXPECT.fullmatch(line)
        if match is None:
            break
        problems.append(Problem(str(path), int(match[1]), int(match[2]), match[3]))
    return problems


@pytest.mark.parametrize("path", _files("valid"), ids=lambda p: p.name)
def test_valid_file_loads(path: Path) -> None:
    definition = load_definition_file(path, guards=GUARDS)

    assert definition.name == path.stem
    assert definition_from_dict(definition.to_dict()) == definition


@pytest.mark.parametrize("path", _files("invalid"), ids=lambda p: p.name)
def test_invalid_file_reports_exactly_its_problems(path: Path) -> None:
    expected = _expected(path)
    assert expected, f"{path.name} declares no '# expect:' lines"

    with pytest.raises(DefinitionError) as caught:
        load_definition_file(path, guards=GUARDS)

    assert caught.value.source == str(path)
    assert caught.value.problems == expected


def test_fixture_folders_are_found() -> None:
    # An empty glob would parametrize nothing and pass silently.
    assert len(_files("invalid")) >= 30
    assert len(_files("valid")) >= 5
