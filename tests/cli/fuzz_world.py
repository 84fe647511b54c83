"""What the CLI fuzz test (`test_fuzz.py`) runs on and draws from.

- `build_fuzz_world`: a database with something of everything — rounds, groups, units, a
  case in 整改 with items and tasks (one done, one long-term), a suspended case, a case on
  another definition, categories, a loaded calendar year, an office's own definition,
  escalations and a seal — built once through the CLI.
- `dump`: every table's rows, sorted, read with `sqlite3`: equal dumps, equal databases.
- The vocabulary: the codes, keys, names, dates and times that exist in that world, and
  hostile values of every kind (empty, huge, non-ASCII digits, NUL, lone surrogates,
  surrogate-escaped bytes, impossible dates, …).
- `FILES`: the input files a command may be given (the examples, and files whose content is
  drawn: sheets and YAML with hostile cells and titles), always inside the test's folder.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from cli_harness import KEY, REPO, ROUND, Cli, start_case
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from xunshi.definitions.loader import builtin_definitions

EXAMPLES = REPO / "examples"
P01 = f"{KEY}/P01"
P02 = f"{KEY}/P02"
P03 = f"{KEY}/P03"
SUSPENDED = f"{ROUND}/U02"
SECOND_ROUND = "2025-R1"


def build_fuzz_world(cli: Cli) -> None:
    """Grow the `rectifying` world (2024-R1/U01 in 整改) into one with something of everything."""
    cli.run("categories", "load", str(EXAMPLES / "categories.yaml"))
    cli.run("tags", "load", str(EXAMPLES / "tags.yaml"))
    cli.run("definitions", "load", str(EXAMPLES / "our_rectification.yaml"))
    cli.run("calendar", "load", str(EXAMPLES / "calendar-2027.yaml"))
    acting = ("--actor", "巡视办", "--role", "office")
    cli.run(
        "item", "add", KEY, "--code", "P01", "--title", "公务接待超标准",
        "--category", "作风建设/违反中央八项规定精神", "--key", "--at", "2024-09-04T10:00",
    )  # fmt: skip
    cli.run(
        "item", "add", KEY, "--code", "P02", "--title", "理论学习走过场",
        "--category", "思想建设/理论学习走过场", "--tag", "承包商管理", "--at", "2024-09-04T11:00",
    )  # fmt: skip
    cli.run(
        "item", "add", KEY, "--code", "P03", "--title", "公务用车管理不规范",
        "--category", "作风建设/违反中央八项规定精神", "--definition", "our_rectification",
        "--at", "2024-09-04T12:00",
    )  # fmt: skip
    for item, measure, due in ((P01, "修订接待制度", "2024-10-31"), (P01, "清退超标费用", None)):
        extra = ["--due", due] if due else ["--long-term"]
        cli.run(
            "task", "add", item, "--measure", measure, "--leader", "分管负责同志",
            "--department", "办公室", "--person", "李某", *extra, *acting,
            "--at", "2024-09-05T10:00",
        )  # fmt: skip
    cli.run(
        "task", "add", P02, "--measure", "制定学习计划", "--leader", "主要负责同志",
        "--department", "机关党委", "--person", "王某", "--due", "2024-11-15", *acting,
        "--at", "2024-09-05T11:00",
    )  # fmt: skip
    cli.run("item", "fire", P01, "plan", *acting, "--at", "2024-09-06T10:00")
    cli.run(
        "theme", "add", ROUND, "T01", "--title", "承包商管理", "--department", "物资装备部",
        "--tag", "承包商管理", "--item", P01, "--measure", "修订承包商管理办法", *acting,
    )  # fmt: skip
    cli.run("task", "done", f"{P02}#1", "--evidence", "学习计划文件", *acting, "--at", "2024-09-09")
    start_case(cli, "U02", at="2024-09-02T10:00")
    cli.run(
        "case", "suspend", SUSPENDED, "--reason", "巡视组临时召回", *acting,
        "--at", "2024-09-03T10:00",
    )  # fmt: skip
    cli.run("unit", "add", "U03", "--name", "示例市统计局")
    start_case(cli, "U03", at="2024-09-02T11:00", definition="special")
    cli.run("round", "create", SECOND_ROUND, "--title", "2025年第一轮巡视", "--start", "2025-03-03")
    cli.run("group", "add", SECOND_ROUND, "G2", "--leader", "组长乙")
    cli.run("escalate")
    cli.run("escalations", "ack", "1", "--actor", "巡视办")
    cli.run("audit", "seal", "--actor", "巡视办")


def seal_of(cli: Cli) -> str:
    """The digest of the world's seal (what `audit verify --seal` checks)."""
    rows = cli.sql("SELECT digest FROM seal ORDER BY id")
    return str(rows[-1][0])


