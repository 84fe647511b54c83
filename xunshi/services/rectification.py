"""Rectification: problems (items) of a case, their measures (tasks), the category list.

An item is an instance of a `subject: item` definition (the built-in `rectification`);
its lifecycle runs through the engine like a case's. Tasks — the measures with who answers
for them and by when (三清单: problems, tasks, responsibilities) — are rows whose every
change is a `task` event in the item's history, so `audit verify` replays them too. A task
with a due date has a timer and escalates up the definition's ladder like a stage does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.exc import IntegrityError

from xunshi.definitions.schema import Definition, State
from xunshi.display import shown
from xunshi.errors import AlreadyExists, BadInput, Conflict, NotFound, Refused
from xunshi.keys import ByNumber, InstanceKey, Reference, parse_reference, reference
from xunshi.read.catalog import Category
from xunshi.services.clues import ClueService
from xunshi.services.commands import (
    SOURCES,
    ItemChanges,
    ItemFacts,
    OutcomeFacts,
    TaskChanges,
    TaskFacts,
)
from xunshi.services.items_import import plan_items
from xunshi.services.lifecycle import Lifecycle, change
from xunshi.services.lists import gone_from, make_list
from xunshi.services.results import (
    CategoriesLoaded,
    Change,
    ItemsImported,
    Started,
    TagsLoaded,
    TaskChange,
)
from xunshi.services.tags import (
    find_tags,
    item_tag_names,
    load_tags,
    parse_tags,
    set_item_tags,
    tag_names,
)
from xunshi.storage import queries as q
from xunshi.storage.db import Database
from xunshi.storage.prepared import Prepared
from xunshi.texts import check_code, check_name, check_text
from xunshi.timeparse import business_time
from xunshi.workflow import outcomes
from xunshi.workflow.audit import TASK_FIELDS
from xunshi.workflow.decide import Command, void_refusal
from xunshi.workflow.engine import Engine, Outcome, ReadSet, conflict_message
from xunshi.workflow.resolve import (
    InstanceRef,
    TaskRef,
    find_item_code,
    resolve_case,
    resolve_clue,
    resolve_item,
    resolve_task,
)
from xunshi.workflow.schedule import Schedule
from xunshi.workflow.voids import void_reason

# A task's number and its completion: on every `task add` and `task done`.
_NEWEST_TASK = Prepared(
    select(func.coalesce(func.max(q.tasks.c.number), 0).label("newest")).where(
        q.tasks.c.item_id == bindparam("item_id")
    )
)
_INSERT_ITEM = Prepared(q.insert_all(q.items, generated=None))
_INSERT_TASK = Prepared(q.insert_all(q.tasks).returning(q.tasks.c.id))
_CATEGORY = Prepared(
    select(q.categories.c.id, q.categories.c.level1, q.categories.c.level2).where(
        q.categories.c.level1 == bindparam("level1"), q.categories.c.level2 == bindparam("level2")
    )
)
_TASK_DONE = Prepared(
    q.tasks.update()
    .where(q.tasks.c.id == bindparam("task_id"))
    .values(status="done", evidence=bindparam("evidence"), completed_on=bindparam("completed_on"))
)

ITEM_DEFINITION = "rectification"
# Who may move a task's due date directly (`task update --due`, `--long-term`); the unit asks
# for more time with an extension request (`services/extensions.py`).
DUE_ROLES: tuple[str, ...] = ("office",)


class ItemService(Lifecycle):
    """Items, tasks and categories (fire, milestones, suspension: see Lifecycle)."""

    def __init__(self, db: Database, engine: Engine, schedule: Schedule) -> None:
        super().__init__(db, engine, "item")
        self.schedule = schedule

    # -- categories -------------------------------------------------------------------

    def load_categories(self, text: str, source_name: str) -> CategoriesLoaded:
        """Make the category list what the file says: added, kept, removed.

        A category still used by an item cannot be removed.
        """
        wanted = parse_categories(text, source_name)

        def work(conn: Connection) -> CategoriesLoaded:
            c = q.categories
            current = {
                (row.level1, row.level2): row.id
                for row in conn.execute(
                    select(c.c.id, c.c.level1, c.c.level2).order_by(c.c.position, c.c.id)
                )
            }
            gone = gone_from(current, wanted)
            used = {row[0] for row in conn.execute(select(q.items.c.category_id).distinct())}
            still_used = [f"{l1}/{l2}" for l1, l2 in gone if current[(l1, l2)] in used]
            if still_used:
                raise Refused(
                    f"{source_name}: categories still used by items cannot be removed: "
                    + ", ".join(still_used)
                )
            counts = make_list(
                conn, c, current, wanted, lambda key: {"level1": key[0], "level2": key[1]}
            )
            return CategoriesLoaded(*counts)

        return self.db.run(work, immediate=True)

    def load_tags(self, text: str, source_name: str) -> TagsLoaded:
        """Make the business-domain tag list what the file says: added, kept, removed.

        A tag still carried by an item or named by a theme cannot be removed.
        """
        wanted = parse_tags(text, source_name)
        return self.db.run(lambda conn: load_tags(conn, wanted, source_name), immediate=True)

    def category(self, conn: Connection, text: str) -> Category:
        """The category written `一级/二级`."""
        level1, _, level2 = text.strip().partition("/")
        found = _CATEGORY.first(conn, {"level1": level1.strip(), "level2": level2.strip()})
        if found is None:
            if not level2:
                raise BadInput(f"category {text!r} must be written 一级类别/二级类别")
            raise NotFound(
                f"category {text} is not in the category list (see `xunshi categories list`)"
            )
        return Category(found["id"], found["level1"], found["level2"])

    # -- items ------------------------------------------------------------------------

    def add_item(
        self,
        case: str | Reference,
        facts: ItemFacts,
        *,
        actor: str,
        role: str = "office",
        definition: str = ITEM_DEFINITION,
        at: datetime | None = None,
        clue: str | None = None,
    ) -> Started:
        """Add a problem to a case's problem list (问题清单); `clue` is the code of a clue of
        the case it arises from, linked in the clue's history."""
        target = reference(case, "case")

        def work(conn: Connection) -> Started:
            added = self._add_item(conn, target, facts, actor, role, definition, at)
            if clue is not None:
                clue_ref = resolve_clue(conn, added.key.case.clue_key(clue.strip()))
                item_ref = resolve_item(conn, ByNumber("item", added.id))
                command = Command("link", actor, role, "item_linked", at=at)
                ClueService(self.db, self.engine).change_link(conn, clue_ref, item_ref, command)
            return added

        return self.db.run(work, immediate=True)

    def _add_item(
        self,
        conn: Connection,
        case: Reference,
        facts: ItemFacts,
        actor: str,
        role: str,
        definition: str,
        at: datetime | None,
    ) -> Started:
        case_ref = resolve_case(conn, case)
        assert case_ref.key is not None
        code = check_code("item", facts.code)
        title = check_name("item title", facts.title)
        if facts.source not in SOURCES:
            raise BadInput(
                f"source {facts.source!r} is not one of {', '.join(SOURCES)} "
                "(inspection 巡视发现, audit 巡审联动, lead 线索移交)"
            )
        category = self.category(conn, facts.category)
        tags = find_tags(conn, facts.tags)
        key = InstanceKey(case_ref.key.round, case_ref.key.unit, code)
        assert case_ref.row is not None
        case_defn = self.engine.registry.definition(
            conn, case_ref.row["definition_name"], case_ref.row["definition_version"]
        )
        case_state = case_defn.state(case_ref.row["state"])
        if case_ref.row["voided"]:
            raise Refused(void_refusal(case_ref.label, void_reason(conn, case_ref.id)))
        if case_state.final:
            raise Refused(
                f"{case_ref.label} is {case_state.title} ({case_state.name}); "
                "its problem list is closed"
            )
        _check_stage_takes_items(case_ref.label, case_defn, case_state, facts.fix_now)
        entered = case_ref.row["entered_at"]
        if at is not None and at < entered:
            when = business_time(entered, self.engine.tz)
            raise Refused(
                f"{key.label} cannot be added at {business_time(at, self.engine.tz)}: "
                f"{case_ref.label} entered {case_state.title} ({case_state.name}) at {when}"
            )
        taken = find_item_code(conn, case_ref.id, code)
        if taken is not None:
            shown = "" if taken == code else f" (as {taken})"
            raise AlreadyExists(f"{key.label} already exists{shown}")
        earlier = None
        if facts.recurs_from is not None:
            earlier = earlier_item(conn, facts.recurs_from, case_ref, key)
        recorded: dict[str, Any] = {
            "code": code,
            "title": title,
            "manifestations": check_text("manifestations", facts.manifestations, required=False),
            "category": category.label,
            "key_problem": facts.key_problem,
            "fix_now": facts.fix_now,
            "root_cause": check_text("root cause", facts.root_cause, required=False),
            "source": facts.source,
            "tags": tag_names(tags),
        }
        if earlier is not None:
            # 屡改屡犯: in the item's first event, beside its other facts.
            recorded["recurs_from"] = str(earlier.key)
        outcome = self.engine.start(
            conn,
            subject="item",
            definition=definition,
            actor=actor,
            role=role,
            at=at,
            key=key,
            facts=recorded,
        )
        try:
            _INSERT_ITEM.rowcount(
                conn,
                {
                    **{
                        k: v
                        for k, v in recorded.items()
                        if k not in ("category", "recurs_from", "tags")
                    },
                    "id": outcome.instance.id,
                    "case_id": case_ref.id,
                    "category_id": category.id,
                    "created_at": self.engine.clock.now(),
                },
            )
        except IntegrityError as exc:  # PostgreSQL: another writer added the same code
            raise AlreadyExists(f"{key.label} already exists") from exc
        if earlier is not None:
            conn.execute(
                q.item_recurs_from.insert(),
                {"item_id": outcome.instance.id, "earlier_item_id": earlier.id},
            )
        set_item_tags(conn, outcome.instance.id, tags, new=True)
        return Started(outcome.instance.id, key)

    def update_item(
        self,
        item: str | Reference,
        changes: ItemChanges,
        *,
        reason: str,
        actor: str,
        role: str,
        at: datetime | None = None,
    ) -> Change:
        """Correct a problem's facts (title, manifestations, category, flags, root cause, tags).

        The change is an event of the item with the reason, so the history covers every
        fact and `audit verify` names a fact edited outside xunshi.
        """
        given = changes.given()
        if not given:
            raise BadInput(
                "nothing to update: give --title, --manifestations, --category, a flag, "
                "--root-cause or --tag"
            )
        reads = ReadSet()
        target = reference(item, "item")

        def work(conn: Connection) -> Change:
            ref = resolve_item(conn, target)
            stored = (
                conn.execute(
                    select(q.items, q.categories.c.level1, q.categories.c.level2)
                    .join(q.categories, q.categories.c.id == q.items.c.category_id)
                    .where(q.items.c.id == ref.id)
                )
                .mappings()
                .one()
            )
            values: dict[str, Any] = {}
            new: dict[str, Any] = {}
            tags = None
            for name, value in given.items():
                if name == "tags":
                    tags = find_tags(conn, value)
                    if tag_names(tags) != item_tag_names(conn, ref.id):
                        new["tags"] = tag_names(tags)
                elif name == "category":
                    category = self.category(conn, value)
                    if category.id != stored["category_id"]:
                        new["category"], values["category_id"] = category.label, category.id
                elif name == "title":
                    text = check_name("item title", value)
                    if text != stored["title"]:
                        new[name] = values[name] = text
                elif isinstance(value, str):
                    text = check_text(name.replace("_", " "), value, required=False)
                    if text != stored[name]:
                        new[name] = values[name] = text
                elif bool(value) != bool(stored[name]):
                    new[name] = values[name] = bool(value)
            if not new:
                raise BadInput(f"nothing changes for {ref.label}")
            command = Command("facts", actor, role, "facts_updated", reason, at, {"changes": new})
            outcome = self.engine.execute(conn, ref, command, reads)
            if values:
                conn.execute(q.items.update().where(q.items.c.id == ref.id).values(**values))
            if tags is not None and "tags" in new:
                set_item_tags(conn, ref.id, tags)
            return change(ref, outcome)

        return self.db.run(work)

    def import_items(
        self,
        path: Path,
        *,
        actor: str,
        role: str = "office",
        at: datetime | None = None,
        encoding: str | None = None,
    ) -> ItemsImported:
        """Items and their tasks from a sheet (one row per task); all rows checked first."""

        def work(conn: Connection) -> ItemsImported:
            planned = plan_items(_Lookups(conn, self), path, encoding=encoding)
            tasks = 0
            for item in planned:
                added = self._add_item(
                    conn, item.case, item.facts, actor, role, ITEM_DEFINITION, at
                )
                for facts in item.tasks:
                    # Read again: each task's event moved the item's row on.
                    ref = resolve_item(conn, ByNumber("item", added.id))
                    self._add_task(conn, ref, facts, actor, role, at, None)
                    tasks += 1
            return ItemsImported(len(planned), tasks)

        return self.db.run(work, immediate=True)

    # -- tasks --------------------------------------------------------------------------

    def add_task(
        self,
        item: str | Reference,
        facts: TaskFacts,
        *,
        actor: str,
        role: str,
        at: datetime | None = None,
    ) -> TaskChange:
        """Add a measure to an item (任务清单 and 责任清单)."""
        facts = facts.checked()
        reads = ReadSet()
        target = reference(item, "item")

        def work(conn: Connection) -> TaskChange:
            ref = resolve_item(conn, target)
            task, outcome = self._add_task(conn, ref, facts, actor, role, at, reads)
            return TaskChange(task.key, task.id, change(ref, outcome))

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
        newest = _NEWEST_TASK.first(conn, {"item_id": ref.id})
        number = int(newest["newest"] if newest else 0) + 1
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
            inserted = _INSERT_TASK.first(conn, values)
            assert inserted is not None  # RETURNING gives the new row's id
            task_id = int(inserted["id"])
        except IntegrityError as exc:  # PostgreSQL: another writer took this number first
            raise Conflict(
                conflict_message(ref, int(ref.row["version"]) if ref.row else 0)
            ) from exc
        outcome = self.engine.execute(
            conn,
            ref,
            Command(
                "task",
                actor,
                role,
                "task_added",
                at=at,
                data={"task": task_id, "number": number, **facts.record()},
            ),
            reads,
        )
        task = TaskRef(task_id, number, ref, {**values, "id": task_id})
        if facts.due_on is not None:
            self.schedule.arm_task(
                conn, ref.id, task_id, outcome.definition, facts.due_on, new=True
            )
        return task, outcome

    def update_task(
        self,
        task: str | Reference,
        changes: TaskChanges,
        *,
        actor: str,
        role: str,
        at: datetime | None = None,
    ) -> TaskChange:
        """Change a task's facts and/or note its progress (整改进展).

        A new `due_on` makes the task dated, `long_term` makes it long-term (no due date,
        no escalation).
        """
        given = changes.facts()
        progress = check_text("progress", changes.progress or "", required=False)
        if not given and not progress:
            raise BadInput("nothing to update: give a new value or --progress")
        reads = ReadSet()
        target = reference(task, "task")

        def work(conn: Connection) -> TaskChange:
            ref = resolve_task(conn, target)
            self.check_task_open(conn, ref, "update")
            merged = {**{k: ref.row[k] for k in TASK_FIELDS}, **given}
            facts = TaskFacts(**merged).checked()
            recorded = facts.record()
            new = {k: v for k, v in recorded.items() if v != _recorded(ref.row, k)}
            if ("due_on" in new or "long_term" in new) and role not in DUE_ROLES:
                item_row = ref.item.row
                assert item_row is not None
                defn = self.engine.registry.definition(
                    conn, item_row["definition_name"], item_row["definition_version"]
                )
                allowed = ", ".join(f"{r} ({defn.role_title(r)})" for r in DUE_ROLES)
                raise Refused(
                    f"{ref.label}: role {role} ({defn.role_title(role)}) may not change the due "
                    f"date; allowed: {allowed}; ask for more time with `xunshi task extend`"
                )
            data: dict[str, Any] = {"task": ref.id}
            values: dict[str, Any] = {}
            if new:
                data["changes"] = new
                values.update({k: getattr(facts, k) for k in new})
            if progress:
                data["progress"] = progress
                values["progress"] = progress
            if not values:
                raise BadInput(f"nothing changes for {ref.label}")
            # The event first: its instance update takes the item's lock before the task row.
            outcome = self.engine.execute(
                conn,
                ref.item,
                Command("task", actor, role, "task_updated", at=at, data=data),
                reads,
            )
            conn.execute(q.tasks.update().where(q.tasks.c.id == ref.id).values(**values))
            if "due_on" in new or "long_term" in new:
                self._reschedule(conn, ref, outcome.definition, facts.due_on)
            return TaskChange(ref.key, ref.id, change(ref.item, outcome))

        return self.db.run(work)

    def move_due(self, conn: Connection, ref: TaskRef, definition: Definition, due: date) -> None:
        """Give a task a new due date and re-arm its timers on it (an approved extension);
        the caller has appended the event that records it."""
        conn.execute(
            q.tasks.update().where(q.tasks.c.id == ref.id).values(due_on=due, long_term=False)
        )
        self._reschedule(conn, ref, definition, due)

    def _reschedule(
        self, conn: Connection, ref: TaskRef, definition: Definition, due: date | None
    ) -> None:
        """The task's live timers stop; a dated task's ladder starts again from `due` (the
        rungs already raised for it are not raised twice)."""
        self.schedule.disarm_task(conn, ref.item.id, ref.id)
        if due is not None:
            self.schedule.arm_task(conn, ref.item.id, ref.id, definition, due, new=False)

    def complete_task(
        self,
        task: str | Reference,
        *,
        evidence: str,
        actor: str,
        role: str,
        at: datetime | None = None,
        outcome: OutcomeFacts | None = None,
    ) -> TaskChange:
        """Mark a task done with its evidence (佐证材料) and what it achieved (整改成果: rules,
        people held accountable, funds), if anything; its escalation timer stops."""
        evidence = check_text("evidence", evidence)
        achieved = outcomes.NOTHING
        if outcome is not None:
            achieved = outcomes.check_outcome(outcome.rules, outcome.accountable, outcome.funds)
        reads = ReadSet()
        target = reference(task, "task")

        def work(conn: Connection) -> TaskChange:
            ref = resolve_task(conn, target)
            self.check_task_open(conn, ref, "complete")
            occurred = at or self.engine.clock.now()
            completed_on = occurred.astimezone(self.engine.tz).date()
            data: dict[str, Any] = {
                "task": ref.id,
                "evidence": evidence,
                "completed_on": completed_on.isoformat(),
            }
            if achieved.achieved:
                data["outcome"] = achieved.to_data()
            done = self.engine.execute(
                conn, ref.item, Command("task", actor, role, "task_done", at=at, data=data), reads
            )
            _TASK_DONE.rowcount(
                conn, {"task_id": ref.id, "evidence": evidence, "completed_on": completed_on}
            )
            if achieved.achieved:
                conn.execute(
                    q.outcomes.insert(),
                    {"item_id": ref.item.id, "task_id": ref.id, **outcomes.to_row(achieved)},
                )
            self.schedule.disarm_task(conn, ref.item.id, ref.id)
            return TaskChange(ref.key, ref.id, change(ref.item, done))

        return self.db.run(work)

    def record_outcome(
        self,
        item: str | Reference,
        facts: OutcomeFacts,
        *,
        actor: str,
        role: str,
        replace: bool = False,
        reason: str | None = None,
        at: datetime | None = None,
    ) -> Change:
        """Record an item's own outcome (整改成果) once a task of it is done or it is accepted
        (销号); a second one replaces the first (`replace`, with a reason): a new event."""
        if not facts.given():
            raise BadInput("nothing to record: give --rule, --accountable, --funds or --evidence")
        achieved = outcomes.check_outcome(
            facts.rules, facts.accountable, facts.funds, facts.evidence
        )
        if replace and not (reason or "").strip():
            raise BadInput("replacing an outcome corrects it: give the reason (--reason)")
        reads = ReadSet()
        target = reference(item, "item")

        def work(conn: Connection) -> Change:
            ref = resolve_item(conn, target)
            row = ref.row
            assert row is not None
            if row["voided"]:
                raise Refused(void_refusal(ref.label, void_reason(conn, ref.id)))
            o = q.outcomes
            own = (o.c.item_id == ref.id) & (o.c.task_id == 0)
            recorded = conn.execute(select(o.c.item_id).where(own)).first() is not None
            if recorded and not replace:
                raise Refused(
                    f"{ref.label} has its outcome recorded already; to correct it, give "
                    "--replace and the reason (--reason)"
                )
            if replace and not recorded:
                raise Refused(f"{ref.label} has no outcome of its own to replace")
            if not recorded:
                self._check_outcome_due(conn, ref)
            name = "outcome_replaced" if replace else "outcome_recorded"
            command = Command("outcome", actor, role, name, reason, at, achieved.to_data())
            done = self.engine.execute(conn, ref, command, reads)
            conn.execute(o.delete().where(own))
            conn.execute(o.insert(), {"item_id": ref.id, "task_id": 0, **outcomes.to_row(achieved)})
            return change(ref, done)

        return self.db.run(work)

    def _check_outcome_due(self, conn: Connection, ref: InstanceRef) -> None:
        """An item records its outcome once one of its tasks is done or it is accepted."""
        row = ref.row
        assert row is not None
        defn = self.engine.registry.definition(
            conn, row["definition_name"], row["definition_version"]
        )
        if defn.state(row["state"]).has_tag("accepted"):
            return
        t = q.tasks
        done = conn.execute(
            select(t.c.id).where(t.c.item_id == ref.id, t.c.status == "done").limit(1)
        ).first()
        if done is None:
            raise Refused(
                f"{ref.label} has no outcome to record yet: none of its tasks is done and it is "
                "not accepted (销号)"
            )

    def _check_tasks_open(self, conn: Connection, ref: InstanceRef, action: str) -> None:
        """Tasks change only in states tagged `tasks_open`, and never of a void item."""
        row = ref.row
        assert row is not None
        if row["voided"]:
            raise Refused(void_refusal(ref.label, void_reason(conn, ref.id)))
        defn = self.engine.registry.definition(
            conn, row["definition_name"], row["definition_version"]
        )
        if not defn.state(row["state"]).has_tag("tasks_open"):
            open_in = ", ".join(s.name for s in defn.states if s.has_tag("tasks_open"))
            raise Refused(
                f"cannot {action} {ref.label}: it is {row['state']}; tasks change only while an "
                f"item is {open_in or 'in a state tagged tasks_open'} (reopen it first)"
            )

    def check_task_open(self, conn: Connection, ref: TaskRef, action: str) -> None:
        """Refuse to `action` a task that is done, or whose item takes no task changes."""
        self._check_tasks_open(conn, ref.item, f"{action} a task of")
        if ref.row["status"] == "done":
            raise Refused(
                f"{ref.label} is done (on {ref.row['completed_on']}); nothing more to {action}"
            )


