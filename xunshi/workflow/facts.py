"""Loading the facts guards ask for, in the command's transaction, before the decision.

Each fact is a name (`case_items`, `item_tasks`) with a loader that reads it for one
instance; the engine loads only what the guards of the transition being fired need.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import Connection, bindparam, select

from xunshi.definitions.schema import Definition
from xunshi.storage import queries as q
from xunshi.storage.prepared import Prepared
from xunshi.workflow.guards import ItemFact, TaskFact

DefinitionOf = Callable[[str, int], Definition]
Loader = Callable[[Connection, int, DefinitionOf], Any]

_i, _it, _t, _e = q.instances, q.items, q.tasks, q.events
_CASE_ITEMS = Prepared(
    select(_it.c.code, _i.c.state, _i.c.definition_name, _i.c.definition_version)
    .join(_i, _i.c.id == _it.c.id)
    .where(_it.c.case_id == bindparam("case_id"), _i.c.voided.is_(False))
    .order_by(_it.c.code)
)
_ITEM_TASKS = Prepared(
    select(_t.c.number, _t.c.status)
    .where(_t.c.item_id == bindparam("item_id"))
    .order_by(_t.c.number)
)
_EVALUATIONS = Prepared(
    select(_e.c.seq)
    .where(
        _e.c.instance_id == bindparam("case_id"),
        _e.c.kind == "evaluated",
        _e.c.seq > select(_i.c.stage_seq).where(_i.c.id == bindparam("case_id")).scalar_subquery(),
    )
    .order_by(_e.c.seq)
)


def _case_items(conn: Connection, case_id: int, definition_of: DefinitionOf) -> list[ItemFact]:
    """The case's items by code, each with whether its own definition calls its state settled.

    A void item (withdrawn as a mistaken record) is none of the case's problems.
    """
    rows = _CASE_ITEMS.all(conn, {"case_id": case_id})
    return [
        ItemFact(code, state, definition_of(name, version).state(state).has_tag("settled"))
        for code, state, name, version in rows
    ]


def _item_tasks(conn: Connection, item_id: int, _definition_of: DefinitionOf) -> list[TaskFact]:
    """The item's tasks by number, with their status."""
    rows = _ITEM_TASKS.all(conn, {"item_id": item_id})
    return [TaskFact(number, status) for number, status in rows]


def _evaluation(conn: Connection, case_id: int, _definition_of: DefinitionOf) -> list[int]:
    """The seqs of the case's evaluations (`evaluated` events) since it entered its stage."""
    rows = _EVALUATIONS.all(conn, {"case_id": case_id})
    return [seq for (seq,) in rows]


LOADERS: dict[str, Loader] = {
    "case_items": _case_items,
    "item_tasks": _item_tasks,
    "evaluation": _evaluation,
}


def load_facts(
    conn: Connection, instance_id: int, names: Collection[str], definition_of: DefinitionOf
) -> dict[str, Any]:
    """The named facts about one instance."""
    return {name: LOADERS[name](conn, instance_id, definition_of) for name in sorted(names)}
