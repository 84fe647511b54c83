"""Named statements for the hot paths, kept together.

Built once at import from the Core tables; SQLAlchemy caches their compiled forms.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Insert, Select, Table, and_, bindparam, func, select, text

from xunshi.storage import tables

definitions = tables.definition
rounds = tables.inspection_round
groups = tables.inspection_group
units = tables.unit
instances = tables.instance
cases = tables.inspection_case
events = tables.event
requests = tables.command_request
seals = tables.seal
timers = tables.timer
escalations = tables.escalation
outbox = tables.outbox
calendar_years = tables.calendar_year
categories = tables.category
items = tables.rectification_item
tasks = tables.rectification_task
clues = tables.clue
clue_items = tables.clue_item
extensions = tables.task_extensions
outcomes = tables.rectification_outcome
item_recurs_from = tables.item_recurs_from

# The literal predicate of the partial index `ix_timer_live`: SQLite uses a partial index
# only when the query repeats its WHERE terms with the same constants.
LIVE_TIMER = text("timer.status IN ('pending', 'claimed')")

# -- engine ---------------------------------------------------------------------------

INSTANCE_FOR_UPDATE = select(instances).where(instances.c.id == bindparam("id"))


def insert_all(table: Table, *, generated: str | None = "id") -> Insert:
    """An insert naming every column of `table` as a parameter but the `generated` key: the
    form a prepared statement runs (see storage/prepared.py)."""
    return table.insert().values(
        {c.name: bindparam(c.name) for c in table.columns if c.name != generated}
    )


INSERT_INSTANCE_ROW = insert_all(instances).returning(instances.c.id)

INSERT_EVENT = events.insert()

UPDATE_INSTANCE = (
    instances.update()
    .where(and_(instances.c.id == bindparam("b_id"), instances.c.version == bindparam("b_version")))
    .values(
        state=bindparam("state"),
        entered_at=bindparam("entered_at"),
        version=bindparam("version"),
        milestones=bindparam("milestones"),
        suspended=bindparam("suspended"),
        suspended_at=bindparam("suspended_at"),
        due_on=bindparam("due_on"),
        provisional=bindparam("provisional"),
        last_occurred_at=bindparam("last_occurred_at"),
        head_hash=bindparam("head_hash"),
        definition_version=bindparam("definition_version"),
        stage_seq=bindparam("stage_seq"),
        voided=bindparam("voided"),
    )
)

# One timer row with every column but the generated id (a prepared statement names them all).
INSERT_TIMER = insert_all(timers)

# A case by id or by ROUND/UNIT, with its instance row (one read for the hot path).
_CASE_WITH_INSTANCE = (
    select(instances, rounds.c.code.label("round_code"), units.c.code.label("unit_code"))
    .select_from(cases)
    .join(instances, instances.c.id == cases.c.id)
    .join(rounds, rounds.c.id == cases.c.round_id)
    .join(units, units.c.id == cases.c.unit_id)
)
CASE_BY_ID = _CASE_WITH_INSTANCE.where(cases.c.id == bindparam("case_id"))
CASE_BY_KEY = _CASE_WITH_INSTANCE.where(
    rounds.c.code == bindparam("round_code"), units.c.code == bindparam("unit_code")
)
# The same in any case (codes given in lower case); tried only when the exact one finds none.
CASE_BY_KEY_CI = _CASE_WITH_INSTANCE.where(
    func.lower(rounds.c.code) == bindparam("round_code"),
    func.lower(units.c.code) == bindparam("unit_code"),
).limit(2)


def _with_names(base: Any, task_id: Any, *columns: Any) -> Select[Any]:
    """`columns` of `base` (a timer or an escalation row), with its instance row and what
    names it in a notification: the case's round, group and unit, the problem or the clue,
    the task."""
    return (
        select(
            *columns,
            instances,
            rounds.c.code.label("round_code"),
            units.c.code.label("unit_code"),
            items.c.code.label("item_code"),
            clues.c.code.label("clue_code"),
            tasks.c.status.label("task_status"),
            groups.c.code.label("group_code"),
            units.c.name.label("unit_name"),
            items.c.title.label("item_title"),
            tasks.c.number.label("task_number"),
            tasks.c.measure.label("task_measure"),
            tasks.c.responsible_person.label("task_person"),
            tasks.c.lead_department.label("task_department"),
        )
        .select_from(base)
        .join(instances, instances.c.id == base.c.instance_id)
        .outerjoin(items, items.c.id == instances.c.id)
        .outerjoin(clues, clues.c.id == instances.c.id)
        .outerjoin(
            cases, cases.c.id == func.coalesce(items.c.case_id, clues.c.case_id, instances.c.id)
        )
        .outerjoin(rounds, rounds.c.id == cases.c.round_id)
        .outerjoin(groups, groups.c.id == cases.c.group_id)
        .outerjoin(units, units.c.id == cases.c.unit_id)
        .outerjoin(tasks, tasks.c.id == task_id)
    )


# A claimed timer with its fencing fields, its instance row and what names the instance.
TIMER_FOR_FIRE = _with_names(
    timers,
    timers.c.task_id,
    timers.c.status.label("timer_status"),
    timers.c.locked_by.label("timer_locked_by"),
    timers.c.attempts.label("timer_attempts"),
).where(timers.c.id == bindparam("timer_id"))

# An escalation with its instance row and what its notification names: what a confirmed
# proposal's notification is built from, as the sweep builds one.
ESCALATION_FOR_NOTICE = _with_names(escalations, escalations.c.task_id).where(
    escalations.c.id == bindparam("escalation_id")
)


# The escalation of a rung, or nothing (no row returned) if the rung was already raised.
_ESCALATION_KEY = ["instance_id", "stage_seq", "task_id", "level"]


@cache
def insert_escalation(dialect: str) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, in the dialect's own insert construct.

    Built on first use: importing a dialect's module costs start-up time on every command.
    """
    if dialect == "sqlite":
        # The one dialect in use only: loading both would cost every command's start-up.
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
    statement = insert(escalations).on_conflict_do_nothing(index_elements=_ESCALATION_KEY)
    return statement.returning(escalations.c.id)


