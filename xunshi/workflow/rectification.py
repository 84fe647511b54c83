"""Rectification: problems (items) of a case, their measures (tasks), the category list.

An item is an instance of a `subject: item` definition (the built-in `rectification`);
its lifecycle runs through the engine like a case's. Tasks — the measures with who answers
for them and by when (三清单: problems, tasks, responsibilities) — are rows whose every
change is a `task` event in the item's history, so `audit verify` replays them too. A task
with a due date has a timer and escalates up the definition's ladder like a stage does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

from xunshi.definitions.schema import Definition
from xunshi.errors import AlreadyExists, BadInput, Conflict, NotFound, Refused
from xunshi.storage import queries as q
from xunshi.storage.db import Database
from xunshi.workflow.audit import TASK_FIELDS
from xunshi.workflow.codes import check_code, check_text
from xunshi.workflow.engine import Engine, InstanceRef, Outcome, ReadSet, conflict_message
from xunshi.workflow.inspection import Inspection
from xunshi.workflow.lifecycle import Lifecycles
from xunshi.workflow.schedule import Schedule, dedup_key

if TYPE_CHECKING:
    from xunshi.workflow.items_import import ImportedItems

ITEM_DEFINITION = "rectification"
ITEM_KEY_EXAMPLE = "2024-R1/U01/P01"
# Where a problem came from: key → what the ledger shows.
SOURCES: dict[str, str] = {"inspection": "巡视发现", "audit": "巡审联动", "lead": "线索移交"}


@dataclass(frozen=True, slots=True)
class Category:
    """One entry of the office's two-level category list."""

    id: int
    level1: str
    level2: str

    @property
    def label(self) -> str:
        """`一级/二级`."""
        return f"{self.level1}/{self.level2}"


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What the office records about a problem when it adds it."""

    code: str
    title: str
    category: str  # `一级/二级`
    manifestations: str = ""
    key_problem: bool = False
    common_problem: bool = False
    fix_now: bool = False
    root_cause: str = ""
    source: str = "inspection"


@dataclass(frozen=True, slots=True)
class TaskFacts:
    """A measure and who answers for it."""

    measure: str
    responsible_leader: str
    lead_department: str
    responsible_person: str
    cooperating_departments: str = ""
    due_on: date | None = None
    long_term: bool = False

    def checked(self) -> TaskFacts:
        """The same facts, trimmed, or BadInput naming what is wrong."""
        if self.due_on is not None and self.long_term:
            raise BadInput("a task is either long-term or has a due date (--due), not both")
        if self.due_on is None and not self.long_term:
            raise BadInput("a task needs a due date (--due) or --long-term")
        return TaskFacts(
            measure=check_text("measure", self.measure),
            responsible_leader=check_text("responsible leader", self.responsible_leader),
            lead_department=check_text("lead department", self.lead_department),
            responsible_person=check_text("responsible person", self.responsible_person),
            cooperating_departments=self.cooperating_departments.strip(),
            due_on=self.due_on,
            long_term=self.long_term,
        )

    def record(self) -> dict[str, Any]:
        """The JSON form kept in the history."""
        return {
            "measure": self.measure,
            "responsible_leader": self.responsible_leader,
            "lead_department": self.lead_department,
            "cooperating_departments": self.cooperating_departments,
            "responsible_person": self.responsible_person,
            "due_on": None if self.due_on is None else self.due_on.isoformat(),
            "long_term": self.long_term,
        }


@dataclass(frozen=True, slots=True)
class TaskRef:
    """A task, its item, and how messages name it (`task 2024-R1/U01/P01#2`)."""

    id: int
    number: int
    item: InstanceRef
    row: dict[str, Any] = field(compare=False, repr=False)

    @property
    def label(self) -> str:
        """How messages name the task."""
        return f"task {self.item.label.removeprefix('item ')}#{self.number}"


class Rectification(Lifecycles):
    """Items, tasks and categories (fire, milestones, suspension: see Lifecycles)."""

    def __init__(
        self, db: Database, engine: Engine, inspection: Inspection, schedule: Schedule
    ) -> None:
        super().__init__(db, engine)
        self.inspection = inspection
        self.schedule = schedule

    # -- categories -------------------------------------------------------------------

    def load_categories(self, text: str, source_name: str) -> tuple[int, int, int]:
        """Make the category list what the file says: (added, kept, removed).

        A category still used by an item cannot be removed.
        """
        wanted = parse_categories(text, source_name)

        def work(conn: Connection) -> tuple[int, int, int]:
            c = q.categories
            current = {
                (row.level1, row.level2): row.id
                for row in conn.execute(
                    select(c.c.id, c.c.level1, c.c.level2).order_by(c.c.position, c.c.id)
                )
            }
            gone = [key for key in current if key not in wanted]
            used = {row[0] for row in conn.execute(select(q.items.c.category_id).distinct())}
            still_used = [f"{l1}/{l2}" for l1, l2 in gone if current[(l1, l2)] in used]
            if still_used:
                raise Refused(
                    f"{source_name}: categories still used by items cannot be removed: "
                    + ", ".join(still_used)
                )
            for key in gone:
                conn.execute(c.delete().where(c.c.id == current[key]))
            added = 0
            for position, key in enumerate(wanted):
                if key in current:
                    conn.execute(c.update().where(c.c.id == current[key]).values(position=position))
                else:
                    conn.execute(
                        c.insert(), {"level1": key[0], "level2": key[1], "position": position}
                    )
                    added += 1
            return added, len(wanted) - added, len(gone)

        return self.db.run(work, immediate=True)

    def categories(self) -> list[Category]:
        """The category list, in the office's order."""
        c = q.categories
        with self.db.transaction() as conn:
            rows = conn.execute(
                select(c.c.id, c.c.level1, c.c.level2).order_by(c.c.position, c.c.id)
            )
            return [Category(*row) for row in rows]

    def category(self, conn: Connection, text: str) -> Category:
        """The category written `一级/二级`."""
        level1, _, level2 = text.strip().partition("/")
        c = q.categories
        row = conn.execute(
            select(c.c.id, c.c.level1, c.c.level2).where(
                c.c.level1 == level1.strip(), c.c.level2 == level2.strip()
            )
        ).first()
        if row is None:
            if not level2:
                raise BadInput(f"category {text!r} must be written 一级类别/二级类别")
            raise NotFound(
                f"category {text} is not in the category list (see `xunshi categories list`)"
            )
        return Category(*row)

    # -- items ------------------------------------------------------------------------

    def add_item(
        self,
        case: str,
        facts: ItemFacts,
        *,
        actor: str,
        role: str = "office",
        definition: str = ITEM_DEFINITION,
        at: datetime | None = None,
    ) -> InstanceRef:
        """Add a problem to a case's problem list (问题清单)."""

        def work(conn: Connection) -> InstanceRef:
            return self._add_item(conn, case, facts, actor, role, definition, at)

        return self.db.run(work, immediate=True)

    def _add_item(
        self,
        conn: Connection,
        case: str,
        facts: ItemFacts,
        actor: str,
        role: str,
        definition: str,
        at: datetime | None,
    ) -> InstanceRef:
        case_ref = self.inspection.resolve(conn, case)
        code = check_code("item", facts.code)
        title = check_text("item title", facts.title)
        if facts.source not in SOURCES:
            raise BadInput(
                f"source {facts.source!r} is not one of {', '.join(SOURCES)} "
                "(inspection 巡视发现, audit 巡审联动, lead 线索移交)"
            )
        category = self.category(conn, facts.category)
        key = f"{case_ref.label.removeprefix('case ')}/{code}"
        assert case_ref.row is not None
        case_state = self.engine.registry.definition(
            conn, case_ref.row["definition_name"], case_ref.row["definition_version"]
        ).state(case_ref.row["state"])
        if case_state.final:
            raise Refused(
                f"{case_ref.label} is {case_state.title} ({case_state.name}); "
                "its problem list is closed"
            )
        it = q.items
        taken = conn.execute(
            select(it.c.id).where(it.c.case_id == case_ref.id, it.c.code == code)
        ).first()
        if taken is not None:
            raise AlreadyExists(f"item {key} already exists")
        outcome = self.engine.start(
            conn, subject="item", definition=definition, actor=actor, role=role, at=at
        )
        try:
            conn.execute(
                it.insert(),
                {
                    "id": outcome.instance.id,
                    "case_id": case_ref.id,
                    "code": code,
                    "title": title,
                    "manifestations": facts.manifestations.strip(),
                    "category_id": category.id,
                    "key_problem": facts.key_problem,
                    "common_problem": facts.common_problem,
                    "fix_now": facts.fix_now,
                    "root_cause": facts.root_cause.strip(),
                    "source": facts.source,
                    "created_at": self.engine.clock.now(),
                },
            )
        except IntegrityError as exc:  # PostgreSQL: another writer added the same code
            raise AlreadyExists(f"item {key} already exists") from exc
        return InstanceRef(outcome.instance.id, f"item {key}")

    def resolve(self, conn: Connection, name: str) -> InstanceRef:
        """An ITEM argument (numeric id or `ROUND/UNIT/CODE`) to the item it names."""
        text = name.strip().removeprefix("#")
        if text.isdigit():
            row = conn.execute(q.ITEM_BY_ID, {"item_id": int(text)}).mappings().first()
            if row is None:
                raise NotFound(f"item #{text} does not exist")
        elif text.count("/") == 2:
            round_code, unit_code, code = (part.strip() for part in text.split("/"))
            row = (
                conn.execute(
                    q.ITEM_BY_KEY,
                    {"round_code": round_code, "unit_code": unit_code, "item_code": code},
                )
                .mappings()
                .first()
            )
            if row is None:
                raise NotFound(f"item {round_code}/{unit_code}/{code} does not exist")
        else:
            raise BadInput(
                f"item {name!r} is not an item id or key: use the number or ROUND/UNIT/CODE, "
                f"e.g. {ITEM_KEY_EXAMPLE}"
            )
        return InstanceRef(
            row["id"], f"item {row['round_code']}/{row['unit_code']}/{row['item_code']}", row
        )

    def import_items(
        self, path: Path, *, actor: str, role: str = "office", at: datetime | None = None
    ) -> ImportedItems:
        """Items and their tasks from a sheet (one row per task); all rows checked first."""
        from xunshi.workflow.items_import import import_items

        return self.db.run(
            lambda conn: import_items(self, conn, path, actor=actor, role=role, at=at),
            immediate=True,
        )

    # -- tasks --------------------------------------------------------------------------

    def add_task(
        self,
        item: str,
        facts: TaskFacts,
        *,
        actor: str,
        role: str,
        at: datetime | None = None,
    ) -> tuple[TaskRef, Outcome]:
        """Add a measure to an item (任务清单 and 责任清单)."""
        facts = facts.checked()
        reads = ReadSet()

        def work(conn: Connection) -> tuple[TaskRef, Outcome]:
            ref = self.resolve(conn, item)
            return self._add_task(conn, ref, facts, actor, role, at, reads)

        return self.db.run(work)

    def _add_task(
        self,
        conn: Connection,
        ref: InstanceRef,
        facts: TaskFacts,
        actor: str,
        role: str,
        at: datetime | None,
        reads: ReadSet | None,
    ) -> tuple[TaskRef, Outcome]:
        self._check_tasks_open(conn, ref, "add a task to")
        t = q.tasks
        number = (
            int(
                conn.execute(
                    select(func.coalesce(func.max(t.c.number), 0)).where(t.c.item_id == ref.id)
                ).scalar_one()
            )
            + 1
        )
        values = {
            **facts.record(),
            "due_on": facts.due_on,
            "item_id": ref.id,
            "number": number,
            "status": "open",
            "progress": "",
            "evidence": "",
            "completed_on": None,
        }
        try:
            task_id = int(conn.execute(t.insert().returning(t.c.id), values).scalar_one())
        except IntegrityError as exc:  # PostgreSQL: another writer took this number first
            raise Conflict(
                conflict_message(ref, int(ref.row["version"]) if ref.row else 0)
            ) from exc
        outcome = self.engine.record_task(
            conn,
            ref,
            "task_added",
            {"task": task_id, "number": number, **facts.record()},
            actor=actor,
            role=role,
            at=at,
            reads=reads,
        )
        task = TaskRef(task_id, number, ref, {**values, "id": task_id})
        if facts.due_on is not None:
            self._arm(conn, task, outcome.definition, facts.due_on, generation=1)
        return task, outcome

    def update_task(
        self,
        task: str,
        *,
        actor: str,
        role: str,
        changes: dict[str, Any] | None = None,
        progress: str | None = None,
        long_term: bool = False,
        at: datetime | None = None,
    ) -> tuple[TaskRef, Outcome]:
        """Change a task's facts and/or note its progress (整改进展).

        `changes` maps task fields to new values (None: unchanged); a new `due_on` makes
        the task dated, `long_term` makes it long-term (no due date, no escalation).
        """
        changes = {k: v for k, v in (changes or {}).items() if v is not None}
        if long_term:
            if "due_on" in changes:
                raise BadInput("a task is either long-term or has a due date, not both")
            changes.update(due_on=None, long_term=True)
        elif "due_on" in changes:
            changes["long_term"] = False
        unknown = sorted(set(changes) - set(TASK_FIELDS))
        if unknown:
            raise BadInput(f"a task has no field {', '.join(unknown)}")
        if not changes and not (progress and progress.strip()):
            raise BadInput("nothing to update: give a new value or --progress")
        reads = ReadSet()

        def work(conn: Connection) -> tuple[TaskRef, Outcome]:
            ref = self.resolve_task(conn, task)
            self._check_task_open(conn, ref, "update")
            merged = {**{k: ref.row[k] for k in TASK_FIELDS}, **changes}
            facts = TaskFacts(**merged).checked()
            new = {
                k: v
                for k, v in facts.record().items()
                if facts.record()[k] != _recorded(ref.row, k)
            }
            data: dict[str, Any] = {"task": ref.id}
            values: dict[str, Any] = {}
            if new:
                data["changes"] = new
                values.update({k: getattr(facts, k) for k in new})
            if progress and progress.strip():
                data["progress"] = progress.strip()
                values["progress"] = progress.strip()
            if not values:
                raise BadInput(f"nothing changes for {ref.label}")
            # The event first: its instance update takes the item's lock before the task row.
            outcome = self.engine.record_task(
                conn, ref.item, "task_updated", data, actor=actor, role=role, at=at, reads=reads
            )
            conn.execute(q.tasks.update().where(q.tasks.c.id == ref.id).values(**values))
            if "due_on" in new or "long_term" in new:
                self._disarm(conn, ref)
                if facts.due_on is not None:
                    self._arm(
                        conn,
                        ref,
                        outcome.definition,
                        facts.due_on,
                        self._next_generation(conn, ref),
                    )
            return ref, outcome

        return self.db.run(work)

    def complete_task(
        self,
        task: str,
        *,
        evidence: str,
        actor: str,
        role: str,
        at: datetime | None = None,
    ) -> tuple[TaskRef, Outcome]:
        """Mark a task done with its evidence (佐证材料); its escalation timer stops."""
        evidence = check_text("evidence", evidence)
        reads = ReadSet()

        def work(conn: Connection) -> tuple[TaskRef, Outcome]:
            ref = self.resolve_task(conn, task)
            self._check_task_open(conn, ref, "complete")
            occurred = at or self.engine.clock.now()
            completed_on = occurred.astimezone(self.engine.tz).date()
            outcome = self.engine.record_task(
                conn,
                ref.item,
                "task_done",
                {"task": ref.id, "evidence": evidence, "completed_on": completed_on.isoformat()},
                actor=actor,
                role=role,
                at=at,
                reads=reads,
            )
            conn.execute(
                q.tasks.update()
                .where(q.tasks.c.id == ref.id)
                .values(status="done", evidence=evidence, completed_on=completed_on)
            )
            self._disarm(conn, ref)
            return ref, outcome

        return self.db.run(work)

    def resolve_task(self, conn: Connection, name: str) -> TaskRef:
        """A TASK argument: its id, or `ROUND/UNIT/CODE#N`."""
        text = name.strip()
        t = q.tasks
        if text.removeprefix("#").isdigit():
            row = conn.execute(select(t).where(t.c.id == int(text.removeprefix("#")))).first()
            if row is None:
                raise NotFound(f"task #{text.removeprefix('#')} does not exist")
            item = self.resolve(conn, str(row.item_id))
        elif "#" in text and text.rpartition("#")[2].strip().isdigit():
            item_name, _, number = text.rpartition("#")
            item = self.resolve(conn, item_name)
            row = conn.execute(
                select(t).where(t.c.item_id == item.id, t.c.number == int(number))
            ).first()
            if row is None:
                raise NotFound(f"{item.label} has no task #{number}")
        else:
            raise BadInput(
                f"task {name!r} is not a task id or key: use the number or ITEM#N, "
                f"e.g. {ITEM_KEY_EXAMPLE}#1"
            )
        values = dict(row._mapping)
        return TaskRef(values["id"], values["number"], item, values)

    def _check_tasks_open(self, conn: Connection, ref: InstanceRef, action: str) -> None:
        """Tasks change only in states tagged `tasks_open`."""
        row = ref.row
        assert row is not None
        defn = self.engine.registry.definition(
            conn, row["definition_name"], row["definition_version"]
        )
        if not defn.state(row["state"]).has_tag("tasks_open"):
            open_in = ", ".join(s.name for s in defn.states if s.has_tag("tasks_open"))
            raise Refused(
                f"cannot {action} {ref.label}: it is {row['state']}; tasks change only while an "
                f"item is {open_in or 'in a state tagged tasks_open'} (reopen it first)"
            )

    def _check_task_open(self, conn: Connection, ref: TaskRef, action: str) -> None:
        self._check_tasks_open(conn, ref.item, f"{action} a task of")
        if ref.row["status"] == "done":
            raise Refused(
                f"{ref.label} is done (on {ref.row['completed_on']}); nothing more to {action}"
            )

    # -- task timers --------------------------------------------------------------------

    def _arm(
        self, conn: Connection, task: TaskRef, definition: Definition, due_on: date, generation: int
    ) -> None:
        cal = self.schedule.calendar(conn, definition.calendar)
        provisional = cal.provisional(due_on, due_on)
        rung = self.schedule.next_rung(
            conn, definition, None, due_on, provisional, after_level=None
        )
        if rung is None:
            return
        conn.execute(
            q.INSERT_TIMERS,
            {
                "instance_id": task.item.id,
                "stage_seq": 0,
                "stage": "",
                "task_id": task.id,
                "generation": generation,
                "status": "pending",
                "locked_by": None,
                "locked_until": None,
                "attempts": 0,
                **rung,
                "dedup_key": dedup_key(task.item.id, 0, task.id, rung["level"], generation),
            },
        )

    def _disarm(self, conn: Connection, task: TaskRef) -> None:
        conn.execute(q.SUPERSEDE_TASK_TIMERS, {"b_task_id": task.id})

    def _next_generation(self, conn: Connection, task: TaskRef) -> int:
        t = q.timers
        found = conn.execute(
            select(func.coalesce(func.max(t.c.generation), 0)).where(t.c.task_id == task.id)
        ).scalar_one()
        return int(found) + 1


