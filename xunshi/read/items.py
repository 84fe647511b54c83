"""Rectification items and their tasks as people and scripts see them: `item show`, `item list`.

A void item (撤销) is left out unless a query asks for it (`include_void`): out of `item
list`, the ledger, the thematic view and the round's report. Its stage and tasks are never
late: nothing more can happen to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Select, and_, or_, select

from xunshi.keys import InstanceKey, Reference, reference
from xunshi.paging import WHOLE, Page, keyset
from xunshi.read.cases import void_json
from xunshi.read.common import PairKey, common_pairs, is_common
from xunshi.read.context import ReadContext
from xunshi.read.extensions import ExtensionView, extensions_of, original_due
from xunshi.storage import queries as q
from xunshi.workflow.outcomes import NOTHING, Outcome, from_row, total
from xunshi.workflow.resolve import resolve_case, resolve_item, resolve_round, resolve_task
from xunshi.workflow.voids import VoidRecord, void_records


@dataclass(frozen=True, slots=True)
class TaskView:
    """A task as people and scripts see it."""

    id: int
    number: int
    measure: str
    responsible_leader: str
    lead_department: str
    cooperating_departments: str
    responsible_person: str
    due_on: date | None
    long_term: bool
    status: str
    progress: str
    evidence: str
    completed_on: date | None
    overdue: bool
    days_left: int | None
    # Its extension requests (延期申请), oldest first.
    extensions: tuple[ExtensionView, ...] = ()
    outcome: Outcome | None = None  # 整改成果 recorded when it was done

    @property
    def pending_extension(self) -> ExtensionView | None:
        """The request the office has not decided yet, if any."""
        return next((e for e in self.extensions if e.status == "pending"), None)

    @property
    def original_due(self) -> date | None:
        """The due date before any approved extension (None: never extended)."""
        return original_due(self.extensions)

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The `--json` shape of a task."""
        return {
            "id": self.id,
            "number": self.number,
            "measure": self.measure,
            "responsible_leader": self.responsible_leader,
            "lead_department": self.lead_department,
            "cooperating_departments": self.cooperating_departments,
            "responsible_person": self.responsible_person,
            "due_on": None if self.due_on is None else self.due_on.isoformat(),
            "long_term": self.long_term,
            "status": self.status,
            "progress": self.progress,
            "evidence": self.evidence,
            "completed_on": None if self.completed_on is None else self.completed_on.isoformat(),
            "overdue": self.overdue,
            "original_due_on": None if self.original_due is None else self.original_due.isoformat(),
            "extensions": [e.to_json(tz) for e in self.extensions],
            "outcome": None if self.outcome is None else self.outcome.to_json(),
        }


