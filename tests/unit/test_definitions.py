"""The definition language: YAML loading, built-in definitions, digests, diagrams, durations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xunshi.definitions.diagram import to_dot, to_mermaid
from xunshi.definitions.durations import Duration, parse_due, parse_offset
from xunshi.definitions.loader import (
    BUILTIN_GUARDS,
    MAX_VALUES,
    DefinitionError,
    Problem,
    builtin_definitions,
    builtin_sources,
    load_definition_file,
    parse_definition,
    read_yaml,
)
from xunshi.definitions.schema import Definition, definition_from_dict
from xunshi.definitions.validate import check_definition

MINIMAL = """\
name: tiny
title: 小流程
initial: open
roles: {office: 巡视办}
states:
  open: {title: 办理中, due: 5wd}
  done: {title: 完成, final: true}
transitions:
  - {trigger: finish, source: open, dest: done, roles: [office]}
"""

# The real order (#9): the 动员会 is the move-in event, the talk with the main leader is part
# of the on-site stage, and the report goes through the office before the leading group and
# then the party group hear it.
FORWARD_PATH = [
    ("preparation", "巡前准备", "move_in", "group_leader"),
    ("onsite", "现场巡视", "leave_site", "group_leader"),
    ("drafting", "形成报告", "report", "group_leader"),
    ("office_review", "巡视办审核", "approve_report", "office"),
    ("leading_group_hearing", "领导小组听取汇报", "to_party_group", "office"),
    ("party_hearing", "党组听取汇报", "give_feedback", "office"),
    ("feedback", "反馈", "start_rectification", "office"),
    ("rectification_plan", "整改方案", "approve_plan", "office"),
    ("rectification", "集中整改", "to_report", "party_secretary"),
    ("rectification_report", "整改报告", "accept_report", "office"),
    ("publication", "公开整改进展", "to_ongoing", "office"),
    ("ongoing", "常态化整改", "to_evaluation", "office"),
    ("evaluation", "整改评估", "close", "office"),
]

ROLES = {
    "office": "巡视办",
    "leading_group": "巡视工作领导小组",
    "group_leader": "巡视组组长",
    "party_secretary": "被巡视党组织书记",
    "unit_liaison": "被巡视单位联络员",
    "discipline_group": "纪检监察组",
    "organization_dept": "组织部",
    "functional_dept": "职能部门",
}


def _problems(text: str, **kwargs: Any) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(text, "t.yaml", **kwargs)
    return [str(p) for p in caught.value.problems]


# -- YAML loading --------------------------------------------------------------------------


def test_only_true_and_false_are_booleans() -> None:
    document = read_yaml(
        "a: [on, off, yes, no, y, n, Yes, ON]\n"
        "b: [true, True, TRUE, false, False, FALSE]\n"
        "c: [2024-10-01, 2024-10-01 08:00:00, 0, 007, 0x1f, 1.5, ~, '', 1:30]\n"
    )

    assert document.value == {
        "a": ["on", "off", "yes", "no", "y", "n", "Yes", "ON"],
        "b": [True, True, True, False, False, False],
        "c": ["2024-10-01", "2024-10-01 08:00:00", 0, 7, 31, 1.5, None, "", "1:30"],
    }
    assert document.problems == ()


def test_on_off_titles_stay_text_in_a_definition() -> None:
    definition = parse_definition(MINIMAL.replace("小流程", "on").replace("办理中", "no"))

    assert definition.title == "on"
    assert definition.state("open").title == "no"


def test_positions_are_one_based_and_cover_keys_and_values() -> None:
    document = read_yaml("name: x\nstates:\n  onsite:\n    due: 30wd\nlist: [a, {b: c}]\n")

    assert document.position(("states", "onsite", "due")) == (4, 10)
    assert document.position(("states", "onsite", "due"), key=True) == (4, 5)
    assert document.position(("list", 1, "b")) == (5, 15)
    assert document.position(("list", 1)) == (5, 11)


def test_a_position_falls_back_to_the_nearest_ancestor() -> None:
    document = read_yaml("name: x\nstates:\n  onsite: {title: 现场巡视}\n")

    assert document.position(("states", "onsite", "due", "x")) == (3, 11)
    assert document.position(("nowhere",)) == (1, 1)


def test_duplicate_keys_are_problems_not_overwrites() -> None:
    document = read_yaml("a: 1\nb:\n  c: 2\n  c: 3\na: 4\n", "d.yaml")

    assert document.value == {"a": 1, "b": {"c": 2}}
    assert [str(p) for p in document.problems] == [
        "d.yaml:4:3: duplicate key 'c' (also at line 3)",
        "d.yaml:5:1: duplicate key 'a' (also at line 1)",
    ]


def test_a_yaml_syntax_error_is_one_problem_at_its_position() -> None:
    assert _problems("name: x\nstates: [a, b\n") == [
        "t.yaml:3:1: YAML syntax error: expected ',' or ']', but got '<stream end>'"
        " (while parsing a flow sequence at line 2)"
    ]


def test_python_tags_are_never_constructed() -> None:
    document = read_yaml("a: !!python/object/apply:os.system [echo hi]\n")

    assert document.value == {"a": ["echo hi"]}
    assert [p.message for p in document.problems] == [
        "unsupported YAML tag !!python/object/apply:os.system"
    ]


def test_alias_bombs_and_loops_are_problems() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdef", "bcdefg", strict=True)
    )
    assert _problems(bomb) == [
        f"t.yaml:1:1: document too large (more than {MAX_VALUES} values once aliases are expanded)"
    ]
    assert read_yaml("a: &a [*a]\n").problems[0].message == (
        "an alias refers to a value that contains it"
    )


def test_deep_nesting_and_control_characters_are_problems() -> None:
    assert _problems("a: " + "[" * 5000 + "]" * 5000 + "\n") == [
        "t.yaml:1:1: YAML nested too deeply"
    ]
    assert _problems("name: x\ntitle: a\x07b\n") == [
        "t.yaml:2:9: YAML syntax error: unacceptable character #x0007"
    ]


def test_problem_and_error_text() -> None:
    error = DefinitionError("f.yaml", [Problem("f.yaml", 9, 1, "b"), Problem("f.yaml", 2, 5, "a")])

    assert str(error) == "f.yaml:2:5: a\nf.yaml:9:1: b"
    assert [p.line for p in error.problems] == [2, 9]
    assert isinstance(error, ValueError)


def test_every_problem_is_reported_sorted_by_position() -> None:
    text = MINIMAL.replace("dest: done", "dest: gone").replace("5wd", "5 wd")

    assert _problems(text, guards=()) == [
        "t.yaml:6:27: state 'open': bad duration '5 wd': "
        "use Nwd (working days), Nd (days) or Nmo (months)",
        "t.yaml:9:43: transition 1 (finish): unknown dest state 'gone' (did you mean 'done'?)",
    ]


def test_guards_must_be_known_to_the_registry() -> None:
    text = MINIMAL.replace("roles: [office]", "guards: [all_items_settled]")

    assert parse_definition(text, guards={"all_items_settled"}).transitions[0].guards == (
        "all_items_settled",
    )
    assert _problems(text) == [
        "t.yaml:9:58: transition 1 (finish): unknown guard 'all_items_settled'"
    ]


def test_suspend_roles_default_to_office_only_if_declared() -> None:
    assert parse_definition(MINIMAL).suspend_roles == ("office",)
    other = MINIMAL.replace("office", "group_leader")
    assert parse_definition(other).suspend_roles == ()


def test_missing_file_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"

    with pytest.raises(DefinitionError) as caught:
        load_definition_file(path)

    assert [str(p) for p in caught.value.problems] == [
        f"{path}:1:1: cannot read file: No such file or directory"
    ]


def test_file_that_is_not_utf8_is_one_problem_at_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes(b"name: x\ntitle: " + "常规".encode("gbk") + b"\n")

    with pytest.raises(DefinitionError) as caught:
        load_definition_file(path)

    assert caught.value.problems == [Problem(str(path), 2, 8, "file is not UTF-8 text")]


def test_a_file_loads_like_its_text(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(MINIMAL, encoding="utf-8")

    assert load_definition_file(path) == parse_definition(MINIMAL)


# -- validation never crashes --------------------------------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from(["", "open", "done", "office", "5wd", "-3wd", "0", "Bad", "final", "title"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.one_of(_SCALARS, st.sampled_from(["states", "transitions"])), inner, max_size=4
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_VALUES)
def test_validation_turns_any_shape_into_issues(data: object) -> None:
    definition, issues = check_definition(data)

    assert (definition is None) == bool(issues)


def _replace_at(value: Any, path: list[int], new: object) -> Any:
    """A copy of `value` with the node chosen by `path` (indexes into children) replaced."""
    if not path or not isinstance(value, dict | list) or not value:
        return new
    keys = list(value) if isinstance(value, dict) else list(range(len(value)))
    key = keys[path[0] % len(keys)]
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[key] = _replace_at(value[key], path[1:], new)
    return copy


# `regular` as the loader reads it: a realistic shape to damage.
_REGULAR_DATA = read_yaml(dict(builtin_sources())["regular.yaml"]).value


def test_undamaged_data_is_valid() -> None:
    assert check_definition(_REGULAR_DATA, guards=BUILTIN_GUARDS)[1] == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 50), max_size=5), _VALUES)
def test_validation_survives_any_damage_to_a_real_definition(path: list[int], new: object) -> None:
    data = _replace_at(_REGULAR_DATA, path, new)

    definition, issues = check_definition(data)

    assert (definition is None) == bool(issues)


# -- built-in definitions ------------------------------------------------------------------


@pytest.fixture(scope="module")
def builtins() -> dict[str, Definition]:
    return {d.name: d for d in builtin_definitions()}


def test_builtin_sources_are_the_five_kinds_rectification_and_clue_sorted_by_name() -> None:
    assert [name for name, _ in builtin_sources()] == [
        "clue.yaml",
        "lookback.yaml",
        "mobile.yaml",
        "overseas.yaml",
        "rectification.yaml",
        "regular.yaml",
        "special.yaml",
    ]


def test_builtins_share_the_forward_path_and_roles(builtins: dict[str, Definition]) -> None:
    cases = {name: d for name, d in builtins.items() if d.subject == "case"}
    assert sorted(cases) == ["lookback", "mobile", "overseas", "regular", "special"]
    for definition in cases.values():
        assert definition.subject == "case"
        assert definition.calendar == "cn"
        assert definition.initial == "preparation"
        assert {r.name: r.title for r in definition.roles} == ROLES
        assert definition.suspend_roles == ("office",)
        for state, title, trigger, role in FORWARD_PATH:
            assert definition.state(state).title == title
            (forward,) = (t for t in definition.transitions_from(state) if t.trigger == trigger)
            assert forward.roles[0] == role
        assert definition.state("closed").final
        # The case closes only once evaluated; problems must be settled before evaluation.
        (close,) = (t for t in definition.transitions if t.trigger == "close")
        assert (close.source, close.guards) == ("evaluation", ("evaluated",))
        (to_evaluation,) = (t for t in definition.transitions if t.trigger == "to_evaluation")
        assert to_evaluation.guards == ("all_items_settled",)
        (send_back,) = (t for t in definition.transitions if t.trigger == "send_back")
        assert (send_back.source, send_back.dest, send_back.roles) == (
            "leading_group_hearing",
            "onsite",
            ("office",),
        )
        assert [s.name for s in definition.states] == [
            *(stage for stage, *_ in FORWARD_PATH),
            "closed",
        ]


def test_builtin_limits(builtins: dict[str, Definition]) -> None:
    def limits(name: str) -> dict[str, str]:
        return {s.name: str(s.due) for s in builtins[name].states if s.due}

    assert limits("regular") == {
        "preparation": "15wd",
        "onsite": "plan.leave, else 30wd",
        "drafting": "15wd",
        "office_review": "10wd",
        "leading_group_hearing": "10wd",
        "party_hearing": "10wd",
        "feedback": "10wd",
        "rectification_plan": "15wd",
        # The two-month report counts from the feedback meeting's own date.
        "rectification": "2mo after feedback_meeting",
        "rectification_report": "2mo after feedback_meeting",
        "publication": "10wd",
        "ongoing": "6mo",
        "evaluation": "20wd",
    }
    assert limits("special")["onsite"] == "plan.leave, else 20wd"
    assert {k: limits("mobile")[k] for k in ("preparation", "onsite", "drafting")} == {
        "preparation": "5wd",
        "onsite": "plan.leave, else 15wd",
        "drafting": "10wd",
    }
    # 境外: longer logistics before leaving, fewer days on site (集约高效).
    assert (limits("overseas")["preparation"], limits("overseas")["onsite"]) == (
        "25wd",
        "plan.leave, else 15wd",
    )


def test_regular_milestones_and_ladders(builtins: dict[str, Definition]) -> None:
    regular = builtins["regular"]
    onsite = regular.state("onsite")

    assert [(m.name, m.count) for m in onsite.milestones] == [
        ("contacts_published", ""),
        ("individual_talks", "人次"),
        ("petitions_received", "件"),
        ("document_review", "份"),
        ("sinking_visits", ""),
        ("midterm_consultation", ""),
        ("audit_linkage", ""),
        ("leader_talk", ""),
    ]
    # The talk with the main leader comes before the group leaves the site.
    assert onsite.requires == (
        "contacts_published",
        "individual_talks",
        "midterm_consultation",
        "leader_talk",
    )
    # The plan is reviewed by all three: office, discipline group, organisation department.
    assert regular.state("rectification_plan").requires == (
        "plan_submitted",
        "plan_reviewed_office",
        "plan_reviewed_discipline",
        "plan_reviewed_organization",
    )
    assert regular.state("rectification").requires == ("three_lists", "democratic_life_meeting")
    assert regular.state("rectification_report").requires == (
        "rectification_report",
        "leader_report",
    )
    assert [(str(r.at), r.level, r.title, r.notify) for r in regular.ladder("onsite")] == [
        ("-3wd", 0, "到期提醒", ("office",)),
        ("0", 1, "超期提醒", ("office",)),
        ("5wd", 2, "超期报告领导小组", ("leading_group",)),
    ]
    assert [
        (str(r.at), r.instrument, r.to, r.decision) for r in regular.ladder("rectification")
    ] == [
        ("-10wd", "提醒", "unit_liaison", False),
        ("0", "预警", "unit_liaison", False),
        ("5wd", "督办函", "party_secretary", False),
        ("10wd", "约谈", "party_secretary", True),
        ("20wd", "问责建议", "party_secretary", True),
    ]


# The rectification stages where the unit works but takes no new problems.
UNIT_ONLY = frozenset({"rectification_report", "publication", "ongoing"})


def test_the_offices_and_groups_own_stages_only_remind_the_office_and_leading_group(
    builtins: dict[str, Definition],
) -> None:
    # A unit is never warned, let alone 约谈'd, for the office's or a group's lateness: only
    # the stages where the unit works (it records a milestone or moves the case on: the
    # rectification phase up to 整改评估) carry the unit's graded ladder.
    unit_roles = {"party_secretary", "unit_liaison"}
    for definition in (d for d in builtins.values() if d.subject == "case"):
        for state in definition.states:
            if state.final:
                continue
            ladder = definition.ladder(state.name)
            unit_works = any(unit_roles & set(m.roles) for m in state.milestones) or any(
                unit_roles & set(t.roles) for t in definition.transitions_from(state.name)
            )
            assert unit_works == (state.has_tag("items_open") or state.name in UNIT_ONLY)
            if unit_works:
                assert {r.instrument for r in ladder if r.decision} == {"约谈", "问责建议"}
                continue
            assert {r.instrument for r in ladder} == {"提醒"}, (definition.name, state.name)
            assert {role for r in ladder for role in r.notify} <= {"office", "leading_group"}
            assert not any(r.decision for r in ladder)


def test_acceptance_is_the_secretarys_sign_off_reviewed_by_office_and_discipline_group(
    builtins: dict[str, Definition],
) -> None:
    submitted = builtins["rectification"].state("submitted")
    assert [(m.name, m.roles) for m in submitted.milestones] == [
        ("secretary_signed", ("party_secretary",)),
        ("office_accepted", ("office",)),
        ("discipline_accepted", ("discipline_group",)),
    ]
    assert submitted.requires == ("secretary_signed", "office_accepted", "discipline_accepted")


def test_lookback_reviews_the_previous_round(builtins: dict[str, Definition]) -> None:
    milestone = builtins["lookback"].state("onsite").milestone("prior_findings_reviewed")

    assert milestone is not None
    assert milestone.title == "核查上轮整改落实情况"


@pytest.mark.parametrize("name", ["lookback", "mobile", "overseas", "regular", "special"])
def test_builtin_round_trips_through_its_canonical_form(
    builtins: dict[str, Definition], name: str
) -> None:
    definition = builtins[name]

    assert definition_from_dict(definition.to_dict()) == definition
    assert definition_from_dict(definition.to_dict()).digest == definition.digest


# -- digests -------------------------------------------------------------------------------


def test_digest_is_stable_and_follows_content_not_layout() -> None:
    digest = parse_definition(MINIMAL).digest
    relaid = "# 注释\n" + MINIMAL.replace(
        "{title: 办理中, due: 5wd}", "\n    title: 办理中  # 标题\n    due: 5wd\n"
    )

    assert parse_definition(MINIMAL).digest == digest
    assert len(digest) == 64
    assert parse_definition(relaid).digest == digest
    assert parse_definition(MINIMAL.replace("5wd", "6wd")).digest != digest
    assert parse_definition(MINIMAL.replace("小流程", "小流程二")).digest != digest


def test_builtin_digests_differ(builtins: dict[str, Definition]) -> None:
    assert len({d.digest for d in builtins.values()}) == 7


# -- diagrams ------------------------------------------------------------------------------

DIAGRAM = """\
name: tiny
title: 小 "流程"
initial: open
roles: {office: 巡视办, group_leader: 组长}
states:
  open: {title: "办理中; #1", due: 5wd}
  review: {title: 复核}
  done: {title: "完成\\\\", final: true}
