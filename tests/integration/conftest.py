"""Fixtures of the integration tests (helpers live in `worlds.py`)."""

from __future__ import annotations

import pytest
from worlds import World

from xunshi.bootstrap import App
from xunshi.workflow.clock import ManualClock


@pytest.fixture
def world(app: App, clock: ManualClock) -> World:
    """A round with one group on a fresh database (both backends)."""
    return World(app, clock)
