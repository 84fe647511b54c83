"""`xunshi categories|tags|item|task|items …`: the problem list, measures and responsibilities."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from xunshi.cli import render
from xunshi.cli.lifecycle import add_lifecycle_commands
from xunshi.cli.options import (
    Listing,
    acting_options,
    actor_option,
    actor_options,
    day,
    instant,
    paging_options,
    read_text,
)
from xunshi.cli.root import Failed, State, XunshiGroup, pass_state
from xunshi.display import plural
from xunshi.keys import InstanceKey, parse_reference
from xunshi.paging import after_key, parse_code_cursor, parse_key_cursor, parse_number_cursor
from xunshi.services.commands import (
    ItemChanges,
    ItemFacts,
    OutcomeFacts,
    TaskChanges,
    TaskFacts,
)

F = TypeVar("F", bound=Callable[..., object])


def outcome_options(fn: F) -> F:
    """--rule (repeatable), --accountable, --funds: what a task or an item achieved."""
    fn = click.option(
        "--funds",
        metavar="万元",
        help="Funds recovered or losses avoided (挽回损失) in 万元, e.g. 12.5 (two decimals).",
    )(fn)
    fn = click.option("--accountable", metavar="N", help="People held accountable (问责人数).")(fn)
    fn = click.option(
        "--rule",
        "rules",
        multiple=True,
        metavar="TITLE",
        help="A rule made or revised (建章立制), by title; repeat for each.",
    )(fn)
    return fn


def outcome_facts(
    rules: tuple[str, ...], accountable: str | None, funds: str | None, evidence: str = ""
) -> OutcomeFacts:
    """The outcome options as typed (the service checks them)."""
    return OutcomeFacts(rules, accountable, funds, evidence)


# -- categories ---------------------------------------------------------------------------


@click.group(cls=XunshiGroup)
def categories() -> None:
    """The office's two-level problem category list."""


@categories.command("load")
@click.argument("file", type=click.Path(path_type=Path))
@pass_state
def categories_load(state: State, file: Path) -> None:
    """Make the list what FILE says (YAML: `categories: {一级: [二级, …]}`)."""
    loaded = state.services().items.load_categories(read_text(file), file.name)
    render.emit(
        state,
        loaded.to_json(),
        lambda: f"Categories: {loaded.added} added, {loaded.kept} kept, {loaded.removed} removed",
    )


@categories.command("list")
@paging_options(
    parse_code_cursor,
    "a category as 一级/二级 (categories come in the list's order), which must be in the list",
)
@pass_state
def categories_list(state: State, listing: Listing[str]) -> None:
    """The category list, in order."""
    listed = after_key(
        state.services().read.catalog.categories(),
        lambda c: f"{c.level1}/{c.level2}",
        listing.page,
        "category",
    )
    render.emit_list(
        state, listed, lambda c: c.to_json(), render.categories_table, jsonl=listing.jsonl
    )


# -- tags ---------------------------------------------------------------------------------


@click.group(cls=XunshiGroup)
def tags() -> None:
    """The office's business-domain tag list (业务领域)."""


@tags.command("load")
@click.argument("file", type=click.Path(path_type=Path))
@pass_state
def tags_load(state: State, file: Path) -> None:
    """Make the list what FILE says (YAML: `tags: [业务领域, …]`)."""
    loaded = state.services().items.load_tags(read_text(file), file.name)
    render.emit(
        state,
        loaded.to_json(),
        lambda: f"Tags: {loaded.added} added, {loaded.kept} kept, {loaded.removed} removed",
    )


@tags.command("list")
@paging_options(
    parse_code_cursor, "a tag's name (tags come in the list's order), which must be in the list"
)
@pass_state
def tags_list(state: State, listing: Listing[str]) -> None:
    """The tag list, in order."""
    listed = after_key(state.services().read.catalog.tags(), lambda t: t.name, listing.page, "tag")
    render.emit_list(state, listed, lambda t: t.to_json(), render.tags_table, jsonl=listing.jsonl)


