"""Loading the facts guards ask for, in the command's transaction, before the decision.

Each fact is a name (`case_items`, `item_tasks`) with a loader that reads it for one
instance; the engine loads only what the guards of the transition being fired need.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import Connection, select

from xunshi.definitions.schema import Definition
from xunshi.storage import queries as q
from xunshi.workflow.guards import ItemFact, TaskFact

DefinitionOf = Callable[[str, int], Definition]
Loader = Callable[[Connection, int, DefinitionOf], Any]


def _case_items(conn: Connection, case_id: int, definition_of: DefinitionOf) -> list[ItemFact]:
    """The case's items by code, each with whether its own definition calls its state settled.

    A void item (withdrawn as a mistaken record) is none of the case's problems.
    """
    i, it = q.instances, q.items
    rows = conn.execute(
        select(it.c.code, i.c.state, i.c.definition_name, i.c.definition_version)
        .join(i, i.c.id == it.c.id)
        .where(it.c.case_id == case_id, i.c.voided.is_(False))
        .order_by(it.c.code)
    ).all()
    return [
        ItemFact(code, state, definition_of(name, version).state(state).has_tag("settled"))
        for code, state, name, version in rows
    ]


def _item_tasks(conn: Connection, item_id: int, _definition_of: DefinitionOf) -> list[TaskFact]:
    """The item's tasks by number, with their status."""
    t = q.tasks
    rows = conn.execute(
        select(t.c.number, t.c.status).where(t.c.item_id == item_id).order_by(t.c.number)
    ).all()
    return [TaskFact(number, status) for number, status in rows]


def _evaluation(conn: Connection, case_id: int, _definition_of: DefinitionOf) -> list[int]:
    """The seqs of the case's evaluations (`evaluated` events) since it entered its stage."""
    i, e = q.instances, q.events
    entered = select(i.c.stage_seq).where(i.c.id == case_id).scalar_subquery()
    rows = conn.execute(
        select(e.c.seq)
        .where(e.c.instance_id == case_id, e.c.kind == "evaluated", e.c.seq > entered)
        .order_by(e.c.seq)
    ).all()
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
