"""The hash-chained history: canonical events, chain hashes, replay and verification.

Every change to an instance is an event; `hash = sha256(prev_hash + canonical_json(event))`
where the canonical form has sorted keys, UTC ISO times and no whitespace. The instance
row is a projection: replaying its events must give it back exactly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from xunshi.definitions.schema import canonical_json
from xunshi.workflow.outcomes import Outcome

GENESIS_HASH = "0" * 64
EVENT_KINDS = (
    "task",
    "facts",
    "started",
    "transition",
    "milestone",
    "escalation",
    "suspended",
    "resumed",
    "note",
    "migrated",
    "deadline",  # a calendar load moved a due date or a rung (the projection ignores it)
    "voided",  # withdrawn as a mistaken record (撤销): it takes no command any more
    "unit_renamed",  # the case's unit got a new name (`unit rename`)
    "leader_changed",  # the case's group got a new leader (`group leader`)
    "link",  # a clue linked to (or unlinked from) a problem it gave rise to
    "outcome",  # an item's own 整改成果 recorded (or replaced, with a reason)
)

# What a case's history says about the rows it shares with other cases: the name of its
# unit and the leader of its group, recorded when it starts and at every change, so that
# `audit verify` names a unit or group row edited outside xunshi. Each fact: the event kind
# that changes it, and the row and column that store it.
CASE_FACTS: dict[str, tuple[str, str]] = {
    "unit_name": ("unit_renamed", "unit row says name"),
    "group_leader": ("leader_changed", "group row says leader"),
}


def utc_iso(instant: datetime) -> str:
    """The canonical text of an instant: UTC, microseconds, `Z`."""
    if instant.tzinfo is UTC:  # what the store hands back: no conversion to make
        return instant.isoformat(timespec="microseconds")[:-6] + "Z"
    if instant.tzinfo is None:
        raise ValueError("naive datetime in history")
    # isoformat is the C-level equivalent of strftime("%Y-%m-%dT%H:%M:%S.%fZ").
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


# The C string encoder `json.dumps` uses for `ensure_ascii=False`: a str as its JSON text.
_json_str: Callable[[str], str] = json.encoder.encode_basestring


def canonical_text(
    event: Event, data_json: str, occurred_iso: str | None = None, recorded_iso: str | None = None
) -> str:
    """`canonical_json(event.record())`, put together field by field (the hot path of
    `audit verify`): the keys in sorted order, `data_json` the canonical JSON of its data,
    the times as `utc_iso` gives them (passed in when the store already has that text)."""
    occurred = occurred_iso or utc_iso(event.occurred_at)
    recorded = recorded_iso or utc_iso(event.recorded_at)
    # The optional fields inline (`null` or their JSON string): a helper per field costs a
    # call each, five per event.
    from_state, reason, role, to_state, trigger = (
        event.from_state,
        event.reason,
        event.role,
        event.to_state,
        event.trigger,
    )
    return (
        f'{{"actor":{_json_str(event.actor)},"data":{data_json},'
        f'"from":{"null" if from_state is None else _json_str(from_state)},'
        f'"instance":{int.__repr__(event.instance_id)},'
        f'"kind":{_json_str(event.kind)},"occurred_at":"{occurred}",'
        f'"reason":{"null" if reason is None else _json_str(reason)},'
        f'"recorded_at":"{recorded}",'
        f'"role":{"null" if role is None else _json_str(role)},'
        f'"seq":{int.__repr__(event.seq)},'
        f'"to":{"null" if to_state is None else _json_str(to_state)},'
        f'"trigger":{"null" if trigger is None else _json_str(trigger)}}}'
    )


@dataclass(slots=True)
class Event:
    """One history entry, as stored (never changed once built: treat it as read-only).

    Not a frozen dataclass only for speed: a frozen one sets each of its 16 fields through
    `object.__setattr__`, which made building an event cost 3.4 µs instead of 0.4 µs, a
    fifth of `audit verify`'s time per event.
    """

    instance_id: int
    seq: int
    kind: str
    trigger: str | None
    from_state: str | None
    to_state: str | None
    actor: str
    role: str | None
    reason: str | None
    data: Mapping[str, Any]
    occurred_at: datetime
    recorded_at: datetime
    prev_hash: str
    hash: str = ""
    # Set when the stored `data` is not JSON (the row was edited by hand): the event
    # cannot be hashed or replayed, and verification says so instead of crashing.
    data_error: str | None = None
    # The texts the event was read from, when it was streamed for `audit verify`: its stored
    # `data`, and its times as `utc_iso` writes them (None: not in that form as stored).
    stored: tuple[str, str | None, str | None] | None = field(
        default=None, compare=False, repr=False
    )

    def record(self) -> dict[str, Any]:
        """What the event says, as the hash covers it: every field but the hashes (UTC).

        The one shape of an event; exports and the JSON of histories are built from it.
        """
        return {
            "instance": self.instance_id,
            "seq": self.seq,
            "kind": self.kind,
            "trigger": self.trigger,
            "from": self.from_state,
            "to": self.to_state,
            "actor": self.actor,
            "role": self.role,
            "reason": self.reason,
            "data": dict(self.data),
            "occurred_at": utc_iso(self.occurred_at),
            "recorded_at": utc_iso(self.recorded_at),
        }

    def canonical(self) -> str:
        """The canonical JSON the hash covers (everything but the hashes themselves)."""
        return canonical_text(self, canonical_json(dict(self.data)))

    def compute_hash(self) -> str:
        """sha256(prev_hash + canonical form), hex."""
        if self.stored is not None:
            # The stored `data` is the canonical JSON xunshi wrote: hash the event with that
            # text as it is. A match means the text is what was hashed when the event was
            # appended (so re-encoding the parsed data gives it back); on a mismatch the
            # hash is recomputed from the parsed data, as for any event.
            canonical = canonical_text(self, *self.stored)
            found = _sha256((self.prev_hash + canonical).encode()).hexdigest()
            if found == self.hash:
                return found
        return chain_hash(self.prev_hash, self.canonical())

    def occurred_iso(self) -> str:
        """`utc_iso(occurred_at)`: the stored text when the event was read with it."""
        if self.stored is not None and self.stored[1] is not None:
            return self.stored[1]
        return utc_iso(self.occurred_at)

    def sealed(self) -> Event:
        """This event with its hash filled in (itself, if it was built without one)."""
        if not self.hash:
            # Filling in the hash of an event nobody has seen yet: cheaper than a copy.
            self.hash = self.compute_hash()
            return self
        return replace(self, hash=self.compute_hash())

    def data_json(self) -> str:
        """The stored form of `data`."""
        return canonical_json(dict(self.data))


def chain_hash(prev_hash: str, canonical: str) -> str:
    """One link of the chain."""
    return _sha256((prev_hash + canonical).encode()).hexdigest()


_sha256 = hashlib.sha256
# The C scanner under `json.loads` (which also skips blanks around the text and checks that
# nothing follows it): a call less per event where the stored text is one object exactly.
# (`scan_once` is set by JSONDecoder.__init__; the stubs do not declare it.)
_scan_json: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _parse_data(text: str) -> dict[str, Any]:
    """The stored `data` text as a dict, as `json.loads` reads it; ValueError with
    `json.loads`'s message (or saying what else it is) when it is not a JSON object."""
    if text == "{}":  # many events carry no data
        return {}
    if type(text) is str:
        try:
            found, end = _scan_json(text, 0)
            if end == len(text) and isinstance(found, dict):
                return found
        except (StopIteration, ValueError):
            pass  # not one JSON value from its first character on: json.loads says why
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"a JSON {type(data).__name__}, not an object")
    return data