transitions:
  - {trigger: finish, source: [open, review], dest: done, roles: [office, group_leader]}
  - {trigger: check, source: open, dest: review}
"""


def test_mermaid_output() -> None:
    assert to_mermaid(parse_definition(DIAGRAM)) == (
        "stateDiagram-v2\n"
        "    [*] --> open\n"
        "    open : 办理中#59; #35;1 (5wd)\n"
        "    review : 复核\n"
        "    done : 完成\\\n"
        "    open --> done : finish (office, group_leader)\n"
        "    review --> done : finish (office, group_leader)\n"
        "    open --> review : check\n"
        "    done --> [*]\n"
    )


def test_dot_output() -> None:
    assert to_dot(parse_definition(DIAGRAM)) == (
        'digraph "tiny" {\n'
        '    label="小 \\"流程\\" (tiny)";\n'
        "    labelloc=t;\n"
        "    rankdir=LR;\n"
        "    node [shape=box, style=rounded];\n"
        '    __start [shape=point, label=""];\n'
        '    __start -> "open";\n'
        '    "open" [label="办理中; #1\\nopen\\n5wd"];\n'
        '    "review" [label="复核\\nreview"];\n'
        '    "done" [label="完成\\\\\\ndone", shape=doublecircle];\n'
        '    "open" -> "done" [label="finish"];\n'
        '    "review" -> "done" [label="finish"];\n'
        '    "open" -> "review" [label="check"];\n'
        "}\n"
    )


def test_diagrams_are_deterministic(builtins: dict[str, Definition]) -> None:
    regular = builtins["regular"]
    again = {d.name: d for d in builtin_definitions()}["regular"]

    assert to_mermaid(regular) == to_mermaid(again)
    assert to_dot(regular) == to_dot(again)
    assert "    onsite : 现场巡视 (plan.leave, else 30wd)\n" in to_mermaid(regular)


# -- durations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15wd", Duration(15, "wd")),
        ("10d", Duration(10, "d")),
        ("2mo", Duration(2, "mo")),
        (" 5wd ", Duration(5, "wd")),
        ("+3d", Duration(3, "d")),
    ],
)
def test_parse_due(text: str, expected: Duration) -> None:
    assert parse_due(text) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0wd", "due must be a positive duration such as 5wd, 10d or 2mo, not '0wd'"),
        ("-5wd", "due must be a positive duration such as 5wd, 10d or 2mo, not '-5wd'"),
        ("5 wd", "bad duration '5 wd': use Nwd (working days), Nd (days) or Nmo (months)"),
        ("5w", "bad duration '5w': use Nwd (working days), Nd (days) or Nmo (months)"),
        (30, "duration must be text such as 5wd, 10d or 2mo, not int 30"),
        (None, "duration must be text such as 5wd, 10d or 2mo, not NoneType None"),
    ],
)
def test_parse_due_rejects(value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_due(value)

    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("-3wd", Duration(-3, "wd")),
        (0, Duration(0, "d")),
        ("0", Duration(0, "d")),
        ("+0", Duration(0, "d")),
        ("5wd", Duration(5, "wd")),
        ("+2d", Duration(2, "d")),
    ],
)
def test_parse_offset(value: object, expected: Duration) -> None:
    assert parse_offset(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1mo", "escalation offset must be in wd or d, not months ('1mo')"),
        ("soon", "bad duration 'soon': use Nwd (working days), Nd (days) or Nmo (months)"),
        (1, "duration must be text such as 5wd, 10d or 2mo, not int 1"),
        (False, "duration must be text such as 5wd, 10d or 2mo, not bool False"),
    ],
)
def test_parse_offset_rejects(value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_offset(value)

    assert str(caught.value) == message


def test_duration_text() -> None:
    assert str(Duration(0, "d")) == "0"
    assert str(Duration(-3, "wd")) == "-3wd"
    assert Duration(5, "wd").describe() == "5 working days"


def test_rectification_items_close_by_acceptance(
    builtins: dict[str, Definition],
) -> None:
    items = builtins["rectification"]
    assert items.subject == "item"
    (submit,) = {t.guards for t in items.transitions if t.trigger == "submit"}
    assert submit == ("all_tasks_done",)
    reopen = {t.source for t in items.transitions if t.trigger == "reopen"}
    assert reopen == {"submitted", "accepted"}
    assert not items.state("accepted").final
    assert items.state("archived").final


def test_every_guard_the_builtins_use_is_registered() -> None:
    from xunshi.workflow.guards import guard_names

    used = {g for d in builtin_definitions() for t in d.transitions for g in t.guards}
    assert used == BUILTIN_GUARDS
    assert guard_names() >= BUILTIN_GUARDS


# -- escalation rungs: instrument, recipient, decision (#9.6) ------------------------------

_LADDER = MINIMAL.replace(
    "roles: {office: 巡视办}", "roles: {office: 巡视办, unit_liaison: 联络员}"
).replace(
    "open: {title: 办理中, due: 5wd}",
    "open:\n    title: 办理中\n    due: 5wd\n    escalation:\n      - RUNG",
)


def _ladder(rung: str) -> str:
    return _LADDER.replace("RUNG", rung)


def test_a_rung_names_its_instrument_recipient_and_decision() -> None:
    text = _ladder(
        "{at: 0, level: 1, title: 约谈, instrument: 约谈, to: unit_liaison, "
        "notify: [unit_liaison], decision: true}"
    )
    rule = parse_definition(text, "t.yaml").ladder("open")[0]
    assert (rule.instrument, rule.to, rule.decision) == ("约谈", "unit_liaison", True)
    again = definition_from_dict(parse_definition(text, "t.yaml").to_dict()).ladder("open")[0]
    assert again == rule


def test_a_rung_without_the_new_keys_keeps_its_canonical_form() -> None:
    text = _ladder("{at: 0, level: 1, title: 督办, notify: [office]}")
    rung = parse_definition(text, "t.yaml").to_dict()["states"][0]["escalation"][0]
    assert rung == {"at": "0", "level": 1, "title": "督办", "notify": ["office"]}


@pytest.mark.parametrize(
    ("rung", "problem"),
    [
        (
            "{at: 0, level: 1, title: t, instrument: 警告, notify: [office]}",
            "t.yaml:10:49: state 'open': escalation rule 1: unknown instrument '警告'; "
            "one of 提醒, 预警, 督办函, 约谈, 通报, 问责建议",
        ),
        (
            "{at: 0, level: 1, title: t, instrument: 约谈, notify: [office]}",
            "t.yaml:10:49: state 'open': escalation rule 1: 约谈 is a decision people take: "
            "mark the rung decision: true",
        ),
        (
            "{at: 0, level: 1, title: t, instrument: 问责建议, notify: [office], decision: false}",
            "t.yaml:10:83: state 'open': escalation rule 1: 问责建议 is a decision people take: "
            "it cannot be decision: false",
        ),
        (
            "{at: 0, level: 1, title: t, to: secretary, notify: [office]}",
            "t.yaml:10:41: state 'open': escalation rule 1: unknown role 'secretary' in to",
        ),
        (
            "{at: 0, level: 1, title: t, notify: [office], decision: yes please}",
            "t.yaml:10:65: state 'open': escalation rule 1: decision must be true or false, "
            "not text 'yes please'",
        ),
    ],
)
def test_bad_rungs_are_named(rung: str, problem: str) -> None:
    assert _problems(_ladder(rung)) == [problem]
