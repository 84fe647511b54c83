"""`xunshi definitions list | show | validate | load | diagram` (DESIGN §3, §7)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_harness import (
    BUILTIN,
    BUILTIN_NAMES,
    BUILTIN_SUBJECTS,
    HEX64,
    INVALID,
    VALID,
    Cli,
    expected_problems,
    start_case,
)

REGULAR = BUILTIN / "regular.yaml"
# unknown_guard.yaml expects the guard `all_items_settled` that the definition tests
# register for themselves; the CLI knows only the guards the package registers.
INVALID_FILES = sorted(p for p in INVALID.glob("*.yaml") if p.name != "unknown_guard.yaml")

REGULAR_SHOWN = """\
regular v1  常规巡视  (case, calendar cn)

阶段              名称                   期限                        里程碑 (* 必需)
巡前准备          preparation            15wd                        *briefings_received 听取有关部门情况通报, *training_done 巡前培训
现场巡视          onsite                 plan.leave, else 30wd       *contacts_published 公布联系方式, *individual_talks 个别谈话（计人次）, petitions_received 受理信访举报（计件）, document_review 调阅资料（计份）, sinking_visits 下沉了解, *midterm_consultation 中期会商, audit_linkage 巡审联动, *leader_talk 与主要负责人沟通
形成报告          drafting               15wd                        live_briefing 活情况通报, leads_handed_over 移交问题线索
巡视办审核        office_review          10wd                        *joint_review 组办共商
领导小组听取汇报  leading_group_hearing  10wd                        *leading_group_heard 领导小组听取汇报
党组听取汇报      party_hearing          10wd                        *party_group_heard 党组（书记专题会）听取汇报
反馈              feedback               10wd                        *feedback_meeting 召开反馈会议, *individual_feedback 向领导班子成员个别反馈
整改方案          rectification_plan     15wd                        *plan_submitted 报送整改方案, *plan_reviewed_office 巡视办审核整改方案, *plan_reviewed_discipline 纪检监察组审核整改方案, *plan_reviewed_organization 组织部审核整改方案
集中整改          rectification          2mo after feedback_meeting  *three_lists 制定问题、任务、责任三张清单, *democratic_life_meeting 召开整改专题民主生活会
整改报告          rectification_report   2mo after feedback_meeting  *rectification_report 报送整改情况报告, *leader_report 报送主要负责人组织落实情况报告
公开整改进展      publication            10wd                        *progress_published 公开整改进展情况
常态化整改        ongoing                6mo
整改评估          evaluation             20wd
完成              closed (final)

触发                 从                     到                     角色                                   条件
move_in              preparation            onsite                 group_leader
leave_site           onsite                 drafting               group_leader
report               drafting               office_review          group_leader
revise_report        office_review          drafting               office
approve_report       office_review          leading_group_hearing  office
send_back            leading_group_hearing  onsite                 office
to_party_group       leading_group_hearing  party_hearing          office
give_feedback        party_hearing          feedback               office
start_rectification  feedback               rectification_plan     office
revise_plan          rectification_plan     rectification_plan     office
approve_plan         rectification_plan     rectification          office
to_report            rectification          rectification_report   party_secretary, unit_liaison, office
accept_report        rectification_report   publication            office
to_ongoing           publication            ongoing                office
periodic_report      ongoing                ongoing                party_secretary, unit_liaison
to_evaluation        ongoing                evaluation             office                                 all_items_settled
rerectify            evaluation             rectification          office
close                evaluation             closed                 office                                 evaluated

级别  时点  名称              方式                     通知
0     -3wd  到期提醒          提醒 → 巡视办            巡视办
1     0     超期提醒          提醒 → 巡视办            巡视办
2     5wd   超期报告领导小组  提醒 → 巡视工作领导小组  巡视工作领导小组