def event_from_row(row: Mapping[Any, Any]) -> Event:
    """An Event from a stored row of the `event` table."""
    data_error = None
    try:
        data = json.loads(row["data"])
        if not isinstance(data, dict):
            raise ValueError(f"a JSON {type(data).__name__}, not an object")
    except ValueError as exc:
        data, data_error = {}, f"data is not a JSON object ({exc})"
    return Event(
        instance_id=row["instance_id"],
        seq=row["seq"],
        kind=row["kind"],
        trigger=row["trigger"],
        from_state=row["from_state"],
        to_state=row["to_state"],
        actor=row["actor"],
        role=row["role"],
        reason=row["reason"],
        data=data,
        occurred_at=row["occurred_at"],
        recorded_at=row["recorded_at"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
        data_error=data_error,
    )


def _utc(value: Any) -> datetime:
    """A stored instant as `UTCDateTime` hands it back (aware, UTC), from its raw value."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
    return value.astimezone(UTC)  # type: ignore[no-any-return]


def event_from_tuple(row: Sequence[Any], raw_times: bool = False) -> Event:
    """An Event from a plain row of (instance_id, seq, kind, trigger, from_state, to_state,
    actor, role, reason, data, occurred_at, recorded_at, prev_hash, hash): the streaming
    form `audit verify` reads. `raw_times`: the times are the stored values, not yet
    converted (SQLite's text)."""
    data_error = None
    stored_data = row[9]
    try:
        data = _parse_data(stored_data)
    except ValueError as exc:
        data, data_error = {}, f"data is not a JSON object ({exc})"
    occurred_at, recorded_at = row[10], row[11]
    occurred_iso = recorded_iso = None
    if raw_times:
        same = recorded_at == occurred_at  # recorded as it occurred: one text to read
        occurred_at, occurred_iso = _stored_time(occurred_at)
        if same:
            recorded_at, recorded_iso = occurred_at, occurred_iso
        else:
            recorded_at, recorded_iso = _stored_time(recorded_at)
    return Event(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        row[8],
        data,
        occurred_at,
        recorded_at,
        row[12],
        row[13],
        data_error,
        (stored_data, occurred_iso, recorded_iso),
    )


def _stored_time(value: Any) -> tuple[datetime, str | None]:
    """A stored time as `UTCDateTime` hands it back, and its `utc_iso` text when the store
    has it as SQLite writes it (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC: the text gives it)."""
    if isinstance(value, str) and len(value) == 26 and value[4:20:3] == "-- ::.":
        return datetime.fromisoformat(value + "+00:00"), f"{value[:10]}T{value[11:]}Z"
    return _utc(value), None


@dataclass(slots=True)
class Projection:
    """What the history says an instance is (the fields the instance row must match)."""

    state: str = ""
    definition_name: str = ""
    definition_version: int = 0
    version: int = 0
    entered_at: datetime | None = None
    milestones: dict[str, str] = field(default_factory=dict)
    suspended: bool = False
    suspended_at: datetime | None = None
    last_occurred_at: datetime | None = None
    head_hash: str = GENESIS_HASH
    stage_seq: int = 0
    voided: bool = False

    def apply(self, event: Event) -> None:
        """Advance the projection by one event."""
        kind = event.kind
        if kind == "started":
            self.definition_name = str(event.data["definition"])
            self.definition_version = int(event.data["definition_version"])
            self._enter(event)
        elif kind == "transition":
            self._enter(event)
        elif kind == "migrated":
            self.definition_version = int(event.data["definition_version"])
            if event.to_state:
                self.state = event.to_state
        elif kind == "milestone":
            self.milestones[str(event.data["milestone"])] = event.occurred_iso()
        elif kind == "suspended":
            self.suspended = True
            self.suspended_at = event.occurred_at
        elif kind == "resumed":
            self.suspended = False
            self.suspended_at = None
        elif kind == "voided":
            self.voided = True
        self.version = event.seq
        self.last_occurred_at = event.occurred_at
        self.head_hash = event.hash

    def _enter(self, event: Event) -> None:
        if event.to_state is None:
            raise ValueError(f"{event.kind} event {event.seq} has no destination state")
        self.state = event.to_state
        self.entered_at = event.occurred_at
        self.milestones = {}
        self.stage_seq = event.seq


def replay(events: Iterable[Event]) -> Projection:
    """Fold a history (in seq order) into its projection."""
    projection = Projection()
    for event in events:
        projection.apply(event)
    return projection


# -- verification, seals, export ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken thing in the history, named by instance and seq."""

    instance: int
    label: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"{self.label} seq {self.seq}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Report:
    """The result of `audit verify`."""

    chains: int
    events: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """No problem at all."""
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape of `audit verify`."""
        return {
            "ok": self.ok,
            "chains": self.chains,
            "events": self.events,
            "problems": [
                {"instance": p.instance, "label": p.label, "seq": p.seq, "reason": p.reason}
                for p in self.problems
            ],
        }


# The facts of an item (a problem), in its first event and changed by `facts` events.
# (Items made before 0011 also recorded a typed `common_problem`: it is computed now, and
# what was typed stays in their histories unchecked.)
ITEM_FACTS = (
    "code",
    "title",
    "manifestations",
    "category",
    "key_problem",
    "fix_now",
    "root_cause",
    "source",
    "tags",
)
# Facts an item's history records only since they exist: an item made before has these.
LATER_FACTS: dict[str, Any] = {"tags": []}

# The facts of a clue (问题线索): its code and summary in its first event, the receiver, the
# disposition and the outcome in the transitions that record them (`data.facts`), and the
# problems it gave rise to (`items`, their ids) in its `link` events.
CLUE_FACTS = (
    "code",
    "summary",
    "receiver",
    "receiver_name",
    "disposition",
    "outcome",
    "items",
)

# The facts a task is added with (a `task_added` event records them all) …
TASK_FIELDS = (
    "measure",
    "responsible_leader",
    "lead_department",
    "cooperating_departments",
    "responsible_person",
    "due_on",
    "long_term",
)
# … and every task column that `task` events determine (and replay must give back).
TASK_COLUMNS = ("number", *TASK_FIELDS, "status", "progress", "evidence", "completed_on")


def replay_task(tasks: dict[int, dict[str, Any]], event: Event) -> int:
    """Apply one `task` event to the replayed tasks; return the task's id."""
    data = event.data
    task_id = int(data["task"])
    if event.trigger == "task_added":
        tasks[task_id] = {
            **{name: data[name] for name in TASK_FIELDS},
            "number": data["number"],
            "status": "open",
            "progress": "",
            "evidence": "",
            "completed_on": None,
        }
    elif event.trigger == "task_updated":
        tasks[task_id].update(data.get("changes", {}))
        if "progress" in data:
            tasks[task_id]["progress"] = data["progress"]
    elif event.trigger == "task_done":
        tasks[task_id].update(
            status="done", evidence=data["evidence"], completed_on=data["completed_on"]
        )
    elif event.trigger == "extension_approved":
        tasks[task_id]["due_on"] = data["due_on"]
    elif event.trigger not in EXTENSION_TRIGGERS:  # a request or a rejection moves nothing
        raise ValueError(f"unknown task change {event.trigger!r}")
    return task_id


# The `task` events of an extension request (延期申请) and its decision, and every column of
# a `task_extensions` row that they determine (and replay must give back).
EXTENSION_TRIGGERS = ("extension_requested", "extension_approved", "extension_rejected")
EXTENSION_COLUMNS = (
    "task_id",
    "requested_at",
    "requested_by",
    "requested_role",
    "original_due",
    "requested_due",
    "reason",
    "status",
    "decided_at",
    "decided_by",
    "decided_role",
    "decision_reason",
)


def replay_extension(extensions: dict[int, dict[str, Any]], event: Event) -> int | None:
    """Apply one `task` event to the replayed extension requests; return the request's id
    (None: the event is not about one)."""
    if event.trigger not in EXTENSION_TRIGGERS:
        return None
    data = event.data
    extension_id = int(data["extension"])
    if event.trigger == "extension_requested":
        extensions[extension_id] = {
            "task_id": int(data["task"]),
            "requested_at": event.occurred_at,
            "requested_by": event.actor,
            "requested_role": event.role,
            "original_due": data["original_due"],
            "requested_due": data["requested_due"],
            "reason": event.reason,
            "status": "pending",
            "decided_at": None,
            "decided_by": None,
            "decided_role": None,
            "decision_reason": None,
        }
    else:
        extensions[extension_id].update(
            status="approved" if event.trigger == "extension_approved" else "rejected",
            decided_at=event.occurred_at,
            decided_by=event.actor,
            decided_role=event.role,
            decision_reason=event.reason,
        )
    return extension_id


def replay_outcome(found: dict[int, dict[str, Any]], event: Event) -> int | None:
    """Apply one event to an item's replayed outcomes (整改成果: task id → its outcome, 0 the
    item's own): a `task_done` that recorded one, an `outcome` event. The id it set, if any."""
    if event.kind == "task" and event.trigger == "task_done" and "outcome" in event.data:
        key, data = int(event.data["task"]), event.data["outcome"]
    elif event.kind == "outcome":
        key, data = 0, event.data
    else:
        return None
    found[key] = outcome_values(Outcome.from_data(data))
    return key


def outcome_values(outcome: Outcome) -> dict[str, Any]:
    """An outcome in the form replay compares (funds in hundredths of 万元)."""
    return {
        "rules": list(outcome.rules),
        "accountable": outcome.accountable,
        "funds": outcome.funds,
        "evidence": outcome.evidence,
    }


def replay_facts(facts: dict[str, Any] | None, event: Event) -> dict[str, Any] | None:
    """Apply one event to an instance's replayed facts (an item's or a clue's).

    The first event brings them (`data.facts`); a `facts` event changes some; a transition
    may record more (a clue's receiver, disposition, outcome); a `link` event adds or removes
    a linked problem. Other events leave them; None until the first event brought any.
    """
    data = event.data
    if event.kind == "started":
        return dict(data["facts"]) if "facts" in data else facts
    if event.kind == "facts":
        if facts is None:
            raise ValueError("facts changed before any were recorded")
        facts.update(data["changes"])
    elif event.kind == "transition" and "facts" in data:
        if facts is None:
            raise ValueError("facts recorded before the first ones")
        facts.update(data["facts"])
    elif event.kind == "link":
        if facts is None:
            raise ValueError("a link before any facts were recorded")
        linked = set(facts.get("items", []))
        if event.trigger == "item_linked":
            linked.add(int(data["item"]))
        elif event.trigger == "item_unlinked":
            linked.discard(int(data["item"]))
        else:
            raise ValueError(f"unknown link change {event.trigger!r}")
        facts["items"] = sorted(linked)
    return facts


# The kinds `replay_facts` and `_replay_case_facts` read (every other event leaves them).
_FACT_KINDS = frozenset({"started", "facts", "transition", "link"})
_CASE_FACT_KINDS = frozenset({"started", *(kind for kind, _ in CASE_FACTS.values())})


def _changes_facts(event: Event) -> bool:
    """Whether `event` changes an instance's facts (after its first event)."""
    return event.kind in ("facts", "link") or (event.kind == "transition" and "facts" in event.data)


def _task_row(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A stored task row in the form replay produces (dates as ISO text)."""
    values = {name: row[name] for name in TASK_COLUMNS}
    for name in ("due_on", "completed_on"):
        if values[name] is not None:
            values[name] = values[name].isoformat()
    values["long_term"] = bool(values["long_term"])
    return values


def _extension_row(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A stored extension request in the form replay produces (dates as ISO text)."""
    values = {name: row[name] for name in EXTENSION_COLUMNS}
    for name in ("original_due", "requested_due"):
        values[name] = values[name].isoformat()
    return values


def check_chain(
    instance_id: int,
    label: str,
    events: Iterable[Event],
    row: Mapping[Any, Any] | None,
    task_rows: Mapping[int, Mapping[Any, Any]] | None = None,
    facts_row: Mapping[str, Any] | None = None,
    case_row: Mapping[str, Any] | None = None,
    facts_of: str = "item",
    extension_rows: Mapping[int, Mapping[Any, Any]] | None = None,
    outcome_rows: Mapping[int, Mapping[str, Any]] | None = None,
) -> tuple[int, list[Problem]]:
    """Verify one instance's chain, its projection and its facts (an item's tasks and their
    extension requests too).

    `facts_row` is the stored facts of the `facts_of` (an item: `ITEM_FACTS`, the category
    as `一级/二级`; a clue: `CLUE_FACTS`, its linked problems as sorted ids); `case_row` a
    case's unit name and group leader as stored (`CASE_FACTS`); `outcome_rows` an item's
    stored outcomes by task id (0: its own), as `outcome_values` gives them.
    Return (events seen, problems).
    """
    problems: list[Problem] = []

    def problem(seq: int, reason: str) -> None:
        problems.append(Problem(instance_id, label, seq, reason))

    projection = Projection()
    tasks: dict[int, dict[str, Any]] = {}
    last_task_seq: dict[int, int] = {}
    extensions: dict[int, dict[str, Any]] = {}
    last_extension_seq: dict[int, int] = {}
    replayed_outcomes: dict[int, dict[str, Any]] = {}
    last_outcome_seq: dict[int, int] = {}
    facts: dict[str, Any] | None = None  # an item's or a clue's, from its first event on
    last_facts_seq = 1
    case_facts: dict[str, Any] = {}  # a case's, from its first event on (if it has them)
    case_facts_seq: dict[str, int] = {}
    expected_seq = 1
    previous_hash = GENESIS_HASH
    count = 0
    for event in events:
        count += 1
        if event.seq != expected_seq:
            missing = (
                f"{expected_seq}"
                if event.seq == expected_seq + 1
                else (f"{expected_seq}..{event.seq - 1}")
            )
            noun = "event" if event.seq == expected_seq + 1 else "events"
            problem(expected_seq, f"{noun} seq {missing} missing (seq {event.seq} follows)")
        elif event.prev_hash != previous_hash:
            problem(event.seq, "prev_hash does not link to the previous event")
        if event.data_error is not None:
            problem(event.seq, f"the stored event was altered: {event.data_error}")
        elif event.compute_hash() != event.hash:
            problem(event.seq, "hash mismatch: the stored event was altered")
        # Each replay below only for the kinds it reads (the others leave it as it is):
        # most events are milestones, notes, transitions and reminders, and a call each
        # that does nothing is a good part of the time per event.
        kind = event.kind
        try:
            projection.apply(event)
            if kind in ("task", "outcome"):
                changed = replay_outcome(replayed_outcomes, event)
                if changed is not None:
                    last_outcome_seq[changed] = event.seq
            if kind == "task":
                last_task_seq[replay_task(tasks, event)] = event.seq
                extension_id = replay_extension(extensions, event)
                if extension_id is not None:
                    last_extension_seq[extension_id] = event.seq
            elif kind in _FACT_KINDS:
                facts = replay_facts(facts, event)
                if _changes_facts(event):
                    last_facts_seq = event.seq
            if kind in _CASE_FACT_KINDS:
                _replay_case_facts(case_facts, case_facts_seq, event)
        except (KeyError, ValueError, TypeError) as exc:
            problem(event.seq, f"cannot be replayed ({exc})")
        expected_seq = event.seq + 1
        previous_hash = event.hash
    if row is None:
        problem(0, "history of an instance that does not exist")
    elif count == 0:
        problem(0, "instance has no history")
    else:
        for reason in _projection_differences(projection, row):
            # At the newest event either side knows of: the row's when events were
            # deleted, the history's when the row was turned back.
            problem(max(int(row["version"]), projection.version), reason)
    if facts is not None:
        # An item made before its facts were in its history (xunshi 0.1) has none to check.
        if facts_row is None:
            problem(last_facts_seq, f"the {facts_of}'s row is gone (its facts are in the history)")
        else:
            for name, stored_value in facts_row.items():
                replayed = facts.get(name, LATER_FACTS.get(name))
                if stored_value != replayed:
                    problem(
                        last_facts_seq,
                        f"{facts_of} facts: row says {name} = {_show(stored_value)}, history "
                        f"replays to {_show(replayed)}",
                    )
    if case_row is not None:
        # A case started before its history recorded these (and never changed since) has
        # none to check.
        for name, value in case_facts.items():
            if case_row[name] != value:
                problem(
                    case_facts_seq[name],
                    f"{CASE_FACTS[name][1]} = {_show(case_row[name])}, history replays to "
                    f"{_show(value)}",
                )
    stored = {task_id: _task_row(task) for task_id, task in (task_rows or {}).items()}
    for task_id in sorted(stored.keys() | tasks.keys()):
        seq = last_task_seq.get(task_id, projection.version)
        if task_id not in tasks:
            problem(seq, f"task {task_id} has no history (row added outside xunshi)")
        elif task_id not in stored:
            problem(seq, f"task {task_id} is in the history but its row is gone")
        else:
            for name in TASK_COLUMNS:
                if stored[task_id][name] != tasks[task_id][name]:
                    problem(
                        seq,
                        f"task {task_id}: row says {name} = {_show(stored[task_id][name])}, "
                        f"history replays to {_show(tasks[task_id][name])}",
                    )
    problems.extend(
        _extension_problems(
            instance_id, label, extensions, last_extension_seq, extension_rows or {}, projection
        )
    )
    problems.extend(
        Problem(instance_id, label, seq, reason)
        for seq, reason in _outcome_differences(
            replayed_outcomes, outcome_rows or {}, last_outcome_seq, projection.version
        )
    )
    return count, problems


def _extension_problems(
    instance_id: int,
    label: str,
    replayed: Mapping[int, Mapping[str, Any]],
    seqs: Mapping[int, int],
    rows: Mapping[int, Mapping[Any, Any]],
    projection: Projection,
) -> list[Problem]:
    """Where the stored extension requests of an item's tasks differ from its history."""
    problems = []
    stored = {extension_id: _extension_row(row) for extension_id, row in rows.items()}
    for extension_id in sorted(stored.keys() | replayed.keys()):
        seq = seqs.get(extension_id, projection.version)
        what = f"extension request {extension_id}"
        if extension_id not in replayed:
            reason = f"{what} has no history (row added outside xunshi)"
            problems.append(Problem(instance_id, label, seq, reason))
        elif extension_id not in stored:
            reason = f"{what} is in the history but its row is gone"
            problems.append(Problem(instance_id, label, seq, reason))
        else:
            for name in EXTENSION_COLUMNS:
                if stored[extension_id][name] != replayed[extension_id][name]:
                    reason = (
                        f"{what}: row says {name} = {_show(stored[extension_id][name])}, "
                        f"history replays to {_show(replayed[extension_id][name])}"
                    )
                    problems.append(Problem(instance_id, label, seq, reason))
    return problems


def _outcome_differences(
    replayed: Mapping[int, Mapping[str, Any]],
    stored: Mapping[int, Mapping[str, Any]],
    seqs: Mapping[int, int],
    version: int,
) -> list[tuple[int, str]]:
    """(seq, reason) for each outcome row that its history does not give back."""
    found = []
    for task_id in sorted(stored.keys() | replayed.keys()):
        whose = "the item's own outcome" if task_id == 0 else f"task {task_id}'s outcome"
        seq = seqs.get(task_id, version)
        if task_id not in replayed:
            found.append((seq, f"{whose} has no history (row added outside xunshi)"))
        elif task_id not in stored:
            found.append((seq, f"{whose} is in the history but its row is gone"))
        else:
            found.extend(
                (
                    seq,
                    f"{whose}: row says {name} = {_show(value)}, history replays to "
                    f"{_show(replayed[task_id][name])}",
                )
                for name, value in stored[task_id].items()
                if replayed[task_id][name] != value
            )
    return found


def _replay_case_facts(facts: dict[str, Any], seqs: dict[str, int], event: Event) -> None:
    """Apply one event to a case's replayed unit name and group leader."""
    for name, (kind, _what) in CASE_FACTS.items():
        if event.kind == "started" and name in event.data:
            facts[name], seqs[name] = event.data[name], event.seq
        elif event.kind == kind:
            facts[name], seqs[name] = event.data["new"], event.seq


def _projection_differences(projection: Projection, row: Mapping[Any, Any]) -> list[str]:
    stored = {
        "state": row["state"],
        "definition_version": row["definition_version"],
        "version": row["version"],
        "entered_at": row["entered_at"],
        "milestones": json.loads(row["milestones"]),
        "suspended": bool(row["suspended"]),
        "last_occurred_at": row["last_occurred_at"],
        "head_hash": row["head_hash"],
        "stage_seq": row["stage_seq"],
        "voided": bool(row["voided"]),
    }
    replayed = {
        "state": projection.state,
        "definition_version": projection.definition_version,
        "version": projection.version,
        "entered_at": projection.entered_at,
        "milestones": projection.milestones,
        "suspended": projection.suspended,
        "last_occurred_at": projection.last_occurred_at,
        "head_hash": projection.head_hash,
        "stage_seq": projection.stage_seq,
        "voided": projection.voided,
    }
    if row["version"] > projection.version:
        return [
            f"history ends at seq {projection.version} but the row is at version "
            f"{row['version']}: the newest events were deleted"
        ]
    return [
        f"row says {name} = {_show(value)}, history replays to {_show(replayed[name])}"
        for name, value in stored.items()
        if replayed[name] != value
    ]


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, dict):
        return canonical_json(value)
    return repr(value)


def seal_digest(heads: list[list[Any]]) -> str:
    """The digest over chain heads `[[instance, seq, hash], …]` sorted by instance."""
    return hashlib.sha256(canonical_json(heads).encode()).hexdigest()


def check_seal(
    heads: list[list[Any]], current: Mapping[tuple[int, int], str], labels: Mapping[int, str]
) -> list[Problem]:
    """Problems where the history no longer contains what a seal recorded."""
    problems = []
    for instance_id, seq, head_hash in heads:
        label = labels.get(instance_id, f"instance #{instance_id}")
        found = current.get((instance_id, seq))
        if found is None:
            problems.append(
                Problem(instance_id, label, seq, "sealed event missing: deleted after the seal")
            )
        elif found != head_hash:
            problems.append(Problem(instance_id, label, seq, "sealed event differs from the seal"))
    return problems
