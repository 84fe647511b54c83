"""An item's facts are in its history: added with its first event, changed by events, replayed.

Issue #8, defect 1: title, manifestations, category, flags, root cause and source used to be
in no event, so editing them in the database went unnoticed and their changes were nowhere.
"""

from __future__ import annotations

import pytest
from rectification_helpers import OFFICE, POLITICS, ROUND, STYLE, Rectifying

from xunshi.bootstrap import App
from xunshi.errors import BadInput, Refused
from xunshi.services.commands import ItemChanges
from xunshi.workflow.clock import ManualClock

P01 = f"{ROUND}/U01/P01"


@pytest.fixture
def rect(app: App, clock: ManualClock) -> Rectifying:
    """A case in rectification with item P01 (a key problem in 政治建设)."""
    world = Rectifying(app, clock)
    world.case("U01")
    world.world.milestones_of(f"{ROUND}/U01", "rectification")
    world.item("U01", "P01", POLITICS, title="理论学习不深入", key_problem=True)
    return world


def test_the_first_event_of_an_item_records_its_facts(rect: Rectifying) -> None:
    started = rect.history(P01)[0]
    assert dict(started.data)["facts"] == {
        "code": "P01",
        "title": "理论学习不深入",
        "manifestations": "P01的具体表现",
        "category": POLITICS,
        "key_problem": True,
        "fix_now": False,
        "root_cause": "P01的问题根源",
        "source": "inspection",
        "tags": [],
    }


def test_updating_facts_is_an_event_with_its_reason_and_the_row_follows(
    app: App, rect: Rectifying
) -> None:
    rect.advance()
    change = app.services.items.update_item(
        P01,
        ItemChanges(
            title="理论学习走过场", category=STYLE, key_problem=False, tags=("合同资产管理",)
        ),
        reason="反馈意见修订",
        actor=OFFICE,
        role="office",
    )

    event = change.event
    assert (event.kind, event.trigger, event.reason, event.actor) == (
        "facts",
        "facts_updated",
        "反馈意见修订",
        OFFICE,
    )
    assert dict(event.data) == {
        "changes": {
            "title": "理论学习走过场",
            "category": STYLE,
            "key_problem": False,
            "tags": ["合同资产管理"],
        }
    }
    view = rect.view(P01)
    assert (view.title, f"{view.category_l1}/{view.category_l2}") == ("理论学习走过场", STYLE)
    assert (view.key_problem, view.domain_tags) == (False, ("合同资产管理",))
    assert rect.history(P01)[-1] == event
    assert app.services.audit.verify().ok


def test_an_update_that_changes_nothing_or_has_no_reason_is_refused(
    app: App, rect: Rectifying
) -> None:
    items = app.services.items
    with pytest.raises(BadInput, match="nothing to update"):
        items.update_item(P01, ItemChanges(), reason="x", actor=OFFICE, role="office")
    with pytest.raises(BadInput, match=f"nothing changes for item {P01}"):
        items.update_item(
            P01, ItemChanges(title="理论学习不深入"), reason="x", actor=OFFICE, role="office"
        )
    with pytest.raises(BadInput, match="needs a reason"):
        items.update_item(P01, ItemChanges(title="新标题"), reason=" ", actor=OFFICE, role="office")
    with pytest.raises(Refused, match="role mayor is not defined"):
        items.update_item(P01, ItemChanges(title="新标题"), reason="x", actor=OFFICE, role="mayor")
    assert len(rect.history(P01)) == 1


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [
        ("title", "被改过的标题", "'被改过的标题'"),
        ("manifestations", "改过", "'改过'"),
        ("root_cause", "改过", "'改过'"),
        ("source", "audit", "'audit'"),
        ("code", "P99", "'P99'"),
        ("key_problem", False, "False"),
        ("fix_now", True, "True"),
    ],
)
def test_a_fact_edited_in_the_database_is_named_by_audit_verify(
    app: App, rect: Rectifying, column: str, value: str | bool, shown: str
) -> None:
    item_id = rect.ref(P01).id
    # Bound, so that a flag is a boolean on PostgreSQL and an integer on SQLite.
    rect.sql(
        f"UPDATE rectification_item SET {column} = :value WHERE id = :id", value=value, id=item_id
    )

    problems = app.services.audit.verify().problems

    assert [(p.seq, p.reason) for p in problems if p.instance == item_id] == [
        (1, f"item facts: row says {column} = {shown}, history replays to " + _was(column))
    ]


def _was(column: str) -> str:
    return {
        "title": "'理论学习不深入'",
        "manifestations": "'P01的具体表现'",
        "root_cause": "'P01的问题根源'",
        "source": "'inspection'",
        "code": "'P01'",
        "key_problem": "True",
        "fix_now": "False",
    }[column]


def test_a_category_edited_in_the_database_is_named_at_the_last_facts_event(
    app: App, rect: Rectifying
) -> None:
    app.services.items.update_item(
        P01, ItemChanges(root_cause="制度缺失"), reason="补充", actor=OFFICE, role="office"
    )
    item_id = rect.ref(P01).id
    rect.sql(
        "UPDATE rectification_item SET category_id = "
        "(SELECT id FROM category WHERE level2 = '作风建设') WHERE id = :id",
        id=item_id,
    )

    problems = [p for p in app.services.audit.verify().problems if p.instance == item_id]

    assert [(p.seq, p.reason) for p in problems] == [
        (2, f"item facts: row says category = '{STYLE}', history replays to '{POLITICS}'")
    ]
