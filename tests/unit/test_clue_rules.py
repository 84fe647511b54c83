"""What the code knows about 问题线索 without a database: their keys, who sees them, what a
summary may hold, how a sheet names a receiver, and the built-in clue lifecycle."""

from __future__ import annotations

import pytest

from xunshi.definitions.loader import builtin_definitions
from xunshi.errors import BadInput
from xunshi.keys import ByNumber, InstanceKey, parse_reference
from xunshi.workflow.clues import (
    check_disposition,
    check_summary,
    may_see,
    receiver_of,
    sight_refused,
)

# -- keys ----------------------------------------------------------------------------------


def test_a_clue_key_is_round_unit_colon_code() -> None:
    key = parse_reference(" 2025-R1 / U01 : C01 ", "clue")

    assert key == InstanceKey("2025-R1", "U01", clue="C01")
    assert isinstance(key, InstanceKey)
    assert (key.kind, str(key), key.label) == ("clue", "2025-R1/U01:C01", "clue 2025-R1/U01:C01")
    assert key.case == InstanceKey("2025-R1", "U01")
    assert InstanceKey("2025-R1", "U01").clue_key("C01") == key
    assert parse_reference("#12", "clue") == ByNumber("clue", 12)


def test_a_clue_key_never_reads_as_an_item_key_and_back() -> None:
    assert InstanceKey("R", "U", clue="P01") != InstanceKey("R", "U", "P01")
    with pytest.raises(BadInput, match=r"is not an item id or key: use the number or ROUND/UNIT/"):
        parse_reference("2025-R1/U01:C01", "item")
    with pytest.raises(BadInput, match=r"is not a case id or key"):
        parse_reference("2025-R1/U01:C01", "case")


@pytest.mark.parametrize(
    "text", ["2025-R1/U01/C01", "2025-R1:C01", "2025-R1/U01:", "/U01:C01", "R/U:C/1", "R/U:C#1"]
)
def test_malformed_clue_keys_are_refused_with_the_form(text: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_reference(text, "clue")
    assert caught.value.message == (
        f"clue {text!r} is not a clue id or key: use the number or ROUND/UNIT:CODE, "
        "e.g. 2024-R1/U01:C01"
    )


def test_a_clue_key_has_no_item() -> None:
    with pytest.raises(ValueError, match="a clue belongs to a case"):
        InstanceKey("R", "U", "P01", clue="C01")
    with pytest.raises(ValueError, match="has no clues"):
        InstanceKey("R", "U", "P01").clue_key("C01")


# -- who sees a clue -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "receiver", "sees"),
    [
        ("office", "", True),
        ("office", "other", True),
        ("discipline_group", "discipline_group", True),
        ("discipline_group", "organization_dept", False),
        ("discipline_group", "", False),
        ("organization_dept", "organization_dept", True),
        ("unit_liaison", "discipline_group", False),
        ("group_leader", "discipline_group", False),
        ("leading_group", "", False),
        ("other", "other", False),  # an other receiver is no role: only the office sees it
    ],
)
def test_only_the_office_and_the_receiving_body_see_a_clue(
    role: str, receiver: str, sees: bool
) -> None:
    assert may_see(role, receiver) is sees


def test_the_refusal_names_the_role_and_the_clue() -> None:
    refusal = sight_refused("unit_liaison", "clue 2025-R1/U01:C01")
    assert refusal.message == "role unit_liaison may not see clue 2025-R1/U01:C01's summary"


# -- what a summary may hold -----------------------------------------------------------------


@pytest.mark.parametrize(
    "summary",
    [
        "反映某处处长在项目审批中收受礼金",
        "反映某局2023年度12个项目违规发包",  # numbers that are no one's
        "反映某站站长虚报冒领补贴约120000元",
    ],
)
def test_a_role_description_is_a_summary(summary: str) -> None:
    assert check_summary(f"  {summary} ") == summary


@pytest.mark.parametrize(
    ("summary", "kind"),
    [
        ("某科长，身份证110101199003071234", "an ID card number"),
        ("某科长 11010119900307123x", "an ID card number"),
        ("某科长 110101900307123", "an ID card number"),
        ("某科长手机13812345678", "a telephone number"),
        ("某科长 +86 138 1234 5678", "a telephone number"),
        ("某科长 010-62345678", "a telephone number"),
    ],
)
def test_a_summary_with_personal_numbers_is_refused(summary: str, kind: str) -> None:
    with pytest.raises(BadInput) as caught:
        check_summary(summary)
    assert caught.value.message == (
        f"clue summary must not hold personal details and this looks like {kind}: describe "
        "the person by role (e.g. 某处处长), never by name or number"
    )


def test_a_summary_is_one_line_of_at_most_200_characters() -> None:
    with pytest.raises(BadInput, match="clue summary must be one line"):
        check_summary("第一行\n第二行")
    with pytest.raises(BadInput, match="clue summary must not be empty"):
        check_summary("  ")
    assert check_summary("某" * 200) == "某" * 200
    with pytest.raises(BadInput, match="201 characters long; at most 200"):
        check_summary("某" * 201)


def test_dispositions_are_the_five_of_practice() -> None:
    for kind in ("谈话函询", "初步核实", "暂存待查", "予以了结", "立案审查"):
        assert check_disposition(f" {kind}") == kind
    with pytest.raises(BadInput, match="disposition '调查' is not one of 谈话函询, 初步核实"):
        check_disposition("调查")


def test_a_sheet_names_a_receiver_by_role_title_or_name() -> None:
    assert receiver_of("纪检监察组") == ("discipline_group", "纪检监察组")
    assert receiver_of("discipline_group") == ("discipline_group", "纪检监察组")
    assert receiver_of(" 组织部 ") == ("organization_dept", "组织部")
    assert receiver_of("市审计局") == ("other", "市审计局")


# -- the built-in lifecycle ------------------------------------------------------------------


def test_the_built_in_clue_runs_registration_handover_disposition_conclusion() -> None:
    clue = {d.name: d for d in builtin_definitions()}["clue"]

    assert clue.subject == "clue"
    assert [(s.name, s.title) for s in clue.states] == [
        ("registered", "登记"),
        ("handed_over", "移交"),
        ("disposing", "处置中"),
        ("concluded", "办结"),
        ("withdrawn", "撤回"),
    ]
    assert str(clue.state("handed_over").due) == "3mo"
    assert clue.tagged("handed_over") == {"handed_over", "disposing", "concluded"}
    assert clue.tagged("disposed") == {"disposing", "concluded"}
    assert clue.tagged("concluded") == {"concluded"}
    # The deadline reminds the office; nothing is a 约谈 of the unit or waits for a decision.
    ladder = clue.ladder("handed_over")
    assert [(r.level, str(r.at), r.instrument, r.notify) for r in ladder] == [
        (0, "-10wd", "提醒", ("office",)),
        (1, "0", "预警", ("office",)),
        (2, "10wd", "督办函", ("office", "leading_group")),
    ]
    assert not any(r.decision for r in ladder)


def test_every_built_in_case_hands_clues_over_from_the_on_site_stage_on() -> None:
    for defn in builtin_definitions():
        if defn.subject != "case":
            continue
        names = [s.name for s in defn.states if not s.final]
        assert defn.tagged("clues_open") == set(names[names.index("onsite") :]), defn.name
