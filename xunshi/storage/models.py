"""The schema, declared as SQLModel tables: what the migrations at head create.

The runtime reads and writes through `tables.py`, Core tables generated from these models
(`python -m xunshi.storage.codegen`; a test keeps the two identical), so that commands do
not pay for importing pydantic and SQLModel.

Times are stored in UTC (`UTCDateTime`); business dates (`due_on`, `start_on`) are plain
dates in the business time zone. JSON payloads are canonical JSON text so that both
backends store exactly the bytes the hash chain covers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from xunshi.storage.types import ISODate, UTCDateTime


def _utc(nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class DefinitionRow(SQLModel, table=True):
    """One version of a lifecycle definition."""

    __tablename__ = "definition"
    __table_args__ = (UniqueConstraint("name", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    version: int
    digest: str = Field(max_length=64)
    title: str
    subject: str = Field(max_length=16)
    body: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON
    source: str = Field(sa_column=Column(Text, nullable=False))  # the YAML as loaded
    source_name: str
    loaded_at: datetime = _utc()
    loaded_by: str


class RoundRow(SQLModel, table=True):
    """An inspection round (轮次)."""

    __tablename__ = "inspection_round"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=64)
    title: str
    start_on: date = Field(sa_column=Column(ISODate(), nullable=False))
    created_at: datetime = _utc()


class GroupRow(SQLModel, table=True):
    """An inspection group (巡视组) of a round."""

    __tablename__ = "inspection_group"
    __table_args__ = (UniqueConstraint("round_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="inspection_round.id")
    code: str = Field(max_length=64)
    leader: str


class UnitRow(SQLModel, table=True):
    """A unit that can be inspected (被巡视单位)."""

    __tablename__ = "unit"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=64)
    name: str
    category: str = ""


class InstanceRow(SQLModel, table=True):
    """A running lifecycle (a case or an item): the projection of its history."""

    __tablename__ = "instance"
    __table_args__ = (Index("ix_instance_subject_state", "subject", "state"),)
    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=16)
    definition_name: str = Field(max_length=64)
    definition_version: int
    state: str = Field(max_length=64)
    entered_at: datetime = _utc()
    version: int
    milestones: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON
    suspended: bool = Field(sa_column=Column(Boolean, nullable=False))
    suspended_at: datetime | None = _utc(nullable=True)
    due_on: date | None = Field(default=None, sa_column=Column(ISODate(), nullable=True))
    provisional: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    last_occurred_at: datetime = _utc()
    head_hash: str = Field(max_length=64)
    stage_seq: int = 1  # seq of the event that entered the current stage
    # Withdrawn as a mistaken record (撤销, a `voided` event): kept, hidden from lists. The
    # server default is how SQLite adds a NOT NULL column to a table others reference (a
    # copy of the table would orphan their rows); xunshi always writes the column itself.
    voided: bool = Field(
        default=False,
        sa_column=Column(Boolean, nullable=False, server_default=text("false")),
    )


class CaseRow(SQLModel, table=True):
    """One unit's inspection in a round; its lifecycle is the instance with the same id."""

    __tablename__ = "inspection_case"
    __table_args__ = (UniqueConstraint("round_id", "unit_id"),)
    id: int = Field(
        sa_column=Column(Integer, ForeignKey("instance.id"), primary_key=True, autoincrement=False)
    )
    round_id: int = Field(foreign_key="inspection_round.id")
    unit_id: int = Field(foreign_key="unit.id", index=True)
    group_id: int = Field(foreign_key="inspection_group.id", index=True)


class BatchRow(SQLModel, table=True):
    """A batch (批次) of a round: cases planned to move in and leave on the same dates.

    The dates are the plan's; either may be unknown yet (NULL). A stage may take its due
    date from them (`due: plan.leave`), so changing them moves those deadlines.
    """

    __tablename__ = "round_batch"
    __table_args__ = (UniqueConstraint("round_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="inspection_round.id")
    code: str = Field(max_length=64)
    move_in_on: date | None = Field(default=None, sa_column=Column(ISODate(), nullable=True))
    leave_on: date | None = Field(default=None, sa_column=Column(ISODate(), nullable=True))


class BatchCaseRow(SQLModel, table=True):
    """A case's place in its round's plan: the batch it belongs to (at most one).

    A table of its own rather than a column of `inspection_case`: a group may inspect units
    in more than one batch, so the batch is the case's, and existing cases simply have none.
    """

    __tablename__ = "batch_case"
    case_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("inspection_case.id"), primary_key=True, autoincrement=False
        )
    )
    batch_id: int = Field(foreign_key="round_batch.id", index=True)


