"""Sheet reading without a database: problem summaries."""

from __future__ import annotations

from xunshi.services.sheets import SheetProblems


def test_the_summary_reads_correctly() -> None:
    # It said "(and 1 more in rows 2)".
    one = SheetProblems("a.csv", [(2, "x", "empty"), (2, "y", "empty")])
    assert one.message == "a.csv row 2, column x: empty (and 1 more problem in row 2)"
    three = [(2, "x", "empty"), (2, "y", "bad"), (4, "x", "empty"), (4, "y", "bad")]
    assert SheetProblems("a.csv", three).message == (
        "a.csv row 2, column x: empty (and 3 more problems in rows 2, 4)"
    )
    assert SheetProblems("a.csv", three[:1]).message == "a.csv row 2, column x: empty"