def _recorded(row: dict[str, Any], name: str) -> Any:
    value = row[name]
    if isinstance(value, date):
        return value.isoformat()
    if name == "long_term":
        return bool(value)
    return value


def parse_categories(text: str, source: str) -> list[tuple[str, str]]:
    """A category file: `categories: {一级: [二级, …], …}` (YAML), in order."""
    import yaml

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise BadInput(f"{source}: not valid YAML{where}") from exc
    if not isinstance(document, dict) or set(document) != {"categories"}:
        raise BadInput(f"{source}: expected one key, categories: {{一级类别: [二级类别, …]}}")
    tree = document["categories"]
    if not isinstance(tree, dict) or not tree:
        raise BadInput(f"{source}: categories must map each 一级类别 to a list of 二级类别")
    found: list[tuple[str, str]] = []
    for level1, children in tree.items():
        if not isinstance(level1, str) or not level1.strip() or "/" in level1:
            raise BadInput(f"{source}: category {level1!r} must be text without '/'")
        if not isinstance(children, list) or not children:
            raise BadInput(f"{source}: category {level1} needs a list of 二级类别")
        for level2 in children:
            if not isinstance(level2, str) or not level2.strip() or "/" in level2:
                raise BadInput(f"{source}: {level1}: {level2!r} must be text without '/'")
            key = (level1.strip(), level2.strip())
            if key in found:
                raise BadInput(f"{source}: {key[0]}/{key[1]} is listed twice")
            found.append(key)
    return found
