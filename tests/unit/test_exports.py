"""The pieces every export shares: column widths for Chinese text, the title row, and
writing a file whole or not at all."""

from __future__ import annotations

import io
import os
from datetime import date
from pathlib import Path
from typing import IO, Any

import pytest
from openpyxl import load_workbook

from xunshi.errors import AlreadyExists, BadInput
from xunshi.reports.output import Target, choose_target, write_to
from xunshi.reports.workbook import MAX_WIDTH, Sheet, column_width, heading, write_workbook

# -- widths and the title row ---------------------------------------------------------------


def test_a_chinese_character_counts_double() -> None:
    assert column_width("措施", ["建立健全制度"]) == (6 * 2 + 2, False)
    assert column_width("unit", ["abcdefghijkl"]) == (12 + 2, False)
    assert column_width("单位", ["示例市财政局", "ＡＢ"]) == (6 * 2 + 2, False)  # full-width: 2


def test_the_header_counts_a_date_is_ten_wide_and_nothing_is_narrower_than_six() -> None:
    assert column_width("被巡视单位", ["G1"]) == (5 * 2 + 2, False)
    assert column_width("完成时限", [date(2024, 9, 30), None, "长期"]) == (10 + 2, False)
    assert column_width("序号", [1, 2, 206]) == (6, False)


def test_text_wider_than_the_cap_wraps_and_lines_count_one_by_one() -> None:
    long_text = "问题状态：问题确认；问题阶段超期"  # 16 characters
    assert column_width("备注", [long_text]) == (MAX_WIDTH, True)
    assert column_width("备注", ["短\n" + "字" * 11]) == (11 * 2 + 2, False)


def test_the_title_row_names_the_round_the_report_and_the_date() -> None:
    assert heading("2024年第二轮巡视", "整改台账", date(2025, 2, 14)) == (
        "2024年第二轮巡视 整改台账 截至 2025-02-14"
    )


# -- choosing the target --------------------------------------------------------------------


def test_text_that_starts_with_an_equals_sign_is_text_not_a_formula() -> None:
    # openpyxl makes a formula of any string starting with "=": a measure typed as
    # =HYPERLINK(…) would run in whoever opens the ledger (issue #8).
    out = io.BytesIO()
    rows = [['=HYPERLINK("http://example.org","看")', "=A1", date(2025, 1, 2), 3]]
    write_workbook([Sheet("台账", "=1+1 整改台账", ("措施", "责任人", "时限", "数"), rows)], out)
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    assert sheet is not None
    cells = [sheet.cell(row=1, column=1), *sheet[3]]
    assert [c.data_type for c in cells] == ["s", "s", "s", "d", "n"]
    assert [c.value for c in cells[:3]] == ["=1+1 整改台账", *rows[0][:2]]


def test_the_extension_names_the_format_and_dash_is_stdout(tmp_path: Path) -> None:
    formats = ("jsonl", "csv")
    assert choose_target(str(tmp_path / "h.CSV"), None, formats, force=False).format == "csv"
    assert choose_target(str(tmp_path / "h.json"), None, formats, force=False).format == "jsonl"
    assert choose_target("-", None, formats, force=False) == Target(None, "jsonl")
    assert choose_target("-", None, ("xlsx", "csv"), force=False) == Target(None, "csv")
    assert choose_target("-", "csv", formats, force=False) == Target(None, "csv")
    # An extension that names no format is fine with --format.
    assert choose_target(str(tmp_path / "h.txt"), "csv", formats, force=False).format == "csv"


