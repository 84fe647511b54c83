"""CLI commands for rectification: items, tasks, categories, the ledger, thematic reports.

Registered on the `xunshi` group by `xunshi.cli` (imported at its end).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from xunshi.cli import (
    Failed,
    State,
    _instant,
    _read_text,
    actor_options,
    cli,
    pass_state,
    print_history,
    show_moved,
    show_recorded,
)
from xunshi.display import plural

if TYPE_CHECKING:
    from xunshi.bootstrap import App
    from xunshi.workflow.item_views import ItemView


# -- categories ---------------------------------------------------------------------------


@cli.group()
def categories() -> None:
    """The office's two-level problem category list."""


@categories.command("load")
@click.argument("file", type=click.Path(path_type=Path))
@pass_state
def categories_load(state: State, file: Path) -> None:
    """Make the list what FILE says (YAML: `categories: {一级: [二级, …]}`)."""
    app = state.app()
    added, kept, removed = app.rectification.load_categories(_read_text(file), file.name)
    state.emit(
        {"added": added, "kept": kept, "removed": removed},
        lambda: f"Categories: {added} added, {kept} kept, {removed} removed",
    )


@categories.command("list")
@pass_state
def categories_list(state: State) -> None:
    """The category list, in order."""
    from xunshi.display import table

    listed = state.app().rectification.categories()
    state.emit(
        [{"id": c.id, "level1": c.level1, "level2": c.level2} for c in listed],
        lambda: (
            table(["一级类别", "二级类别"], [[c.level1, c.level2] for c in listed])
            if listed
            else "No categories (load them with `xunshi categories load FILE`)."
        ),
    )


# -- items --------------------------------------------------------------------------------


@cli.group()
def item() -> None:
    """Rectification items (问题). ITEM is the id or ROUND/UNIT/CODE."""


@item.command("add")
@click.argument("case_ref", metavar="CASE")
@click.option("--code", required=True, help="The item's code within the case, e.g. P01.")
@click.option("--title", required=True, help="The problem, in one line.")
@click.option("--category", required=True, metavar="L1/L2", help="一级类别/二级类别.")
@click.option("--manifestations", default="", help="具体表现.")
@click.option("--key", "key_problem", is_flag=True, help="A key problem (重点问题).")
@click.option("--common", "common_problem", is_flag=True, help="A common problem (共性问题).")
@click.option("--fix-now", is_flag=True, help="To be fixed at once (立行立改).")
@click.option("--root-cause", default="", help="问题根源.")
@click.option(
    "--source",
    type=click.Choice(["inspection", "audit", "lead"]),
    default="inspection",
    show_default=True,
    help="巡视发现, 巡审联动 or 线索移交.",
)
@click.option("--definition", default="rectification", show_default=True)
@click.option("--actor", required=True, help="Who records it.")
@click.option("--role", default="office", show_default=True)
@click.option("--at", "at", metavar="TIME", help="When (default now).")
@pass_state
def item_add(
    state: State,
    case_ref: str,
    code: str,
    title: str,
    category: str,
    manifestations: str,
    key_problem: bool,
    common_problem: bool,
    fix_now: bool,
    root_cause: str,
    source: str,
    definition: str,
    actor: str,
    role: str,
    at: str | None,
) -> None:
    """Add a problem to a case's problem list (问题清单)."""
    from xunshi.workflow.rectification import ItemFacts

    app = state.app()
    facts = ItemFacts(
        code=code,
        title=title,
        category=category,
        manifestations=manifestations,
        key_problem=key_problem,
        common_problem=common_problem,
        fix_now=fix_now,
        root_cause=root_cause,
        source=source,
    )
    ref = app.rectification.add_item(
        case_ref, facts, actor=actor, role=role, definition=definition, at=_instant(state, at)
    )
    _show_item(state, app, str(ref.id))


