"""What commands return: plain frozen dataclasses, each with its one JSON shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from xunshi.definitions.schema import Definition
from xunshi.keys import InstanceKey
from xunshi.read.history import event_json
from xunshi.workflow.audit import Event
from xunshi.workflow.decide import InstanceState


@dataclass(frozen=True, slots=True)
class Change:
    """One event appended to a case or an item, and where it left the instance."""

    key: InstanceKey
    event: Event
    instance: InstanceState
    definition: Definition

    @property
    def id(self) -> int:
        """The instance's number."""
        return self.instance.id

    @property
    def state_title(self) -> str:
        """The title of the stage the instance is in now."""
        return self.definition.state(self.instance.state).title

    @property
    def from_title(self) -> str:
        """The title of the stage a transition left."""
        source = self.event.from_state
        return self.definition.state(source).title if source else ""

    @property
    def milestone_title(self) -> str:
        """The title of the milestone a `milestone` event recorded."""
        name = str(self.event.data.get("milestone", ""))
        found = self.definition.state(self.instance.state).milestone(name)
        return found.title if found is not None else name

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The `--json` shape: the event."""
        return event_json(self.event, tz)


@dataclass(frozen=True, slots=True)
class Voided:
    """A case or item voided (撤销), and what went void with it (a case's problems)."""

    change: Change
    dependents: tuple[Change, ...] = ()

    @property
    def key(self) -> InstanceKey:
        """What was voided."""
        return self.change.key

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The `--json` shape: what was voided, its event, and what went void with it."""
        return {
            "key": str(self.key),
            "event": self.change.to_json(tz),
            "dependents": [str(dep.key) for dep in self.dependents],
        }


@dataclass(frozen=True, slots=True)
class Corrected:
    """A unit renamed or a group's leader changed: the row, and the cases that record it."""

    subject: str  # unit | group
    code: str  # the unit's code, or ROUND/GROUP
    old: str
    new: str
    cases: tuple[InstanceKey, ...]

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "subject": self.subject,
            "code": self.code,
            "old": self.old,
            "new": self.new,
            "cases": [str(key) for key in self.cases],
        }


@dataclass(frozen=True, slots=True)
class TaskChange:
    """A task added, updated or done: the task and the event on its item."""

    key: InstanceKey
    id: int
    change: Change

    @property
    def number(self) -> int:
        """The task's number within its item."""
        assert self.key.task is not None
        return self.key.task

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape: the task and what its event recorded."""
        return {
            "id": self.id,
            "task": str(self.key),
            "number": self.number,
            "data": dict(self.change.event.data),
        }


@dataclass(frozen=True, slots=True)
class Started:
    """A case, item or clue started."""

    id: int
    key: InstanceKey

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {"id": self.id, "key": str(self.key)}


@dataclass(frozen=True, slots=True)
class PlanImported:
    """What a plan import created."""

    cases: tuple[Started, ...]
    groups: int
    units: int
    batches: int = 0

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "cases": [{"id": c.id, "key": str(c.key)} for c in self.cases],
            "groups_created": self.groups,
            "units_created": self.units,
            "batches_created": self.batches,
        }


@dataclass(frozen=True, slots=True)
class ItemsImported:
    """What an items import created."""

    items: int
    tasks: int

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {"items": self.items, "tasks": self.tasks}


@dataclass(frozen=True, slots=True)
class CluesImported:
    """What a clues import registered, and how many of them it handed over."""

    clues: int
    handed_over: int

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {"clues": self.clues, "handed_over": self.handed_over}


@dataclass(frozen=True, slots=True)
class CategoriesLoaded:
    """What loading the category list did."""

    added: int
    kept: int
    removed: int

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {"added": self.added, "kept": self.kept, "removed": self.removed}


@dataclass(frozen=True, slots=True)
class TagsLoaded:
    """What loading the tag list did."""

    added: int
    kept: int
    removed: int

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {"added": self.added, "kept": self.kept, "removed": self.removed}


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """An escalation acknowledged."""

    id: int
    key: InstanceKey | None
    level: int
    actor: str

    @property
    def label(self) -> str:
        """What escalated, as messages name it."""
        return self.key.label if self.key is not None else "instance"

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "id": self.id,
            "case": str(self.key) if self.key is not None else None,
            "acked_by": self.actor,
        }


@dataclass(frozen=True, slots=True)
class Decided:
    """A proposal (a `decision` rung's escalation) confirmed or dismissed by the office."""

    id: int
    key: InstanceKey | None
    level: int
    instrument: str
    decision: str  # confirmed | dismissed
    actor: str
    reason: str
    notified: tuple[str, ...]

    @property
    def label(self) -> str:
        """What escalated, as messages name it."""
        return self.key.label if self.key is not None else "instance"

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "id": self.id,
            "case": str(self.key) if self.key is not None else None,
            "level": self.level,
            "instrument": self.instrument or None,
            "decision": self.decision,
            "decided_by": self.actor,
            "reason": self.reason,
            "notify": list(self.notified),
        }
