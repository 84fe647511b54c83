"""The audit model's fast paths give what the plain ones give: the stored `data` text read
with the C scanner as `json.loads` reads it (the same dict, or the same message for a text
that is not one JSON object), and an event's time text as `utc_iso` writes it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from xunshi.workflow.audit import GENESIS_HASH, event_from_tuple, utc_iso

TEXTS = [
    "{}",
    '{"a":1,"b":[1,2,{"c":null}],"d":"第一"}',
    ' {"a":1}',
    '{"a":1} ',
    '{"a":1}\n',
    '{"a":1}{"b":2}',
    '{"a":1} x',
    "[1]",
    '"text"',
    "1",
    "null",
    "",
    " ",
    "{",
    '{"a":}',
    '{"a":1,}',
    "\ufeff{}",
    '{"a":NaN}',
    '{"a":"\\ud800"}',
    b'{"a":1}',
    b"\xff",
]


def _as_json_loads_reads_it(text: Any) -> tuple[dict[str, Any], str | None]:
    """What verify made of a stored `data` text before the fast path (json.loads)."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"a JSON {type(data).__name__}, not an object")
    except ValueError as exc:
        return {}, f"data is not a JSON object ({exc})"
    return data, None


def _row(data: Any, at: str = "2024-09-02 01:00:00.000000") -> tuple[Any, ...]:
    return (1, 1, "note", None, None, None, "x", None, None, data, at, at, GENESIS_HASH, "h")


@pytest.mark.parametrize("text", TEXTS)
def test_data_is_read_as_json_loads_reads_it(text: Any) -> None:
    event = event_from_tuple(_row(text), raw_times=True)
    assert (dict(event.data), event.data_error) == _as_json_loads_reads_it(text)


@pytest.mark.parametrize(
    "stored",
    ["2024-09-02 01:00:00.000000", "2024-12-31 23:59:59.999999", "0001-01-01 00:00:00.000001"],
)
def test_the_stored_time_text_is_what_utc_iso_writes(stored: str) -> None:
    event = event_from_tuple(_row("{}", stored), raw_times=True)
    assert event.occurred_iso() == utc_iso(event.occurred_at)
    assert event.occurred_at == datetime.fromisoformat(stored).replace(tzinfo=UTC)
    assert event.recorded_at == event.occurred_at


def test_an_event_read_without_time_texts_writes_its_own() -> None:
    at = datetime(2024, 9, 2, 1, 0, 0, 5, tzinfo=UTC)
    event = event_from_tuple((*_row("{}")[:10], at, at, GENESIS_HASH, "h"))
    assert event.occurred_iso() == "2024-09-02T01:00:00.000005Z"
