"""问题线索: clues about individuals that a case's inspection found, and where they went.

A clue is an instance of a `subject: clue` definition (the built-in `clue`): 登记 → 移交 →
处置中 → 办结. Its row holds what the history says of it — the code and summary from its
first event, the receiver, the disposition type and the outcome from the transitions that
record them, its links to problems from its `link` events — so that `audit verify` names a
row edited outside xunshi. The definition's state tags say which transition records what:
entering a state tagged `handed_over` from one that is not hands the clue over (and needs
its case in a stage tagged `clues_open` at that moment), `disposed` reports the
disposition type, `concluded` the outcome.

Among the receiving bodies only the clue's own receiver acts on it; who may see it is
`workflow/clues.py`'s rule.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from xunshi.definitions.schema import Definition, Transition
from xunshi.errors import AlreadyExists, BadInput, Refused
from xunshi.keys import ByNumber, InstanceKey, Reference, reference
from xunshi.services.clues_import import plan_clues
from xunshi.services.commands import ClueFire, Handover
from xunshi.services.lifecycle import Lifecycle, change
from xunshi.services.results import Change, CluesImported, Started
from xunshi.storage import queries as q
from xunshi.storage.db import Database
from xunshi.texts import check_code, check_name
from xunshi.timeparse import business_time
from xunshi.workflow.clues import (
    OTHER_RECEIVER,
    RECEIVERS,
    REGISTERING_ROLES,
    check_disposition,
    check_summary,
    may_see,
)
from xunshi.workflow.decide import Command
from xunshi.workflow.engine import Engine, Outcome, ReadSet
from xunshi.workflow.resolve import (
    InstanceRef,
    find_clue_code,
    resolve_case,
    resolve_clue,
    resolve_item,
)

CLUE_DEFINITION = "clue"
# What entering a state with each tag records, in the order a clue's life records them.
RECORDING_TAGS = ("handed_over", "disposed", "concluded")


class ClueService(Lifecycle):
    """Clues: registering, moving along (with what each step records), linking to problems."""

    def __init__(self, db: Database, engine: Engine) -> None:
        super().__init__(db, engine, "clue")

    # -- registering ------------------------------------------------------------------

    def add_clue(
        self,
        case: str | Reference,
        *,
        code: str,
        summary: str,
        actor: str,
        role: str,
        at: datetime | None = None,
        definition: str = CLUE_DEFINITION,
    ) -> Started:
        """Register a clue of a case (登记) with its code and a summary naming no one."""
        target = reference(case, "case")

        def work(conn: Connection) -> Started:
            return self._add_clue(conn, target, code, summary, actor, role, definition, at)

        return self.db.run(work, immediate=True)

    def _add_clue(
        self,
        conn: Connection,
        case: Reference,
        code: str,
        summary: str,
        actor: str,
        role: str,
        definition: str,
        at: datetime | None,
    ) -> Started:
        case_ref = resolve_case(conn, case)
        assert case_ref.key is not None
        code = check_code("clue", code)
        summary = check_summary(summary)
        key = case_ref.key.clue_key(code)
        check_registering_role(role)
        self.check_registration(conn, case_ref, key, at)
        taken = find_clue_code(conn, case_ref.id, code)
        if taken is not None:
            shown = "" if taken == code else f" (as {taken})"
            raise AlreadyExists(f"{key.label} already exists{shown}")
        recorded: dict[str, Any] = {
            "code": code,
            "summary": summary,
            "receiver": "",
            "receiver_name": "",
            "disposition": "",
            "outcome": "",
            "items": [],
        }
        outcome = self.engine.start(
            conn,
            subject="clue",
            definition=definition,
            actor=actor,
            role=role,
            at=at,
            key=key,
            facts=recorded,
        )
        try:
            conn.execute(
                q.clues.insert(),
                {
                    **{name: value for name, value in recorded.items() if name != "items"},
                    "id": outcome.instance.id,
                    "case_id": case_ref.id,
                    "created_at": self.engine.clock.now(),
                },
            )
        except IntegrityError as exc:  # PostgreSQL: another writer added the same code
            raise AlreadyExists(f"{key.label} already exists") from exc
        return Started(outcome.instance.id, key)

    def check_registration(
        self, conn: Connection, case: InstanceRef, key: InstanceKey, at: datetime | None
    ) -> None:
        """A clue is registered in a case that is not closed, never before the case began."""
        row = case.row
        assert row is not None
        defn = self.engine.registry.definition(
            conn, row["definition_name"], row["definition_version"]
        )
        state = defn.state(row["state"])
        if state.final:
            raise Refused(f"{case.label} is {state.title} ({state.name}); its clue list is closed")
        started = self._case_started(conn, case.id)
        if at is not None and at < started:
            tz = self.engine.tz
            raise Refused(
                f"{key.label} cannot be registered at {business_time(at, tz)}: {case.label} "
                f"started at {business_time(started, tz)}"
            )

    # -- moving along -----------------------------------------------------------------

    def fire(
        self,
        name: str | Reference,
        trigger: str,
        *,
        actor: str,
        role: str,
        reason: str | None = None,
        at: datetime | None = None,
        records: ClueFire | None = None,
    ) -> Change:
        """Move the clue along `trigger`, with what the step records (its receiver on the
        handover, its disposition type, its outcome)."""
        target = reference(name, "clue")
        given = _checked(records or ClueFire())
        reads = ReadSet()

        def attempt(conn: Connection) -> Change:
            ref = resolve_clue(conn, target)
            command = Command("fire", actor, role, trigger, reason, at)
            self.check(conn, ref, command)
            return change(ref, self._fire(conn, ref, command, given, reads))

        return self.db.run(attempt)

    def _fire(
        self,
        conn: Connection,
        ref: InstanceRef,
        command: Command,
        given: ClueFire,
        reads: ReadSet | None,
    ) -> Outcome:
        facts = self._recorded(conn, ref, command, given)
        if facts:
            command = command._replace(data={"facts": facts})
        outcome = self.engine.execute(conn, ref, command, reads)
        if facts:
            conn.execute(q.clues.update().where(q.clues.c.id == ref.id).values(**facts))
        return outcome

    def check(self, conn: Connection, ref: InstanceRef, command: Command) -> None:
        """Among the receiving bodies, only the clue's own receiver acts on it."""
        assert ref.row is not None
        role, receiver = str(command.role), ref.row["receiver"]
        if role not in RECEIVERS or role == receiver:
            return
        title = RECEIVERS[role]
        if not receiver:
            raise Refused(
                f"{ref.label} has not been handed over; {role} ({title}) may not act on it"
            )
        raise Refused(
            f"{ref.label} was handed over to {ref.row['receiver_name']}; {role} ({title}) "
            "may not act on it"
        )

    def _recorded(
        self, conn: Connection, ref: InstanceRef, command: Command, given: ClueFire
    ) -> dict[str, str]:
        """The facts the transition records, checked; refusing what it lacks or does not take.

        A trigger the engine will refuse anyway (unknown here, not the role's, the clue
        suspended) records nothing: the engine's refusal names the real reason.
        """
        row = ref.row
        assert row is not None
        compiled = self.engine.registry.compiled(
            conn, row["definition_name"], row["definition_version"]
        )
        defn = compiled.definition
        transition = compiled.transition(str(command.name), row["state"])
        if (
            transition is None
            or (transition.roles and command.role not in transition.roles)
            or row["suspended"]
        ):
            return {}
        records = _records(defn, transition)
        label, trigger = ref.label, transition.trigger
        facts: dict[str, str] = {}
        if "handed_over" in records:
            if given.handover is None:
                raise BadInput(
                    f"{label}: {trigger} hands it over: give the receiver (--to "
                    "discipline_group, --to organization_dept or --to-other NAME)"
                )
            case = resolve_case(conn, ByNumber("case", row["case_id"]))
            self.check_handover(conn, case, label, trigger, command.at)
            receiver = given.handover.receiver
            name = given.handover.name if receiver == OTHER_RECEIVER else defn.role_title(receiver)
            facts.update(receiver=receiver, receiver_name=name)
        elif given.handover is not None:
            raise BadInput(f"{label}: {trigger} does not hand it over; drop --to/--to-other")
        if "disposed" in records:
            if given.disposition is None:
                raise BadInput(
                    f"{label}: {trigger} reports the disposition: give --disposition (one of "
                    "谈话函询, 初步核实, 暂存待查, 予以了结, 立案审查)"
                )
            facts["disposition"] = given.disposition
        elif given.disposition is not None:
            raise BadInput(f"{label}: {trigger} does not report a disposition; drop --disposition")
        if "concluded" in records:
            if given.outcome is None:
                raise BadInput(f"{label}: {trigger} concludes it: give its outcome (--outcome)")
            facts["outcome"] = given.outcome
        elif given.outcome is not None:
            raise BadInput(f"{label}: {trigger} does not conclude it; drop --outcome")
        return facts

    def check_handover(
        self, conn: Connection, case: InstanceRef, label: str, trigger: str, at: datetime | None
    ) -> None:
        """A clue is handed over while its case is in a stage tagged `clues_open` (in the
        built-ins: from 现场巡视 on); at `at`, the stage its history says it was in then.

        A case definition that tags no stage so (one written before the tag) hands clues
        over in every stage that is not final.
        """
        assert case.row is not None
        defn = self.engine.registry.definition(
            conn, case.row["definition_name"], case.row["definition_version"]
        )
        open_states = defn.tagged("clues_open") or frozenset(
            s.name for s in defn.states if not s.final
        )
        tz = self.engine.tz
        if at is None:
            stage: str | None = case.row["state"]
            where = f"{label} cannot {trigger}: {case.label} is in"
        else:
            stage = self._case_stage_at(conn, case.id, at)
            where = f"{label} cannot {trigger} at {business_time(at, tz)}: {case.label} was in"
        if stage is None:
            assert at is not None
            raise Refused(
                f"{label} cannot {trigger} at {business_time(at, tz)}: {case.label} had not "
                "started then"
            )
        if stage in open_states:
            return
        title = defn.state(stage).title if defn.has_state(stage) else stage
        raise Refused(
            f"{where} {title} ({stage}); clues are handed over {_stages_text(defn, open_states)}"
        )

    def handover_trigger(self, conn: Connection, ref: InstanceRef) -> Transition:
        """The one transition that hands the clue over from where it is (imports use it)."""
        row = ref.row
        assert row is not None
        defn = self.engine.registry.definition(
            conn, row["definition_name"], row["definition_version"]
        )
        found = [
            t for t in defn.transitions_from(row["state"]) if "handed_over" in _records(defn, t)
        ]
        if len(found) != 1:
            raise Refused(
                f"{ref.label}: {defn.name} has {len(found)} transitions that hand a clue over "
                f"from {row['state']}; hand it over with `xunshi clue fire`"
            )
        return found[0]

    # -- links to problems ------------------------------------------------------------

    def link(
        self,
        clue: str | Reference,
        item: str | Reference,
        *,
        actor: str,
        role: str,
        at: datetime | None = None,
    ) -> Change:
        """Link a clue to a problem (item) of its case that it gave rise to."""
        return self._change_link(clue, item, "item_linked", actor, role, None, at)

    def unlink(
        self,
        clue: str | Reference,
        item: str | Reference,
        *,
        actor: str,
        role: str,
        reason: str,
        at: datetime | None = None,
    ) -> Change:
        """Undo a link made by mistake; the reason stays in the clue's history."""
        if not reason.strip():
            raise BadInput("unlinking a problem from a clue needs a reason (--reason)")
        return self._change_link(clue, item, "item_unlinked", actor, role, reason, at)

    def _change_link(
        self,
        clue: str | Reference,
        item: str | Reference,
        change_name: str,
        actor: str,
        role: str,
        reason: str | None,
        at: datetime | None,
    ) -> Change:
        target, problem = reference(clue, "clue"), reference(item, "item")
        reads = ReadSet()

        def attempt(conn: Connection) -> Change:
            ref = resolve_clue(conn, target)
            item_ref = resolve_item(conn, problem)
            command = Command("link", actor, role, change_name, reason, at)
            outcome = self.change_link(conn, ref, item_ref, command, reads)
            return change(ref, outcome)

        return self.db.run(attempt)

    def change_link(
        self,
        conn: Connection,
        ref: InstanceRef,
        item: InstanceRef,
        command: Command,
        reads: ReadSet | None = None,
    ) -> Outcome:
        """Link (`item_linked`) or unlink (`item_unlinked`, the command's name) a problem,
        in the caller's transaction."""
        assert ref.row is not None and item.row is not None
        role, change_name = str(command.role), command.name
        if not may_see(role, ref.row["receiver"]):
            raise Refused(
                f"role {role} may not link {ref.label}: only the office and the clue's "
                "receiver see it"
            )
        if item.row["case_id"] != ref.row["case_id"]:
            assert ref.key is not None
            raise Refused(f"{item.label} is not a problem of {ref.key.case.label}")
        links = q.clue_items
        linked = (
            conn.execute(
                select(links.c.item_id).where(links.c.clue_id == ref.id, links.c.item_id == item.id)
            ).first()
            is not None
        )
        if change_name == "item_linked" and linked:
            raise Refused(f"{ref.label} is already linked to {item.label}")
        if change_name == "item_unlinked" and not linked:
            raise Refused(f"{ref.label} is not linked to {item.label}")
        assert item.key is not None and item.key.item is not None
        data = {"item": item.id, "code": item.key.item}
        outcome = self.engine.execute(conn, ref, command._replace(data=data), reads)
        if change_name == "item_linked":
            conn.execute(links.insert(), {"clue_id": ref.id, "item_id": item.id})
        else:
            conn.execute(
                links.delete().where(links.c.clue_id == ref.id, links.c.item_id == item.id)
            )
        return outcome

    # -- import ---------------------------------------------------------------------------

    def import_clues(
        self,
        path: Path,
        *,
        actor: str,
        role: str = "office",
        at: datetime | None = None,
        encoding: str | None = None,
    ) -> CluesImported:
        """Clues from a sheet (one row each, handed over when a receiver is given); every
        row checked first, all written in one transaction or none."""
        check_registering_role(role)

        def work(conn: Connection) -> CluesImported:
            lookups = _Lookups(conn, self)
            now = at or self.engine.clock.now()
            planned = plan_clues(lookups, path, now, self.engine.tz, encoding=encoding)
            handed = 0
            for clue in planned:
                added = self._add_clue(
                    conn,
                    clue.case,
                    clue.code,
                    clue.summary,
                    actor,
                    role,
                    CLUE_DEFINITION,
                    clue.registered_at,
                )
                if clue.handover is None:
                    continue
                ref = resolve_clue(conn, ByNumber("clue", added.id))
                transition = self.handover_trigger(conn, ref)
                command = Command("fire", actor, role, transition.trigger, at=clue.handed_over_at)
                self._fire(conn, ref, command, ClueFire(handover=clue.handover), None)
                handed += 1
            return CluesImported(len(planned), handed)

        return self.db.run(work, immediate=True)

    # -- reading the case's history -------------------------------------------------

    def _case_started(self, conn: Connection, case_id: int) -> datetime:
        e = q.events
        started: datetime = conn.execute(
            select(e.c.occurred_at).where(e.c.instance_id == case_id, e.c.seq == 1)
        ).scalar_one()
        return started

    def _case_stage_at(self, conn: Connection, case_id: int, at: datetime) -> str | None:
        """The stage the case's history says it was in at `at` (None: not started yet)."""
        e = q.events
        found = conn.execute(
            select(e.c.to_state)
            .where(
                e.c.instance_id == case_id,
                e.c.kind.in_(("started", "transition", "migrated")),
                e.c.to_state.is_not(None),
                e.c.occurred_at <= at,
            )
            .order_by(e.c.seq.desc())
            .limit(1)
        ).scalar_one_or_none()
        return None if found is None else str(found)


