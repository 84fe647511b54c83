"""The desk's reports: a round's ledger (整改台账), themes (专题), clues (问题线索) and
rectification progress (整改进度); the lifecycle definitions and their diagrams; the audit.

Each page shows what the CLI's command shows, limited to the user's scope: a group leader's
ledger holds their group's units, a unit's people their unit's rows. Downloads are the CLI's
own files (`xunshi.reports` writers), of the rows the page shows. Clues are seen only by the
office and by the body a clue was handed over to; the audit only by the office — to anyone
else these pages do not exist (404).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import replace
from typing import IO, Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from xunshi.errors import AuditFailed, BadInput, NotFound, Refused, XunshiError
from xunshi.idempotency import AlreadyDone
from xunshi.read.cases import CaseView
from xunshi.read.catalog import RoundInfo
from xunshi.read.ledger import COLUMNS as LEDGER_COLUMNS
from xunshi.read.ledger import Ledger
from xunshi.read.progress import STEPS, Progress
from xunshi.read.theme_reports import ITEM_COLUMNS, MEASURE_COLUMNS, TOTAL_COLUMNS, ThemeReport
from xunshi.read.themes import COLUMNS as THEME_COLUMNS
from xunshi.read.users import UserView
from xunshi.reports import ledger as ledger_files
from xunshi.reports import theme_report as theme_report_files
from xunshi.reports import themes as themes_files
from xunshi.web import chart, diagram
from xunshi.web.access import as_request, check_csrf, signed_in, viewer_of, visible_cases
from xunshi.web.desk import Desk, desk_of
from xunshi.web.pages import _common
from xunshi.web.scope import Viewer, sees_whole_round
from xunshi.web.sessions import Session
from xunshi.workflow.clues import OFFICE, RECEIVERS

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
FORMATS = ("xlsx", "csv")
# What a file name may hold as it is (the rest becomes `_` in the plain `filename=`).
_PLAIN = re.compile(r"[^A-Za-z0-9._-]")
WHOLE_ROUND_ONLY = "专题汇总涵盖全轮各单位，只有巡视办、领导小组、纪检监察组和组织部可以下载。"
UNKNOWN_FORMAT = "不支持这种文件格式，请选择 xlsx 或 csv。"


# -- scope ------------------------------------------------------------------------------


def _round_scope(request: Request, round_code: str) -> tuple[Session, UserView, list[CaseView]]:
    """The session, the user and the round's cases they see; 404 if the round is not theirs."""
    session, user = signed_in(request)
    cases = visible_cases(desk_of(request).services, viewer_of(user), round_code)
    return session, user, cases


def round_info(desk: Desk, round_code: str) -> RoundInfo:
    """The round called `round_code` (codes compare case-insensitively)."""
    for found in desk.services.read.catalog.rounds():
        if found.code.lower() == round_code.lower():
            return found
    raise NotFound(f"round {round_code} does not exist")


def _units(cases: list[CaseView]) -> set[str]:
    return {v.unit for v in cases}


def sees_clues(role: str) -> bool:
    """Whether a role may see any clue: the office (every clue) and the receiving bodies (the
    clues handed over to them), as `workflow.clues.may_see` rules."""
    return role == OFFICE or role in RECEIVERS


# -- downloads --------------------------------------------------------------------------


def _format(requested: str | None, formats: tuple[str, ...] = FORMATS) -> str | None:
    """None for the page, else the file format asked for (400 for one not offered)."""
    if requested is None or requested == "":
        return None
    if requested not in formats:
        raise HTTPException(400, UNKNOWN_FORMAT)
    return requested


def download(stem: str, title: str, fmt: str, write: Callable[[IO[Any]], None]) -> Response:
    """A file for the browser to save: `stem` is the plain file name, `title` the Chinese one."""
    if fmt == "xlsx":
        binary = io.BytesIO()
        write(binary)
        body, media = binary.getvalue(), XLSX
    else:
        text = io.StringIO(newline="")
        write(text)
        # With a byte-order mark, as the CLI writes CSV files: Excel then reads it as UTF-8.
        body, media = text.getvalue().encode("utf-8-sig"), CSV
    plain = _PLAIN.sub("_", f"{stem}.{fmt}")
    named = quote(f"{title}.{fmt}", safe="")
    disposition = f"attachment; filename=\"{plain}\"; filename*=UTF-8''{named}"
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})


# -- the ledger -------------------------------------------------------------------------


def scoped_ledger(desk: Desk, viewer: Viewer, round_code: str, cases: list[CaseView]) -> Ledger:
    """The round's ledger, or (for a user who sees only some units) their cases' rows,
    numbered again from 1."""
    read = desk.services.read.ledger
    if sees_whole_round(viewer):
        return read.of(round_code)
    parts = [read.of(round_code, f"{v.round}/{v.unit}") for v in cases]
    if not parts:
        return replace(read.of(round_code), rows=())
    rows = [row for part in parts for row in part.rows]
    numbered = tuple(row | {"序号": n} for n, row in enumerate(rows, start=1))
    # One unit's ledger is titled after it, as `ledger export --case` titles it.
    return replace(
        parts[0], rows=numbered, unit_name=parts[0].unit_name if len(parts) == 1 else None
    )


