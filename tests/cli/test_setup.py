"""`xunshi --help`, `--version`, `init`, and what every command does before `init` (DESIGN §7)."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import pytest
from cli_harness import BUILTIN, BUILTIN_NAMES, SAMPLE_PLAN, Cli, check_exit

COMMANDS = ("audit", "calendar", "case", "definitions", "demo", "escalate", "escalations")
COMMANDS += ("group", "init", "notify", "plan", "round", "scheduler", "unit")


def test_help_lists_the_commands_and_the_environment(cli: Cli) -> None:
    result = check_exit(cli.invoke(["--help"]), 0)

    assert result.stdout.startswith("Usage: xunshi [OPTIONS] COMMAND [ARGS]...\n")
    assert result.stderr == ""
    listed = result.stdout.split("Commands:\n", 1)[1]
    for command in COMMANDS:
        assert f"\n  {command} " in "\n" + listed, command
    for option in ("--db URL", "--json", "--version", "-h, --help"):
        assert option in result.stdout
    for variable in ("XUNSHI_DB", "XUNSHI_TZ", "XUNSHI_ACTOR", "XUNSHI_DEBUG"):
        assert f"  {variable}  " in result.stdout, variable
    assert "XUNSHI_DB  database URL (default sqlite:///xunshi.db)" in result.stdout


def test_short_help_option(cli: Cli) -> None:
    assert check_exit(cli.invoke(["-h"]), 0).stdout == cli.invoke(["--help"]).stdout


def test_help_lists_every_command_of_the_design(cli: Cli) -> None:
    missing = [
        " ".join(command)
        for command in (
            ("case", "suspend"),
            ("case", "resume"),
            ("escalate",),
            ("escalations", "list"),
            ("escalations", "ack"),
            ("scheduler", "run"),
        )
        if cli.invoke([*command, "--help"]).exit_code != 0
    ]
    assert missing == []


def test_version(cli: Cli) -> None:
    result = check_exit(cli.invoke(["--version"]), 0)

    assert result.stdout == f"xunshi, version {version('xunshi')}\n"


def test_group_help_lists_its_commands(cli: Cli) -> None:
    text = check_exit(cli.invoke(["case", "--help"]), 0).stdout

    assert "CASE is the id or ROUND/UNIT" in text
    for command in ("start", "list", "show", "fire", "milestone", "history"):
        assert f"\n  {command} " in text, command


def test_unknown_command_is_a_usage_error(cli: Cli) -> None:
    assert cli.usage("nope") == "Error: No such command 'nope'."
    assert cli.files() == []


def test_missing_option_is_a_usage_error(cli: Cli) -> None:
    assert cli.usage("round", "create", "R1", "--title", "x") == "Error: Missing option '--start'."


def test_init_creates_the_schema_and_registers_the_builtin_definitions(cli: Cli) -> None:
    assert cli.out("init") == (
        f"Initialised {cli.url}\n"
        "  clue v1 (new)\n"
        "  lookback v1 (new)\n"
        "  mobile v1 (new)\n"
        "  overseas v1 (new)\n"
        "  rectification v1 (new)\n"
        "  regular v1 (new)\n"
        "  special v1 (new)\n"
    )
    assert cli.path.exists()


def test_init_again_is_up_to_date(ready: Cli) -> None:
    assert ready.out("init") == (
        f"{ready.url} is up to date\n"
        "  clue v1\n"
        "  lookback v1\n"
        "  mobile v1\n"
        "  overseas v1\n"
        "  rectification v1\n"
        "  regular v1\n"
        "  special v1\n"
    )


def test_init_json(cli: Cli) -> None:
    first = cli.json("init")
    again = cli.json("init")

    assert first == {
        "database": cli.url,
        "schema_created": True,
        "definitions": [
            {"name": n, "version": 1, "created": True, "kept": False} for n in BUILTIN_NAMES
        ],
    }
    assert again == {
        "database": cli.url,
        "schema_created": False,
        "definitions": [
            {"name": n, "version": 1, "created": False, "kept": False} for n in BUILTIN_NAMES
        ],
    }


def test_init_keeps_a_definition_loaded_since(ready: Cli, tmp_path: Path) -> None:
    # `init` is idempotent (DESIGN §7): it must not register the built-in `regular` again on
    # top of a version loaded since, which would silently revert new cases to the built-in one.
    edited = tmp_path / "regular.yaml"
    text = (BUILTIN / "regular.yaml").read_text(encoding="utf-8")
    edited.write_text(text.replace("due: 15wd", "due: 20wd"), encoding="utf-8")
    assert ready.out("definitions", "load", str(edited), "--replace-builtin") == (
        "Loaded regular v2\n"
    )

    # … and it says so (issue #8, defect 6).
    assert ready.out("init") == (
        f"{ready.url} is up to date\n"
        "  clue v1\n"
        "  lookback v1\n"
        "  mobile v1\n"
        "  overseas v1\n"
        "  rectification v1\n"
        "  regular v2 (the office's own version; the built-in is not put back)\n"
        "  special v1\n"
    )
    assert ready.json("init")["definitions"][5] == {
        "name": "regular",
        "version": 2,
        "created": False,
        "kept": True,
    }
    latest = {d["name"]: d["version"] for d in ready.json("definitions", "list")}
    assert latest["regular"] == 2


def test_init_records_the_actor(cli: Cli) -> None:
    cli.run("init", "--actor", "巡视办甲")

    assert {d["loaded_by"] for d in cli.json("definitions", "list")} == {"巡视办甲"}


def test_actor_defaults_to_xunshi_actor(cli: Cli) -> None:
    cli.run("init", env={"XUNSHI_ACTOR": "值班员"})

    assert {d["loaded_by"] for d in cli.json("definitions", "list")} == {"值班员"}


def test_db_defaults_to_xunshi_db_then_a_file_in_the_current_folder(
    cli: Cli, tmp_path: Path
) -> None:
    other = tmp_path / "other.db"
    result = check_exit(cli.invoke(["init"], env={"XUNSHI_DB": f"sqlite:///{other}"}), 0)
    assert result.stdout.startswith(f"Initialised sqlite:///{other}\n")

    result = check_exit(cli.invoke(["init"]), 0)
    assert result.stdout.startswith("Initialised sqlite:///xunshi.db\n")
    assert (tmp_path / "xunshi.db").exists()


def test_db_option_wins_over_xunshi_db(cli: Cli, tmp_path: Path) -> None:
    cli.run("init", env={"XUNSHI_DB": f"sqlite:///{tmp_path / 'other.db'}"})

    assert cli.path.exists()
    assert not (tmp_path / "other.db").exists()


UNINITIALISED = [
    ("round", "list"),
    ("round", "create", "R1", "--title", "第一轮", "--start", "2024-09-02"),
    ("unit", "add", "U01", "--name", "示例市财政局"),
    ("unit", "list"),
    ("group", "list", "R1"),
    ("definitions", "list"),
    ("definitions", "show", "regular"),
    ("definitions", "load", str(BUILTIN / "regular.yaml")),
    ("definitions", "diagram", "regular"),
    ("plan", "import", str(SAMPLE_PLAN)),
    ("case", "list"),
    ("case", "show", "1"),
    ("case", "history", "R1/U01"),
    ("case", "fire", "1", "move_in", "--actor", "张三", "--role", "group_leader"),
    ("audit", "verify"),
    ("audit", "seal"),
    ("audit", "export"),
]


@pytest.mark.parametrize("args", UNINITIALISED, ids=lambda a: " ".join(a[:2]))
def test_commands_refuse_a_database_that_was_never_initialised(
    cli: Cli, args: tuple[str, ...]
) -> None:
    assert cli.fail(*args) == f"no database at {cli.url}; run `xunshi init` first"
    assert cli.files() == []


def test_json_commands_refuse_a_database_that_was_never_initialised(cli: Cli) -> None:
    result = cli.run("--json", "case", "list", code=1)

    assert result.stdout == ""
    assert result.stderr == f"Error: no database at {cli.url}; run `xunshi init` first\n"
    assert cli.files() == []


def test_commands_refuse_an_existing_file_that_was_not_initialised(cli: Cli) -> None:
    cli.path.touch()

    assert cli.fail("case", "list") == f"database {cli.url} is not initialised; run `xunshi init`"


def test_commands_that_need_no_database_do_not_create_one(cli: Cli) -> None:
    cli.run("calendar", "workdays", "2024-09-27", "5")
    cli.run("definitions", "validate", str(BUILTIN / "regular.yaml"))
    check_exit(cli.invoke(["--db", cli.url, "--help"]), 0)

    assert cli.files() == []


def test_json_output_is_utf8_not_escaped(ready: Cli) -> None:
    text = ready.run("--json", "definitions", "list").stdout

    assert "常规巡视" in text
    assert json.loads(text)


# -- rounds, groups, units ----------------------------------------------------------------------

BAD_CODE = (
    "is not valid: use letters, digits, '.', '_' or '-' (at most 64, starting with a letter "
    "or digit)"
)


def test_round_create(ready: Cli) -> None:
    assert ready.out(
        "round", "create", "2024-R1", "--title", "2024年第一轮巡视", "--start", "2024-09-02"
    ) == ("Round 2024-R1 2024年第一轮巡视 starts 2024-09-02\n")
    assert ready.json(
        "round", "create", "2024-R2", "--title", "第二轮", "--start", "2024-10-08"
    ) == {
        "id": 2,
        "code": "2024-R2",
        "title": "第二轮",
        "start_on": "2024-10-08",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("R1", "--title", "第一轮", "--start", "2024-13-01"),
            "start date '2024-13-01' is not a date (YYYY-MM-DD)",
        ),
        (
            ("R1", "--title", "第一轮", "--start", "2024-09-02T09:00"),
            "start date '2024-09-02T09:00' is not a date (YYYY-MM-DD)",
        ),
        (("a/b", "--title", "第一轮", "--start", "2024-09-02"), f"round code 'a/b' {BAD_CODE}"),
        (("R 1", "--title", "第一轮", "--start", "2024-09-02"), f"round code 'R 1' {BAD_CODE}"),
        (("R1", "--title", "  ", "--start", "2024-09-02"), "round title must not be empty"),
    ],
)
def test_round_create_bad_input(ready: Cli, args: tuple[str, ...], message: str) -> None:
    assert ready.fail("round", "create", *args) == message
    assert ready.json("round", "list") == []


def test_round_create_twice(ready: Cli) -> None:
    ready.run("round", "create", "2024-R1", "--title", "第一轮", "--start", "2024-09-02")

    assert ready.fail(
        "round", "create", "2024-R1", "--title", "又一轮", "--start", "2024-10-08"
    ) == ("round 2024-R1 already exists")


def test_round_list(world: Cli) -> None:
    world.run("round", "create", "2024-R2", "--title", "第二轮", "--start", "2024-10-08")

    assert world.out("round", "list") == (
        "轮次     标题              开始\n"
        "2024-R1  2024年第一轮巡视  2024-09-02\n"
        "2024-R2  第二轮            2024-10-08\n"
    )
    assert [r["code"] for r in world.json("round", "list")] == ["2024-R1", "2024-R2"]


def test_group_add_and_list(world: Cli) -> None:
    assert world.out("group", "add", "2024-R1", "G2", "--leader", "李四") == (
        "Group G2 of round 2024-R1, led by 李四\n"
    )
    assert world.json("group", "add", "2024-R1", "G3", "--leader", "王五") == {
        "id": 3,
        "round": "2024-R1",
        "code": "G3",
        "leader": "王五",
    }
    assert world.out("group", "list", "2024-R1") == (
        "巡视组  组长\nG1      张三\nG2      李四\nG3      王五\n"
    )
    assert [g["leader"] for g in world.json("group", "list", "2024-R1")] == ["张三", "李四", "王五"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("NOPE", "G2", "--leader", "李四"), "round NOPE does not exist"),
        (("2024-R1", "G1", "--leader", "李四"), "group G1 already exists in round 2024-R1"),
        (("2024-R1", "G/2", "--leader", "李四"), f"group code 'G/2' {BAD_CODE}"),
        (("2024-R1", "G2", "--leader", ""), "group leader must not be empty"),
    ],
)
def test_group_add_refused(world: Cli, args: tuple[str, ...], message: str) -> None:
    assert world.fail("group", "add", *args) == message
    assert len(world.json("group", "list", "2024-R1")) == 1


def test_group_list_of_an_unknown_round(world: Cli) -> None:
    assert world.fail("group", "list", "NOPE") == "round NOPE does not exist"


def test_unit_add_and_list(ready: Cli) -> None:
    assert ready.out("unit", "add", "U02", "--name", "示例市审计局", "--category", "市直机关") == (
        "Unit U02 示例市审计局\n"
    )
    assert ready.json("unit", "add", "U01", "--name", " 示例市财政局 ") == {
        "id": 2,
        "code": "U01",
        "name": "示例市财政局",
        "category": "",
    }
    assert ready.out("unit", "list") == (
        "单位  名称          类别\nU01   示例市财政局\nU02   示例市审计局  市直机关\n"
    )
    assert [u["code"] for u in ready.json("unit", "list")] == ["U01", "U02"]


@pytest.mark.parametrize(
    ("code", "name", "message"),
    [
        ("U 3", "示例市教育局", f"unit code 'U 3' {BAD_CODE}"),
        ("U/3", "示例市教育局", f"unit code 'U/3' {BAD_CODE}"),
        ("_U3", "示例市教育局", f"unit code '_U3' {BAD_CODE}"),
        ("U" * 65, "示例市教育局", f"unit code '{'U' * 65}' {BAD_CODE}"),
        ("U01", "示例市教育局", "unit U01 already exists"),
        ("U03", "", "unit name must not be empty"),
        ("U03", "   ", "unit name must not be empty"),
    ],
)
def test_unit_add_refused(world: Cli, code: str, name: str, message: str) -> None:
    assert world.fail("unit", "add", code, "--name", name) == message
    assert len(world.json("unit", "list")) == 2