def _recorded(row: Mapping[str, Any], name: str) -> Any:
    value = row[name]
    if isinstance(value, date):
        return value.isoformat()
    if name == "long_term":
        return bool(value)
    return value


def parse_categories(text: str, source: str) -> list[tuple[str, str]]:
    """A category file: `categories: {一级: [二级, …], …}` (YAML), in order."""
    import yaml  # only when a category file is read (start-up time)

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
    listed: set[tuple[str, str]] = set()
    for level1, children in tree.items():
        if not isinstance(level1, str) or not level1.strip() or "/" in level1:
            raise BadInput(f"{source}: category {shown(level1)} must be text without '/'")
        _category_name(source, level1)
        if not isinstance(children, list) or not children:
            raise BadInput(f"{source}: category {level1} needs a list of 二级类别")
        for level2 in children:
            if not isinstance(level2, str) or not level2.strip() or "/" in level2:
                raise BadInput(f"{source}: {level1}: {shown(level2)} must be text without '/'")
            key = (_category_name(source, level1), _category_name(source, level2))
            if key in listed:
                raise BadInput(f"{source}: {key[0]}/{key[1]} is listed twice")
            listed.add(key)
            found.append(key)
    return found


def _check_stage_takes_items(
    label: str, definition: Definition, state: State, fix_now: bool
) -> None:
    """Refuse a problem the case's stage does not take (see the tags items_open and
    fix_now_items). A definition that tags no state either way (one written before the
    tags) takes problems in every stage that is not final."""
    open_states = definition.tagged("items_open")
    fix_now_states = definition.tagged("fix_now_items")
    if not open_states and not fix_now_states:
        return
    if state.name in open_states or (fix_now and state.name in fix_now_states):
        return
    where = " or ".join(
        f"{definition.state(name).title} ({name})" for name in _in_order(definition, open_states)
    )
    fix_now_where = " or ".join(
        f"{definition.state(name).title} ({name})" for name in _in_order(definition, fix_now_states)
    )
    rule = f"problems are added in {where or 'no stage'}"
    if fix_now_where:
        rule += f", 立行立改 (--fix-now) problems also in {fix_now_where}"
    raise Refused(f"{label} is in {state.title} ({state.name}): {rule}")