class CaseFollowsRow(SQLModel, table=True):
    """A case that follows an earlier case of the same unit: a 回头看 (re-inspection) checks
    how the earlier round's findings were rectified. At most one earlier case per case; the
    link is also in the case's first event."""

    __tablename__ = "case_follows"
    case_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("inspection_case.id"), primary_key=True, autoincrement=False
        )
    )
    earlier_case_id: int = Field(foreign_key="inspection_case.id", index=True)


class RoundEventRow(SQLModel, table=True):
    """Something done once for many cases of a round: a round-wide milestone or trigger
    (`round event`, `round fire`) or a change of the plan (`round plan`).

    Each case event it wrote carries its id in its data (`round_event`), inside the hash
    chain; `count` is how many case events it wrote.
    """

    __tablename__ = "round_event"
    __table_args__ = (Index("ix_round_event_round", "round_id"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="inspection_round.id")
    kind: str = Field(max_length=16)  # milestone | fire | plan
    name: str = Field(max_length=64)  # the milestone, the trigger, or the batch planned
    filters: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON
    data: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON
    actor: str
    role: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    occurred_at: datetime = _utc()
    recorded_at: datetime = _utc()
    count: int


class EventRow(SQLModel, table=True):
    """One entry of an instance's append-only, hash-chained history."""

    __tablename__ = "event"
    instance_id: int = Field(
        sa_column=Column(Integer, ForeignKey("instance.id"), primary_key=True, autoincrement=False)
    )
    seq: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    kind: str = Field(max_length=32)
    trigger: str | None = Field(default=None, max_length=64)
    from_state: str | None = Field(default=None, max_length=64)
    to_state: str | None = Field(default=None, max_length=64)
    actor: str
    role: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    data: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON
    occurred_at: datetime = _utc()
    recorded_at: datetime = _utc()
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    # The command that wrote it (see `idempotency`); outside the hash: it says how the
    # event came, not what happened. None for events written before 0013.
    request_id: str | None = Field(default=None, max_length=64, index=True)


class RequestRow(SQLModel, table=True):
    """One write transaction of a state-changing command: its request id and step, stored
    with its writes, so that running the command again finds what it did."""

    __tablename__ = "command_request"
    request_id: str = Field(max_length=64, primary_key=True)
    step: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    command: str = Field(sa_column=Column(Text, nullable=False))


class SealRow(SQLModel, table=True):
    """A digest over every chain head at one moment (`audit seal`)."""

    __tablename__ = "seal"
    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(unique=True, max_length=64)
    created_at: datetime = _utc()
    created_by: str
    chains: int
    events: int
    heads: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON


_LIVE_TIMER = text("status IN ('pending', 'claimed')")


class TimerRow(SQLModel, table=True):
    """One rung of a ladder waiting for its instant (DESIGN §5)."""

    __tablename__ = "timer"
    __table_args__ = (
        # The sweep's claim reads only live timers in fire_at order; done and superseded
        # ones pile up over the years and must not slow it down.
        Index("ix_timer_live", "fire_at", sqlite_where=_LIVE_TIMER, postgresql_where=_LIVE_TIMER),
        # Not on status: every claim and fire changes it, and a wider key would move in the
        # index each time.
        Index("ix_timer_instance", "instance_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    instance_id: int = Field(foreign_key="instance.id")
    stage_seq: int
    stage: str = Field(max_length=64)
    task_id: int = 0  # 0: the stage itself; else the task's id (unique keys need no NULL)
    level: int
    title: str
    notify: str  # canonical JSON list of role names
    generation: int
    due_on: date = Field(sa_column=Column(ISODate(), nullable=False))
    fire_at: datetime = _utc()
    provisional: bool = Field(sa_column=Column(Boolean, nullable=False))
    status: str = Field(max_length=16)
    locked_by: str | None = Field(default=None, max_length=128)
    locked_until: datetime | None = _utc(nullable=True)
    attempts: int = 0
    dedup_key: str = Field(unique=True, max_length=200)


class EscalationRow(SQLModel, table=True):
    """A raised rung: a stage (or task) overdue or about to be, told to someone.

    It stays open while the stage entry it was raised for is current (the instance's
    `stage_seq` still equals its own), so leaving the stage resolves it without a write.
    """

    __tablename__ = "escalation"
    __table_args__ = (
        # A rung is raised at most once per stage entry (or task), whatever generation
        # of timer raised it: the database itself refuses a second one.
        UniqueConstraint("instance_id", "stage_seq", "task_id", "level"),
    )
    id: int | None = Field(default=None, primary_key=True)
    instance_id: int = Field(foreign_key="instance.id")
    stage_seq: int
    stage: str = Field(max_length=64)
    task_id: int = 0  # 0: the stage itself; else the task's id (unique keys need no NULL)
    level: int
    generation: int
    title: str
    notify: str  # canonical JSON list of role names
    due_on: date = Field(sa_column=Column(ISODate(), nullable=False))
    fire_at: datetime = _utc()
    provisional: bool = Field(sa_column=Column(Boolean, nullable=False))
    raised_at: datetime = _utc()
    acked_at: datetime | None = _utc(nullable=True)
    acked_by: str | None = None
    # What the rung is (its instrument and the role it is addressed to) and, for a
    # `decision` rung, the proposal's fate: pending until the office confirms or dismisses.
    instrument: str = Field(default="", max_length=16)
    recipient: str = Field(default="", max_length=64)
    decision: str | None = Field(default=None, max_length=16)  # pending|confirmed|dismissed
    decided_at: datetime | None = _utc(nullable=True)
    decided_by: str | None = None
    decision_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class OutboxRow(SQLModel, table=True):
    """A notification to deliver on one channel, at least once, with an idempotency key."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("channel", "idempotency_key"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    escalation_id: int = Field(foreign_key="escalation.id")
    channel: str = Field(max_length=32)
    idempotency_key: str = Field(max_length=200)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=16)  # pending | delivered | failed
    attempts: int = 0
    next_attempt_at: datetime = _utc()
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = _utc()
    delivered_at: datetime | None = _utc(nullable=True)
    locked_by: str | None = Field(default=None, max_length=128)
    locked_until: datetime | None = _utc(nullable=True)


class CalendarYearRow(SQLModel, table=True):
    """One load of a working-day calendar year: a file merged or replacing it, or a reset.

    Loads are kept, never edited: a year's days are the built-in data, then its loads in
    order (`workflow/calendar.py: year_days`). `holidays`, `workdays` and `ordinary` are the
    days the file listed; `year_holidays` and `year_workdays` the year as the load left it
    (NULL: no data, weekends only), a record of what it did.
    """

    __tablename__ = "calendar_year"
    id: int | None = Field(default=None, primary_key=True)
    calendar: str = Field(max_length=16)
    year: int
    holidays: str = Field(sa_column=Column(Text, nullable=False))  # JSON list of ISO dates
    workdays: str = Field(sa_column=Column(Text, nullable=False))  # JSON list of ISO dates
    digest: str = Field(max_length=64)
    source_name: str
    source: str = Field(sa_column=Column(Text, nullable=False))
    loaded_by: str
    loaded_at: datetime = _utc()
    mode: str = Field(max_length=16)  # merge | replace | reset
    ordinary: str = Field(sa_column=Column(Text, nullable=False))  # JSON list of ISO dates
    titles: str = Field(sa_column=Column(Text, nullable=False))  # JSON {ISO date: title}
    year_holidays: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    year_workdays: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


metadata = SQLModel.metadata


class CategoryRow(SQLModel, table=True):
    """A problem category of the office's two-level list (一级类别 / 二级类别)."""

    __tablename__ = "category"
    __table_args__ = (UniqueConstraint("level1", "level2"),)
    id: int | None = Field(default=None, primary_key=True)
    level1: str
    level2: str
    position: int  # order in the office's list


class ItemRow(SQLModel, table=True):
    """A rectification item (问题); its lifecycle is the instance with the same id."""

    __tablename__ = "rectification_item"
    __table_args__ = (UniqueConstraint("case_id", "code"),)
    id: int = Field(
        sa_column=Column(Integer, ForeignKey("instance.id"), primary_key=True, autoincrement=False)
    )
    case_id: int = Field(foreign_key="inspection_case.id", index=True)
    code: str = Field(max_length=64)
    title: str
    manifestations: str = Field(sa_column=Column(Text, nullable=False))
    category_id: int = Field(foreign_key="category.id", index=True)
    key_problem: bool = Field(sa_column=Column(Boolean, nullable=False))
    fix_now: bool = Field(sa_column=Column(Boolean, nullable=False))
    root_cause: str = Field(sa_column=Column(Text, nullable=False))
    source: str = Field(max_length=32)
    created_at: datetime = _utc()


class TagRow(SQLModel, table=True):
    """A business-domain tag (业务领域) of the office's list, e.g. 承包商管理."""

    __tablename__ = "tag"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    position: int  # order in the office's list


class ItemTagRow(SQLModel, table=True):
    """A tag an item carries; the item's history records its tags with its other facts."""

    __tablename__ = "item_tag"
    __table_args__ = (Index("ix_item_tag_tag", "tag_id"),)
    item_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("rectification_item.id"), primary_key=True, autoincrement=False
        )
    )
    tag_id: int = Field(
        sa_column=Column(Integer, ForeignKey("tag.id"), primary_key=True, autoincrement=False)
    )


class ThemeRow(SQLModel, table=True):
    """A thematic report (专题) of a round: a problem seen across units, the department that
    answers for it as a class, and its mechanism measures. Its changes are round events."""

    __tablename__ = "theme"
    __table_args__ = (UniqueConstraint("round_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="inspection_round.id")
    code: str = Field(max_length=64)
    title: str
    department: str
    created_at: datetime = _utc()


class ThemeTagRow(SQLModel, table=True):
    """A theme takes in every item of its round with this tag."""

    __tablename__ = "theme_tag"
    theme_id: int = Field(
        sa_column=Column(Integer, ForeignKey("theme.id"), primary_key=True, autoincrement=False)
    )
    tag_id: int = Field(
        sa_column=Column(Integer, ForeignKey("tag.id"), primary_key=True, autoincrement=False)
    )


class ThemeCategoryRow(SQLModel, table=True):
    """A theme takes in every item of its round in this category."""

    __tablename__ = "theme_category"
    theme_id: int = Field(
        sa_column=Column(Integer, ForeignKey("theme.id"), primary_key=True, autoincrement=False)
    )
    category_id: int = Field(
        sa_column=Column(Integer, ForeignKey("category.id"), primary_key=True, autoincrement=False)
    )


class ThemeItemRow(SQLModel, table=True):
    """An item linked to a theme by hand (`theme link`)."""

    __tablename__ = "theme_item"
    __table_args__ = (Index("ix_theme_item_item", "item_id"),)
    theme_id: int = Field(
        sa_column=Column(Integer, ForeignKey("theme.id"), primary_key=True, autoincrement=False)
    )
    item_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("rectification_item.id"), primary_key=True, autoincrement=False
        )
    )


class ThemeMeasureRow(SQLModel, table=True):
    """A mechanism measure (建章立制, 长效机制) of a theme, numbered from 1, with its status."""

    __tablename__ = "theme_measure"
    __table_args__ = (UniqueConstraint("theme_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    theme_id: int = Field(foreign_key="theme.id", index=True)
    number: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=16)  # 未开始 | 推进中 | 已完成


class TaskRow(SQLModel, table=True):
    """A measure (整改措施) of an item, with who answers for it and by when.

    The row is the projection of the item's `task` events: audit verify replays them.
    """

    __tablename__ = "rectification_task"
    __table_args__ = (UniqueConstraint("item_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="rectification_item.id", index=True)
    number: int
    measure: str = Field(sa_column=Column(Text, nullable=False))
    responsible_leader: str
    lead_department: str
    cooperating_departments: str
    responsible_person: str
    due_on: date | None = Field(default=None, sa_column=Column(ISODate(), nullable=True))
    long_term: bool = Field(sa_column=Column(Boolean, nullable=False))
    status: str = Field(max_length=16)  # open | done
    progress: str = Field(sa_column=Column(Text, nullable=False))
    evidence: str = Field(sa_column=Column(Text, nullable=False))
    completed_on: date | None = Field(default=None, sa_column=Column(ISODate(), nullable=True))


class TaskExtensionRow(SQLModel, table=True):
    """A unit's request to move a task's due date (延期申请) and the office's decision.

    The row is the projection of the item's `task` events (`extension_requested`,
    `extension_approved`, `extension_rejected`): audit verify replays it. The task's due
    date moves only on approval; `original_due` is the date the request asked to move.
    """

    __tablename__ = "task_extensions"
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="rectification_task.id", index=True)
    requested_at: datetime = _utc()
    requested_by: str
    requested_role: str = Field(max_length=64)
    original_due: date = Field(sa_column=Column(ISODate(), nullable=False))
    requested_due: date = Field(sa_column=Column(ISODate(), nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=16)  # pending | approved | rejected
    decided_at: datetime | None = _utc(nullable=True)
    decided_by: str | None = None
    decided_role: str | None = Field(default=None, max_length=64)
    decision_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class ClueRow(SQLModel, table=True):
    """A 问题线索 of a case; its lifecycle is the instance with the same id.

    The row is the projection of the clue's history: its code and summary are in its first
    event, the receiver, the disposition and the outcome in the transitions that record them
    (audit verify replays them). `receiver` is the receiving body's role (discipline_group,
    organization_dept), `other` for another receiver named in `receiver_name`, empty until
    the clue is handed over.
    """

    __tablename__ = "clue"
    __table_args__ = (UniqueConstraint("case_id", "code"),)
    id: int = Field(
        sa_column=Column(Integer, ForeignKey("instance.id"), primary_key=True, autoincrement=False)
    )
    case_id: int = Field(foreign_key="inspection_case.id", index=True)
    code: str = Field(max_length=64)
    summary: str
    receiver: str = Field(max_length=64)
    receiver_name: str
    disposition: str = Field(max_length=16)
    outcome: str
    created_at: datetime = _utc()


class ClueItemRow(SQLModel, table=True):
    """A problem (item) a clue gave rise to; each link is an event of the clue's history."""

    __tablename__ = "clue_item"
    __table_args__ = (Index("ix_clue_item_item", "item_id"),)
    clue_id: int = Field(
        sa_column=Column(Integer, ForeignKey("clue.id"), primary_key=True, autoincrement=False)
    )
    item_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("rectification_item.id"), primary_key=True, autoincrement=False
        )
    )


class OutcomeRow(SQLModel, table=True):
    """What rectification achieved (整改成果): rules made or revised (建章立制), people held
    accountable (问责), funds recovered or losses avoided (万元) — of a task, recorded when it
    is done, or of its item as a whole (`item outcome`, task 0).

    The row is the projection of the item's history (`task_done` and `outcome` events):
    audit verify replays it. A replaced outcome is a new event; the row shows the latest.
    """

    __tablename__ = "rectification_outcome"
    item_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("rectification_item.id"), primary_key=True, autoincrement=False
        )
    )
    # 0: the item's own outcome; else the task's id (keys need no NULL, as in `timer`)
    task_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    rules: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON: the titles
    accountable: int
    funds: int  # in hundredths of 万元 (百元), so that sums are exact on every backend
    evidence: str = Field(sa_column=Column(Text, nullable=False))


