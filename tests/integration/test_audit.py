"""The audit chain on every backend: verify, seal, export, tampering of every kind (DESIGN §6)."""

from __future__ import annotations

import csv
import dataclasses
import gc
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, delete, select, update
from worlds import KEY, ROUND, World

from xunshi.bootstrap import App
from xunshi.definitions.schema import canonical_json
from xunshi.errors import AuditFailed, NotFound
from xunshi.services.audit import EXPORT_COLUMNS, Seal, export_text
from xunshi.storage import queries as q
from xunshi.workflow.audit import (
    GENESIS_HASH,
    Projection,
    Report,
    chain_hash,
    event_from_row,
    replay,
    utc_iso,
)
from xunshi.workflow.clock import ManualClock

KEY2 = f"{ROUND}/U02"
LABEL2 = "case 2024-R1/U02"
T0 = datetime(2024, 9, 2, 1, 0, tzinfo=UTC)
HASH_MISMATCH = "hash mismatch: the stored event was altered"
NO_LINK = "prev_hash does not link to the previous event"

# The tampering checks are about the chain, not about any built-in lifecycle: they run on
# this small definition of their own, so that a change of the built-ins does not move them.
AUDITED_YAML = """\
name: audited
title: 审计测试流程
subject: case
calendar: cn
initial: preparation
roles:
  office: 巡视办
  leading_group: 巡视工作领导小组
  group_leader: 巡视组组长
states:
  preparation:
    title: 巡前准备
    due: 15wd
    milestones:
      briefings_received: 听取有关部门情况通报
      training_done: 巡前培训
    requires: [briefings_received, training_done]
  mobilization:
    title: 动员部署
    due: 5wd
    milestones:
      mobilization_meeting: 召开动员会
      contacts_published: 公布联系方式
    requires: [mobilization_meeting, contacts_published]
  onsite:
    title: 现场巡视
    due: 30wd
  closed: {title: 完成, final: true}
transitions:
  - {trigger: move_in, source: preparation, dest: mobilization, roles: [group_leader]}
  - {trigger: start_onsite, source: mobilization, dest: onsite, roles: [group_leader]}
  - {trigger: report, source: onsite, dest: closed, roles: [group_leader]}
"""


@pytest.fixture
def history(app: App, world: World, clock: ManualClock) -> int:
    """Two `audited` cases; U02 (the one tampered with) has five events, U01 two. Returns
    U02's id.

    U02: 1 started, 2 milestone briefings_received (reason 通报), 3 milestone training_done,
    4 transition move_in (reason 进驻), 5 milestone mobilization_meeting — an hour apart.
    """
    app.services.definitions.load(AUDITED_YAML, "audited.yaml", "巡视办")
    world.case("U01", definition="audited")
    case2 = world.case("U02", definition="audited")
    hour = timedelta(hours=1)
    inspection = app.services.cases
    clock.advance(hour)
    inspection.record_milestone(
        KEY2, "briefings_received", actor="李四", role="office", reason="通报"
    )
    clock.advance(hour)
    inspection.record_milestone(KEY2, "training_done", actor="李四", role="office")
    clock.advance(hour)
    inspection.fire(KEY2, "move_in", actor="张组长", role="group_leader", reason="进驻")
    clock.advance(hour)
    inspection.record_milestone(KEY2, "mobilization_meeting", actor="张组长", role="group_leader")
    clock.advance(hour)
    inspection.record_milestone(KEY, "training_done", actor="李四", role="office")
    return case2.id


def problems(app: App, seal: str | None = None) -> list[tuple[str, int, str]]:
    """What verify reports, as (label, seq, reason)."""
    return [(p.label, p.seq, p.reason) for p in app.services.audit.verify(seal).problems]


def verify_or_crash(app: App) -> Report | str:
    """The verify report, or the exception it crashed with (as text, tracebacks dropped)."""
    try:
        return app.services.audit.verify()
    except Exception as exc:
        return f"verify crashed: {type(exc).__name__}: {exc}"


def edit_event(app: App, instance_id: int, seq: int, **values: Any) -> None:
    """UPDATE one stored event behind the engine's back."""
    e = q.events
    with app.db.transaction() as conn:
        done = conn.execute(
            update(e).where(e.c.instance_id == instance_id, e.c.seq == seq).values(**values)
        )
        assert done.rowcount == 1


