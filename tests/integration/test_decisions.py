"""Decision rungs (#9.6): 约谈, 通报 and 问责建议 are proposals the office decides, not timers.

A rung marked `decision: true` raises its escalation when due, like any rung, but notifies
nobody: the office confirms it (then its `notify` roles hear of it, through the outbox) or
dismisses it with a reason. Both are events in the case's history.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from escalation_helpers import ROUND, escalations, outbox, setup_round, sh

from xunshi.bootstrap import App
from xunshi.errors import BadInput, NotFound, Refused
from xunshi.workflow.clock import ManualClock

LADDER_YAML = """\
name: graded
title: 分级督办
subject: case
initial: work
roles:
  office: 巡视办
  group_leader: 巡视组组长
  party_secretary: 被巡视党组织书记
  unit_liaison: 联络员
states:
  work:
    title: 整改
    due: 5wd
    escalation:
      - {at: 0, level: 1, title: 超期预警, instrument: 预警, to: unit_liaison,
         notify: [unit_liaison]}
      - {at: 2wd, level: 2, title: 督办, instrument: 督办函, to: party_secretary,
         notify: [party_secretary, office]}
      - {at: 4wd, level: 3, title: 约谈书记, instrument: 约谈, to: party_secretary,
         notify: [party_secretary], decision: true}
  done: {title: 完成, final: true}
transitions:
  - {trigger: finish, source: work, dest: done, roles: [office]}
"""
KEY = f"{ROUND}/U01"
# Started Monday 2024-09-02 09:00: 5wd → due 2024-09-09; a rung fires when its day is over:
# at 0 on 09-10, +2wd on 09-12, +4wd on 09-14 (a Saturday worked for 中秋).


@pytest.fixture
def graded(app: App, clock: ManualClock) -> str:
    """Case 2024-R1/U01 of `graded`, started at the clock's T0 (2024-09-02 09:00)."""
    app.services.definitions.load(LADDER_YAML, "graded.yaml", "巡视办")
    setup_round(app)
    app.services.cases.add_unit("U01", "示例单位")
    app.services.cases.start_case(
        round_code=ROUND, unit_code="U01", group_code="G1", definition="graded", actor="巡视办"
    )
    return KEY


def _sweep_to(app: App, clock: ManualClock, year: int, month: int, day: int) -> None:
    clock.set(sh(year, month, day, 9))
    app.sweeper.sweep()


def test_a_decision_rung_raises_a_proposal_that_notifies_nobody(
    app: App, clock: ManualClock, graded: str
) -> None:
    _sweep_to(app, clock, 2024, 9, 14)
    rows = escalations(app)
    assert [(r["level"], r["instrument"], r["recipient"], r["decision"]) for r in rows] == [
        (1, "预警", "unit_liaison", None),
        (2, "督办函", "party_secretary", None),
        (3, "约谈", "party_secretary", "pending"),
    ]
    # The two plain rungs notified (one outbox row each, on the log channel); the proposal not.
    assert sorted(r["escalation_id"] for r in outbox(app)) == [rows[0]["id"], rows[1]["id"]]
    pending = app.services.read.escalations.many(pending_decision=True)
    assert [(v.id, v.status) for v in pending] == [(rows[2]["id"], "待决定")]
    history = app.services.read.history.of(KEY)
    raised = [e for e in history.events if e.kind == "escalation"]
    assert raised[-1].data["decision"] == "pending"
    assert raised[-1].data["instrument"] == "约谈"


def test_confirming_records_the_decision_then_notifies(
    app: App, clock: ManualClock, graded: str
) -> None:
    _sweep_to(app, clock, 2024, 9, 14)
    proposal = escalations(app)[2]["id"]
    clock.set(sh(2024, 9, 14, 15))
    done = app.services.escalations.decide(
        proposal, confirm=True, reason="两次督办未见整改", actor="李主任", role="office"
    )
    assert (done.decision, done.notified) == ("confirmed", ("party_secretary",))
    row = escalations(app)[2]
    assert (row["decision"], row["decided_by"], row["decision_reason"]) == (
        "confirmed",
        "李主任",
        "两次督办未见整改",
    )
    notes = [r for r in outbox(app) if r["escalation_id"] == proposal]
    assert len(notes) == 1
    payload = json.loads(notes[0]["payload"])
    assert (payload["instrument"], payload["recipient"], payload["notify"]) == (
        "约谈",
        "party_secretary",
        ["party_secretary"],
    )
    event = app.services.read.history.of(KEY).events[-1]
    assert (event.kind, event.trigger, event.actor, event.role, event.reason) == (
        "decision",
        "confirm",
        "李主任",
        "office",
        "两次督办未见整改",
    )
    assert event.data == {
        "escalation": proposal,
        "level": 3,
        "instrument": "约谈",
        "decision": "confirmed",
    }
    assert app.services.read.escalations.many(pending_decision=True) == []
    assert app.services.audit.verify().ok


def test_dismissing_records_the_reason_and_notifies_nobody(
    app: App, clock: ManualClock, graded: str
) -> None:
    _sweep_to(app, clock, 2024, 9, 14)
    proposal = escalations(app)[2]["id"]
    before = len(outbox(app))
    done = app.services.escalations.decide(
        proposal, confirm=False, reason="已提交延期说明", actor="李主任", role="office"
    )
    assert (done.decision, done.notified) == ("dismissed", ())
    assert len(outbox(app)) == before
    view = app.services.read.escalations.many(ids=[proposal])[0]
    assert (view.status, view.decision_reason) == ("已驳回", "已提交延期说明")
    assert app.services.read.history.of(KEY).events[-1].trigger == "dismiss"


def test_a_proposal_is_decided_once_by_the_office_with_a_reason(
    app: App, clock: ManualClock, graded: str
) -> None:
    _sweep_to(app, clock, 2024, 9, 14)
    plain, _, proposal = (r["id"] for r in escalations(app))
    decide = app.services.escalations.decide
    with pytest.raises(Refused, match="may not decide"):
        decide(proposal, confirm=True, reason="x", actor="张组长", role="group_leader")
    with pytest.raises(BadInput, match="needs a reason"):
        decide(proposal, confirm=True, reason="  ", actor="李主任", role="office")
    with pytest.raises(Refused, match="is not a proposal"):
        decide(plain, confirm=True, reason="x", actor="李主任", role="office")
    with pytest.raises(NotFound, match="escalation 999 does not exist"):
        decide(999, confirm=True, reason="x", actor="李主任", role="office")
    assert escalations(app)[2]["decision"] == "pending"
    decide(proposal, confirm=False, reason="情况已说明", actor="李主任", role="office")
    with pytest.raises(Refused, match="already dismissed by 李主任"):
        decide(proposal, confirm=True, reason="x", actor="王主任", role="office")


def test_leaving_the_stage_before_the_decision_rung_raises_no_proposal(
    app: App, clock: ManualClock, graded: str
) -> None:
    _sweep_to(app, clock, 2024, 9, 12)
    app.services.cases.fire(KEY, "finish", actor="李主任", role="office")
    _sweep_to(app, clock, 2024, 9, 20)
    assert [r["level"] for r in escalations(app)] == [1, 2]
    assert escalations(app)[0]["due_on"] == date(2024, 9, 9)