@router.get("/rounds/{round_code}/ledger")
def ledger_page(request: Request, round_code: str, format: str | None = None) -> Response:
    """整改台账: one row per task, as `xunshi ledger export` writes it; xlsx or csv."""
    fmt = _format(format)
    session, user, cases = _round_scope(request, round_code)
    desk = desk_of(request)
    found = scoped_ledger(desk, viewer_of(user), round_code, cases)
    if fmt is not None:
        write = ledger_files.write_xlsx if fmt == "xlsx" else ledger_files.write_csv
        return download(
            f"ledger-{found.round.code}",
            ledger_files.title(found),
            fmt,
            lambda out: write(found, out),
        )
    return desk.render(
        "ledger.html",
        session,
        **_common(user),
        round=found.round,
        ledger=found,
        title=ledger_files.title(found),
        columns=LEDGER_COLUMNS,
    )


# -- themes -----------------------------------------------------------------------------


def scoped_report(report: ThemeReport, units: set[str] | None) -> ThemeReport:
    """A theme's report with only the items of `units` (None: every unit)."""
    if units is None:
        return report
    items = tuple(i for i in report.items if i.view.unit in units)
    linked = tuple(str(i.view.key) for i in items if "指定" in i.ways)
    return replace(report, items=items, linked=linked)


def _seen_units(user: UserView, cases: list[CaseView]) -> set[str] | None:
    """None for a user who sees the whole round, else the units of their cases."""
    return None if sees_whole_round(viewer_of(user)) else _units(cases)


@router.get("/rounds/{round_code}/themes")
def themes_page(request: Request, round_code: str, format: str | None = None) -> Response:
    """专题: the thematic view by category (`report themes`) and the round's themes
    (`theme list`); the thematic view as xlsx or csv."""
    fmt = _format(format)
    session, user, cases = _round_scope(request, round_code)
    desk = desk_of(request)
    read = desk.services.read
    units = _seen_units(user, cases)
    if fmt is not None:
        if units is not None:
            raise HTTPException(403, WHOLE_ROUND_ONLY)
        summary = read.themes.of(round_code)
        write = themes_files.write_xlsx if fmt == "xlsx" else themes_files.write_csv
        return download(
            f"themes-{summary.round.code}",
            themes_files.title(summary),
            fmt,
            lambda out: write(summary, out),
        )
    reports = [scoped_report(r, units) for r in read.theme_reports.many(round_code)]
    view = read.themes.of(round_code) if units is None else None
    return desk.render(
        "themes.html",
        session,
        **_common(user),
        round=round_info(desk, round_code),
        view=view,
        columns=THEME_COLUMNS,
        reports=reports,
        whole_round=units is None,
    )


@router.get("/rounds/{round_code}/themes/{code}")
def theme_page(request: Request, round_code: str, code: str, format: str | None = None) -> Response:
    """A theme (`theme show`, `report theme`): its items in the user's scope, totals and
    measures; as xlsx or csv."""
    fmt = _format(format)
    session, user, cases = _round_scope(request, round_code)
    desk = desk_of(request)
    report = scoped_report(
        desk.services.read.theme_reports.of(round_code, code), _seen_units(user, cases)
    )
    if fmt is not None:
        write = theme_report_files.write_xlsx if fmt == "xlsx" else theme_report_files.write_csv
        return download(
            f"theme-{report.round.code}-{report.code}",
            theme_report_files.title(report),
            fmt,
            lambda out: write(report, out),
        )
    return desk.render(
        "theme.html",
        session,
        **_common(user),
        round=report.round,
        report=report,
        title=theme_report_files.title(report),
        scope=theme_report_files.scope(report),
        item_columns=ITEM_COLUMNS,
        items=theme_report_files.item_rows(report),
        total_columns=TOTAL_COLUMNS,
        measure_columns=MEASURE_COLUMNS,
        measures=theme_report_files.measure_rows(report),
    )


# -- clues ------------------------------------------------------------------------------


@router.get("/rounds/{round_code}/clues")
def clues_page(request: Request, round_code: str) -> Response:
    """问题线索 of the round: every one for the office, those handed over to it for a
    receiving body (`clue list --role`); to anyone else the page does not exist."""
    session, user, _cases = _round_scope(request, round_code)
    if not sees_clues(user.role):
        raise NotFound("no such page")
    desk = desk_of(request)
    try:
        clues = desk.services.read.clues.many(role=user.role, round_code=round_code)
    except Refused as exc:  # a role no clue definition declares: nothing to see
        raise NotFound("no such page") from exc
    return desk.render(
        "clues.html",
        session,
        **_common(user),
        round=round_info(desk, round_code),
        clues=clues,
        receiver_titles=RECEIVERS,
        office=user.role == OFFICE,
    )


