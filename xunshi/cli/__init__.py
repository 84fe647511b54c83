"""The `xunshi` command: parse, call a service, print (tables for people, --json for scripts).

`root.py` is the root group, its global options and the one place errors become `Error: …`
lines; `render.py` prints every table and every JSON result; each other module is one
command group. Cases and items share one implementation of their lifecycle commands
(`lifecycle.py`).
"""

from __future__ import annotations

from xunshi.cli.audit import audit_group
from xunshi.cli.calendar import calendar
from xunshi.cli.cases import case
from xunshi.cli.clues import clue, clues
from xunshi.cli.definitions import definitions
from xunshi.cli.escalations import escalate, escalations, scheduler
from xunshi.cli.items import categories, item, items, tags, task
from xunshi.cli.notify import notify
from xunshi.cli.reports import ledger, report
from xunshi.cli.root import cli, main
from xunshi.cli.rounds import group, plan, round_, unit
from xunshi.cli.serve import serve
from xunshi.cli.setup import db, demo, init
from xunshi.cli.themes import theme
from xunshi.cli.users import user

for command in (
    init,
    db,
    definitions,
    round_,
    group,
    unit,
    plan,
    case,
    categories,
    tags,
    item,
    task,
    items,
    clue,
    clues,
    theme,
    ledger,
    report,
    escalate,
    escalations,
    scheduler,
    notify,
    audit_group,
    calendar,
    user,
    serve,
    demo,
):
    cli.add_command(command)

__all__ = ["cli", "main"]