@item.command("list")
@click.option("--case", "case_ref", help="Only this case.")
@click.option("--round", "round_code", help="Only this round.")
@click.option("--state", "stage", help="Only items in this state, e.g. rectifying.")
@click.option("--category", help="Only this category (一级 or 一级/二级).")
@click.option("--overdue", is_flag=True, help="Only items with a stage or task past due.")
@click.option("--owner", help="Only items with a task this leader, department or person owns.")
@pass_state
def item_list(
    state: State,
    case_ref: str | None,
    round_code: str | None,
    stage: str | None,
    category: str | None,
    overdue: bool,
    owner: str | None,
) -> None:
    """Items with their state, tasks and deadlines."""
    from xunshi.display import table

    app = state.app()
    with app.db.transaction() as conn:
        case_id = None if case_ref is None else app.inspection.resolve(conn, case_ref).id
        if round_code is not None:
            app.inspection.round_id(conn, round_code)
        views = app.items.many(
            conn,
            case_id=case_id,
            round_code=round_code,
            state=stage,
            category=category,
            overdue=overdue,
            owner=owner,
        )
    tz = app.settings.tz
    state.emit(
        [v.to_json(tz) for v in views],
        lambda: (
            table(
                ["编号", "问题", "标题", "类别", "状态", "任务", "超期"],
                [
                    [
                        v.id,
                        v.key,
                        v.title,
                        f"{v.category_l1}/{v.category_l2}",
                        v.state_title,
                        f"{sum(t.status == 'done' for t in v.tasks)}/{len(v.tasks)}",
                        "超期" if v.overdue else "",
                    ]
                    for v in views
                ],
            )
            if views
            else "No items."
        ),
    )


@item.command("show")
@click.argument("item_ref", metavar="ITEM")
@pass_state
def item_show(state: State, item_ref: str) -> None:
    """One item: its facts, state, milestones and tasks."""
    _show_item(state, state.app(), item_ref)


def _show_item(state: State, app: App, item_ref: str) -> None:
    with app.db.transaction() as conn:
        view = app.items.one(conn, app.rectification.resolve(conn, item_ref))
    state.emit(view.to_json(app.settings.tz), lambda: _item_text(app, view))


def _item_text(app: App, view: ItemView) -> str:
    from xunshi.display import table

    flags = [
        name
        for name, on in (
            ("重点问题", view.key_problem),
            ("共性问题", view.common_problem),
            ("立行立改", view.fix_now),
        )
        if on
    ]
    lines = [
        f"问题    {view.key}  #{view.id}  {view.title}",
        f"单位    {view.unit} {view.unit_name}  ({view.kind}, 巡视组 {view.group})",
        f"类别    {view.category_l1}/{view.category_l2}"
        + (f"  {' '.join(flags)}" if flags else ""),
        f"状态    {view.state_title} ({view.state})"
        + (f"  期限 {view.due_on}" if view.due_on else "")
        + ("  超期" if view.overdue else ""),
    ]
    if view.manifestations:
        lines.append(f"表现    {view.manifestations}")
    if view.root_cause:
        lines.append(f"根源    {view.root_cause}")
    if view.milestones:
        lines.append("验收    " + ", ".join(sorted(view.milestones)))
    if view.tasks:
        lines.append("")
        lines.append(
            table(
                ["任务", "措施", "责任领导", "牵头部门", "责任人", "时限", "状态"],
                [
                    [
                        f"#{t.number}",
                        t.measure,
                        t.responsible_leader,
                        t.lead_department,
                        t.responsible_person,
                        "长期" if t.long_term else (t.due_on or ""),
                        "已完成" if t.status == "done" else ("超期" if t.overdue else "进行中"),
                    ]
                    for t in view.tasks
                ],
            )
        )
    lines.append(f"版本    {view.version}")
    return "\n".join(lines)