INSERT_OUTBOX = outbox.insert()

# Events that leave the stage, its deadline and the suspension as they were (milestones,
# notes, escalations) only advance the chain: a narrower update.
UPDATE_INSTANCE_PROGRESS = (
    instances.update()
    .where(and_(instances.c.id == bindparam("b_id"), instances.c.version == bindparam("b_version")))
    .values(
        version=bindparam("version"),
        milestones=bindparam("milestones"),
        last_occurred_at=bindparam("last_occurred_at"),
        head_hash=bindparam("head_hash"),
    )
)

# An item by id or by ROUND/UNIT/CODE, with its instance row.
_ITEM_WITH_INSTANCE = (
    select(
        instances,
        rounds.c.code.label("round_code"),
        units.c.code.label("unit_code"),
        items.c.code.label("item_code"),
        items.c.case_id,
    )
    .select_from(items)
    .join(instances, instances.c.id == items.c.id)
    .join(cases, cases.c.id == items.c.case_id)
    .join(rounds, rounds.c.id == cases.c.round_id)
    .join(units, units.c.id == cases.c.unit_id)
)
ITEM_BY_ID = _ITEM_WITH_INSTANCE.where(items.c.id == bindparam("item_id"))
# The case first, then its item by the unique (case_id, code): a plan that holds whatever
# the statistics say (item codes such as P01 repeat in every case, and a plan that starts
# from the code reads every case's items).
_CASE_ID_BY_KEY = (
    select(cases.c.id)
    .join(rounds, rounds.c.id == cases.c.round_id)
    .join(units, units.c.id == cases.c.unit_id)
    .where(rounds.c.code == bindparam("round_code"), units.c.code == bindparam("unit_code"))
    .scalar_subquery()
)
ITEM_BY_KEY = _ITEM_WITH_INSTANCE.where(
    items.c.case_id == _CASE_ID_BY_KEY, items.c.code == bindparam("item_code")
)
ITEM_BY_KEY_CI = _ITEM_WITH_INSTANCE.where(
    func.lower(rounds.c.code) == bindparam("round_code"),
    func.lower(units.c.code) == bindparam("unit_code"),
    func.lower(items.c.code) == bindparam("item_code"),
).limit(2)