class ItemRecursRow(SQLModel, table=True):
    """A problem found again (屡改屡犯): an item of a 回头看 case that recurs from an item of
    the case it follows. At most one earlier item per item; the link is also in the item's
    first event."""

    __tablename__ = "item_recurs_from"
    item_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("rectification_item.id"), primary_key=True, autoincrement=False
        )
    )
    earlier_item_id: int = Field(foreign_key="rectification_item.id", index=True)


class WebUserRow(SQLModel, table=True):
    """A person who signs in to the web desk: a name, one role of the definitions, the group
    or unit their view is scoped to, and the scrypt hash of their password (never the
    password). `failed_logins` and `locked_until` throttle guessing."""

    __tablename__ = "web_user"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    role: str = Field(max_length=32)
    group_id: int | None = Field(default=None, foreign_key="inspection_group.id")
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    password_hash: str
    disabled: bool = Field(sa_column=Column(Boolean, nullable=False))
    failed_logins: int = 0
    locked_until: datetime | None = _utc(nullable=True)
    created_at: datetime = _utc()


class ApiTokenRow(SQLModel, table=True):
    """An API token of a user, for scripts: only its SHA-256 is kept (the token is shown once)."""

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="web_user.id", index=True)
    token_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = _utc()


class WebSecretRow(SQLModel, table=True):
    """The key that signs the desk's session cookies, made once, shared by every process."""

    __tablename__ = "web_secret"
    id: int | None = Field(default=None, primary_key=True)
    secret: str = Field(max_length=128)
    created_at: datetime = _utc()
