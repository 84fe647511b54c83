"""The README's definition example is a valid definition (docs that cannot rot)."""

from __future__ import annotations

import re
from pathlib import Path

from xunshi.definitions.loader import BUILTIN_GUARDS, parse_definition

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_definition_example_validates() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks, "the README shows a definition"
    for block in blocks:
        definition = parse_definition(block, "README.md", guards=BUILTIN_GUARDS)
        assert definition.state(definition.initial).due is not None