COMMON_COMPUTED = (
    "共性问题 is computed now, not set: an item is a common problem when its category and one "
    "of its tags occur in at least XUNSHI_COMMON_PROBLEM_UNITS units of its round (default 3); "
    "give the item its tags with --tag"
)


def _refuse_common(_ctx: click.Context, _param: click.Parameter, value: bool | None) -> None:
    if value is not None:
        raise Failed(COMMON_COMPUTED)


def common_refused(fn: F) -> F:
    """The old `--common`/`--no-common` option, kept hidden only to say why it is gone."""
    return click.option(
        "--common/--no-common",
        default=None,
        hidden=True,
        expose_value=False,
        is_eager=True,
        callback=_refuse_common,
    )(fn)


# -- items --------------------------------------------------------------------------------


@click.group(cls=XunshiGroup)
def item() -> None:
    """Rectification items (问题). ITEM is the id or ROUND/UNIT/CODE."""


@item.command("add")
@click.argument("case_ref", metavar="CASE")
@click.option("--code", required=True, help="The item's code within the case, e.g. P01.")
@click.option("--title", required=True, help="The problem, in one line.")
@click.option("--category", required=True, metavar="L1/L2", help="一级类别/二级类别.")
@click.option("--manifestations", default="", help="具体表现.")
@click.option("--key", "key_problem", is_flag=True, help="A key problem (重点问题).")
@common_refused
@click.option(
    "--tag",
    "tag_names",
    multiple=True,
    metavar="TAG",
    help="A business-domain tag (业务领域) from `xunshi tags list`; repeat for several.",
)
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
@click.option(
    "--clue",
    "clue_code",
    metavar="CODE",
    help="The code of a clue (问题线索) of the case the problem arises from; linked in the "
    "clue's history.",
)
@click.option(
    "--recurs-from",
    metavar="ITEM",
    help="屡改屡犯: the earlier round's item (ROUND/UNIT/CODE) this problem recurs from; for a "
    "回头看 case that follows that item's case.",
)
@actor_option("Who records it")
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
    tag_names: tuple[str, ...],
    fix_now: bool,
    root_cause: str,
    source: str,
    definition: str,
    clue_code: str | None,
    recurs_from: str | None,
    actor: str,
    role: str,
    at: str | None,
) -> None:
    """Add a problem to a case's problem list (问题清单)."""
    services = state.services()
    facts = ItemFacts(
        code=code,
        title=title,
        category=category,
        manifestations=manifestations,
        key_problem=key_problem,
        fix_now=fix_now,
        root_cause=root_cause,
        source=source,
        recurs_from=recurs_from,
        tags=tag_names,
    )
    added = services.items.add_item(
        parse_reference(case_ref, "case"),
        facts,
        actor=actor,
        role=role,
        definition=definition,
        at=instant(state, at),
        clue=clue_code,
    )
    view = services.read.items.one(added.key)
    tz = state.settings.tz
    render.emit(state, view.to_json(tz), lambda: render.item_text(view, tz))


@item.command("list")
@click.option("--case", "case_ref", help="Only this case.")
@click.option("--round", "round_code", help="Only this round.")
@click.option("--state", "stage", help="Only items in this state, e.g. rectifying.")
@click.option("--category", help="Only this category (一级 or 一级/二级).")
@click.option("--tag", help="Only items with this business-domain tag (业务领域).")
@click.option("--overdue", is_flag=True, help="Only items with a stage or task past due.")
@click.option("--owner", help="Only items with a task this leader, department or person owns.")
@click.option("--include-void", is_flag=True, help="Void items too (marked 已撤销).")
@paging_options(
    lambda text: parse_key_cursor(text, "item"),
    "an item's key ROUND/UNIT/CODE, e.g. 2025-R1/U07/P03 (items come by round code, unit "
    "code, then item code)",
)
@pass_state
def item_list(
    state: State,
    case_ref: str | None,
    round_code: str | None,
    stage: str | None,
    category: str | None,
    tag: str | None,
    overdue: bool,
    owner: str | None,
    include_void: bool,
    listing: Listing[InstanceKey],
) -> None:
    """Items with their state, tasks and deadlines (void ones left out unless asked for), by
    round code, unit code, then item code."""
    views = state.services().read.items.stream(
        case=None if case_ref is None else parse_reference(case_ref, "case"),
        round_code=round_code,
        state=stage,
        category=category,
        overdue=overdue,
        owner=owner,
        include_void=include_void,
        tag=tag,
        page=listing.page,
    )
    tz = state.settings.tz
    render.emit_list(state, views, lambda v: v.to_json(tz), render.items_table, jsonl=listing.jsonl)


