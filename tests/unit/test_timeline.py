"""The timeline picture: stage spans from a history, bars and due marks, names escaped."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from xunshi.web.timeline import COMPACT_FROM, CaseLine, Span, draw, spans_from

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 9, 2, 1, 0, tzinfo=UTC)
TITLES = {"preparation": "巡前准备", "onsite": "现场巡视", "closed": "完成"}


def test_spans_run_from_each_stage_entered_to_the_next() -> None:
    events = [
        (T0, "preparation"),
        (T0 + timedelta(days=1), None),  # a milestone: no stage entered
        (T0 + timedelta(days=5), "onsite"),
    ]
    assert spans_from(events, TITLES) == (
        Span("巡前准备", T0, T0 + timedelta(days=5)),
        Span("现场巡视", T0 + timedelta(days=5), None),
    )


def line(
    label: str,
    spans: tuple[Span, ...],
    *,
    due_on: date | None = None,
    overdue: bool = False,
    final: bool = False,
) -> CaseLine:
    """A case line with defaults."""
    return CaseLine(label, "/cases/R/U", spans, due_on, overdue, final)


def test_one_bar_per_stage_and_a_due_mark_for_the_current_one() -> None:
    spans = spans_from([(T0, "preparation"), (T0 + timedelta(days=5), "onsite")], TITLES)
    svg = draw(
        [line("U01 某某公司", spans, due_on=date(2024, 9, 20), overdue=True)],
        T0 + timedelta(days=30),
        TZ,
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert len(re.findall(r'<rect x="[\d.]+" y="34"', svg)) == 2
    assert 'class="bar current overdue"' in svg
    assert 'class="due overdue"' in svg and "办理时限 2024-09-20" in svg


def test_a_final_stage_is_a_mark_not_a_bar_to_today() -> None:
    spans = spans_from([(T0, "preparation"), (T0 + timedelta(days=5), "closed")], TITLES)
    svg = draw([line("U01", spans, final=True)], T0 + timedelta(days=60), TZ)
    widths = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="34" width="([\d.]+)"', svg)]
    assert widths[1] == 2.0 and widths[0] > 2.0


def test_names_are_escaped() -> None:
    spans = (Span("<b>阶段</b>", T0, None),)
    svg = draw([line("<script>alert(1)</script>", spans)], T0 + timedelta(days=1), TZ)
    assert "<script>" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "<b>" not in svg


def test_no_case_no_picture() -> None:
    assert draw([], T0, TZ) == ""


def test_a_large_round_is_drawn_compactly_with_every_bar_and_due_mark() -> None:
    spans = spans_from([(T0, "preparation"), (T0 + timedelta(days=5), "onsite")], TITLES)
    lines = [
        CaseLine(f"U{n:03d} <单位{n}>", f"/cases/R/U{n:03d}", spans, date(2024, 9, 20), n % 2 == 0)
        for n in range(COMPACT_FROM)
    ]
    svg = draw(lines, T0 + timedelta(days=30), TZ)
    assert 'class="timeline compact"' in svg
    rows = re.findall(r'<a href="(/cases/R/U\d{3})"><title>([^<]*)</title>(.*?)</a>', svg)
    assert len(rows) == COMPACT_FROM
    href, title, _row = rows[1]
    assert href == "/cases/R/U001"
    assert title == "U001 &lt;单位1&gt; 现场巡视 办理时限 2024-09-20"
    assert rows[0][1].endswith("（已超期）")
    assert [len(re.findall("<rect ", r)) for _h, _t, r in rows] == [2] * COMPACT_FROM
    assert [len(re.findall(r'<path [^>]*class="due', r)) for _h, _t, r in rows] == [
        1
    ] * COMPACT_FROM
    assert svg.count('class="bar current overdue"') == COMPACT_FROM // 2
    assert "<text" not in "".join(r for _h, _t, r in rows)  # no label per row, no tooltip per bar
    assert "<title>" not in "".join(r for _h, _t, r in rows)
    full = draw(lines[1:], T0 + timedelta(days=30), TZ)  # one case fewer: drawn in full
    assert len(svg) < 0.7 * len(full)  # the more stages a row has, the more it saves


def test_a_round_below_the_compact_size_keeps_its_labels() -> None:
    spans = spans_from([(T0, "preparation")], TITLES)
    lines = [line(f"U{n:03d}", spans) for n in range(COMPACT_FROM - 1)]
    svg = draw(lines, T0 + timedelta(days=3), TZ)
    assert "compact" not in svg and svg.count('class="label"') == COMPACT_FROM - 1
