"""The pieces every export shares: column widths for Chinese text, the title row."""

from __future__ import annotations

from datetime import date

from xunshi.reports.workbook import MAX_WIDTH, column_width, heading


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