@dataclass(frozen=True, slots=True)
class ItemView:
    """An item with its tasks."""

    id: int
    key: InstanceKey
    unit_name: str
    group: str
    kind: str  # the case's definition title (常规巡视 …)
    code: str
    title: str
    manifestations: str
    category_l1: str
    category_l2: str
    key_problem: bool
    common_problem: bool  # computed: see read/common.py
    fix_now: bool
    root_cause: str
    source: str
    definition: str
    definition_version: int
    state: str
    state_title: str
    final: bool
    entered_at: datetime
    due_on: date | None
    provisional: bool
    stage_overdue: bool
    suspended: bool
    milestones: Mapping[str, str]
    version: int
    changed_at: datetime  # when its last event happened (a task's change is one)
    tasks: tuple[TaskView, ...]
    # What the current state means (its declared tags) and the milestones it declares
    # (name, title), so that reports never need to know state names.
    tags: tuple[str, ...] = ()
    declared_milestones: tuple[tuple[str, str], ...] = ()
    voided: VoidRecord | None = None  # withdrawn (撤销): who, when, why
    # The codes of the clues (问题线索) it arose from: never their summaries.
    clues: tuple[str, ...] = ()
    own_outcome: Outcome | None = None  # 整改成果 recorded for the item as a whole
    recurs_from: InstanceKey | None = None  # 屡改屡犯: the earlier round's item
    recurs_from_title: str = ""
    # Its business-domain tags (业务领域), in the tag list's order (`tags` above is the
    # state's).
    domain_tags: tuple[str, ...] = ()

    @property
    def outcome(self) -> Outcome:
        """Its tasks' outcomes and its own, added up (each rule title once)."""
        recorded = [t.outcome for t in self.tasks if t.outcome is not None]
        return total([*recorded, self.own_outcome or NOTHING])

    @property
    def case(self) -> InstanceKey:
        """The case the item belongs to."""
        return self.key.case

    @property
    def round(self) -> str:
        """The round's code."""
        return self.key.round

    @property
    def unit(self) -> str:
        """The unit's code."""
        return self.key.unit

    @property
    def overdue(self) -> bool:
        """Its stage is past due, or one of its open tasks is."""
        return self.stage_overdue or any(t.overdue for t in self.tasks)

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The `--json` shape of an item."""
        return {
            "id": self.id,
            "key": str(self.key),
            "case": str(self.case),
            "round": self.round,
            "unit": self.unit,
            "group": self.group,
            "code": self.code,
            "title": self.title,
            "manifestations": self.manifestations,
            "category": f"{self.category_l1}/{self.category_l2}",
            "tags": list(self.domain_tags),
            "key_problem": self.key_problem,
            "common_problem": self.common_problem,
            "fix_now": self.fix_now,
            "root_cause": self.root_cause,
            "source": self.source,
            "definition": self.definition,
            "definition_version": self.definition_version,
            "state": self.state,
            "state_title": self.state_title,
            "entered_at": self.entered_at.astimezone(tz).isoformat(),
            "due_on": None if self.due_on is None else self.due_on.isoformat(),
            "provisional": self.provisional,
            "overdue": self.overdue,
            "suspended": self.suspended,
            "milestones": {
                name: datetime.fromisoformat(at).astimezone(tz).isoformat()
                for name, at in self.milestones.items()
            },
            "version": self.version,
            "tasks": [t.to_json(tz) for t in self.tasks],
            "voided": void_json(self.voided, tz),
            "clues": [str(self.case.clue_key(code)) for code in self.clues],
            "outcome": self.outcome.to_json(),
            "own_outcome": None if self.own_outcome is None else self.own_outcome.to_json(),
            "recurs_from": None if self.recurs_from is None else str(self.recurs_from),
        }


def _item_select() -> Select[Any]:
    i, it, c, r, u, g, cat = (
        q.instances,
        q.items,
        q.cases,
        q.rounds,
        q.units,
        q.groups,
        q.categories,
    )
    case_instance = i.alias("case_instance")
    return (
        select(
            i,
            it.c.code.label("item_code"),
            it.c.title.label("item_title"),
            it.c.manifestations,
            it.c.key_problem,
            it.c.fix_now,
            it.c.root_cause,
            it.c.source,
            cat.c.level1,
            cat.c.level2,
            r.c.code.label("round_code"),
            u.c.code.label("unit_code"),
            u.c.name.label("unit_name"),
            g.c.code.label("group_code"),
            case_instance.c.definition_name.label("case_definition"),
            case_instance.c.definition_version.label("case_definition_version"),
        )
        .select_from(it)
        .join(i, i.c.id == it.c.id)
        .join(c, c.c.id == it.c.case_id)
        .join(case_instance, case_instance.c.id == c.c.id)
        .join(r, r.c.id == c.c.round_id)
        .join(u, u.c.id == c.c.unit_id)
        .join(g, g.c.id == c.c.group_id)
        .join(cat, cat.c.id == it.c.category_id)
    )


@dataclass(frozen=True, slots=True)
class ItemFilter:
    """Which items a query wants: every filter given must hold."""

    case: str | Reference | None = None
    round_code: str | None = None
    state: str | None = None
    category: str | None = None
    overdue: bool = False
    owner: str | None = None
    include_void: bool = False
    tag: str | None = None


class ItemQueries:
    """Item views, with their tasks."""

    def __init__(self, ctx: ReadContext) -> None:
        self.ctx = ctx

    def one(self, item: str | Reference) -> ItemView:
        """One item."""
        with self.ctx.reading() as conn:
            ref = resolve_item(conn, reference(item, "item"))
            row = conn.execute(_item_select().where(q.items.c.id == ref.id)).mappings().one()
            return self._views(conn, [row], self.ctx.today())[0]

    def task(self, task: str | Reference) -> tuple[ItemView, TaskView]:
        """One task with its item (`task show`)."""
        with self.ctx.reading() as conn:
            ref = resolve_task(conn, reference(task, "task"))
            row = conn.execute(_item_select().where(q.items.c.id == ref.item.id)).mappings().one()
            view = self._views(conn, [row], self.ctx.today())[0]
        return view, next(t for t in view.tasks if t.id == ref.id)

    def many(
        self,
        *,
        case: str | Reference | None = None,
        round_code: str | None = None,
        state: str | None = None,
        category: str | None = None,
        overdue: bool = False,
        owner: str | None = None,
        include_void: bool = False,
        tag: str | None = None,
    ) -> list[ItemView]:
        """Items matching every filter given, by case and code; void ones only if asked for."""
        wanted = ItemFilter(case, round_code, state, category, overdue, owner, include_void, tag)
        with self.ctx.reading() as conn:
            return self.in_transaction(conn, wanted)

    def in_transaction(self, conn: Connection, wanted: ItemFilter) -> list[ItemView]:
        """`many` inside a read transaction another query opened (reports)."""
        stmt = self._filtered(conn, wanted)
        views = self._views(conn, list(conn.execute(stmt).mappings()), self.ctx.today())
        return [v for v in views if v.overdue] if wanted.overdue else views

    def stream(
        self,
        *,
        case: str | Reference | None = None,
        round_code: str | None = None,
        state: str | None = None,
        category: str | None = None,
        overdue: bool = False,
        owner: str | None = None,
        include_void: bool = False,
        tag: str | None = None,
        page: Page[InstanceKey] = WHOLE,
        including: bool = False,
    ) -> Iterator[ItemView]:
        """`many`'s items (ROUND/UNIT/CODE order), the page of them after `page.after` (from
        it, `including`: a task list resuming inside an item), read in keyset batches each
        in a short read of its own, so that memory does not grow with the list. The filters
        are checked before this returns (a bad one raises here)."""
        wanted = ItemFilter(case, round_code, state, category, overdue, owner, include_void, tag)
        with self.ctx.reading() as conn:
            stmt = self._filtered(conn, wanted)
        today = self.ctx.today()
        common: dict[str, set[PairKey]] = {}  # per round, found once for the whole list
        r, u, it = q.rounds, q.units, q.items
        resumed = [False]  # whether a batch was read (only the first may include the cursor)

        def fetch(
            after: InstanceKey | None, size: int
        ) -> tuple[list[ItemView], InstanceKey | None]:
            batch, first = stmt, not resumed[0]
            resumed[0] = True
            if after is not None:
                code = it.c.code >= after.item if including and first else it.c.code > after.item
                batch = batch.where(
                    or_(
                        r.c.code > after.round,
                        and_(r.c.code == after.round, u.c.code > after.unit),
                        and_(
                            r.c.code == after.round,
                            u.c.code == after.unit,
                            code,
                        ),
                    )
                )
            with self.ctx.reading() as conn:
                rows = conn.execute(batch.limit(size)).mappings().all()
                rounds = {row["round_code"] for row in rows} - common.keys()
                found = common_pairs(conn, rounds, self.ctx.common_units)
                for code in rounds:
                    common[code] = {pair for pair in found if pair[0] == code}
                views = self._views(conn, rows, today, set().union(*common.values()))
            if len(rows) < size:
                return [v for v in views if v.overdue or not wanted.overdue], None
            end = InstanceKey(rows[-1]["round_code"], rows[-1]["unit_code"], rows[-1]["item_code"])
            return [v for v in views if v.overdue or not wanted.overdue], end

        return keyset(fetch, page)

    def _filtered(self, conn: Connection, wanted: ItemFilter) -> Select[Any]:
        """The item select narrowed to the filters the database can apply (all but
        `overdue`, which a task's due date decides), in ROUND/UNIT/CODE order: an item's
        key, unique. Checks the filters (a case, a round or a state that names nothing)."""
        it, i, r, u, cat, t = q.items, q.instances, q.rounds, q.units, q.categories, q.tasks
        case, round_code, state = wanted.case, wanted.round_code, wanted.state
        category, owner = wanted.category, wanted.owner
        stmt = _item_select().order_by(r.c.code, u.c.code, it.c.code)
        if case is not None:
            stmt = stmt.where(it.c.case_id == resolve_case(conn, reference(case, "case")).id)
        if round_code is not None:
            stmt = stmt.where(r.c.id == resolve_round(conn, round_code))
        if state is not None:
            self.ctx.registry.check_state(conn, "item", state)
            stmt = stmt.where(i.c.state == state)
        if category is not None:
            level1, _, level2 = category.partition("/")
            stmt = stmt.where(cat.c.level1 == level1.strip())
            if level2:
                stmt = stmt.where(cat.c.level2 == level2.strip())
        if owner is not None:
            pattern = f"%{owner.strip()}%"
            owned = select(t.c.item_id).where(
                or_(
                    t.c.responsible_leader.like(pattern),
                    t.c.lead_department.like(pattern),
                    t.c.responsible_person.like(pattern),
                    t.c.cooperating_departments.like(pattern),
                )
            )
            stmt = stmt.where(it.c.id.in_(owned))
        if wanted.tag is not None:
            tagged = (
                select(q.item_tags.c.item_id)
                .join(q.tags, q.tags.c.id == q.item_tags.c.tag_id)
                .where(q.tags.c.name == wanted.tag.strip())
            )
            stmt = stmt.where(it.c.id.in_(tagged))
        if not wanted.include_void:
            stmt = stmt.where(i.c.voided.is_(False))
        return stmt

    def _views(
        self,
        conn: Connection,
        rows: Sequence[Mapping[Any, Any]],
        today: date,
        common: set[PairKey] | None = None,
    ) -> list[ItemView]:
        ids = [row["id"] for row in rows]
        tasks = self._tasks(conn, ids, today)
        voided = void_records(conn, [row["id"] for row in rows if row["voided"]])
        clues = _clue_codes(conn, ids)
        recorded = _outcomes(conn, ids)
        earlier = _recurrences(conn, ids)
        tags = _tag_names(conn, ids)
        if common is None:
            rounds = [row["round_code"] for row in rows]
            common = common_pairs(conn, rounds, self.ctx.common_units)
        views = []
        for row in rows:
            own = recorded.get(row["id"], {})
            item_tags = tags.get(row["id"], ())
            # A void item counts for nothing, and is no common problem itself.
            common_problem = not row["voided"] and is_common(
                common, row["round_code"], (row["level1"], row["level2"]), item_tags
            )
            view = self._view(
                conn,
                row,
                [replace(t, outcome=own.get(t.id)) for t in tasks.get(row["id"], ())],
                today,
                voided.get(row["id"]),
                clues.get(row["id"], ()),
            )
            recurs = earlier.get(row["id"])
            views.append(
                replace(
                    view,
                    own_outcome=own.get(0),
                    recurs_from=None if recurs is None else recurs[0],
                    recurs_from_title="" if recurs is None else recurs[1],
                    common_problem=common_problem,
                    domain_tags=item_tags,
                )
            )
        return views

    def _tasks(
        self, conn: Connection, item_ids: list[int], today: date
    ) -> dict[int, tuple[TaskView, ...]]:
        if not item_ids:
            return {}
        t = q.tasks
        found: dict[int, list[TaskView]] = {}
        for start in range(0, len(item_ids), 500):
            chunk = item_ids[start : start + 500]
            rows = conn.execute(
                select(t).where(t.c.item_id.in_(chunk)).order_by(t.c.item_id, t.c.number)
            ).mappings()
            for row in rows:
                found.setdefault(row["item_id"], []).append(task_view(row, today))
        extensions = extensions_of(conn, [t.id for views in found.values() for t in views])
        return {
            item_id: tuple(replace(t, extensions=extensions.get(t.id, ())) for t in views)
            for item_id, views in found.items()
        }

    def _view(
        self,
        conn: Connection,
        row: Mapping[Any, Any],
        tasks: Sequence[TaskView],
        today: date,
        voided: VoidRecord | None = None,
        clues: tuple[str, ...] = (),
    ) -> ItemView:
        defn = self.ctx.definition(conn, row["definition_name"], row["definition_version"])
        kind = self.ctx.definition(
            conn, row["case_definition"], row["case_definition_version"]
        ).title
        state = defn.state(row["state"])
        due_on: date | None = row["due_on"]
        suspended = bool(row["suspended"])
        if voided is not None:  # nothing more can happen to it: nothing of it is late
            tasks = [replace(task, overdue=False) for task in tasks]
        stopped = suspended or voided is not None
        return ItemView(
            id=row["id"],
            key=InstanceKey(row["round_code"], row["unit_code"], row["item_code"]),
            unit_name=row["unit_name"],
            group=row["group_code"],
            kind=kind,
            code=row["item_code"],
            title=row["item_title"],
            manifestations=row["manifestations"],
            category_l1=row["level1"],
            category_l2=row["level2"],
            key_problem=bool(row["key_problem"]),
            common_problem=False,  # computed for the round by `_views`
            fix_now=bool(row["fix_now"]),
            root_cause=row["root_cause"],
            source=row["source"],
            definition=defn.name,
            definition_version=row["definition_version"],
            state=state.name,
            state_title=state.title,
            final=state.final,
            entered_at=row["entered_at"],
            due_on=due_on,
            provisional=bool(row["provisional"]),
            stage_overdue=due_on is not None and not stopped and today > due_on,
            suspended=suspended,
            milestones=json.loads(row["milestones"]),
            version=row["version"],
            changed_at=row["last_occurred_at"],
            tasks=tuple(tasks),
            tags=state.tags,
            declared_milestones=tuple((m.name, m.title) for m in state.milestones),
            voided=voided,
            clues=clues,
        )


def _clue_codes(conn: Connection, item_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """Item id → the codes of the clues linked to it, in code order."""
    links, cl = q.clue_items, q.clues
    found: dict[int, list[str]] = {}
    for start in range(0, len(item_ids), 500):
        rows = conn.execute(
            select(links.c.item_id, cl.c.code)
            .join(cl, cl.c.id == links.c.clue_id)
            .where(links.c.item_id.in_(list(item_ids[start : start + 500])))
            .order_by(links.c.item_id, cl.c.code)
        )
        for item_id, code in rows:
            found.setdefault(item_id, []).append(code)
    return {item_id: tuple(codes) for item_id, codes in found.items()}


def _outcomes(conn: Connection, item_ids: Sequence[int]) -> dict[int, dict[int, Outcome]]:
    """Item id → task id (0: the item's own) → its 整改成果."""
    o = q.outcomes
    found: dict[int, dict[int, Outcome]] = {}
    for start in range(0, len(item_ids), 500):
        rows = conn.execute(
            select(o).where(o.c.item_id.in_(list(item_ids[start : start + 500])))
        ).mappings()
        for row in rows:
            found.setdefault(row["item_id"], {})[row["task_id"]] = from_row(row)
    return found


def _recurrences(conn: Connection, item_ids: Sequence[int]) -> dict[int, tuple[InstanceKey, str]]:
    """Item id → the key and title of the earlier item it recurs from (屡改屡犯)."""
    link, it, c, r, u = q.item_recurs_from, q.items, q.cases, q.rounds, q.units
    found: dict[int, tuple[InstanceKey, str]] = {}
    for start in range(0, len(item_ids), 500):
        rows = conn.execute(
            select(link.c.item_id, r.c.code, u.c.code, it.c.code, it.c.title)
            .join(it, it.c.id == link.c.earlier_item_id)
            .join(c, c.c.id == it.c.case_id)
            .join(r, r.c.id == c.c.round_id)
            .join(u, u.c.id == c.c.unit_id)
            .where(link.c.item_id.in_(list(item_ids[start : start + 500])))
        )
        for item_id, round_code, unit_code, code, title in rows:
            found[item_id] = (InstanceKey(round_code, unit_code, code), title)
    return found


def _tag_names(conn: Connection, item_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """Item id → its tags' names, in the tag list's order."""
    links, t = q.item_tags, q.tags
    found: dict[int, list[str]] = {}
    for start in range(0, len(item_ids), 500):
        rows = conn.execute(
            select(links.c.item_id, t.c.name)
            .join(t, t.c.id == links.c.tag_id)
            .where(links.c.item_id.in_(list(item_ids[start : start + 500])))
            .order_by(links.c.item_id, t.c.position, t.c.id)
        )
        for item_id, name in rows:
            found.setdefault(item_id, []).append(name)
    return {item_id: tuple(names) for item_id, names in found.items()}


def task_view(row: Mapping[Any, Any], today: date) -> TaskView:
    """A TaskView from a `rectification_task` row."""
    due_on: date | None = row["due_on"]
    done = row["status"] == "done"
    return TaskView(
        id=row["id"],
        number=row["number"],
        measure=row["measure"],
        responsible_leader=row["responsible_leader"],
        lead_department=row["lead_department"],
        cooperating_departments=row["cooperating_departments"],
        responsible_person=row["responsible_person"],
        due_on=due_on,
        long_term=bool(row["long_term"]),
        status=row["status"],
        progress=row["progress"],
        evidence=row["evidence"],
        completed_on=row["completed_on"],
        overdue=due_on is not None and not done and today > due_on,
        days_left=None if due_on is None or done else (due_on - today) // timedelta(days=1),
    )