def delete_events(app: App, instance_id: int, *seqs: int) -> None:
    """DELETE stored events behind the engine's back."""
    e = q.events
    with app.db.transaction() as conn:
        done = conn.execute(delete(e).where(e.c.instance_id == instance_id, e.c.seq.in_(seqs)))
        assert done.rowcount == len(seqs)


def edit_instance(app: App, instance_id: int, **values: Any) -> None:
    """UPDATE an instance row behind the engine's back."""
    i = q.instances
    with app.db.transaction() as conn:
        assert conn.execute(update(i).where(i.c.id == instance_id).values(**values)).rowcount == 1


def stored_events(conn: Connection, instance_id: int) -> list[Any]:
    """The events of one instance, oldest first."""
    return [
        event_from_row(row)
        for row in conn.execute(q.HISTORY, {"instance_id": instance_id}).mappings()
    ]


def make_row_match_history(app: App, instance_id: int) -> None:
    """What a careful attacker does after deleting events: rewrite the row as their replay."""
    with app.db.transaction() as conn:
        projection = replay(stored_events(conn, instance_id))
    columns = set(q.instances.c.keys())
    values = {
        f.name: getattr(projection, f.name)
        for f in dataclasses.fields(Projection)
        if f.name in columns
    }
    values["milestones"] = canonical_json(projection.milestones)
    edit_instance(app, instance_id, **values)


# -- a healthy history ---------------------------------------------------------------------


def test_an_empty_database_verifies(app: App) -> None:
    report = app.services.audit.verify()
    assert (report.ok, report.chains, report.events, report.problems) == (True, 0, 0, ())


def test_a_healthy_history_verifies(app: App, history: int) -> None:
    report = app.services.audit.verify()
    assert (report.ok, report.chains, report.events, report.problems) == (True, 2, 7, ())


def test_seal_stores_a_digest_that_verifies(app: App, history: int, clock: ManualClock) -> None:
    seal = app.services.audit.seal("审计员")
    assert seal == Seal(seal.digest, 2, 7, datetime(2024, 9, 2, 6, tzinfo=UTC))
    assert seal.to_json(ZoneInfo("Asia/Shanghai"))["created_at"] == "2024-09-02T14:00:00+08:00"
    assert len(seal.digest) == 64 and int(seal.digest, 16) >= 0
    assert app.services.audit.seal("审计员") == seal  # same heads, same digest
    with app.db.transaction() as conn:
        rows = conn.execute(select(q.seals)).mappings().all()
    assert [(r["digest"], r["created_by"], r["chains"], r["events"]) for r in rows] == [
        (seal.digest, "审计员", 2, 7)
    ]
    assert json.loads(rows[0]["heads"])[1][:2] == [history, 5]

    assert problems(app, seal.digest) == []
    assert problems(app, f"  {seal.digest.upper()}\n") == []
    # The history may grow after a seal: the sealed heads are still there.
    clock.advance(timedelta(hours=1))
    app.services.cases.record_milestone(
        KEY2, "contacts_published", actor="张组长", role="group_leader"
    )
    assert problems(app, seal.digest) == []
    later = app.services.audit.seal("审计员")
    assert later.digest != seal.digest
    assert (later.chains, later.events) == (2, 8)


def test_a_seal_digest_not_in_the_database_is_not_found(app: App, history: int) -> None:
    digest = "ab" * 32
    with pytest.raises(NotFound) as caught:
        app.services.audit.verify(seal=digest)
    assert caught.value.message == f"no seal {digest} in this database (was it deleted?)"


def test_sealing_a_broken_history_fails_and_stores_nothing(app: App, history: int) -> None:
    edit_event(app, history, 2, actor="mallory")
    with pytest.raises(AuditFailed) as caught:
        app.services.audit.seal("审计员")
    assert caught.value.message == (
        "history has 1 problem; not sealing it (see `xunshi audit verify`)"
    )
    with app.db.transaction() as conn:
        assert conn.execute(select(q.seals)).all() == []


def test_an_altered_seal_is_reported(app: App, history: int) -> None:
    seal = app.services.audit.seal("审计员")
    with app.db.transaction() as conn:
        conn.execute(update(q.seals).values(heads=json.dumps([[history, 5, "0" * 64]])))
    assert problems(app, seal.digest) == [
        ("seal", 0, f"seal {seal.digest} was altered: its heads do not match")
    ]


# -- tampering with events -------------------------------------------------------------------


def _later(minutes: int) -> Any:
    return lambda old: old + timedelta(minutes=minutes)