@item.command("show")
@click.argument("item_ref", metavar="ITEM")
@pass_state
def item_show(state: State, item_ref: str) -> None:
    """One item: its facts, state, milestones and tasks."""
    view = state.services().read.items.one(parse_reference(item_ref, "item"))
    tz = state.settings.tz
    render.emit(state, view.to_json(tz), lambda: render.item_text(view, tz))


@item.command("update")
@click.argument("item_ref", metavar="ITEM")
@click.option("--title", help="New title (the problem, in one line).")
@click.option("--manifestations", help="New 具体表现.")
@click.option("--category", metavar="L1/L2", help="New 一级类别/二级类别.")
@click.option(
    "--key/--no-key", "key_problem", default=None, help="A key problem (重点问题) or not."
)
@common_refused
@click.option(
    "--tag",
    "tag_names",
    multiple=True,
    metavar="TAG",
    help="The item's tags become these (repeat for several); --no-tags removes them all.",
)
@click.option("--no-tags", is_flag=True, help="The item carries no tag any more.")
@click.option("--fix-now/--no-fix-now", default=None, help="To be fixed at once (立行立改) or not.")
@click.option("--root-cause", help="New 问题根源.")
@click.option("--reason", required=True, help="Why the facts change (kept in the history).")
@actor_options
@pass_state
def item_update(
    state: State,
    item_ref: str,
    title: str | None,
    manifestations: str | None,
    category: str | None,
    key_problem: bool | None,
    tag_names: tuple[str, ...],
    no_tags: bool,
    fix_now: bool | None,
    root_cause: str | None,
    reason: str,
    actor: str,
    role: str,
    at: str | None,
) -> None:
    """Correct a problem's facts; the change and its reason enter the item's history."""
    if no_tags and tag_names:
        raise Failed("give --tag or --no-tags, not both")
    changes = ItemChanges(
        title=title,
        manifestations=manifestations,
        category=category,
        key_problem=key_problem,
        fix_now=fix_now,
        root_cause=root_cause,
        tags=() if no_tags else (tag_names or None),
    )
    change = state.services().items.update_item(
        parse_reference(item_ref, "item"),
        changes,
        reason=reason,
        actor=actor,
        role=role,
        at=instant(state, at),
    )
    changed = render.facts_changed(change.event.data["changes"])
    render.emit(
        state, change.to_json(state.settings.tz), lambda: f"{change.key.label} updated: {changed}"
    )


@item.command("outcome")
@click.argument("item_ref", metavar="ITEM")
@outcome_options
@click.option("--evidence", default="", help="佐证材料 of the outcome.")
@click.option("--replace", is_flag=True, help="Replace the outcome recorded before (a correction).")
@click.option("--reason", help="Why (needed with --replace).")
@actor_options
@pass_state
def item_outcome(
    state: State,
    item_ref: str,
    rules: tuple[str, ...],
    accountable: str | None,
    funds: str | None,
    evidence: str,
    replace: bool,
    reason: str | None,
    actor: str,
    role: str,
    at: str | None,
) -> None:
    """整改成果: record what the item achieved as a whole (once a task is done or it is
    accepted); --replace --reason corrects it with a new event."""
    recorded = state.services().items.record_outcome(
        parse_reference(item_ref, "item"),
        outcome_facts(rules, accountable, funds, evidence),
        actor=actor,
        role=role,
        replace=replace,
        reason=reason,
        at=instant(state, at),
    )
    render.emit(
        state, recorded.to_json(state.settings.tz), lambda: render.outcome_recorded(recorded)
    )


