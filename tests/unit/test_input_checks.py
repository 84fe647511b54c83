"""The leaves that check what people type, at their edges (issue #8: hostile input).

Each test pins one defect the CLI fuzz test found (`tests/cli/test_fuzz.py`).
"""

from __future__ import annotations

import pytest

from xunshi.display import one_line


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\nb", r"a\nb"),
        ("a\r\nb", r"a\r\nb"),
        ("\x00\x1b[31m", r"\x00\x1b[31m"),
        ("x\u2028y\u2029z\x85", r"x\u2028y\u2029z\x85"),
        ("\udcff\ud800", r"\udcff\ud800"),
        ("\u202eevil", r"\u202eevil"),
        ("示例市　财政局 'U01' \\", "示例市　财政局 'U01' \\"),
    ],
)
def test_one_line_escapes_what_would_break_the_line(text: str, shown: str) -> None:
    assert one_line(text) == shown
    assert len(one_line(text).splitlines()) <= 1
