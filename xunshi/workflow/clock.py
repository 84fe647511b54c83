"""Clocks: the only place that reads the system time.

Domain code receives a `Clock` and never calls `datetime.now()` itself, so tests and the
demo can run on a virtual clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Something that tells the time (aware, UTC)."""

    def now(self) -> datetime:
        """The current instant as an aware UTC datetime."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        """The current instant as an aware UTC datetime."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to: for tests, simulations and the demo."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """The current virtual instant."""
        return self._now

    def set(self, instant: datetime) -> None:
        """Move to `instant` (never backwards)."""
        instant = instant.astimezone(UTC)
        if instant < self._now:
            raise ValueError(f"clock cannot go back from {self._now} to {instant}")
        self._now = instant

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` and return the new instant."""
        self.set(self._now + delta)
        return self._now