def dump(path: Path) -> dict[str, list[str]]:
    """Every table's rows, sorted (as text): the database's logical content."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            table: sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{table}"'))
            for table in tables
        }
    finally:
        conn.close()


# -- the world's vocabulary ---------------------------------------------------------------

_DEFINITIONS = builtin_definitions()
TRIGGERS = sorted({t.trigger for d in _DEFINITIONS for t in d.transitions} | {"work", "apply"})
MILESTONES = sorted(
    {m.name for d in _DEFINITIONS for s in d.states for m in s.milestones} | {"office_checked"}
)
ROLES = sorted({r.name for d in _DEFINITIONS for r in d.roles})
STATES = sorted({s.name for d in _DEFINITIONS for s in d.states} | {"registered", "fixing"})
DEFINITION_NAMES = sorted({d.name for d in _DEFINITIONS} | {"our_rectification"})
DEFINITION_TITLES = sorted({d.title for d in _DEFINITIONS})

ROUNDS = [ROUND, SECOND_ROUND, "2024-r1", "2023-R9"]
CASES = [KEY, SUSPENDED, f"{ROUND}/U03", "2024-r1/u01", f"{ROUND}/U09", "1", "#2", "3", "99"]
ITEMS = [P01, P02, P03, f"{KEY}/p01", f"{KEY}/P99", "4", "#5", "6", "1"]
TASKS = [f"{P01}#1", f"{P01}#2", f"{P02}#1", f"{P03}#1", "4#1", "#1", "1", "2", "5#2"]
UNITS = ["U01", "U02", "U03", "U04", "u01"]
GROUPS = ["G1", "G2", "g1", "G9"]
NAMES = ["张三", "巡视办", "组长乙", "李某", "办公室", "tester"]
CATEGORIES = [
    "作风建设/违反中央八项规定精神",
    "思想建设/理论学习走过场",
    "作风建设",
    "思想建设/不存在的类别",
    "作风建设/",
    "/违反中央八项规定精神",
    "作风建设/违反中央八项规定精神/多余",
]
DATES = [
    "2024-09-27", "2024-10-31", "2025-03-03", "2027-01-15", "2024/9/27", "2024年9月27日",
    "20240927", "2024-9-27", "2024-09-27T00:00", " 2024-09-27 ",
]  # fmt: skip
INSTANTS = [
    "2024-09-10T10:00", "2024-09-03T03:30", "2024-09-02", "2024-09-10T10:00:00+08:00",
    "2024-09-10T02:00Z", "2024-09-10 10:00", "2024-09-10T10:00:00.123456",
    "2024-09-10T10:00-01:00", "2025-06-30", "2030-01-01T00:00", "2024-09-01T23:59",
    "2024-09-03T03:00", "2024-09-03T02:59:59",
]  # fmt: skip
YEARS = ["2024", "2025", "2027", "2004", "1900", "2200", "1899", "2201", "0", "2026"]
SEALS = ["0" * 64, "f" * 64, "abc", "z" * 64]
ENCODINGS = ["utf-8", "gb18030", "gbk", "latin-1", "utf-16", "xyz", "rot13", "base64", "idna",
             "undefined", "punycode", "unicode_escape", "utf-7"]  # fmt: skip

# Values no command should choke on, whatever the parameter.
HOSTILE = [
    "", " ", "\t", "\n", "a\nb", "\r\n", "x" * 5000, "长" * 201, "-1", "0", "-0", "+1", "1.5",
    "99999999999999999999", str(2**63 - 1), str(2**63), str(2**64), str(-(2**63) - 1),
    "-9223372036854775808", "1e309", "NaN", "nan", "inf", "-inf", "１２", "٣", "²", "𝟗",
    "\x00", "a\x00b", "\ud800", "\udfff", "U\ud800", "\udcff", "\udce4\udcb8", "\x1b[31m",
    "\u202e", "\ufeff", "\u3000", "🙂", "9999-12-31", "0001-01-01", "2024-02-30", "2024-13-01",
    "9999-12-31T23:00-01:00", "0001-01-01T00:00+01:00", "9999-12-31T23:59:59.999999-23:59",
    "0001-01-01T00:30", "2024-09-10T25:00", "-", "--", "#", "#-1", "#0", "/", "//",
    f"{ROUND}/", "/U01", f"{KEY}/", f"{P01}#", f"{P01}#0", f"{P01}#-1", "1#1", "#1#1",
    f"{P01}#99999999999999999999", f"{P01}#１", "99999999999999999999#1", "'", '"', "\\",
    "%s", "{}", "${HOME}", "a b", "--help", "-h",
]  # fmt: skip

# Characters of every Unicode category, lone surrogates (and so surrogate-escaped bytes) included.
ANY_CHARACTER = st.characters(exclude_categories=())
ANY_TEXT = st.text(ANY_CHARACTER, max_size=30)
hostile = st.one_of(st.sampled_from(HOSTILE), ANY_TEXT)


def mixed(*pools: list[str]) -> st.SearchStrategy[str]:
    """A value from the pools (what the world has) or a hostile one."""
    plausible = st.sampled_from([value for pool in pools for value in pool])
    return st.one_of(plausible, plausible, hostile)


# -- input files ----------------------------------------------------------------------------


def _json_string(value: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes are YAML's too): any text, surrogates too."""
    return json.dumps(value)