# A clue by id or by ROUND/UNIT:CODE, with its instance row and its facts.
_CLUE_WITH_INSTANCE = (
    select(
        instances,
        rounds.c.code.label("round_code"),
        units.c.code.label("unit_code"),
        clues.c.code.label("clue_code"),
        clues.c.case_id,
        clues.c.receiver,
        clues.c.receiver_name,
    )
    .select_from(clues)
    .join(instances, instances.c.id == clues.c.id)
    .join(cases, cases.c.id == clues.c.case_id)
    .join(rounds, rounds.c.id == cases.c.round_id)
    .join(units, units.c.id == cases.c.unit_id)
)
CLUE_BY_ID = _CLUE_WITH_INSTANCE.where(clues.c.id == bindparam("clue_id"))
CLUE_BY_KEY = _CLUE_WITH_INSTANCE.where(
    clues.c.case_id == _CASE_ID_BY_KEY, clues.c.code == bindparam("clue_code")
)
CLUE_BY_KEY_CI = _CLUE_WITH_INSTANCE.where(
    func.lower(rounds.c.code) == bindparam("round_code"),
    func.lower(units.c.code) == bindparam("unit_code"),
    func.lower(clues.c.code) == bindparam("clue_code"),
).limit(2)

# By its item first: instance_id is indexed, task_id is not (without it every live timer of
# the database would be read).
SUPERSEDE_TASK_TIMERS = (
    timers.update()
    .where(
        timers.c.instance_id == bindparam("b_item_id"),
        timers.c.task_id == bindparam("b_task_id"),
        LIVE_TIMER,
    )
    .values(status="superseded")
)

# -- definitions ----------------------------------------------------------------------

DEFINITION_VERSION = select(definitions).where(
    definitions.c.name == bindparam("name"), definitions.c.version == bindparam("version")
)

LATEST_DEFINITION = (
    select(definitions)
    .where(definitions.c.name == bindparam("name"))
    .order_by(definitions.c.version.desc())
    .limit(1)
)
# Only its number (every `item add` and `case start` asks; the body is large).
LATEST_DEFINITION_VERSION = (
    select(definitions.c.version)
    .where(definitions.c.name == bindparam("name"))
    .order_by(definitions.c.version.desc())
    .limit(1)
)

# -- history --------------------------------------------------------------------------

HISTORY = (
    select(events).where(events.c.instance_id == bindparam("instance_id")).order_by(events.c.seq)
)

ALL_EVENTS = select(events).order_by(events.c.instance_id, events.c.seq)

# The events that voided instances (one each), for the refusals and views that say why.
VOID_EVENTS = select(
    events.c.instance_id, events.c.occurred_at, events.c.actor, events.c.role, events.c.reason
).where(events.c.kind == "voided")

EVENT_COUNT = select(func.count()).select_from(events)

# -- timers and escalations -----------------------------------------------------------


# Claimed timers too: a sweeper holding one then fails its fencing check and lets it go.
SUPERSEDE_TIMERS = (
    timers.update()
    .where(
        timers.c.instance_id == bindparam("b_instance_id"),
        LIVE_TIMER,
        timers.c.task_id == 0,
    )
    .values(status="superseded")
)

# -- the round plan -------------------------------------------------------------------

batches = tables.round_batch
batch_cases = tables.batch_case
round_events = tables.round_event
case_follows = tables.case_follows

# A case's batch and its planned dates (no row: the case is in no batch).
CASE_PLAN = (
    select(batches.c.code, batches.c.move_in_on, batches.c.leave_on)
    .select_from(batch_cases)
    .join(batches, batches.c.id == batch_cases.c.batch_id)
    .where(batch_cases.c.case_id == bindparam("case_id"))
)


# Every live timer of an instance, its tasks' included (a void instance escalates nothing).
SUPERSEDE_ALL_TIMERS = (
    timers.update()
    .where(timers.c.instance_id == bindparam("b_instance_id"), LIVE_TIMER)
    .values(status="superseded")
)

# -- tags and themes (专题) -------------------------------------------------------------

tags = tables.tag
item_tags = tables.item_tag
themes = tables.theme
theme_tags = tables.theme_tag
theme_categories = tables.theme_category
theme_items = tables.theme_item
theme_measures = tables.theme_measure

# -- people of the web desk -----------------------------------------------------------

web_users = tables.web_user
api_tokens = tables.api_token
web_secrets = tables.web_secret