def earlier_item(conn: Connection, text: str, case: InstanceRef, key: InstanceKey) -> InstanceRef:
    """The item an item `key` of `case` recurs from (屡改屡犯): an item of the case that
    `case` follows as a 回头看 (or of one that case follows in turn), or a refusal."""
    earlier = resolve_item(conn, parse_reference(text.strip(), "item"))
    assert earlier.row is not None and earlier.key is not None
    if earlier.row["voided"]:
        raise Refused(f"{key.label} cannot recur from {earlier.label}: it is void (撤销)")
    its_case = conn.execute(
        select(q.items.c.case_id).where(q.items.c.id == earlier.id)
    ).scalar_one()
    f = q.case_follows
    followed: list[int] = []
    current = case.id
    while True:
        found = conn.execute(
            select(f.c.earlier_case_id).where(f.c.case_id == current)
        ).scalar_one_or_none()
        if found is None or found in followed:
            break
        followed.append(found)
        if found == its_case:
            return earlier
        current = found
    if not followed:
        raise Refused(
            f"{key.label} cannot recur from {earlier.label}: {case.label} follows no earlier "
            "case (a 回头看 started with --follows)"
        )
    first = resolve_case(conn, ByNumber("case", followed[0]))
    raise Refused(
        f"{key.label} cannot recur from {earlier.label}: {case.label} follows {first.label}, "
        f"not case {earlier.key.case}"
    )