def check_registering_role(role: str) -> None:
    """Clues are registered by the office or a group (`REGISTERING_ROLES`)."""
    if role not in REGISTERING_ROLES:
        raise Refused(
            f"role {role} may not register clues; allowed: {', '.join(REGISTERING_ROLES)}"
        )


def _records(defn: Definition, transition: Transition) -> tuple[str, ...]:
    """What taking `transition` records: each tag its destination has and its source not."""
    source, dest = defn.state(transition.source), defn.state(transition.dest)
    return tuple(t for t in RECORDING_TAGS if dest.has_tag(t) and not source.has_tag(t))


def _checked(given: ClueFire) -> ClueFire:
    """The facts as typed, checked (before any transaction)."""
    handover = given.handover
    if handover is not None:
        if handover.receiver == OTHER_RECEIVER:
            handover = Handover(OTHER_RECEIVER, check_name("receiver", handover.name))
        elif handover.receiver not in RECEIVERS:
            known = ", ".join([*RECEIVERS, OTHER_RECEIVER])
            raise BadInput(f"receiver {handover.receiver!r} is not one of {known}")
        elif handover.name:
            raise BadInput(f"receiver {handover.receiver} is named by its role; drop the name")
    disposition = None if given.disposition is None else check_disposition(given.disposition)
    outcome = None if given.outcome is None else check_summary(given.outcome, "outcome")
    return ClueFire(handover, disposition, outcome)


