"""The declared vocabulary: code reads what a state means from its tags, never its name.

An office that loads its own rectification lifecycle, with every state renamed, keeps item
guards, case close, the ledger and the thematic view working — on every backend.
"""

from __future__ import annotations

from datetime import date

import pytest
from rectification_helpers import OFFICE, POLITICS, ROUND, STYLE, Rectifying, task_facts

from xunshi.bootstrap import App
from xunshi.definitions.schema import LEGACY_ITEM_TAGS, definition_from_dict
from xunshi.errors import Refused
from xunshi.workflow.clock import ManualClock
from xunshi.workflow.registry import parse

# The built-in rectification lifecycle with every state renamed (and one more step).
RENAMED = """\
name: our_rectification
title: 本办整改流程
subject: item
initial: registered
roles: {office: 巡视办, group_leader: 巡视组组长, unit_liaison: 被巡视单位联络员}
escalation:
  - {at: 0, level: 1, title: 整改超期督办, notify: [office]}
states:
  registered: {title: 登记, due: 10wd, tags: [tasks_open]}
  working: {title: 推进中, tags: [tasks_open]}
  enduring: {title: 持续整改, due: 3mo, tags: [tasks_open, long_term, settled]}
  applying:
    title: 销号申请
    due: 15wd
    tags: [acceptance]
    milestones:
      office_checked: {title: 巡视办审核, roles: [office]}
      group_checked: {title: 巡视组审核, roles: [group_leader]}
    requires: [office_checked, group_checked]
  closed_out: {title: 已销号, tags: [accepted, settled]}
  filed: {title: 已归档, final: true, tags: [accepted, settled]}
transitions:
  - {trigger: work, source: registered, dest: working, roles: [unit_liaison, office]}
  - trigger: apply
    source: [working, enduring]
    dest: applying
    roles: [unit_liaison]
    guards: [all_tasks_done]
  - {trigger: endure, source: working, dest: enduring, roles: [office]}
  - {trigger: close_out, source: applying, dest: closed_out, roles: [office]}
  - {trigger: redo, source: [applying, closed_out], dest: working, roles: [office], requires: []}
  - {trigger: file, source: closed_out, dest: filed, roles: [office]}
"""


@pytest.fixture
def rect(app: App, clock: ManualClock) -> Rectifying:
    """A round with the category list, and the renamed lifecycle registered."""
    world = Rectifying(app, clock)
    with app.db.transaction() as conn:
        app.registry.register(
            conn,
            parse(RENAMED, "our_rectification.yaml"),
            source=RENAMED,
            source_name="our_rectification.yaml",
            loaded_by=OFFICE,
            now=clock.now(),
        )
    return world


def add_item(rect: Rectifying, unit: str, code: str, category: str = POLITICS) -> str:
    """An item of the unit's case on the renamed lifecycle."""
    from xunshi.services.commands import ItemFacts

    rect.svc.add_item(
        f"{ROUND}/{unit}",
        ItemFacts(code=code, title=f"问题{code}", category=category),
        actor=OFFICE,
        definition="our_rectification",
    )
    return f"{ROUND}/{unit}/{code}"


def apply(rect: Rectifying, item: str) -> None:
    """Complete the item's open tasks, then apply for 销号 (`apply`)."""
    for task in rect.view(item).tasks:
        if task.status != "done":
            rect.done(str(task.id))
    assert rect.fire(item, "apply", "unit_liaison") == "applying"