def _in_order(definition: Definition, names: frozenset[str]) -> list[str]:
    return [state.name for state in definition.states if state.name in names]


def _category_name(source: str, name: str) -> str:
    """A category's name: one line, at most 200 characters."""
    try:
        return check_name("category", name)
    except BadInput as exc:
        raise BadInput(f"{source}: {exc.message}") from None


class _Lookups:
    """What checking an items sheet asks of the database (see items_import.ItemLookups)."""

    def __init__(self, conn: Connection, service: ItemService) -> None:
        self.conn = conn
        self.service = service

    def case(self, key: InstanceKey) -> tuple[int, InstanceKey]:
        """The id of case `key` and its key as stored (NotFound if there is none)."""
        found = resolve_case(self.conn, key)
        assert found.key is not None
        return found.id, found.key

    def categories(self) -> set[tuple[str, str]]:
        """Every (一级, 二级) of the category list."""
        c = q.categories
        return {
            (row.level1, row.level2) for row in self.conn.execute(select(c.c.level1, c.c.level2))
        }

    def item_exists(self, case_id: int, code: str) -> bool:
        """Whether the case already has an item `code` (in any case)."""
        return find_item_code(self.conn, case_id, code) is not None

    def check_recurrence(self, case_id: int, key: InstanceKey, earlier: str) -> None:
        """Refuse unless item `key` of the case may recur from item `earlier` (屡改屡犯)."""
        earlier_item(self.conn, earlier, resolve_case(self.conn, ByNumber("case", case_id)), key)

    def tags(self) -> list[str]:
        """The tag list's names, in its order."""
        t = q.tags
        return list(self.conn.execute(select(t.c.name).order_by(t.c.position, t.c.id)).scalars())