@item.command("fire")
@click.argument("item_ref", metavar="ITEM")
@click.argument("trigger")
@actor_options
@click.option("--reason", help="Why (kept in the history).")
@pass_state
def item_fire(
    state: State,
    item_ref: str,
    trigger: str,
    actor: str,
    role: str,
    at: str | None,
    reason: str | None,
) -> None:
    """Move an item along TRIGGER, e.g. submit or accept."""
    app = state.app()
    ref, outcome = app.rectification.fire(
        item_ref, trigger, actor=actor, role=role, reason=reason, at=_instant(state, at)
    )
    show_moved(state, app, ref, outcome)


@item.command("milestone")
@click.argument("item_ref", metavar="ITEM")
@click.argument("name")
@actor_options
@click.option("--reason", help="A note (kept in the history).")
@pass_state
def item_milestone(
    state: State,
    item_ref: str,
    name: str,
    actor: str,
    role: str,
    at: str | None,
    reason: str | None,
) -> None:
    """Record milestone NAME (e.g. office_accepted) of the item's current stage."""
    app = state.app()
    ref, outcome = app.rectification.record_milestone(
        item_ref, name, actor=actor, role=role, reason=reason, at=_instant(state, at)
    )
    show_recorded(state, app, ref, outcome)


@item.command("history")
@click.argument("item_ref", metavar="ITEM")
@pass_state
def item_history(state: State, item_ref: str) -> None:
    """Every event of an item (its tasks' changes included), oldest first."""
    app = state.app()
    _, events = app.rectification.history(item_ref)
    print_history(state, app, events)


# -- tasks --------------------------------------------------------------------------------


@cli.group()
def task() -> None:
    """Tasks (整改措施) of items. TASK is the id or ITEM#N."""


def _due(text: str | None) -> date | None:
    if text is None:
        return None
    from xunshi.timeparse import parse_date

    return parse_date(text, "--due")


@task.command("add")
@click.argument("item_ref", metavar="ITEM")
@click.option("--measure", required=True, help="整改措施.")
@click.option("--leader", required=True, help="责任领导.")
@click.option("--department", required=True, help="牵头部门.")
@click.option("--cooperating", default="", help="配合部门.")
@click.option("--person", required=True, help="责任人.")
@click.option("--due", metavar="DATE", help="完成时限 (YYYY-MM-DD).")
@click.option("--long-term", is_flag=True, help="长期坚持 (no due date).")
@actor_options
@pass_state
def task_add(
    state: State,
    item_ref: str,
    measure: str,
    leader: str,
    department: str,
    cooperating: str,
    person: str,
    due: str | None,
    long_term: bool,
    actor: str,
    role: str,
    at: str | None,
) -> None:
    """Add a measure to an item, with who answers for it and by when."""
    from xunshi.workflow.rectification import TaskFacts

    app = state.app()
    facts = TaskFacts(
        measure=measure,
        responsible_leader=leader,
        lead_department=department,
        cooperating_departments=cooperating,
        responsible_person=person,
        due_on=_due(due),
        long_term=long_term,
    )
    ref, _ = app.rectification.add_task(
        item_ref, facts, actor=actor, role=role, at=_instant(state, at)
    )
    state.emit(
        {"id": ref.id, "task": ref.label.removeprefix("task "), "number": ref.number},
        lambda: f"{ref.label} added (#{ref.id})",
    )


@task.command("update")
@click.argument("task_ref", metavar="TASK")
@click.option("--measure", help="New 整改措施.")
@click.option("--leader", help="New 责任领导.")
@click.option("--department", help="New 牵头部门.")
@click.option("--cooperating", help="New 配合部门.")
@click.option("--person", help="New 责任人.")
@click.option("--due", metavar="DATE", help="New 完成时限 (YYYY-MM-DD).")
@click.option("--long-term", is_flag=True, help="Make it long-term (no due date).")
@click.option("--progress", help="A progress note (整改进展).")
@actor_options
@pass_state
def task_update(
    state: State,
    task_ref: str,
    measure: str | None,
    leader: str | None,
    department: str | None,
    cooperating: str | None,
    person: str | None,
    due: str | None,
    long_term: bool,
    progress: str | None,
    actor: str,
    role: str,
    at: str | None,
) -> None:
    """Change a task or note its progress (kept in the item's history)."""
    app = state.app()
    changes: dict[str, Any] = {
        "measure": measure,
        "responsible_leader": leader,
        "lead_department": department,
        "cooperating_departments": cooperating,
        "responsible_person": person,
        "due_on": _due(due),
    }
    ref, outcome = app.rectification.update_task(
        task_ref,
        actor=actor,
        role=role,
        changes=changes,
        progress=progress,
        long_term=long_term,
        at=_instant(state, at),
    )
    state.emit(
        {"id": ref.id, "task": ref.label.removeprefix("task "), "data": dict(outcome.event.data)},
        lambda: f"{ref.label} updated",
    )