# -- progress ---------------------------------------------------------------------------


def scoped_progress(desk: Desk, user: UserView, round_code: str, cases: list[CaseView]) -> Progress:
    """The round's rectification progress, of the units the user sees."""
    found = desk.services.read.progress.of(round_code)
    units = _seen_units(user, cases)
    return found if units is None else found.only(units)


@router.get("/rounds/{round_code}/progress")
def progress_page(request: Request, round_code: str, by: str | None = None) -> Response:
    """整改进度: open and accepted problems at the end of each day or week, as a chart."""
    if by not in (None, "", *STEPS):
        raise HTTPException(400, "请选择按日（day）或按周（week）统计。")
    session, user, cases = _round_scope(request, round_code)
    desk = desk_of(request)
    progress = scoped_progress(desk, user, round_code, cases)
    step = by if by in STEPS else progress.default_step()
    points = progress.series("week" if step == "week" else "day")
    return desk.render(
        "progress.html",
        session,
        **_common(user),
        round=progress.round,
        as_of=progress.as_of,
        step=step,
        points=points,
        items=len(progress.items),
        picture=chart.draw(points),
    )


# -- definitions ------------------------------------------------------------------------


@router.get("/definitions")
def definitions_page(request: Request) -> HTMLResponse:
    """The loaded lifecycle definitions (`definitions list`)."""
    session, user = signed_in(request)
    desk = desk_of(request)
    return desk.render(
        "definitions.html",
        session,
        **_common(user),
        versions=desk.services.read.catalog.definitions(),
        tz=desk.services.settings.tz,
    )


@router.get("/definitions/{name}")
def definition_page(request: Request, name: str, version: str | None = None) -> HTMLResponse:
    """A definition (`definitions show`) and its lifecycle diagram, drawn as SVG."""
    session, user = signed_in(request)
    desk = desk_of(request)
    catalog = desk.services.read.catalog
    known = {v.name: v for v in catalog.definitions()}
    wanted = None if not version else int(version) if version.isdigit() else 0
    if name not in known or (wanted is not None and not 1 <= wanted <= known[name].version):
        raise NotFound(f"definition {name} does not exist")
    shown = catalog.definition(name, wanted)
    defn = shown.definition
    titles = {s.name: s.title for s in defn.states}
    return desk.render(
        "definition.html",
        session,
        **_common(user),
        defn=defn,
        version=shown.version,
        latest=known[name].version,
        picture=diagram.draw(defn),
        moves=[
            (t, titles[t.source], titles[t.dest], *diagram.edge_label(defn, t))
            for t in defn.transitions
        ],
    )


# -- the audit --------------------------------------------------------------------------


def _office(request: Request) -> tuple[Session, UserView]:
    """The signed-in office user; to anyone else the page does not exist."""
    session, user = signed_in(request)
    if user.role != OFFICE:
        raise NotFound("no such page")
    return session, user


@router.get("/audit")
def audit_page(request: Request, seal: str | None = None, sealed: str = "") -> HTMLResponse:
    """`audit verify` (with a seal's heads, if one is given) and the form to seal."""
    session, user = _office(request)
    return _audit(request, session, user, seal=seal or None, sealed=sealed == "1")


@router.post("/audit/seal")
def audit_seal(request: Request, csrf: FormText = "", request_id: FormText = "") -> Response:
    """`audit seal`: store a digest over every chain head, then show it to be kept elsewhere."""
    session, user = signed_in(request)
    check_csrf(session, csrf)
    if user.role != OFFICE:
        raise NotFound("no such page")
    try:
        with as_request(request_id, user, request):
            done = desk_of(request).services.audit.seal(user.name)
    except AlreadyDone:
        return RedirectResponse("/audit", status_code=303)  # the form sent again: sealed
    except XunshiError as exc:
        status = 409 if isinstance(exc, AuditFailed) else 400
        return _audit(request, session, user, message=exc.message, status=status)
    return RedirectResponse(f"/audit?seal={done.digest}&sealed=1", status_code=303)


def _audit(
    request: Request,
    session: Session,
    user: UserView,
    *,
    seal: str | None = None,
    sealed: bool = False,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    desk = desk_of(request)
    audit = desk.services.audit
    try:
        report = audit.verify(seal)
    except (BadInput, NotFound) as exc:
        report, message, status, seal, sealed = audit.verify(), exc.message, 400, None, False
    return desk.render(
        "audit.html",
        session,
        status,
        **_common(user),
        report=report,
        first=report.problems[0] if report.problems else None,
        seal=seal,
        sealed=sealed and report.ok,
        message=message,
    )
