"""The small command dataclasses front ends fill in: a problem's facts, a task's facts,
what a clue's step records, which cases of a round a round-wide event goes to.

Light on purpose (the standard library and the error types only): the CLI builds them at
start-up cost zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from xunshi.errors import BadInput
from xunshi.texts import check_name, check_text

# Where a problem came from: key → what the ledger shows.
SOURCES: dict[str, str] = {"inspection": "巡视发现", "audit": "巡审联动", "lead": "线索移交"}


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What the office records about a problem when it adds it."""

    code: str
    title: str
    category: str  # `一级/二级`
    manifestations: str = ""
    key_problem: bool = False
    fix_now: bool = False
    root_cause: str = ""
    source: str = "inspection"
    # The key of an earlier round's item it recurs from (屡改屡犯); a 回头看 case's items only.
    recurs_from: str | None = None
    tags: tuple[str, ...] = ()  # 业务领域, from the office's tag list


@dataclass(frozen=True, slots=True)
class Handover:
    """Where a clue is handed over to (移交): a receiving body's role (`discipline_group`,
    `organization_dept`), or `other` with the other receiver's name."""

    receiver: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class ClueFire:
    """What a transition of a clue may record: the receiver, the disposition, the outcome."""

    handover: Handover | None = None
    disposition: str | None = None
    outcome: str | None = None


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
            responsible_leader=check_name("responsible leader", self.responsible_leader),
            lead_department=check_name("lead department", self.lead_department),
            responsible_person=check_name("responsible person", self.responsible_person),
            cooperating_departments=check_name(
                "cooperating departments", self.cooperating_departments, required=False
            ),
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
class OutcomeFacts:
    """整改成果 as typed: rules made or revised (titles), people held accountable (a number,
    or its digits as typed), funds recovered or losses avoided (万元, as text: `12.5`), the
    evidence; None: not given."""

    rules: tuple[str, ...] = ()
    accountable: int | str | None = None
    funds: str | None = None
    evidence: str = ""

    def given(self) -> bool:
        """Whether anything is given at all."""
        return bool(self.rules or self.evidence.strip()) or (
            self.accountable is not None or self.funds is not None
        )


@dataclass(frozen=True, slots=True)
class TaskChanges:
    """New values for a task's facts (None: unchanged), a progress note, or long-term."""

    measure: str | None = None
    responsible_leader: str | None = None
    lead_department: str | None = None
    cooperating_departments: str | None = None
    responsible_person: str | None = None
    due_on: date | None = None
    long_term: bool = False
    progress: str | None = None

    def facts(self) -> dict[str, Any]:
        """The facts given (a new due date makes the task dated, long-term undated)."""
        given: dict[str, Any] = {
            name: getattr(self, name)
            for name in (
                "measure",
                "responsible_leader",
                "lead_department",
                "cooperating_departments",
                "responsible_person",
                "due_on",
            )
            if getattr(self, name) is not None
        }
        if self.long_term:
            if "due_on" in given:
                raise BadInput("a task is either long-term or has a due date, not both")
            given.update(due_on=None, long_term=True)
        elif "due_on" in given:
            given["long_term"] = False
        return given


@dataclass(frozen=True, slots=True)
class ItemChanges:
    """New values for a problem's facts (None: unchanged)."""

    title: str | None = None
    manifestations: str | None = None
    category: str | None = None  # `一级/二级`
    key_problem: bool | None = None
    fix_now: bool | None = None
    root_cause: str | None = None
    tags: tuple[str, ...] | None = None  # replaces every tag of the item

    def given(self) -> dict[str, Any]:
        """The facts given, by name."""
        names = ("title", "manifestations", "category", "key_problem", "fix_now", "root_cause")
        given = {n: getattr(self, n) for n in names if getattr(self, n) is not None}
        if self.tags is not None:
            given["tags"] = self.tags
        return given


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """Which cases of a round a round-wide event goes to: all of them, or those of a batch,
    a group and/or a list of units (every given part must match)."""

    batch: str | None = None
    group: str | None = None
    units: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape (and what `round_event.filters` stores)."""
        return {"batch": self.batch, "group": self.group, "units": list(self.units)}

    def describe(self) -> str:
        """`batch 第一批, group G1, units U01, U02`; empty for every case of the round."""
        parts = []
        if self.batch is not None:
            parts.append(f"batch {self.batch}")
        if self.group is not None:
            parts.append(f"group {self.group}")
        if self.units:
            parts.append(f"units {', '.join(self.units)}")
        return ", ".join(parts)


EVERY_CASE = CaseFilter()
