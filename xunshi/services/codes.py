"""Checks for the codes and names people type: rounds, groups, units."""

from __future__ import annotations

import re

from xunshi.errors import BadInput

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_code(kind: str, code: str) -> str:
    """A round, group or unit code: letters, digits, `.`, `_`, `-` (no `/`, no spaces)."""
    code = code.strip()
    if not CODE_PATTERN.match(code):
        raise BadInput(
            f"{kind} code {code!r} is not valid: use letters, digits, '.', '_' or '-' "
            "(at most 64, starting with a letter or digit)"
        )
    return code


def check_text(kind: str, value: str) -> str:
    """A required piece of text (a name, a title, a leader)."""
    value = value.strip()
    if not value:
        raise BadInput(f"{kind} must not be empty")
    return value
