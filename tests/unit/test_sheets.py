"""Sheet reading without a database: dates as offices write them, problem summaries, headers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from xunshi.errors import BadInput
from xunshi.services.sheets import (
    NOT_TEXT,
    Column,
    SheetProblems,
    check_encoding,
    parse_day,
    read_sheet,
)

NOT_A_DATE = "is not a date (2025-09-30, 2025/9/30 or 2025年9月30日)"


@pytest.mark.parametrize(
    "text",
    [
        "2025-09-30",
        "2025-9-30",
        "2025/9/30",
        "2025/09/30",
        "2025年9月30日",
        "2025年09月30日",
        " 2025/9/30 ",
        "2025/9/30 0:00",
        "2025-09-30 00:00:00",
        "2025-09-30T00:00",
    ],
)
def test_a_day_as_offices_write_it(text: str) -> None:
    assert parse_day(text) == date(2025, 9, 30)


@pytest.mark.parametrize(
    "text",
    [
        "30/9/2025",
        "9/30/2025",
        "2025.9.30",
        "20250930",
        "2025-W40-2",
        "2025年9月30",
        "2025-9/30",
        "2025-09-31",
        "2025/13/1",
        "２０２５/9/30",
        "2025/9/30 soon",
        "",
    ],
)
def test_not_a_day(text: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_day(text)
    assert caught.value.message == f"{text!r} {NOT_A_DATE}"


@pytest.mark.parametrize("text", ["2025-09-30 09:30:00", "2025/9/30 0:01", "2025-09-30T00:00:01"])
def test_a_time_of_day_is_not_a_day(text: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_day(text)
    assert caught.value.message == f"{text!r} has a time of day: a due date is a day"


def test_the_summary_reads_correctly() -> None:
    # It said "(and 1 more in rows 2)".
    one = SheetProblems("a.csv", [(2, "x", "empty"), (2, "y", "empty")])
    assert one.message == "a.csv row 2, column x: empty (and 1 more problem in row 2)"
    three = [(2, "x", "empty"), (2, "y", "bad"), (4, "x", "empty"), (4, "y", "bad")]
    assert SheetProblems("a.csv", three).message == (
        "a.csv row 2, column x: empty (and 3 more problems in rows 2, 4)"
    )
    assert SheetProblems("a.csv", three[:1]).message == "a.csv row 2, column x: empty"


COLUMNS = (
    Column("code", ("代码",)),
    Column("name", ("名称", "全称")),
    Column("note", ("备注",), optional=True),
)


def sheet_at(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("header", "labels"),
    [
        ("code,name", {"code": "code", "name": "name", "note": "note"}),
        ("代码,全称", {"code": "代码", "name": "全称", "note": "备注"}),
        ("code,名称,备注", {"code": "code", "name": "名称", "note": "备注"}),
        ("代码,name", {"code": "代码", "name": "name", "note": "备注"}),  # a tie: Chinese
        ("code,name,note", {"code": "code", "name": "name", "note": "note"}),
    ],
)
def test_each_column_is_named_as_the_sheet_names_it(
    tmp_path: Path, header: str, labels: dict[str, str]
) -> None:
    values = ",".join(["A1", "甲", "x"][: header.count(",") + 1])
    sheet = read_sheet(sheet_at(tmp_path, f"{header}\n{values}\n"), COLUMNS)
    assert dict(sheet.labels) == labels
    assert sheet.rows[0]["code"] == "A1"
    assert sheet.rows[0]["name"] == "甲"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("code", "s.csv row 1: missing column name"),
        ("代码", "s.csv row 1: missing column 名称 (name)"),
        ("编号", "s.csv row 1: missing columns 代码 (code), 名称 (name)"),
        ("id", "s.csv row 1: missing columns code, name"),
        ("code,name,owner", "s.csv row 1: unknown column owner (expected code, name, note)"),
        ("代码,名称,负责人", "s.csv row 1: unknown column 负责人 (expected 代码, 名称/全称, 备注)"),
        ("代码,名称,全称", "s.csv row 1: columns 名称 and 全称 are the same column: keep one"),
        ("code,name,name", "s.csv row 1: column name appears more than once"),
        (
            "code,name,名称,name,代码",
            "s.csv row 1: columns code and 代码 are the same column: keep one; "
            "columns name and 名称 are the same column: keep one",
        ),
    ],
)
def test_header_problems(tmp_path: Path, header: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        read_sheet(sheet_at(tmp_path, f"{header}\n"), COLUMNS)
    assert caught.value.message == message


@pytest.mark.parametrize("name", ["U\ud800", "utf-8\x00", "", "hex", "nope"])
def test_a_name_that_is_no_text_encoding_is_unknown(name: str) -> None:
    with pytest.raises(BadInput) as refused:
        check_encoding(name)
    assert refused.value.message == f"unknown encoding {name!r}"


@pytest.mark.parametrize("name", ["undefined", "punycode"])
def test_a_codec_that_fails_without_saying_where_is_one_line(tmp_path: Path, name: str) -> None:
    # Both raise a bare UnicodeError (not UnicodeDecodeError) on these bytes (issue #8).
    path = tmp_path / "plan.csv"
    path.write_text("round,group\n2024-R1,G1\n", encoding="utf-8")
    with pytest.raises(BadInput) as refused:
        read_sheet(path, COLUMNS, encoding=name)
    assert refused.value.message == f"plan.csv: not {name} text"


@pytest.mark.parametrize(
    ("data", "encoding", "shown"),
    [
        (b"code,name\nU1,+2AA-\n", "utf-7", r"'\ud800'"),  # utf-7 decodes a lone surrogate
        (b"code,name\nU1\\udcff,x\n", "unicode_escape", r"'\udcff'"),
        (b"code,name\nU1,a\x00b\n", None, r"'\x00'"),
    ],
)
def test_a_cell_that_is_not_text_is_a_problem(
    tmp_path: Path, data: bytes, encoding: str | None, shown: str
) -> None:
    # No database stores these; a lookup with them crashed the driver (issue #8).
    path = tmp_path / "s.csv"
    path.write_bytes(data)
    with pytest.raises(SheetProblems) as refused:
        read_sheet(path, COLUMNS, encoding=encoding)
    column = "name" if shown != r"'\udcff'" else "code"
    assert refused.value.message == f"s.csv row 2, column {column}: holds {shown}: {NOT_TEXT}"