@task.command("done")
@click.argument("task_ref", metavar="TASK")
@click.option("--evidence", required=True, help="佐证材料 (what shows it is done).")
@actor_options
@pass_state
def task_done(
    state: State, task_ref: str, evidence: str, actor: str, role: str, at: str | None
) -> None:
    """Mark a task done; its escalations stop."""
    app = state.app()
    ref, outcome = app.rectification.complete_task(
        task_ref, evidence=evidence, actor=actor, role=role, at=_instant(state, at)
    )
    state.emit(
        {"id": ref.id, "task": ref.label.removeprefix("task "), "data": dict(outcome.event.data)},
        lambda: f"{ref.label} done",
    )


# -- import, ledger, themes ------------------------------------------------------------------


@cli.group()
def items() -> None:
    """Items in bulk."""


@items.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--actor", required=True, help="Who imports.")
@click.option("--role", default="office", show_default=True)
@click.option("--at", "at", metavar="TIME", help="When (default now).")
@pass_state
def items_import(state: State, file: Path, actor: str, role: str, at: str | None) -> None:
    """Import items and their tasks (one row per task) from FILE.csv or FILE.xlsx."""
    app = state.app()
    result = app.rectification.import_items(file, actor=actor, role=role, at=_instant(state, at))
    state.emit(
        {"items": result.items, "tasks": result.tasks},
        lambda: f"Imported {plural(result.items, 'item')} with {plural(result.tasks, 'task')}",
    )


@cli.group()
def ledger() -> None:
    """The rectification ledger (整改台账)."""


@ledger.command("export")
@click.option("--round", "round_code", required=True, help="The round.")
@click.option("--case", "case_ref", help="Only this case.")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="The file to write.")
@pass_state
def ledger_export(state: State, round_code: str, case_ref: str | None, fmt: str, out: Path) -> None:
    """Write the ledger: one row per task, the columns offices use."""
    from xunshi.reports.ledger import build_ledger, write_csv, write_xlsx

    app = state.app()
    rows = build_ledger(app, round_code, case_ref)
    (write_xlsx if fmt == "xlsx" else write_csv)(rows, out)
    state.emit(
        {"rows": len(rows), "out": str(out), "format": fmt},
        lambda: f"Wrote {plural(len(rows), 'row')} to {out}",
    )


@cli.group()
def report() -> None:
    """Reports across units."""


@report.command("themes")
@click.option("--round", "round_code", required=True, help="The round.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "xlsx"]), default="table")
@click.option("--out", type=click.Path(path_type=Path), help="File for csv/xlsx.")
@pass_state
def report_themes(state: State, round_code: str, fmt: str, out: Path | None) -> None:
    """Per category: units, items, key and common problems, accepted, open, overdue."""
    from xunshi.reports.themes import build_themes, themes_table, write_themes

    app = state.app()
    themes = build_themes(app, round_code)
    if fmt != "table":
        if out is None:
            raise Failed(f"--format {fmt} needs --out FILE")
        write_themes(themes, out, fmt)
        state.emit(
            {"categories": len(themes), "out": str(out)},
            lambda: f"Wrote {plural(len(themes), 'category', 'categories')} to {out}",
        )
        return
    state.emit(
        [t.to_json() for t in themes],
        lambda: themes_table(themes) if themes else "No items in this round.",
    )