整改方案 (rectification_plan)、集中整改 (rectification)、整改报告 (rectification_report)、公开整改进展 (publication)、常态化整改 (ongoing) 阶段督办:
级别  时点   名称            方式                                   通知
0     -10wd  整改期限提醒    提醒 → 被巡视单位联络员                被巡视单位联络员, 被巡视党组织书记
1     0      整改超期预警    预警 → 被巡视单位联络员                被巡视单位联络员, 巡视办
2     5wd    整改督办        督办函 → 被巡视党组织书记              被巡视党组织书记, 巡视办, 纪检监察组
3     10wd   约谈主要负责人  约谈 → 被巡视党组织书记（需决定）      被巡视党组织书记, 纪检监察组, 组织部
4     20wd   问责建议        问责建议 → 被巡视党组织书记（需决定）  巡视工作领导小组, 纪检监察组, 组织部
"""  # noqa: E501

REGULAR_MERMAID = """\
stateDiagram-v2
    [*] --> preparation
    preparation : 巡前准备 (15wd)
    onsite : 现场巡视 (plan.leave, else 30wd)
    drafting : 形成报告 (15wd)
    office_review : 巡视办审核 (10wd)
    leading_group_hearing : 领导小组听取汇报 (10wd)
    party_hearing : 党组听取汇报 (10wd)
    feedback : 反馈 (10wd)
    rectification_plan : 整改方案 (15wd)
    rectification : 集中整改 (2mo after feedback_meeting)
    rectification_report : 整改报告 (2mo after feedback_meeting)
    publication : 公开整改进展 (10wd)
    ongoing : 常态化整改 (6mo)
    evaluation : 整改评估 (20wd)
    closed : 完成
    preparation --> onsite : move_in (group_leader)
    onsite --> drafting : leave_site (group_leader)
    drafting --> office_review : report (group_leader)
    office_review --> drafting : revise_report (office)
    office_review --> leading_group_hearing : approve_report (office)
    leading_group_hearing --> onsite : send_back (office)
    leading_group_hearing --> party_hearing : to_party_group (office)
    party_hearing --> feedback : give_feedback (office)
    feedback --> rectification_plan : start_rectification (office)
    rectification_plan --> rectification_plan : revise_plan (office)
    rectification_plan --> rectification : approve_plan (office)
    rectification --> rectification_report : to_report (party_secretary, unit_liaison, office)
    rectification_report --> publication : accept_report (office)
    publication --> ongoing : to_ongoing (office)
    ongoing --> ongoing : periodic_report (party_secretary, unit_liaison)
    ongoing --> evaluation : to_evaluation (office)
    evaluation --> rectification : rerectify (office)
    evaluation --> closed : close (office)
    closed --> [*]
