"""Fixtures of the route tests: the populated desk on SQLite (`desk`) or on each backend
(`any_desk`); the helpers live in `desk_harness.py`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from desk_harness import Desk, populated_desk

from xunshi.workflow.clock import ManualClock


@pytest.fixture
def desk(sqlite_url: str, clock: ManualClock) -> Iterator[Desk]:
    """The populated desk on SQLite."""
    yield from populated_desk(sqlite_url, clock)


@pytest.fixture
def any_desk(db_url: str, clock: ManualClock) -> Iterator[Desk]:
    """The populated desk on each backend."""
    yield from populated_desk(db_url, clock)
