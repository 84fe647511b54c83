"""The leaves that check what people type, at their edges (issue #8: hostile input).

Each test pins one defect the CLI fuzz test found (`tests/cli/test_fuzz.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from xunshi.config import Settings
from xunshi.display import one_line, shown
from xunshi.errors import BadInput
from xunshi.keys import ByNumber, InstanceKey, Kind, parse_reference
from xunshi.services.rectification import parse_categories
from xunshi.texts import MAX_NUMBER, check_name, check_number, check_text
from xunshi.timeparse import parse_instant


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


@pytest.mark.parametrize("text", ["12", " 12 ", "#12", "0"])
def test_a_reference_by_number(text: str) -> None:
    found = parse_reference(text, "case")
    assert isinstance(found, ByNumber)
    assert found.id == int(text.strip().removeprefix("#"))


@pytest.mark.parametrize("text", ["１２", "²", "٣", "𝟗", "+1", "-1", "1_000", "１#1"])
def test_a_number_in_other_digits_is_not_a_reference(text: str) -> None:
    with pytest.raises(BadInput, match="is not a"):
        parse_reference(text, "task")


@pytest.mark.parametrize(
    ("text", "kind"),
    [(str(MAX_NUMBER + 1), "case"), (str(2**64), "item"), (f"1#{2**63}", "task"),
     (f"2024-R1/U01/P01#{MAX_NUMBER + 1}", "task"), (f"{2**63}#1", "task")],
)  # fmt: skip
def test_a_number_the_database_cannot_hold_is_refused(text: str, kind: Kind) -> None:
    with pytest.raises(BadInput, match="is out of range"):
        parse_reference(text, kind)


def test_the_largest_number_is_a_reference() -> None:
    assert parse_reference(f"2024-R1/U01/P01#{MAX_NUMBER}", "task") == InstanceKey(
        "2024-R1", "U01", "P01", MAX_NUMBER
    )


@pytest.mark.parametrize(
    ("text", "minimum", "expected"),
    [("5", 0, 5), (" 7 ", 0, 7), ("-5", -10, -5), (str(MAX_NUMBER), 0, MAX_NUMBER)],
)
def test_check_number_accepts(text: str, minimum: int, expected: int) -> None:
    assert check_number("N", text, minimum=minimum) == expected


@pytest.mark.parametrize(
    ("text", "minimum", "message"),
    [
        ("-5", 0, "N '-5' is not a whole number"),
        ("１２", 0, "N '１２' is not a whole number"),
        ("", 0, "N '' is not a whole number"),
        ("1e3", 0, "N '1e3' is not a whole number"),
        ("NaN", 0, "N 'NaN' is not a whole number"),
        ("--5", -10, "N '--5' is not a whole number"),
        (str(2**64), 0, f"N {2**64} is out of range (0 to {MAX_NUMBER})"),
        ("-20", -10, "N -20 is out of range (-10 to 2147483647)"),
    ],
)
def test_check_number_refuses(text: str, minimum: int, message: str) -> None:
    with pytest.raises(BadInput) as refused:
        check_number("N", text, minimum=minimum)
    assert refused.value.message == message


SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    "text",
    ["9999-12-31T23:00-01:00", "0001-01-01T00:00+01:00", "0001-01-01", "0001-01-01T07:59"],
)
def test_a_time_utc_cannot_express_is_out_of_range(text: str) -> None:
    with pytest.raises(BadInput) as refused:
        parse_instant(text, SHANGHAI, "--at")
    assert refused.value.message == f"--at {text!r} is out of range (years 1 to 9999 in UTC)"


def test_the_last_day_ends_within_range() -> None:
    last = parse_instant("9999-12-31", SHANGHAI, end_of_day=True)
    assert last == datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    with pytest.raises(BadInput, match="out of range"):
        parse_instant("9999-12-31", ZoneInfo("America/New_York"), end_of_day=True)


def test_a_day_ends_at_its_last_instant() -> None:
    end = parse_instant("2024-10-10", SHANGHAI, end_of_day=True)
    assert end + timedelta(microseconds=1) == datetime(2024, 10, 11, tzinfo=SHANGHAI)


@pytest.mark.parametrize("check", [check_name, check_text])
@pytest.mark.parametrize("value", ["\ud800", "示例\udfff", "\udce9"])
def test_a_lone_surrogate_is_not_text(check: Callable[..., str], value: str) -> None:
    with pytest.raises(BadInput) as refused:
        check("item title", value)
    assert refused.value.message.startswith(f"item title holds {value.strip('示例')!r}, half of")


@pytest.mark.parametrize("value", ["a\x85b", "a\u2028b", "a\u2029b", "a\x9bb", "a\x00b"])
def test_a_name_is_one_line_in_unicode_too(value: str) -> None:
    with pytest.raises(BadInput, match="must be one line of text"):
        check_name("unit name", value)


def test_a_text_takes_unicode_line_breaks_but_no_c1_control() -> None:
    assert check_text("measure", "一\u2028二") == "一\u2028二"
    with pytest.raises(BadInput, match="no control characters"):
        check_text("measure", "一\x85二")


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "1e309", "1e10", "0", "-1", "0.0"])
def test_a_numeric_setting_is_finite_and_sane(raw: str) -> None:
    with pytest.raises(BadInput) as refused:
        Settings.from_env({"XUNSHI_LEASE": raw})
    assert refused.value.message == (
        f"XUNSHI_LEASE must be a positive number of at most 1000000000, not {raw}"
    )


@pytest.mark.parametrize(
    ("name", "raw"),
    [("XUNSHI_WEBHOOK_ATTEMPTS", "１２"), ("XUNSHI_WEBHOOK_ATTEMPTS", "2.5"),
     ("XUNSHI_WEBHOOK_ATTEMPTS", "nan"), ("XUNSHI_WEBHOOK_BACKOFF", "1_000"),
     ("XUNSHI_WEBHOOK_TIMEOUT", "１０"), ("XUNSHI_LEASE", "sixty")],
)  # fmt: skip
def test_a_numeric_setting_is_a_number_in_ascii(name: str, raw: str) -> None:
    with pytest.raises(BadInput) as refused:
        Settings.from_env({name: raw})
    assert refused.value.message == f"{name}={raw!r} is not a number"


def test_numeric_settings_in_range_are_read() -> None:
    settings = Settings.from_env(
        {"XUNSHI_LEASE": "1e9", "XUNSHI_WEBHOOK_ATTEMPTS": " 3 ", "XUNSHI_WEBHOOK_BACKOFF": "0.5"}
    )
    assert (settings.lease_seconds, settings.webhook_attempts) == (1e9, 3)
    assert settings.webhook_backoff == 0.5


def test_a_huge_category_from_aliases_is_named_briefly() -> None:
    levels = ["  - &l0 [x, x, x, x, x, x, x, x, x]"]
    levels += [f"  - &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 6)]
    text = "categories:\n 作风建设:\n" + "\n".join(f" {line}" for line in levels) + "\n"
    with pytest.raises(BadInput) as refused:
        parse_categories(text, "categories.yaml")
    message = refused.value.message
    assert message.startswith("categories.yaml: 作风建设: ['x', 'x', 'x', 'x', ...] must be text")
    assert len(message) < 200


def test_shown_is_short_whatever_the_value() -> None:
    huge: list[object] = [1] * 9
    for _ in range(12):
        huge = [huge] * 9  # 9**13 items: a full repr would never finish
    assert len(shown(huge)) <= 60
    assert shown("长" * 100).endswith("…")
    assert shown("ok") == "'ok'"


def test_settings_never_show_their_secrets_in_a_repr() -> None:
    # A traceback or a debug print of the settings must not leak a webhook token, a robot's
    # or SMTP secret, the cookie key or any XUNSHI_* variable.
    settings = Settings(
        webhook_url="https://hooks.example/notify?token=SECRET-1",
        secret_key="SECRET-2" * 4,
        extra={"XUNSHI_SMTP_PASSWORD": "SECRET-3"},
    )
    assert "SECRET" not in repr(settings)
    assert "db_url='sqlite:///xunshi.db'" in repr(settings)