def test_renamed_states_keep_guards_case_close_ledger_and_themes_working(
    app: App, rect: Rectifying, clock: ManualClock
) -> None:
    case = rect.case("U01", "示例市审计局")
    accepted = add_item(rect, "U01", "P01")
    enduring = add_item(rect, "U01", "P02", STYLE)
    applying = add_item(rect, "U01", "P03")
    for item in (accepted, enduring, applying):
        rect.task(item, date(2024, 12, 31))
        assert rect.fire(item, "work", "unit_liaison") == "working"

    # The item guard: all tasks done before applying (the guard reads tasks, not states).
    with pytest.raises(Refused, match="task #1 not done"):
        rect.fire(accepted, "apply", "unit_liaison")
    apply(rect, accepted)
    for name, role in (("office_checked", "office"), ("group_checked", "group_leader")):
        rect.milestone(accepted, name, role)
    assert rect.fire(accepted, "close_out", "office") == "closed_out"
    assert rect.fire(enduring, "endure", "office") == "enduring"
    apply(rect, applying)
    rect.milestone(applying, "office_checked", "office")

    # Tasks change only in states tagged tasks_open: not while applying, but while enduring.
    with pytest.raises(Refused) as refused:
        rect.svc.add_task(applying, task_facts(long_term=True), actor=OFFICE, role="office")
    assert refused.value.message == (
        f"cannot add a task to item {applying}: it is applying; tasks change only while an "
        "item is registered, working, enduring (reopen it first)"
    )
    rect.svc.add_task(enduring, task_facts(long_term=True), actor=OFFICE, role="office")

    # Case close: P03 is neither accepted nor long-term (by its tags), so the case stays open.
    rect.close_case_ready(case)
    with pytest.raises(Refused) as refused:
        app.services.cases.fire(case, "to_evaluation", actor=OFFICE, role="office")
    assert refused.value.message == (
        f"case {case} cannot to_evaluation: 1 item is neither accepted nor long-term: "
        "P03 (applying)"
    )

    # The ledger: acceptance progress from the acceptance-tagged state's own milestones,
    # and the 销号 date of the accepted one.
    rows = {row["问题"].split()[0]: row for row in list(app.services.read.ledger.of(ROUND).rows)}
    assert rows["P01"]["验收情况"] == "三方验收通过"
    assert rows["P01"]["销号时间"] == clock.now().astimezone(app.settings.tz).date()
    assert rows["P03"]["验收情况"] == "巡视办审核✓ 巡视组审核…"
    assert (rows["P02"]["验收情况"], rows["P02"]["销号时间"]) == ("", None)

    # Themes count accepted and long-term by tag.
    themes = {(t.level1, t.level2): t for t in app.services.read.themes.of(ROUND).themes}
    politics, style = themes[tuple(POLITICS.split("/"))], themes[tuple(STYLE.split("/"))]
    assert (politics.items, politics.accepted, politics.long_term, politics.open) == (2, 1, 0, 1)
    assert (style.items, style.accepted, style.long_term, style.open) == (1, 0, 1, 0)

    # Once P03 is accepted and filed, every item is settled by its tags: the case closes.
    rect.milestone(applying, "group_checked", "group_leader")
    assert rect.fire(applying, "close_out", "office") == "closed_out"
    assert rect.fire(applying, "file", "office") == "filed"
    rect.close_case(case)
    assert app.services.read.cases.one(case).state == "closed"
    filed = {row["问题"].split()[0]: row for row in list(app.services.read.ledger.of(ROUND).rows)}[
        "P03"
    ]
    assert filed["验收情况"] == "三方验收通过"
    assert filed["销号时间"] == clock.now().astimezone(app.settings.tz).date()
    assert app.services.audit.verify().ok


def test_a_definition_stored_before_tags_reads_with_the_names_the_code_used_then() -> None:
    """A format-1 body (stored by xunshi 0.1, before tags) keeps its items' meaning."""
    from xunshi.definitions.loader import builtin_sources

    current = parse(dict(builtin_sources())["rectification.yaml"], "rectification.yaml")
    stored = current.to_dict()
    del stored["format"]
    for state in stored["states"]:
        del state["tags"]

    legacy = definition_from_dict(stored)

    assert {s.name: s.tags for s in legacy.states} == {
        s.name: LEGACY_ITEM_TAGS.get(s.name, ()) for s in current.states
    }
    # The built-in definition declares exactly what the code assumed then.
    assert {s.name: set(s.tags) for s in legacy.states} == {
        s.name: set(s.tags) for s in current.states
    }
    # A format-1 case definition reads without tags (its stages all take problems), even
    # where a state is named like an item state.
    regular = parse(dict(builtin_sources())["regular.yaml"], "regular.yaml").to_dict()
    del regular["format"]
    for state in regular["states"]:
        del state["tags"]
    regular["states"][0]["name"] = "accepted"
    assert all(not s.tags for s in definition_from_dict(regular).states)