# (column, seq of U02 to edit, new value or a function of the old one, problems expected)
EVENT_TAMPERING = [
    ("kind", 3, "note", [(3, HASH_MISMATCH)]),
    ("trigger", 4, "report", [(4, HASH_MISMATCH)]),
    ("from_state", 4, "onsite", [(4, HASH_MISMATCH)]),
    (
        "to_state",
        4,
        "onsite",
        [(4, HASH_MISMATCH), (5, "row says state = 'mobilization', history replays to 'onsite'")],
    ),
    ("actor", 2, "mallory", [(2, HASH_MISMATCH)]),
    ("role", 2, "leading_group", [(2, HASH_MISMATCH)]),
    ("reason", 4, "另有原因", [(4, HASH_MISMATCH)]),
    ("reason", 3, "补记", [(3, HASH_MISMATCH)]),  # NULL -> text
    ("data", 3, '{"milestone":"briefings_received"}', [(3, HASH_MISMATCH)]),
    ("occurred_at", 3, _later(1), [(3, HASH_MISMATCH)]),
    ("recorded_at", 4, _later(-1), [(4, HASH_MISMATCH)]),
    ("prev_hash", 4, "f" * 64, [(4, NO_LINK), (4, HASH_MISMATCH)]),
    ("hash", 3, "e" * 64, [(3, HASH_MISMATCH), (4, NO_LINK)]),
]


@pytest.mark.parametrize(
    ("column", "seq", "value", "expected"),
    EVENT_TAMPERING,
    ids=[f"{c}-seq{s}" for c, s, _, _ in EVENT_TAMPERING],
)
def test_editing_any_column_of_an_event_is_reported(
    app: App, history: int, column: str, seq: int, value: Any, expected: list[tuple[int, str]]
) -> None:
    with app.db.transaction() as conn:
        old = (
            conn.execute(
                select(q.events.c[column]).where(
                    q.events.c.instance_id == history, q.events.c.seq == seq
                )
            )
            .scalars()
            .one()
        )
    new = value(old) if callable(value) else value
    assert new != old
    edit_event(app, history, seq, **{column: new})

    report = app.services.audit.verify()
    assert not report.ok
    assert (report.chains, report.events) == (2, 7)
    assert problems(app) == [(LABEL2, s, reason) for s, reason in expected]


def test_editing_the_newest_events_time_also_shows_in_the_projection(
    app: App, history: int
) -> None:
    edit_event(app, history, 5, occurred_at=T0 + timedelta(hours=3, minutes=30))
    assert problems(app) == [
        (LABEL2, 5, HASH_MISMATCH),
        (
            LABEL2,
            5,
            'row says milestones = {"mobilization_meeting":"2024-09-02T05:00:00.000000Z"}, '
            'history replays to {"mobilization_meeting":"2024-09-02T04:30:00.000000Z"}',
        ),
        (
            LABEL2,
            5,
            "row says last_occurred_at = 2024-09-02T05:00:00.000000Z, "
            "history replays to 2024-09-02T04:30:00.000000Z",
        ),
    ]


def test_an_event_whose_data_is_not_json_is_reported_not_a_crash(app: App, history: int) -> None:
    edit_event(app, history, 3, data="{not json")
    report = verify_or_crash(app)
    # A crash mid-stream leaves PostgreSQL's server-side cursor to the garbage collector;
    # collect here so its ResourceWarning is charged to this test, not a later one.
    gc.collect()
    assert isinstance(report, Report), report
    assert not report.ok
    assert [(p.label, p.seq) for p in report.problems][:1] == [(LABEL2, 3)]


def test_deleting_an_event_in_the_middle_is_reported(app: App, history: int) -> None:
    delete_events(app, history, 3)
    assert problems(app) == [(LABEL2, 3, "event seq 3 missing (seq 4 follows)")]


def test_deleting_several_events_in_the_middle_is_reported(app: App, history: int) -> None:
    delete_events(app, history, 2, 3)
    assert problems(app) == [(LABEL2, 2, "events seq 2..3 missing (seq 4 follows)")]


def test_deleting_the_first_event_is_reported(app: App, history: int) -> None:
    delete_events(app, history, 1)
    assert problems(app)[0] == (LABEL2, 1, "event seq 1 missing (seq 2 follows)")


def test_deleting_the_newest_event_is_seen_through_the_projection(app: App, history: int) -> None:
    delete_events(app, history, 5)
    assert problems(app) == [
        (
            LABEL2,
            5,
            "history ends at seq 4 but the row is at version 5: the newest events were deleted",
        )
    ]


