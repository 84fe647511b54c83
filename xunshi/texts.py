"""Checks for what people type: codes, names, texts and who is acting.

Every value is stripped. A code is letters, digits, `.`, `_`, `-` (a batch's may be
Chinese). A name (an actor, a title, a leader, a department) is one non-empty line of at
most 200 characters; a text (a measure, manifestations, a reason) may run over several
lines, at most 2,000 characters. Neither holds control characters or lone surrogates (which
no database can store). A number (an id, a level, a count) is ASCII digits, within the
database's integers.
Anything else is refused with one line that says what is wrong.
"""

from __future__ import annotations

import re

from xunshi.errors import BadInput

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# A batch is named as the office names it: 第一批 as well as B1.
BATCH_PATTERN = re.compile(r"^\w[\w.-]{0,63}$")
MAX_NAME = 200
MAX_TEXT = 2000
# The database's INTEGER columns hold 32 bits on PostgreSQL (64 on SQLite): an id, a
# version or a level typed by a person is at most this.
MAX_NUMBER = 2**31 - 1
# Control characters (tab and newline aside, which a text may hold), C1 ones included.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# What breaks a name's one line besides: Unicode's line and paragraph separators.
_LINE_BREAK = re.compile(r"[\n\r\t\u2028\u2029]")
# Halves of a surrogate pair: not characters, and no database can store them (UTF-8 has no
# encoding for them); they come from bytes that were not UTF-8, or from `\ud800` escapes.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def check_code(kind: str, code: str) -> str:
    """A round, group or unit code: letters, digits, `.`, `_`, `-` (no `/`, no spaces)."""
    code = code.strip()
    if not CODE_PATTERN.match(code):
        raise BadInput(
            f"{kind} code {code!r} is not valid: use letters, digits, '.', '_' or '-' "
            "(at most 64, starting with a letter or digit)"
        )
    return code


def check_batch(code: str) -> str:
    """A batch code (批次): letters (Chinese too), digits, `.`, `_`, `-`, e.g. 第一批 or B1."""
    code = code.strip()
    if not BATCH_PATTERN.match(code):
        raise BadInput(
            f"batch code {code!r} is not valid: use letters (Chinese too), digits, '.', '_' "
            "or '-' (at most 64)"
        )
    return code


def check_name(kind: str, value: str, *, required: bool = True) -> str:
    """One line of at most 200 characters: an actor, a title, a leader, a department."""
    value = value.strip()
    if not value:
        if required:
            raise BadInput(f"{kind} must not be empty")
        return value
    _check_characters(kind, value)
    if _LINE_BREAK.search(value) or _CONTROL.search(value):
        raise BadInput(f"{kind} must be one line of text (no line breaks or control characters)")
    if len(value) > MAX_NAME:
        raise BadInput(f"{kind} is {len(value)} characters long; at most {MAX_NAME}")
    return value


def check_text(kind: str, value: str, *, required: bool = True) -> str:
    """A text of at most 2,000 characters (line breaks allowed): a measure, a reason."""
    value = value.strip()
    if not value:
        if required:
            raise BadInput(f"{kind} must not be empty")
        return value
    _check_characters(kind, value)
    if _CONTROL.search(value):
        raise BadInput(f"{kind} must be text (no control characters)")
    if len(value) > MAX_TEXT:
        raise BadInput(f"{kind} is {len(value)} characters long; at most {MAX_TEXT}")
    return value


def _check_characters(kind: str, value: str) -> None:
    """Refuse what is not text at all: a lone surrogate (see `_SURROGATE`)."""
    found = _SURROGATE.search(value)
    if found:
        raise BadInput(
            f"{kind} holds {found.group()!r}, half of a character: not text that can be stored"
            " (bytes that are not UTF-8?)"
        )


def check_actor(actor: str) -> str:
    """Who is acting: a name (`--actor`, else $XUNSHI_ACTOR, else the login name)."""
    return check_name("actor", actor)


def is_digits(text: str) -> bool:
    """Whether `text` is ASCII digits only (`str.isdigit` also takes `１２`, `²`, `٣`)."""
    return text.isascii() and text.isdigit()


def check_number(
    kind: str,
    text: str,
    *,
    minimum: int = 0,
    maximum: int = MAX_NUMBER,
    noun: str = "a whole number",
) -> int:
    """A whole number typed in ASCII digits (`-` in front if `minimum` allows), in range."""
    raw = text.strip()
    digits = raw[1:] if raw.startswith("-") and minimum < 0 else raw
    if not is_digits(digits):
        raise BadInput(f"{kind} {text!r} is not {noun}")
    value = int(raw)
    if not minimum <= value <= maximum:
        raise BadInput(f"{kind} {raw} is out of range ({minimum} to {maximum})")
    return value


# What people call each role (the desk and the demo show these).
ROLE_TITLES = {
    "office": "巡视办",
    "leading_group": "巡视工作领导小组",
    "group_leader": "巡视组组长",
    "party_secretary": "被巡视党组织书记",
    "unit_liaison": "被巡视单位联络员",
    "discipline_group": "纪检监察组",
    "organization_dept": "组织部",
    "functional_dept": "职能部门",
}
