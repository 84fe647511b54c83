"""From what people type to the rows it names, and from rows back to keys.

One place turns a `Reference` (a key or a number, see `xunshi.keys`) into the instance it
names, read in the caller's transaction, and builds the `InstanceKey` of a stored instance
from its joined codes. Commands and queries both resolve through here.

Codes (rounds, groups, units, items, clues) are stored as written and matched without regard to
case: `u01` finds unit U01. The exact spelling is tried first (the indexed lookup every
command makes), the case-insensitive match only when it finds nothing; a code that
differs from an existing one only in case is a duplicate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, bindparam, func, select

from xunshi.errors import BadInput, NotFound
from xunshi.keys import ByNumber, InstanceKey, Reference
from xunshi.storage import instances
from xunshi.storage import queries as q
from xunshi.storage.prepared import Prepared

_TASK_BY_ID = Prepared(select(q.tasks).where(q.tasks.c.id == bindparam("task_id")))
_TASK_BY_NUMBER = Prepared(
    select(q.tasks).where(
        q.tasks.c.item_id == bindparam("item_id"), q.tasks.c.number == bindparam("number")
    )
)


@dataclass(frozen=True, slots=True)
class InstanceRef:
    """A stored instance, its key, and (when just read) its instance row.

    `row` carries the instance row read in the same transaction while resolving, so that
    a command does not read it twice.
    """

    id: int
    key: InstanceKey | None
    row: Mapping[Any, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> str:
        """How messages name it: `case 2024-R1/U01` (`instance #7` before it has a key)."""
        return self.key.label if self.key is not None else f"instance #{self.id}"


@dataclass(frozen=True, slots=True)
class TaskRef:
    """A task: its row, and the item whose history holds its events."""

    id: int
    number: int
    item: InstanceRef
    row: Mapping[str, Any] = field(compare=False, repr=False)

    @property
    def key(self) -> InstanceKey:
        """`ROUND/UNIT/ITEM#N`."""
        assert self.item.key is not None
        return self.item.key.task_key(self.number)

    @property
    def label(self) -> str:
        """How messages name it: `task 2024-R1/U01/P01#2`."""
        return self.key.label


def key_from_row(row: Mapping[Any, Any]) -> InstanceKey | None:
    """The key of an instance from a row that joined its codes (`round_code`, …)."""
    if row.get("round_code") is None:
        return None
    return InstanceKey(
        row["round_code"], row["unit_code"], row.get("item_code"), clue=row.get("clue_code")
    )


def resolve_case(conn: Connection, ref: Reference) -> InstanceRef:
    """The case a reference names, with its instance row."""
    if isinstance(ref, ByNumber):
        row = instances.read_case(conn, ref.id)
    else:
        row = instances.read_case_by_codes(conn, ref.round, ref.unit)
        if row is None:
            lowered = {"round_code": ref.round.lower(), "unit_code": ref.unit.lower()}
            row = _unique(conn.execute(q.CASE_BY_KEY_CI, lowered).mappings(), ref.label)
    if row is None:
        raise NotFound(f"{ref.label} does not exist")
    return InstanceRef(row["id"], InstanceKey(row["round_code"], row["unit_code"]), row)


def resolve_item(conn: Connection, ref: Reference) -> InstanceRef:
    """The item a reference names, with its instance row."""
    if isinstance(ref, ByNumber):
        row = instances.read_item(conn, ref.id)
    else:
        row = instances.read_item_by_codes(conn, ref.round, ref.unit, ref.item)
        if row is None:
            codes = {"round_code": ref.round, "unit_code": ref.unit, "item_code": ref.item}
            lowered = {name: str(code).lower() for name, code in codes.items()}
            row = _unique(conn.execute(q.ITEM_BY_KEY_CI, lowered).mappings(), ref.label)
    if row is None:
        raise NotFound(f"{ref.label} does not exist")
    return InstanceRef(row["id"], key_from_row(row), row)


def resolve_clue(conn: Connection, ref: Reference) -> InstanceRef:
    """The clue a reference names, with its instance row (and its receiver)."""
    if isinstance(ref, ByNumber):
        row = instances.read_clue(conn, ref.id)
    else:
        row = instances.read_clue_by_codes(conn, ref.round, ref.unit, ref.clue)
        if row is None:
            codes = {"round_code": ref.round, "unit_code": ref.unit, "clue_code": ref.clue}
            lowered = {name: str(code).lower() for name, code in codes.items()}
            row = _unique(conn.execute(q.CLUE_BY_KEY_CI, lowered).mappings(), ref.label)
    if row is None:
        raise NotFound(f"{ref.label} does not exist")
    return InstanceRef(row["id"], key_from_row(row), row)


def resolve_task(conn: Connection, ref: Reference) -> TaskRef:
    """The task a reference names (`ID`, `ITEM_ID#N` or `ROUND/UNIT/ITEM#N`)."""
    if isinstance(ref, ByNumber) and ref.task is None:
        found = _TASK_BY_ID.first(conn, {"task_id": ref.id})
        if found is None:
            raise NotFound(f"task #{ref.id} does not exist")
        item = resolve_item(conn, ByNumber("item", found["item_id"]))
    else:
        if isinstance(ref, ByNumber):
            item, number = resolve_item(conn, ByNumber("item", ref.id)), ref.task
        else:
            item, number = resolve_item(conn, ref.owner), ref.task
        found = _TASK_BY_NUMBER.first(conn, {"item_id": item.id, "number": number})
        if found is None:
            raise NotFound(f"{item.label} has no task #{number}")
    return TaskRef(found["id"], found["number"], item, found)


def resolve(conn: Connection, ref: Reference) -> InstanceRef:
    """The case, item or clue a reference names."""
    if ref.kind == "item":
        return resolve_item(conn, ref)
    if ref.kind == "clue":
        return resolve_clue(conn, ref)
    return resolve_case(conn, ref)


def _keys() -> Select[Any]:
    i, c, r, u, it, cl = q.instances, q.cases, q.rounds, q.units, q.items, q.clues
    return (
        select(
            i.c.id,
            r.c.code.label("round_code"),
            u.c.code.label("unit_code"),
            it.c.code.label("item_code"),
            cl.c.code.label("clue_code"),
        )
        .select_from(i)
        .outerjoin(it, it.c.id == i.c.id)
        .outerjoin(cl, cl.c.id == i.c.id)
        .join(c, c.c.id == func.coalesce(it.c.case_id, cl.c.case_id, i.c.id))
        .join(r, r.c.id == c.c.round_id)
        .join(u, u.c.id == c.c.unit_id)
    )


def instance_key(conn: Connection, instance_id: int) -> InstanceKey | None:
    """The key of one instance (None if it has none)."""
    row = conn.execute(_keys().where(q.instances.c.id == instance_id)).mappings().first()
    return None if row is None else key_from_row(row)


def instance_keys(
    conn: Connection, where: ColumnElement[bool] | None = None
) -> dict[int, InstanceKey]:
    """The keys of every instance that has one (of those `where` selects)."""
    keys = {}
    statement = _keys() if where is None else _keys().where(where)
    for row in conn.execute(statement).mappings():
        key = key_from_row(row)
        if key is not None:
            keys[row["id"]] = key
    return keys


def label_of(keys: Mapping[int, InstanceKey], instance_id: int) -> str:
    """How messages name an instance, from a mapping of keys."""
    key = keys.get(instance_id)
    return key.label if key is not None else f"instance #{instance_id}"


def resolve_round(conn: Connection, code: str) -> int:
    """The id of round `code` (in any case)."""
    found = find_round(conn, code)
    if found is None:
        raise NotFound(f"round {code} does not exist")
    return int(found.id)


def find_round(conn: Connection, code: str) -> Row[Any] | None:
    """Round `code` (in any case), or None."""
    r = q.rounds
    return by_code(conn, select(r), r.c.code, code, f"round {code}")


def find_group(conn: Connection, round_id: int, code: str) -> Row[Any] | None:
    """Group `code` of a round (in any case), or None."""
    g = q.groups
    return by_code(conn, select(g).where(g.c.round_id == round_id), g.c.code, code, f"group {code}")


def find_batch(conn: Connection, round_id: int, code: str) -> Row[Any] | None:
    """Batch `code` of a round (in any case), or None."""
    b = q.batches
    return by_code(conn, select(b).where(b.c.round_id == round_id), b.c.code, code, f"batch {code}")


def find_unit(conn: Connection, code: str) -> Row[Any] | None:
    """Unit `code` (in any case), or None."""
    u = q.units
    return by_code(conn, select(u), u.c.code, code, f"unit {code}")


def _codes_in_case(table: Any) -> Prepared:
    return Prepared(
        select(table.c.code).where(
            table.c.case_id == bindparam("case_id"), func.lower(table.c.code) == bindparam("lower")
        )
    )


# A case's item or clue codes equal to one in any case: one read, a case has few.
_ITEM_CODES = _codes_in_case(q.items)
_CLUE_CODES = _codes_in_case(q.clues)


def find_item_code(conn: Connection, case_id: int, code: str) -> str | None:
    """How the case's item `code` (in any case) is stored, or None if the case has none."""
    return _stored_code(_ITEM_CODES, conn, case_id, code, f"item {code}")