def test_deleting_the_newest_event_and_fixing_the_row_is_caught_by_a_seal(
    app: App, history: int
) -> None:
    seal = app.services.audit.seal("审计员")
    delete_events(app, history, 5)
    make_row_match_history(app, history)

    assert app.services.audit.verify().ok  # the chain alone cannot tell
    assert problems(app, seal.digest) == [
        (LABEL2, 5, "sealed event missing: deleted after the seal")
    ]


def test_rewriting_the_newest_event_after_a_seal_is_caught(
    app: App, history: int, clock: ManualClock
) -> None:
    seal = app.services.audit.seal("审计员")
    delete_events(app, history, 5)
    make_row_match_history(app, history)
    # A different seq 5, properly chained by the engine itself.
    clock.advance(timedelta(hours=1))
    app.services.cases.record_milestone(
        KEY2, "contacts_published", actor="张组长", role="group_leader"
    )

    assert app.services.audit.verify().ok
    assert problems(app, seal.digest) == [(LABEL2, 5, "sealed event differs from the seal")]


def test_deleting_a_whole_case_after_a_seal_is_caught(app: App, history: int) -> None:
    seal = app.services.audit.seal("审计员")
    with app.db.transaction() as conn:
        u01 = conn.execute(select(q.cases.c.id).where(q.cases.c.id != history)).scalar_one()
        for table in (q.outbox,):
            conn.execute(delete(table))
        for table in (q.escalations, q.timers, q.events, q.cases):
            column = table.c.id if table is q.cases else table.c.instance_id
            conn.execute(delete(table).where(column == u01))
        conn.execute(delete(q.instances).where(q.instances.c.id == u01))

    assert app.services.audit.verify().ok
    assert problems(app, seal.digest) == [
        (f"instance #{u01}", 2, "sealed event missing: deleted after the seal")
    ]


# -- tampering with the instance row -------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("state", "onsite", "row says state = 'onsite', history replays to 'mobilization'"),
        (
            "milestones",
            "{}",
            'row says milestones = {}, history replays to {"mobilization_meeting":'
            '"2024-09-02T05:00:00.000000Z"}',
        ),
        (
            "milestones",
            '{"contacts_published":"2024-09-02T05:00:00.000000Z",'
            '"mobilization_meeting":"2024-09-02T05:00:00.000000Z"}',
            'row says milestones = {"contacts_published":"2024-09-02T05:00:00.000000Z",'
            '"mobilization_meeting":"2024-09-02T05:00:00.000000Z"}, history replays to '
            '{"mobilization_meeting":"2024-09-02T05:00:00.000000Z"}',
        ),
        ("definition_version", 2, "row says definition_version = 2, history replays to 1"),
    ],
)
def test_editing_the_instance_row_is_reported(
    app: App, history: int, column: str, value: Any, reason: str
) -> None:
    edit_instance(app, history, **{column: value})
    assert problems(app) == [(LABEL2, 5, reason)]


def test_raising_the_row_version_is_reported_as_missing_events(app: App, history: int) -> None:
    edit_instance(app, history, version=7)
    assert problems(app) == [
        (
            LABEL2,
            7,
            "history ends at seq 5 but the row is at version 7: the newest events were deleted",
        )
    ]


def test_lowering_the_row_version_is_reported_at_the_newest_event(app: App, history: int) -> None:
    # The row claims version 3 while the history goes to 5: the difference is found when the
    # replay reaches seq 5, and seq 3 itself is intact.
    edit_instance(app, history, version=3)
    assert problems(app) == [(LABEL2, 5, "row says version = 3, history replays to 5")]


def test_an_instance_without_history_is_reported(app: App, history: int) -> None:
    delete_events(app, history, 1, 2, 3, 4, 5)
    assert problems(app) == [(LABEL2, 0, "instance has no history")]


# -- export ------------------------------------------------------------------------------------


def _stored_hashes(app: App) -> list[tuple[int, int, str, str]]:
    e = q.events
    with app.db.transaction() as conn:
        rows = conn.execute(
            select(e.c.instance_id, e.c.seq, e.c.prev_hash, e.c.hash).order_by(
                e.c.instance_id, e.c.seq
            )
        )
        return [(row[0], row[1], row[2], row[3]) for row in rows]


