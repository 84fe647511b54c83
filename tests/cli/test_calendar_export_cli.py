"""`xunshi calendar export`: a round's open deadlines as an .ics file (issue #13, part 4).

The world's case 2024-R1/U01 started 2024-09-02 09:00, so its 巡前准备 is due 2024-09-24
(15 working days; 09-14 a make-up Saturday, 09-15..17 中秋节). Every file is read back by
`icalendar` and by `vobject`, an independent parser.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import icalendar
import pytest
import vobject
from cli_harness import KEY, ROUND, Cli, start_case

U01 = "case/2024-R1/U01/preparation@xunshi"


def read(text: str) -> dict[str, dict[str, Any]]:
    """UID → (start, end, summary) of every event, the same by both parsers."""
    ours = {
        str(e["UID"]): {
            "start": e.decoded("DTSTART"),
            "end": e.decoded("DTEND"),
            "summary": str(e["SUMMARY"]),
        }
        for e in icalendar.Calendar.from_ical(text).walk("VEVENT")
    }
    theirs = {
        e.uid.value: {"start": e.dtstart.value, "end": e.dtend.value, "summary": e.summary.value}
        for e in vobject.readOne(text).contents.get("vevent", [])
    }
    assert theirs == ours
    return ours


def test_export_writes_one_all_day_event_per_deadline(world: Cli, tmp_path: Path) -> None:
    assert world.out("calendar", "export", "--round", ROUND, "--out", "期限.ics") == (
        "Wrote 1 deadline to 期限.ics\n"
    )
    text = (tmp_path / "期限.ics").read_bytes().decode("utf-8")
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    due = date.fromisoformat(world.json("case", "show", KEY)["due_on"])
    assert due == date(2024, 9, 24)
    assert read(text) == {
        U01: {"start": due, "end": date(2024, 9, 25), "summary": "【期限】2024-R1/U01 巡前准备"}
    }
    assert "DTSTART;VALUE=DATE:20240924\r\n" in text


def test_json_says_how_many_and_where(world: Cli) -> None:
    start_case(world, "U02", at="2024-09-03T10:00")
    assert world.json("calendar", "export", "--round", ROUND, "--out", "r.ics") == {
        "deadlines": 2,
        "out": "r.ics",
        "format": "ics",
    }


def test_dash_prints_the_file(world: Cli, tmp_path: Path) -> None:
    world.run("calendar", "export", "--round", ROUND, "--out", "r.ics")
    printed = world.run("calendar", "export", "--round", ROUND, "--out", "-")
    assert printed.stderr == ""
    assert printed.stdout_bytes == (tmp_path / "r.ics").read_bytes()


def test_exporting_again_gives_the_same_uids_and_bytes(world: Cli, tmp_path: Path) -> None:
    world.run("calendar", "export", "--round", ROUND, "--out", "a.ics")
    world.run("calendar", "export", "--round", ROUND, "--out", "b.ics")
    assert (tmp_path / "a.ics").read_bytes() == (tmp_path / "b.ics").read_bytes()
    # The group is recalled and comes back a week later: the date moves, the UID stays.
    world.run(
        "case", "suspend", KEY, "--actor", "巡视办", "--role", "office", "--reason", "召回",
        "--at", "2024-09-05T10:00",
    )  # fmt: skip
    assert world.out("calendar", "export", "--round", ROUND, "--out", "c.ics") == (
        "Wrote 0 deadlines to c.ics\n"
    )
    world.run(
        "case", "resume", KEY, "--actor", "巡视办", "--role", "office", "--at", "2024-09-12T10:00"
    )
    world.run("calendar", "export", "--round", ROUND, "--out", "d.ics")
    before = read((tmp_path / "a.ics").read_text(encoding="utf-8"))
    after = read((tmp_path / "d.ics").read_text(encoding="utf-8"))
    assert after.keys() == before.keys() == {U01}
    assert after[U01]["start"] == date.fromisoformat(world.json("case", "show", KEY)["due_on"])
    assert after[U01]["start"] > before[U01]["start"]


def test_a_case_started_before_dawn_is_due_on_its_business_date(world: Cli, tmp_path: Path) -> None:
    # 07:00 in Shanghai on 2024-09-03 is still 2024-09-02 in UTC.
    start_case(world, "U02", at="2024-09-03T07:00")
    world.run("calendar", "export", "--round", ROUND, "--unit", "U02", "--out", "u02.ics")
    events = read((tmp_path / "u02.ics").read_text(encoding="utf-8"))
    [event] = events.values()
    assert event["start"] == date(2024, 9, 25)
    assert event["start"] == date.fromisoformat(
        world.json("case", "show", f"{ROUND}/U02")["due_on"]
    )


def test_tasks_and_problem_stages(rectifying: Cli, tmp_path: Path) -> None:
    (tmp_path / "categories.yaml").write_text("categories:\n  党的建设: [政治建设]\n", "utf-8")
    rectifying.run("categories", "load", "categories.yaml")
    rectifying.run(
        "item", "add", KEY, "--code", "P01", "--title", "理论学习不深入",
        "--category", "党的建设/政治建设", "--actor", "王主任", "--at", "2024-09-03T10:00",
    )  # fmt: skip
    rectifying.run(
        "task", "add", f"{KEY}/P01", "--measure", "制定学习计划", "--leader", "赵书记",
        "--department", "办公室", "--person", "钱主任", "--due", "2024-10-31",
        "--actor", "李联络员", "--role", "unit_liaison", "--at", "2024-09-03T11:00",
    )  # fmt: skip
    assert rectifying.out("calendar", "export", "--round", ROUND, "--out", "r.ics") == (
        "Wrote 3 deadlines to r.ics\n"
    )
    events = read((tmp_path / "r.ics").read_text(encoding="utf-8"))
    assert {uid: e["summary"] for uid, e in events.items()} == {
        "case/2024-R1/U01/rectification@xunshi": "【期限】2024-R1/U01 集中整改",
        "item/2024-R1/U01/P01/identified@xunshi": "【问题期限】2024-R1/U01/P01 问题确认",
        "task/2024-R1/U01/P01#1@xunshi": "【整改任务】2024-R1/U01/P01#1 制定学习计划",
    }
    assert events["task/2024-R1/U01/P01#1@xunshi"]["start"] == date(2024, 10, 31)


def test_an_existing_file_is_kept_without_force(world: Cli, tmp_path: Path) -> None:
    out = tmp_path / "r.ics"
    out.write_text("mine", encoding="utf-8")
    assert world.fail("calendar", "export", "--round", ROUND, "--out", "r.ics") == (
        "r.ics exists; use --force to overwrite it"
    )
    assert out.read_text(encoding="utf-8") == "mine"
    world.run("calendar", "export", "--round", ROUND, "--out", "r.ics", "--force")
    assert U01 in read(out.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--round", "2099-R1"], "round 2099-R1 does not exist"),
        (["--round", ROUND, "--group", "G9"], "group G9 does not exist in round 2024-R1"),
        (["--round", ROUND, "--unit", "U99"], "unit U99 does not exist"),
        (["--round", ROUND, "--unit", "U02"], "unit U02 is not inspected in round 2024-R1"),
    ],
)
def test_unknown_round_group_or_unit(
    world: Cli, tmp_path: Path, args: list[str], message: str
) -> None:
    assert world.fail("calendar", "export", *args, "--out", "r.ics") == message
    assert not (tmp_path / "r.ics").exists()


def test_a_unit_of_another_group(world: Cli, tmp_path: Path) -> None:
    world.run("group", "add", ROUND, "G2", "--leader", "李四")
    world.run(
        "case", "start", "--round", ROUND, "--unit", "U02", "--group", "G2",
        "--definition", "regular", "--at", "2024-09-03T10:00",
    )  # fmt: skip
    assert world.fail(
        "calendar", "export", "--round", ROUND, "--unit", "u02", "--group", "g1", "--out", "-"
    ) == ("unit U02 is inspected by group G2 in round 2024-R1, not by G1")
    printed = world.out("calendar", "export", "--round", ROUND, "--group", "G2", "--out", "-")
    assert set(read(printed)) == {"case/2024-R1/U02/preparation@xunshi"}
    calendar = icalendar.Calendar.from_ical(printed)
    assert str(calendar["X-WR-CALNAME"]) == "2024年第一轮巡视 巡视组 G2"


def test_the_file_name_says_ics(world: Cli, tmp_path: Path) -> None:
    assert world.fail("calendar", "export", "--round", ROUND, "--out", "r.txt") == (
        "cannot tell the format of r.txt from its extension: name it .ics, or give --format ics"
    )
    world.run("calendar", "export", "--round", ROUND, "--out", "r.txt", "--format", "ics")
    assert U01 in read((tmp_path / "r.txt").read_text(encoding="utf-8"))
    assert world.usage("calendar", "export", "--round", ROUND) == ("Error: Missing option '--out'.")


def test_a_refusal_with_json_is_one_error_line(ready: Cli, tmp_path: Path) -> None:
    assert ready.fail("--json", "calendar", "export", "--round", ROUND, "--out", "r.ics") == (
        "round 2024-R1 does not exist"
    )
    assert not (tmp_path / "r.ics").exists()
