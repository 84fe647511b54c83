"""How people name what xunshi tracks: one key type, one parser, one formatter.

A case is `ROUND/UNIT` (`2024-R1/U01`), an item `ROUND/UNIT/ITEM` (`2024-R1/U01/P01`), a
task `ROUND/UNIT/ITEM#N` (`2024-R1/U01/P01#1`), a clue (问题线索) `ROUND/UNIT:CLUE`
(`2024-R1/U01:C01`): clue codes are a namespace of their own beside the case's item codes,
and the colon keeps a clue's key from ever reading as an item's. Messages name them with
their kind in front (`case 2024-R1/U01`). Commands also accept an instance's number (`12`
or `#12`; a task also as `ITEM_NUMBER#N`; numbers in ASCII digits, within the database's
integers): `parse_reference` tells the two apart, and the services resolve a number to its
key. Nothing else builds or splits these strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from xunshi.errors import BadInput
from xunshi.texts import check_number, is_digits

Kind = Literal["case", "item", "task", "clue"]

EXAMPLES: dict[Kind, str] = {
    "case": "2024-R1/U01",
    "item": "2024-R1/U01/P01",
    "task": "2024-R1/U01/P01#1",
    "clue": "2024-R1/U01:C01",
}
_FORMS: dict[Kind, str] = {
    "case": "ROUND/UNIT",
    "item": "ROUND/UNIT/CODE",
    "task": "ITEM#N",
    "clue": "ROUND/UNIT:CODE",
}
_PARTS: dict[Kind, int] = {"case": 2, "item": 3, "task": 3}


@dataclass(frozen=True, slots=True, order=True)
class InstanceKey:
    """A case, item, task or clue by the codes people use."""

    round: str
    unit: str
    item: str | None = None
    task: int | None = None
    clue: str | None = None

    def __post_init__(self) -> None:
        if self.task is not None and self.item is None:
            raise ValueError("a task key needs its item")
        if self.clue is not None and self.item is not None:
            raise ValueError("a clue belongs to a case, not to an item")

    @property
    def kind(self) -> Kind:
        """`case`, `item`, `task` or `clue`."""
        if self.task is not None:
            return "task"
        if self.clue is not None:
            return "clue"
        return "case" if self.item is None else "item"

    @property
    def case(self) -> InstanceKey:
        """The case this key belongs to (itself for a case)."""
        return InstanceKey(self.round, self.unit)

    @property
    def owner(self) -> InstanceKey:
        """The instance whose history holds this key's events: a task's item, else itself."""
        return InstanceKey(self.round, self.unit, self.item) if self.task is not None else self

    def clue_key(self, code: str) -> InstanceKey:
        """The key of clue `code` of this case."""
        if self.kind != "case":
            raise ValueError(f"{self.label} has no clues")
        return InstanceKey(self.round, self.unit, clue=code)

    def task_key(self, number: int) -> InstanceKey:
        """The key of task `number` of this item."""
        if self.item is None or self.task is not None:
            raise ValueError(f"{self.label} has no tasks")
        return InstanceKey(self.round, self.unit, self.item, number)

    def __str__(self) -> str:
        text = f"{self.round}/{self.unit}"
        if self.item is not None:
            text += f"/{self.item}"
        if self.task is not None:
            text += f"#{self.task}"
        if self.clue is not None:
            text += f":{self.clue}"
        return text

    @property
    def label(self) -> str:
        """How messages name it: `case 2024-R1/U01`, `item …/P01`, `task …/P01#1`,
        `clue …:C01`."""
        return f"{self.kind} {self}"


@dataclass(frozen=True, slots=True)
class ByNumber:
    """An instance named by its number (`12`, `#12`); a task also as `ITEM_NUMBER#N`."""

    kind: Kind
    id: int
    task: int | None = None  # with kind "task": `id` is the item's number, this the task's

    @property
    def label(self) -> str:
        """How messages name it: `case #12`, `task #7`, `item #12 task #2`."""
        if self.task is not None:
            return f"item #{self.id} task #{self.task}"
        return f"{self.kind} #{self.id}"


Reference = InstanceKey | ByNumber


def parse_reference(text: str, kind: Kind) -> Reference:
    """A CASE, ITEM, TASK or CLUE argument: a key, or a number."""
    raw = text.strip()
    number = raw.removeprefix("#")
    if is_digits(number):
        return ByNumber(kind, check_number(f"{kind} number", number))
    if kind == "clue":
        head, sep, tail = raw.rpartition(":")
        case = [part.strip() for part in head.split("/")]
        if not sep or not tail.strip() or len(case) != 2 or not all(case):
            raise _bad(text, kind)
        if "#" in raw or "/" in tail:
            raise _bad(text, kind)
        return InstanceKey(case[0], case[1], clue=tail.strip())
    if kind == "task":
        head, sep, tail = raw.rpartition("#")
        tail = tail.strip()
        if sep and is_digits(tail):
            item = parse_reference(head, "item") if head.strip() else None
            task = check_number("task number", tail)
            if isinstance(item, ByNumber):
                return ByNumber("task", item.id, task)
            if isinstance(item, InstanceKey):
                return item.task_key(task)
        raise _bad(text, kind)
    parts = [part.strip() for part in raw.split("/")]
    if len(parts) != _PARTS[kind] or not all(parts) or "#" in raw or ":" in raw:
        raise _bad(text, kind)
    return InstanceKey(parts[0], parts[1], parts[2] if len(parts) == 3 else None)


def key_form(kind: Kind) -> str:
    """How a key of `kind` is written: `ROUND/UNIT`, `ROUND/UNIT/CODE`, …"""
    return _FORMS[kind] if kind != "task" else "ROUND/UNIT/ITEM#N"


def parse_key(text: str, kind: Kind) -> InstanceKey:
    """A key only (no numbers), e.g. from a sheet."""
    found = parse_reference(text, kind)
    if not isinstance(found, InstanceKey):
        raise _bad(text, kind)
    return found


def parse_group(text: str) -> tuple[str, str]:
    """A group named within its round, `ROUND/GROUP` (e.g. `2024-R1/G1`): the two codes."""
    parts = [part.strip() for part in text.strip().split("/")]
    if len(parts) != 2 or not all(parts):
        raise BadInput(f"group {text!r} is not ROUND/GROUP, e.g. 2024-R1/G1")
    return parts[0], parts[1]


def _bad(text: str, kind: Kind) -> BadInput:
    article = "an" if kind == "item" else "a"
    return BadInput(
        f"{kind} {text!r} is not {article} {kind} id or key: use the number or "
        f"{_FORMS[kind]}, e.g. {EXAMPLES[kind]}"
    )


def reference(value: str | Reference, kind: Kind) -> Reference:
    """`value` as a reference of `kind`: parsed if it is text."""
    return parse_reference(value, kind) if isinstance(value, str) else value