@pytest.mark.parametrize(
    ("out", "fmt", "message"),
    [
        ("h.txt", None, "cannot tell the format of {d}/h.txt from its extension: name it "
         ".jsonl, .json or .csv, or give --format jsonl|csv"),
        ("h", None, "cannot tell the format of {d}/h from its extension: name it "
         ".jsonl, .json or .csv, or give --format jsonl|csv"),
        ("h.xlsx", None, "cannot tell the format of {d}/h.xlsx from its extension: name it "
         ".jsonl, .json or .csv, or give --format jsonl|csv"),
        ("h.jsonl", "csv", "--format csv but {d}/h.jsonl ends in .jsonl"),
        ("nope/h.csv", None, "{d}/nope/h.csv: No such file or directory"),
    ],
)  # fmt: skip
def test_what_is_refused(tmp_path: Path, out: str, fmt: str | None, message: str) -> None:
    with pytest.raises(BadInput) as refused:
        choose_target(str(tmp_path / out), fmt, ("jsonl", "csv"), force=False)
    assert refused.value.message == message.format(d=tmp_path)


def test_a_workbook_never_goes_to_stdout() -> None:
    with pytest.raises(BadInput) as refused:
        choose_target("-", "xlsx", ("xlsx", "csv"), force=False)
    assert refused.value.message == "--format xlsx needs --out FILE"


def test_an_existing_file_needs_force(tmp_path: Path) -> None:
    path = tmp_path / "台账.csv"
    path.write_text("old", encoding="utf-8")
    with pytest.raises(AlreadyExists) as refused:
        choose_target(str(path), None, ("xlsx", "csv"), force=False)
    assert refused.value.message == f"{path} exists; use --force to overwrite it"
    assert choose_target(str(path), None, ("xlsx", "csv"), force=True) == Target(path, "csv", True)


# -- writing ------------------------------------------------------------------------------


def write_text(handle: IO[Any]) -> int:
    handle.write("序号,问题\r\n")
    return 1


def test_a_csv_file_gets_a_bom_stdout_none(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    assert write_to(Target(path, "csv"), write_text, io.StringIO()) == 1
    assert path.read_bytes() == "\ufeff序号,问题\r\n".encode()
    stdout = io.StringIO()
    write_to(Target(None, "csv"), write_text, stdout)
    assert stdout.getvalue() == "序号,问题\r\n"
    jsonl = tmp_path / "out.jsonl"
    write_to(Target(jsonl, "jsonl"), write_text, io.StringIO())
    assert jsonl.read_bytes() == "序号,问题\r\n".encode()


def test_a_new_file_gets_the_usual_mode_a_replaced_one_keeps_its_own(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        path = tmp_path / "out.csv"
        write_to(Target(path, "csv"), write_text, io.StringIO())
        assert path.stat().st_mode & 0o777 == 0o644
        path.chmod(0o600)
        write_to(Target(path, "csv", force=True), write_text, io.StringIO())
        assert path.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(mask)


def test_a_failed_export_leaves_no_file_and_a_replaced_one_as_it_was(tmp_path: Path) -> None:
    def fail_halfway(handle: IO[Any]) -> None:
        handle.write("序号,问题\r\n")
        raise BadInput("the database went away")

    new = tmp_path / "new.csv"
    with pytest.raises(BadInput):
        write_to(Target(new, "csv"), fail_halfway, io.StringIO())
    kept = tmp_path / "kept.csv"
    kept.write_text("old", encoding="utf-8")
    with pytest.raises(BadInput):
        write_to(Target(kept, "csv", force=True), fail_halfway, io.StringIO())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.csv"]
    assert kept.read_text(encoding="utf-8") == "old"


def test_a_file_that_appears_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    target = choose_target(str(path), None, ("csv",), force=False)

    def someone_else_writes_first(handle: IO[Any]) -> None:
        path.write_text("theirs", encoding="utf-8")
        handle.write("ours")

    with pytest.raises(AlreadyExists):
        write_to(target, someone_else_writes_first, io.StringIO())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    assert path.read_text(encoding="utf-8") == "theirs"


def test_a_folder_that_cannot_be_written_is_named_not_the_temporary_file(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("", encoding="utf-8")
    with pytest.raises(NotADirectoryError) as refused:
        write_to(Target(not_a_folder / "out.csv", "csv"), write_text, io.StringIO())
    assert refused.value.filename == str(not_a_folder / "out.csv")