def test_export_jsonl_writes_every_event_with_its_hashes(app: App, history: int) -> None:
    out = io.StringIO()
    assert app.services.audit.export(out, "jsonl", app.settings.tz) == 7
    text = out.getvalue()
    assert "通报" in text  # not \\u-escaped
    records = [json.loads(line) for line in text.splitlines()]
    assert [list(r) for r in records] == [list(EXPORT_COLUMNS)] * 7
    assert [(r["instance"], r["seq"], r["prev_hash"], r["hash"]) for r in records] == (
        _stored_hashes(app)
    )
    assert [r["label"] for r in records] == ["case 2024-R1/U01"] * 2 + [LABEL2] * 5
    move_in = records[5]
    assert {k: move_in[k] for k in ("kind", "trigger", "from", "to", "actor", "role")} == {
        "kind": "transition",
        "trigger": "move_in",
        "from": "preparation",
        "to": "mobilization",
        "actor": "张组长",
        "role": "group_leader",
    }
    assert (move_in["reason"], move_in["data"]) == ("进驻", {})
    # Times in the business time zone with its offset (issue #8, defect 15), never `Z`.
    assert (move_in["occurred_at"], move_in["recorded_at"]) == (
        "2024-09-02T12:00:00+08:00",
        "2024-09-02T12:00:00+08:00",
    )
    assert records[2]["prev_hash"] == GENESIS_HASH
    assert records[3]["data"] == {"milestone": "briefings_received"}


def test_export_csv_has_a_header_and_every_event(app: App, history: int) -> None:
    text = export_text(app.services.audit, "csv", app.settings.tz)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(EXPORT_COLUMNS)
    body = [dict(zip(EXPORT_COLUMNS, row, strict=True)) for row in rows[1:]]
    assert len(body) == 7
    assert [(int(r["instance"]), int(r["seq"]), r["prev_hash"], r["hash"]) for r in body] == (
        _stored_hashes(app)
    )
    assert all(len(r["hash"]) == 64 and len(r["prev_hash"]) == 64 for r in body)
    assert json.loads(body[3]["data"]) == {"milestone": "briefings_received"}
    assert (body[3]["reason"], body[4]["reason"]) == ("通报", "")
    assert body[5]["label"] == LABEL2


def _exported(app: App, fmt: str, tz: ZoneInfo) -> list[dict[str, Any]]:
    """The export in `fmt` read back, one dict per event (CSV's data column parsed)."""
    text = export_text(app.services.audit, fmt, tz)
    if fmt == "jsonl":
        return [json.loads(line) for line in text.splitlines()]
    rows = list(csv.DictReader(io.StringIO(text)))
    return [{**row, "data": json.loads(row["data"])} for row in rows]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_times_are_business_time_with_offset(
    app: App, history: int, clock: ManualClock, fmt: str
) -> None:
    # Issue #8, defect 15: never UTC `Z`, never a time without its offset.
    clock.advance(timedelta(minutes=1, microseconds=250))
    app.services.cases.record_milestone(KEY2, "contacts_published", actor="张组长", role="office")

    records = _exported(app, fmt, ZoneInfo("Asia/Shanghai"))

    times = [r[column] for r in records for column in ("occurred_at", "recorded_at")]
    assert len(times) == 16
    assert all(t.endswith("+08:00") and "Z" not in t for t in times), times
    assert records[0]["occurred_at"] == "2024-09-02T09:00:00+08:00"  # T0, 01:00 UTC
    # To the microsecond, so that nothing of the instant the hash covers is lost.
    assert records[-1]["recorded_at"] == "2024-09-02T14:01:00.000250+08:00"
    in_utc = _exported(app, fmt, ZoneInfo("UTC"))
    assert in_utc[0]["occurred_at"] == "2024-09-02T01:00:00+00:00"


def test_an_outside_checker_recomputes_every_hash_from_the_export(
    app: App, history: int, clock: ManualClock
) -> None:
    # The hash covers the UTC instants; the offset only presents them.
    clock.advance(timedelta(seconds=1, microseconds=7))
    app.services.cases.record_milestone(KEY2, "contacts_published", actor="张组长", role="office")

    for record in _exported(app, "jsonl", ZoneInfo("Asia/Shanghai")):
        body = {
            key: record[key] for key in EXPORT_COLUMNS if key not in ("label", "prev_hash", "hash")
        }
        for column in ("occurred_at", "recorded_at"):
            body[column] = utc_iso(datetime.fromisoformat(record[column]))
        assert chain_hash(record["prev_hash"], canonical_json(body)) == record["hash"]
    assert app.services.audit.verify().ok
