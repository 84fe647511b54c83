"""Text no database can store never reaches it as a crash (issue #8), on both backends.

A lone surrogate (half of a character: what Python makes of bytes that are not UTF-8, or
what a YAML or JSON `\\ud800` escape gives) cannot be encoded for the database. What is
stored is checked first (one line naming what is wrong); a value that is only looked up
is refused by storage when the driver cannot encode it. Nothing is written either way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from worlds import snapshot

from xunshi.bootstrap import App
from xunshi.errors import BadInput, XunshiError

LONE = "\ud800"
CALENDAR = 'year: 2027\nholidays:\n  - {from: 2027-02-06, to: 2027-02-06, title: "春\\ud800节"}\n'
DEFINITION = """\
name: lone
title: "整改\\ud800"
subject: item
initial: open
roles: {office: 巡视办}
states:
  open: {title: 登记}
  done: {title: 完成, final: true}
transitions:
  - {trigger: finish, source: open, dest: done}
"""

STORED: dict[str, Callable[[App], Any]] = {
    "round title": lambda app: app.services.cases.create_round("2027-R1", LONE, date(2027, 3, 1)),
    "unit name": lambda app: app.services.cases.add_unit("U09", f"示例{LONE}"),
    "unit category": lambda app: app.services.cases.add_unit("U09", "示例", LONE),
    "category": lambda app: app.services.items.load_categories(
        'categories:\n  "作风\\ud800": [违规]\n', "categories.yaml"
    ),
    "holiday title": lambda app: app.services.calendar.load(
        CALENDAR + "workdays: []\n", "cal.yaml", "巡视办"
    ),
    "definition title": lambda app: app.services.definitions.load(DEFINITION, "lone.yaml", "x"),
    "actor": lambda app: app.services.audit.seal(f"巡视办{LONE}"),
}
LOOKED_UP: dict[str, Callable[[App], Any]] = {
    "round of a group": lambda app: app.services.cases.add_group(LONE, "G9", "组长"),
    "round of a list": lambda app: app.services.read.cases.many(round_code=f"R{LONE}"),
    "definition": lambda app: app.services.read.catalog.definition(LONE, None),
    "owner": lambda app: app.services.read.items.many(owner=LONE),
}


@pytest.mark.parametrize("store", STORED.values(), ids=STORED.keys())
def test_what_is_stored_is_checked_first(app: App, store: Callable[[App], Any]) -> None:
    before = snapshot(app)
    with pytest.raises(XunshiError) as refused:
        store(app)
    assert "\\ud800" in refused.value.message or refused.value.message.endswith("problem)")
    assert snapshot(app) == before


@pytest.mark.parametrize("look_up", LOOKED_UP.values(), ids=LOOKED_UP.keys())
def test_what_is_looked_up_is_refused_by_storage(app: App, look_up: Callable[[App], Any]) -> None:
    before = snapshot(app)
    with pytest.raises(BadInput) as refused:
        look_up(app)
    assert refused.value.message == (
        "'\\ud800' is not text the database can store (half of a character)"
    )
    assert snapshot(app) == before