add_lifecycle_commands(item, "item")


# -- tasks --------------------------------------------------------------------------------


@click.group(cls=XunshiGroup)
def task() -> None:
    """Tasks (整改措施) of items. TASK is the id or ITEM#N."""


def task_options(*, adding: bool) -> Callable[[F], F]:
    """The facts of a task as options: all needed to add one, each optional to change one."""
    new = "" if adding else "New "

    def decorate(fn: F) -> F:
        for name, text, needed in reversed(
            [
                ("--measure", "整改措施", True),
                ("--leader", "责任领导", True),
                ("--department", "牵头部门", True),
                ("--cooperating", "配合部门", False),
                ("--person", "责任人", True),
            ]
        ):
            # Adding, an optional fact defaults to empty; changing, an absent one stays.
            extra: dict[str, Any] = {"default": ""} if adding and not needed else {}
            fn = click.option(name, required=adding and needed, help=f"{new}{text}.", **extra)(fn)
        return fn

    return decorate


@task.command("add")
@click.argument("item_ref", metavar="ITEM")
@task_options(adding=True)
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
    facts = TaskFacts(
        measure=measure,
        responsible_leader=leader,
        lead_department=department,
        cooperating_departments=cooperating,
        responsible_person=person,
        due_on=day(due, "--due"),
        long_term=long_term,
    )
    added = state.services().items.add_task(
        parse_reference(item_ref, "item"), facts, actor=actor, role=role, at=instant(state, at)
    )
    render.emit(state, added.to_json(), lambda: f"{added.key.label} added (#{added.id})")


@task.command("update")
@click.argument("task_ref", metavar="TASK")
@task_options(adding=False)
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
    changes = TaskChanges(
        measure=measure,
        responsible_leader=leader,
        lead_department=department,
        cooperating_departments=cooperating,
        responsible_person=person,
        due_on=day(due, "--due"),
        long_term=long_term,
        progress=progress,
    )
    updated = state.services().items.update_task(
        parse_reference(task_ref, "task"), changes, actor=actor, role=role, at=instant(state, at)
    )
    render.emit(state, updated.to_json(), lambda: f"{updated.key.label} updated")


@task.command("done")
@click.argument("task_ref", metavar="TASK")
@click.option("--evidence", required=True, help="佐证材料 (what shows it is done).")
@outcome_options
@actor_options
@pass_state
def task_done(
    state: State,
    task_ref: str,
    evidence: str,
    rules: tuple[str, ...],
    accountable: str | None,
    funds: str | None,
    actor: str,
    role: str,
    at: str | None,
) -> None:
    """Mark a task done, with what it achieved (整改成果) if anything; its escalations stop."""
    done = state.services().items.complete_task(
        parse_reference(task_ref, "task"),
        evidence=evidence,
        actor=actor,
        role=role,
        at=instant(state, at),
        outcome=outcome_facts(rules, accountable, funds),
    )
    render.emit(state, done.to_json(), lambda: render.task_done_text(done))


@task.command("show")
@click.argument("task_ref", metavar="TASK")
@pass_state
def task_show(state: State, task_ref: str) -> None:
    """One task: who answers for it, by when, and its extension requests."""
    item_view, task_view = state.services().read.items.task(parse_reference(task_ref, "task"))
    tz = state.settings.tz
    render.emit(state, task_view.to_json(tz), lambda: render.task_text(item_view, task_view, tz))