# A YAML value of a few hundred bytes whose aliases expand to 9**6 items.
ALIAS_BOMB = (
    "[&b0 [1, 1, 1, 1, 1, 1, 1, 1, 1], "
    + ", ".join(f"&b{n} [{', '.join([f'*b{n - 1}'] * 9)}]" for n in range(1, 6))
    + "]"
)


@st.composite
def yaml_value(draw: st.DrawFn, pool: list[str]) -> str:
    """A YAML scalar drawn from `pool` or hostile text; now and then a huge alias bomb."""
    if draw(st.integers(0, 9)) == 9:
        return ALIAS_BOMB
    return _json_string(draw(mixed(pool)))


def _csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    # `surrogateescape` writes surrogate-escaped characters back as the bytes they stood for;
    # a lone surrogate that stands for no byte is written as `?`.
    text = buffer.getvalue()
    try:
        return text.encode(encoding, "surrogateescape")
    except UnicodeEncodeError:
        return text.encode(encoding, "replace")


def _xlsx_bytes(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append([_xlsx_cell(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(value: str) -> str:
    """The value, or `?` where a workbook cannot hold it (XML control characters, surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "?"
    return "?" if ILLEGAL_CHARACTERS_RE.search(value) else value


PLAN_HEADER = ["round", "group", "group_leader", "unit_code", "unit_name", "unit_category"]
PLAN_ROW = [SECOND_ROUND, "G2", "组长乙", "U04", "示例市统计局", "市直机关"]
ITEMS_HEADER = [
    "round", "unit_code", "item_code", "title", "category_l1", "category_l2", "measure",
    "responsible_leader", "lead_department", "responsible_person", "due_on", "long_term",
    "key_problem", "source",
]  # fmt: skip
ITEMS_ROW = [
    ROUND, "U01", "P09", "公务接待超标准", "作风建设", "违反中央八项规定精神", "修订接待制度",
    "分管负责同志", "办公室", "李某", "2024-12-31", "否", "是", "巡视发现",
]  # fmt: skip


@st.composite
def _sheet(draw: st.DrawFn, header: list[str], row: list[str], extra: str) -> list[list[str]]:
    """A header and one or two rows, some cells replaced by drawn values."""
    columns = [*header, extra]
    first = [*row, draw(mixed(DEFINITION_NAMES, DEFINITION_TITLES))]
    rows = [columns, first]
    if draw(st.booleans()):
        rows.append(list(first))
    for _ in range(draw(st.integers(0, 3))):
        r = draw(st.integers(0, len(rows) - 1))
        c = draw(st.integers(0, len(columns) - 1))
        pool = DATES if columns[c] == "due_on" else [*UNITS, *NAMES, *ROUNDS]
        rows[r][c] = draw(mixed(pool))
    if draw(st.integers(0, 9)) == 0:
        rows[0] = rows[0][: draw(st.integers(0, len(columns)))]
    return rows


@st.composite
def plan_file(draw: st.DrawFn) -> tuple[str, bytes]:
    """A plan sheet (CSV in UTF-8 or GB18030, or XLSX) with drawn cells."""
    rows = draw(_sheet(PLAN_HEADER, PLAN_ROW, "definition"))
    kind = draw(st.sampled_from(["utf-8", "gb18030", "xlsx"]))
    if kind == "xlsx":
        return "plan.xlsx", _xlsx_bytes(rows)
    return "plan.csv", _csv_bytes(rows, kind)


@st.composite
def items_file(draw: st.DrawFn) -> tuple[str, bytes]:
    """An items sheet with drawn cells."""
    rows = draw(_sheet(ITEMS_HEADER[:-1], ITEMS_ROW[:-1], "source"))
    rows[1][-1] = draw(st.sampled_from(["巡视发现", "audit", "lead", "线索", ""]))
    kind = draw(st.sampled_from(["utf-8", "gb18030", "xlsx"]))
    if kind == "xlsx":
        return "items.xlsx", _xlsx_bytes(rows)
    return "items.csv", _csv_bytes(rows, kind)


@st.composite
def categories_file(draw: st.DrawFn) -> tuple[str, bytes]:
    """A category list whose names are drawn."""
    first = _json_string(draw(mixed(["作风建设", "新类别"])))
    second = draw(yaml_value(["违反中央八项规定精神", "新二级"]))
    text = f"categories:\n  {first}: [{second}]\n  思想建设: [理论学习走过场]\n"
    return "categories.yaml", text.encode("utf-8")


@st.composite
def calendar_file(draw: st.DrawFn) -> tuple[str, bytes]:
    """A calendar year whose year, dates and titles are drawn."""
    year = draw(st.one_of(st.sampled_from(["2027", "2025", "2028"]), st.sampled_from(HOSTILE)))
    day = draw(yaml_value([f"{year}-01-01", f"{year}-02-30", "2027-02-20"]))
    title = draw(yaml_value(["元旦", "春节"]))
    workday = draw(yaml_value([f"{year}-02-20", "2027-02-20"]))
    written = year if draw(st.booleans()) else _json_string(year)  # a number, or text
    text = (
        f"year: {written}\nholidays:\n  - {{from: {day}, to: {day}, title: {title}}}"
        f"\nworkdays:\n  - {workday}\n"
    )
    return "calendar.yaml", text.encode("utf-8", "surrogatepass")


DEFINITION_TEXT = (EXAMPLES / "our_rectification.yaml").read_text(encoding="utf-8")
# The places of the definition a drawn value may take.
DEFINITION_SLOTS = ["our_rectification", "本办整改流程", "登记", "巡视办审核", "被巡视单位联络员"]


@st.composite
def definition_file(draw: st.DrawFn) -> tuple[str, bytes]:
    """The sample item definition with its name, titles or role titles drawn."""
    slot = draw(st.sampled_from(DEFINITION_SLOTS))
    value = draw(yaml_value(["fuzzed", "新流程", "fuzzed_name"]))
    text = DEFINITION_TEXT.replace(slot, value, 1)
    if slot == "our_rectification":
        text += f"description: {_json_string(draw(hostile))}\n"
    return "definition.yaml", text.encode("utf-8", "surrogatepass")


@st.composite
def raw_file(draw: st.DrawFn) -> tuple[str, bytes]:
    """Bytes of any kind under a name of any of the kinds the commands read."""
    name = draw(st.sampled_from(["raw.csv", "raw.xlsx", "raw.yaml", "raw.txt", "raw"]))
    return name, draw(st.binary(max_size=200))


# Files that exist before every example: the examples, as shipped.
SHIPPED = {
    "plan.csv": EXAMPLES / "plan.csv",
    "plan.xlsx": EXAMPLES / "plan.xlsx",
    "problems.xlsx": EXAMPLES / "problems.xlsx",
    "categories.yaml": EXAMPLES / "categories.yaml",
    "calendar-2027.yaml": EXAMPLES / "calendar-2027.yaml",
    "our_rectification.yaml": EXAMPLES / "our_rectification.yaml",
    "regular.yaml": REPO / "xunshi" / "definitions" / "builtin" / "regular.yaml",
}
FileDraw = Callable[[], st.SearchStrategy[tuple[str, bytes]]]
DRAWN_FILES: dict[str, FileDraw] = {
    "plan": plan_file,
    "items": items_file,
    "categories": categories_file,
    "calendar": calendar_file,
    "definition": definition_file,
}
