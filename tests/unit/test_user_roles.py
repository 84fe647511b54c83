"""The roles a user may have are exactly those the built-in definitions declare."""

from __future__ import annotations

from pathlib import Path

import yaml

from xunshi.services.users import ROLES

BUILTIN = Path(__file__).resolve().parents[2] / "xunshi" / "definitions" / "builtin"


def test_user_roles_are_the_roles_the_builtin_definitions_declare() -> None:
    declared: set[str] = set()
    for path in BUILTIN.glob("*.yaml"):
        declared |= set(yaml.safe_load(path.read_text(encoding="utf-8"))["roles"])
    assert set(ROLES) == declared