def _stages_text(defn: Definition, names: frozenset[str]) -> str:
    """`from 现场巡视 (onsite) on` when the stages are every later one, else `in A, B or C`."""
    ordered = [s for s in defn.states if not s.final]
    tagged = [s for s in ordered if s.name in names]
    if not tagged:
        return "in no stage"
    first = ordered.index(tagged[0])
    if tagged == ordered[first:]:
        return f"from {tagged[0].title} ({tagged[0].name}) on"
    shown = [f"{s.title} ({s.name})" for s in tagged]
    return "in " + (shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}")


class _Lookups:
    """What checking a clues sheet asks of the database (see clues_import.ClueLookups)."""

    def __init__(self, conn: Connection, service: ClueService) -> None:
        self.conn = conn
        self.service = service

    def case(self, key: InstanceKey) -> InstanceRef:
        """Case `key` with its row (NotFound if there is none)."""
        return resolve_case(self.conn, key)

    def clue_exists(self, case_id: int, code: str) -> bool:
        """Whether the case already has a clue `code` (in any case)."""
        return find_clue_code(self.conn, case_id, code) is not None

    def check_registration(self, case: InstanceRef, key: InstanceKey, at: datetime) -> None:
        """Refuse a clue the case does not take at `at`."""
        self.service.check_registration(self.conn, case, key, at)

    def check_handover(self, case: InstanceRef, key: InstanceKey, at: datetime) -> None:
        """Refuse a handover at `at` while the case was not in a stage tagged clues_open."""
        self.service.check_handover(self.conn, case, key.label, "hand_over", at)
