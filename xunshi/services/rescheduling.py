"""Recording moved deadlines: one `deadline` event per due date or rung that moved.

A calendar load (`services/calendar.py`) and a change of a batch's planned dates
(`services/rounds.py`) both recompute deadlines in the schedule; this module appends, for
each one that moved, a `deadline` event to the history of its case or item (for a task:
its item) through the engine, in the same transaction and hash chain: by whom, why
(`cause`), and the old and new due date and next rung.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from xunshi.keys import InstanceKey
from xunshi.timeparse import business_time
from xunshi.workflow.decide import Command
from xunshi.workflow.engine import Engine
from xunshi.workflow.resolve import InstanceRef, instance_key
from xunshi.workflow.schedule import MovedDeadline, Rung


@dataclass(frozen=True, slots=True)
class Rescheduled:
    """One deadline a calendar or plan change moved, and the event that records it."""

    key: InstanceKey  # the case or item; for a task, the task's key
    stage: str  # the stage's name; "" for a task
    old_due_on: date | None
    new_due_on: date | None
    old_provisional: bool
    new_provisional: bool
    old_rung: Rung | None  # instants in the business time zone
    new_rung: Rung | None
    seq: int  # the `deadline` event in the history of the case or item

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "key": str(self.key),
            "stage": self.stage or None,
            "task": self.key.task,
            "due_on": {"old": iso(self.old_due_on), "new": iso(self.new_due_on)},
            "provisional": {"old": self.old_provisional, "new": self.new_provisional},
            "rung": {"old": _rung_json(self.old_rung), "new": _rung_json(self.new_rung)},
            "seq": self.seq,
        }


def record_moves(
    conn: Connection,
    engine: Engine,
    moves: Iterable[MovedDeadline],
    *,
    actor: str,
    name: str,
    cause: str,
    context: Mapping[str, Any],
    at: datetime | None = None,
) -> tuple[Rescheduled, ...]:
    """Append a `deadline` event (`trigger` `name`) per moved deadline; what each recorded.

    The event's reason is `cause: what moved`; its data is `context` with the old and new
    due date, provisional flag and next rung, and the stage (or the task).
    """
    tz = engine.tz
    recorded = []
    for moved in moves:
        key = instance_key(conn, moved.instance_id)
        outcome = engine.execute(
            conn,
            InstanceRef(moved.instance_id, key),
            Command(
                kind="deadline",
                actor=actor,
                role=None,
                name=name,
                reason=f"{cause}: {_what_moved(moved, tz)}",
                at=at,
                data={**context, **_moved_data(moved, tz)},
            ),
        )
        if key is not None and moved.task_number is not None:
            key = key.task_key(moved.task_number)
        assert key is not None, "every instance whose deadline moves is a case or an item"
        recorded.append(
            Rescheduled(
                key=key,
                stage=moved.stage,
                old_due_on=moved.old_due_on,
                new_due_on=moved.new_due_on,
                old_provisional=moved.old_provisional,
                new_provisional=moved.new_provisional,
                old_rung=_local(moved.old_rung, tz),
                new_rung=_local(moved.new_rung, tz),
                seq=outcome.event.seq,
            )
        )
    return tuple(recorded)


def _moved_data(moved: MovedDeadline, tz: ZoneInfo) -> dict[str, Any]:
    """The old and new deadline, and the stage or task it belongs to."""
    data: dict[str, Any] = {
        "due_on": {"old": iso(moved.old_due_on), "new": iso(moved.new_due_on)},
        "provisional": {"old": moved.old_provisional, "new": moved.new_provisional},
        "rung": {
            "old": _rung_json(_local(moved.old_rung, tz)),
            "new": _rung_json(_local(moved.new_rung, tz)),
        },
    }
    if moved.task_id:
        data.update(task=moved.task_id, number=moved.task_number)
    else:
        data["stage"] = moved.stage
    return data


def _what_moved(moved: MovedDeadline, tz: ZoneInfo) -> str:
    """`due 2025-10-17 → 2025-10-20, next rung level 0 at … → …`."""
    what = []
    due = (moved.old_due_on, moved.old_provisional), (moved.new_due_on, moved.new_provisional)
    if moved.task_id:
        what.append(f"task #{moved.task_number} due {_due(*due[0])}")
    elif due[0] != due[1]:
        what.append(f"due {_due(*due[0])} → {_due(*due[1])}")
    if moved.old_rung != moved.new_rung:
        what.append(
            f"next rung {_rung_text(moved.old_rung, tz)} → {_rung_text(moved.new_rung, tz)}"
        )
    return ", ".join(what)


def _due(day: date | None, provisional: bool) -> str:
    if day is None:
        return "none"
    return day.isoformat() + (" (暂定)" if provisional else "")


def _rung_text(rung: Rung | None, tz: ZoneInfo) -> str:
    if rung is None:
        return "none"
    return f"level {rung.level} at {business_time(rung.fire_at, tz)}"


def _local(rung: Rung | None, tz: ZoneInfo) -> Rung | None:
    return None if rung is None else rung._replace(fire_at=rung.fire_at.astimezone(tz))


def _rung_json(rung: Rung | None) -> dict[str, Any] | None:
    if rung is None:
        return None
    return {
        "level": rung.level,
        "fire_at": rung.fire_at.isoformat(),
        "provisional": rung.provisional,
    }


def iso(day: date | None) -> str | None:
    """A date's ISO text, or None."""
    return None if day is None else day.isoformat()