def find_clue_code(conn: Connection, case_id: int, code: str) -> str | None:
    """How the case's clue `code` (in any case) is stored, or None if the case has none."""
    return _stored_code(_CLUE_CODES, conn, case_id, code, f"clue {code}")


def _stored_code(
    statement: Prepared, conn: Connection, case_id: int, code: str, label: str
) -> str | None:
    """`code` as the case stores it: as written first, else the one equal in any case."""
    stored = [
        str(code) for (code,) in statement.all(conn, {"case_id": case_id, "lower": code.lower()})
    ]
    if code in stored:
        return code
    found: str | None = _unique(stored, label)
    return found


def by_code(
    conn: Connection, stmt: Select[Any], column: ColumnElement[str], code: str, label: str
) -> Row[Any] | None:
    """The one row of `stmt` whose `column` is `code`: as written first, else in any case."""
    exact = conn.execute(stmt.where(column == code)).first()
    if exact is not None:
        return exact
    found: Row[Any] | None = _unique(
        conn.execute(stmt.where(func.lower(column) == code.lower()).limit(2)), label
    )
    return found


def _unique(rows: Any, label: str) -> Any:
    """The only row, None for none; two rows (codes stored before they were matched in any
    case, differing only in case) are ambiguous."""
    found = list(rows)
    if len(found) > 1:
        raise BadInput(f"{label} matches codes that differ only in case: type it exactly")
    return found[0] if found else None