"""


def edited_regular(folder: Path) -> Path:
    """A copy of regular.yaml with a longer preparation stage (new content, same name)."""
    path = folder / "regular.yaml"
    text = REGULAR.read_text(encoding="utf-8")
    assert "    due: 15wd" in text.split("  onsite:")[0]  # preparation's, the first 15wd
    path.write_text(text.replace("due: 15wd", "due: 20wd", 1), encoding="utf-8")
    return path


# -- list, show ---------------------------------------------------------------------------


def test_list(ready: Cli) -> None:
    lines = ready.out("definitions", "list").splitlines()

    assert lines[0].split() == ["名称", "标题", "对象", "版本", "载入时间", "载入人", "来源"]
    rows = [line.split() for line in lines[1:]]
    assert {r[-1] for r in rows} == {"内置"}  # every version here is a built-in
    assert [(r[0], r[2], r[3], r[-2]) for r in rows] == [
        (name, BUILTIN_SUBJECTS.get(name, "case"), "1", "tester") for name in BUILTIN_NAMES
    ]
    assert (rows[0][1], rows[4][1], rows[5][1]) == ("问题线索处置", "巡视整改问题", "常规巡视")


def test_list_json(ready: Cli) -> None:
    listed = ready.json("definitions", "list")

    assert [d["name"] for d in listed] == list(BUILTIN_NAMES)
    for entry in listed:
        assert set(entry) == {
            "name",
            "title",
            "subject",
            "version",
            "digest",
            "loaded_at",
            "loaded_by",
            "builtin",
            "source",
        }
        assert (entry["builtin"], entry["source"]) == (True, f"builtin:{entry['name']}.yaml")
        assert HEX64.fullmatch(entry["digest"])
        assert entry["loaded_at"].endswith("+08:00")
        assert (entry["version"], entry["loaded_by"]) == (1, "tester")


def test_show(ready: Cli) -> None:
    assert ready.out("definitions", "show", "regular") == REGULAR_SHOWN


def test_show_includes_a_stage_ladder_override(ready: Cli) -> None:
    # regular's rectification stage has its own ladder (a reminder 10 working days ahead);
    # `definitions show` prints only the default ladder, so nobody can see it.
    text = ready.out("definitions", "show", "regular")

    assert "-10wd" in text
    assert "整改期限提醒" in text


def test_show_version_zero_is_not_the_latest(ready: Cli, tmp_path: Path) -> None:
    # `--version 0` is falsy: it must not quietly mean "the latest version".
    ready.run("definitions", "load", str(edited_regular(tmp_path)), "--replace-builtin")

    assert ready.fail("definitions", "show", "regular", "--version", "0") == (
        "definition regular version 0 is not registered"
    )
    assert ready.fail("definitions", "diagram", "regular", "--version", "0") == (
        "definition regular version 0 is not registered"
    )


def test_show_json(ready: Cli) -> None:
    shown = ready.json("definitions", "show", "regular")

    assert {"version", "digest", "name", "title", "subject", "initial", "roles", "states"} <= set(
        shown
    )
    assert {"transitions", "escalation", "calendar"} <= set(shown)
    assert (shown["name"], shown["version"], shown["initial"]) == ("regular", 1, "preparation")
    assert [s["name"] for s in shown["states"]][-1] == "closed"
    assert shown["transitions"][0] == {
        "trigger": "move_in",
        "source": "preparation",
        "dest": "onsite",
        "roles": ["group_leader"],
        "guards": [],
        "title": "进驻（召开动员会）",
        "requires": None,
    }


def test_show_unknown_name(ready: Cli) -> None:
    assert ready.fail("definitions", "show", "nope") == (
        "no definition called nope "
        "(registered: clue, lookback, mobile, overseas, rectification, regular, special)"
    )


def test_show_unknown_version(ready: Cli) -> None:
    assert ready.fail("definitions", "show", "regular", "--version", "7") == (
        "definition regular version 7 is not registered"
    )


# -- validate -------------------------------------------------------------------------------


def test_validate_a_builtin_file(cli: Cli) -> None:
    assert cli.out("definitions", "validate", str(REGULAR)) == (
        f"{REGULAR}: ok (regular, 14 states, 18 transitions)\n"
    )
    assert cli.files() == []


def test_validate_every_builtin_file_at_once(cli: Cli) -> None:
    paths = [BUILTIN / f"{name}.yaml" for name in BUILTIN_NAMES]

    lines = cli.out("definitions", "validate", *map(str, paths)).splitlines()

    assert [line.split(": ok (")[0] for line in lines] == [str(p) for p in paths]
    assert all(line.endswith(" transitions)") for line in lines)


@pytest.mark.parametrize("path", INVALID_FILES, ids=lambda p: p.name)
def test_validate_an_invalid_file_prints_every_problem(cli: Cli, path: Path) -> None:
    problems = expected_problems(path)
    noun = "problem" if len(problems) == 1 else "problems"

    result = cli.run("definitions", "validate", str(path), code=1)

    assert result.stdout == ""
    assert result.stderr == "".join(f"{p}\n" for p in problems) + (
        f"Error: {path} is not a valid definition ({len(problems)} {noun})\n"
    )


def test_invalid_fixtures_are_found() -> None:
    assert len(INVALID_FILES) >= 30


def test_validate_several_files(cli: Cli) -> None:
    good = BUILTIN / "mobile.yaml"
    several = INVALID / "several_problems.yaml"
    syntax = INVALID / "syntax_error.yaml"

    result = cli.run("definitions", "validate", str(several), str(good), str(syntax), code=1)

    assert result.stdout == f"{good}: ok (mobile, 14 states, 18 transitions)\n"
    problems = expected_problems(several) + expected_problems(syntax)
    assert result.stderr == "".join(f"{p}\n" for p in problems) + (
        "Error: 2 of 3 files are not valid definitions\n"
    )


def test_validate_json(cli: Cli) -> None:
    bad = INVALID / "unknown_dest.yaml"
    good = VALID / "minimal.yaml"

    result = cli.run("--json", "definitions", "validate", str(bad), str(good), code=1)

    assert result.stderr == f"Error: {bad} is not a valid definition (1 problem)\n"
    assert json.loads(result.stdout) == [
        {"file": str(bad), "ok": False, "problems": expected_problems(bad)},
        {"file": str(good), "ok": True, "name": "minimal", "states": 2, "transitions": 1},
    ]


def test_validate_json_all_good(cli: Cli) -> None:
    assert cli.json("definitions", "validate", str(REGULAR)) == [
        {"file": str(REGULAR), "ok": True, "name": "regular", "states": 14, "transitions": 18}
    ]


def test_validate_a_missing_file(cli: Cli) -> None:
    assert cli.fail("definitions", "validate", "nope.yaml") == "nope.yaml: no such file"


def test_validate_goes_on_after_a_missing_file(cli: Cli) -> None:
    # Every FILE is checked: one missing file must not hide what the others say.
    result = cli.run("definitions", "validate", "nope.yaml", str(REGULAR), code=1)

    assert result.stdout == f"{REGULAR}: ok (regular, 14 states, 18 transitions)\n"
    assert "nope.yaml" in result.stderr


def test_validate_a_file_that_is_not_utf8(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes("name: 常规\n".encode("gbk"))

    assert cli.fail("definitions", "validate", str(path)) == f"{path}: not UTF-8 text"


def test_validate_needs_a_file(cli: Cli) -> None:
    assert cli.usage("definitions", "validate") == "Error: Missing argument 'FILES...'."


# -- load -------------------------------------------------------------------------------------


def test_load_changed_content_registers_a_new_version(ready: Cli, tmp_path: Path) -> None:
    path = edited_regular(tmp_path)

    replace = "--replace-builtin"
    assert ready.out("definitions", "load", str(path), replace) == "Loaded regular v2\n"
    assert ready.out("definitions", "load", str(path), replace) == "regular unchanged (v2)\n"

    latest = {d["name"]: d["version"] for d in ready.json("definitions", "list")}
    assert latest == {
        "clue": 1,
        "lookback": 1,
        "mobile": 1,
        "overseas": 1,
        "rectification": 1,
        "regular": 2,
        "special": 1,
    }
    assert ready.out("definitions", "show", "regular").startswith(
        "regular v2  常规巡视  (case, calendar cn)\n"
    )
    new = ready.out("definitions", "show", "regular")
    assert "巡前准备          preparation            20wd" in new
    assert "形成报告          drafting               15wd" in new
    old = ready.out("definitions", "show", "regular", "--version", "1")
    assert "巡前准备          preparation            15wd" in old


def test_load_the_builtin_content_again_is_unchanged(ready: Cli) -> None:
    assert ready.out("definitions", "load", str(REGULAR)) == "regular unchanged (v1)\n"


def test_load_json(ready: Cli, tmp_path: Path) -> None:
    path = edited_regular(tmp_path)

    loaded = ready.json("definitions", "load", str(path), "--replace-builtin")
    again = ready.json("definitions", "load", str(path), "--replace-builtin")

    assert set(loaded) == {"name", "version", "created", "digest"}
    assert (loaded["name"], loaded["version"], loaded["created"]) == ("regular", 2, True)
    assert again == {**loaded, "created": False}
    assert HEX64.fullmatch(loaded["digest"])


def test_load_a_new_definition(ready: Cli) -> None:
    assert ready.out("definitions", "load", str(VALID / "minimal.yaml")) == "Loaded minimal v1\n"
    assert "minimal" in [d["name"] for d in ready.json("definitions", "list")]


def test_running_cases_keep_their_version(world: Cli, tmp_path: Path) -> None:
    world.run("definitions", "load", str(edited_regular(tmp_path)), "--replace-builtin")
    start_case(world, "U02")

    old = world.json("case", "show", "2024-R1/U01")
    new = world.json("case", "show", "2024-R1/U02")
    assert (old["definition_version"], old["due_on"]) == (1, "2024-09-24")
    assert (new["definition_version"], new["due_on"]) == (2, "2024-09-30")


def test_load_an_invalid_file_registers_nothing(ready: Cli) -> None:
    path = INVALID / "unknown_dest.yaml"
    before = ready.json("definitions", "list")

    result = ready.run("definitions", "load", str(path), code=1)

    assert result.stdout == ""
    assert result.stderr == "".join(f"{p}\n" for p in expected_problems(path)) + (
        f"Error: {path} is not a valid definition (1 problem)\n"
    )
    assert ready.json("definitions", "list") == before


def test_load_a_missing_file(ready: Cli) -> None:
    assert ready.fail("definitions", "load", "nope.yaml") == "nope.yaml: no such file"


# -- diagram ----------------------------------------------------------------------------------


def test_diagram_mermaid_is_the_default(ready: Cli) -> None:
    assert ready.out("definitions", "diagram", "regular") == REGULAR_MERMAID
    assert ready.out("definitions", "diagram", "regular", "--format", "mermaid") == REGULAR_MERMAID


def test_diagram_dot(ready: Cli) -> None:
    text = ready.out("definitions", "diagram", "regular", "--format", "dot")

    lines = text.splitlines()
    assert lines[0] == 'digraph "regular" {'
    assert lines[-1] == "}"
    assert '    label="常规巡视 (regular)";' in lines
    assert '    "preparation" [label="巡前准备\\npreparation\\n15wd"];' in lines
    assert '    "closed" [label="完成\\nclosed", shape=doublecircle];' in lines
    assert '    "leading_group_hearing" -> "onsite" [label="send_back"];' in lines
    assert text.count(" -> ") == 19  # the start arrow and 18 transitions


def test_diagram_json(ready: Cli) -> None:
    assert ready.json("definitions", "diagram", "regular") == {
        "name": "regular",
        "version": 1,
        "format": "mermaid",
        "diagram": REGULAR_MERMAID,
    }


def test_diagram_of_an_older_version(ready: Cli, tmp_path: Path) -> None:
    ready.run("definitions", "load", str(edited_regular(tmp_path)), "--replace-builtin")

    assert "preparation : 巡前准备 (20wd)" in ready.out("definitions", "diagram", "regular")
    assert ready.out("definitions", "diagram", "regular", "--version", "1") == REGULAR_MERMAID


def test_diagram_unknown_format_is_a_usage_error(ready: Cli) -> None:
    assert ready.usage("definitions", "diagram", "regular", "--format", "png") == (
        "Error: Invalid value for '--format': 'png' is not one of 'mermaid', 'dot'."
    )


def test_diagram_unknown_definition(ready: Cli) -> None:
    assert ready.fail("definitions", "diagram", "nope").startswith("no definition called nope")


# -- built-ins cannot be taken over silently (issue #8, defect 6) ------------------------------


def test_a_file_named_like_a_builtin_is_refused_without_replace_builtin(
    world: Cli, tmp_path: Path
) -> None:
    path = edited_regular(tmp_path)
    before = world.json("definitions", "list")

    assert world.fail("definitions", "load", str(path)) == (
        "regular is a built-in definition: a new version would be the one new cases use; "
        "load it with --replace-builtin to mean that, or give your definition another name"
    )
    assert world.json("definitions", "list") == before
    # The same content as the built-in is no takeover: nothing to refuse.
    assert world.out("definitions", "load", str(REGULAR)) == "regular unchanged (v1)\n"


def test_a_new_version_may_not_change_the_subject(ready: Cli, tmp_path: Path) -> None:
    minimal = (VALID / "minimal.yaml").read_text(encoding="utf-8")
    ready.run("definitions", "load", str(VALID / "minimal.yaml"))
    as_item = tmp_path / "minimal.yaml"
    as_item.write_text(minimal.replace("name: minimal", "name: minimal\nsubject: item"), "utf-8")

    assert ready.fail("definitions", "load", str(as_item)) == (
        "definition minimal is for cases; a new version cannot be for items (give it another name)"
    )
    # Not even for a built-in, with --replace-builtin.
    regular = (BUILTIN / "regular.yaml").read_text(encoding="utf-8")
    as_item = tmp_path / "regular.yaml"
    regular = regular.replace("subject: case", "subject: item")
    regular = re.sub(r"    tags: \[[a-z_, ]*\]\n", "", regular)  # tags of case states only
    # The round plan dates cases only.
    regular = regular.replace("due: {plan: leave, else: 30wd}", "due: 30wd")
    regular = re.sub(r"\nevaluation:\n(  .*\n)+", "\n", regular)  # 整改评估 scores cases only
    as_item.write_text(regular, "utf-8")
    assert ready.fail("definitions", "load", str(as_item), "--replace-builtin") == (
        "definition regular is for cases; a new version cannot be for items (give it another name)"
    )


def test_list_marks_the_office_s_own_versions(ready: Cli, tmp_path: Path) -> None:
    path = edited_regular(tmp_path)
    ready.run("definitions", "load", str(path), "--replace-builtin")
    ready.run("definitions", "load", str(VALID / "minimal.yaml"))

    listed = {d["name"]: (d["builtin"], d["source"]) for d in ready.json("definitions", "list")}
    assert listed["regular"] == (False, str(path))
    assert listed["minimal"] == (False, str(VALID / "minimal.yaml"))
    assert listed["special"] == (True, "builtin:special.yaml")
    rows = {
        line.split()[0]: line.split()[-1]
        for line in ready.out("definitions", "list").splitlines()[1:]
    }
    assert (rows["regular"], rows["special"]) == (str(path), "内置")