@task.command("extend")
@click.argument("task_ref", metavar="TASK")
@click.option("--to", "to", required=True, metavar="DATE", help="The due date asked for.")
@click.option("--reason", required=True, help="Why more time is needed (kept in the history).")
@acting_options("unit_liaison, party_secretary or office.")
@pass_state
def task_extend(
    state: State, task_ref: str, to: str, reason: str, actor: str, role: str, at: str | None
) -> None:
    """Ask for a later due date (延期申请); nothing moves until the office approves."""
    wanted = day(to, "--to")
    assert wanted is not None
    asked = state.services().extensions.request(
        parse_reference(task_ref, "task"),
        wanted,
        reason=reason,
        actor=actor,
        role=role,
        at=instant(state, at),
    )
    render.emit(
        state,
        asked.to_json(),
        lambda: (
            f"{asked.key.label}: extension to {wanted} requested, pending the office's decision"
        ),
    )


@task.command("extension")
@click.argument("task_ref", metavar="TASK")
@click.option("--approve", is_flag=True, help="Approve: the due date and its timers move.")
@click.option("--reject", is_flag=True, help="Reject: nothing moves; the request stays on record.")
@click.option("--reason", required=True, help="Why (kept in the history).")
@acting_options("office.")
@pass_state
def task_extension(
    state: State,
    task_ref: str,
    approve: bool,
    reject: bool,
    reason: str,
    actor: str,
    role: str,
    at: str | None,
) -> None:
    """Decide the task's pending extension request (the office)."""
    if approve == reject:
        raise Failed("give exactly one of --approve and --reject")
    decided = state.services().extensions.decide(
        parse_reference(task_ref, "task"),
        approve=approve,
        reason=reason,
        actor=actor,
        role=role,
        at=instant(state, at),
    )
    data = decided.change.event.data

    def text() -> str:
        if approve:
            return f"{decided.key.label}: extension approved, due {data['due_on']}"
        return f"{decided.key.label}: extension to {data['requested_due']} rejected"

    render.emit(state, decided.to_json(), text)


@task.command("extensions")
@click.option("--round", "round_code", help="Only this round.")
@click.option("--pending", is_flag=True, help="Only requests waiting for the office.")
@click.option("--include-void", is_flag=True, help="Requests of void items too.")
@paging_options(
    parse_number_cursor,
    "a request's number (requests come oldest first: by when they were made, then number)",
)
@pass_state
def task_extensions(
    state: State,
    round_code: str | None,
    pending: bool,
    include_void: bool,
    listing: Listing[int],
) -> None:
    """Extension requests, oldest first (with --pending: the office's inbox)."""
    views = after_key(
        state.services().read.extensions.many(
            round_code=round_code, pending=pending, include_void=include_void
        ),
        lambda v: v.id,
        listing.page,
        "extension request",
    )
    tz = state.settings.tz
    render.emit_list(
        state,
        views,
        lambda v: v.to_json(tz),
        lambda shown: render.extensions_table(shown, tz),
        jsonl=listing.jsonl,
    )


# -- import ---------------------------------------------------------------------------------


@click.group(cls=XunshiGroup)
def items() -> None:
    """Items in bulk."""


@items.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@actor_option("Who imports")
@click.option("--role", default="office", show_default=True)
@click.option("--at", "at", metavar="TIME", help="When (default now).")
@click.option(
    "--encoding",
    metavar="NAME",
    help="A CSV's text encoding, e.g. gb18030 (default: UTF-8, else GB18030 detected).",
)
@pass_state
def items_import(
    state: State, file: Path, actor: str, role: str, at: str | None, encoding: str | None
) -> None:
    """Import items and their tasks (one row per task) from FILE.csv or FILE.xlsx."""
    result = state.services().items.import_items(
        file, actor=actor, role=role, at=instant(state, at), encoding=encoding
    )
    render.emit(
        state,
        result.to_json(),
        lambda: f"Imported {plural(result.items, 'item')} with {plural(result.tasks, 'task')}",
    )
