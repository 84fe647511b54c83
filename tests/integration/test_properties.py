"""Random definitions, random command sequences: the engine's invariants hold after every step.

Hypothesis draws a definition (a state graph in which every state is reachable and can reach
a final state, random roles, milestones, requirements), renders it to YAML, loads it through
`parse` and the registry, starts a case on it and fires random commands — most of them
refused. After each step:

- the state is a declared state, and what happened is what a small model of the rules says;
- a refused command wrote nothing (every row of every table);
- replaying the history gives the instance row back, and `audit verify` is clean.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from worlds import GROUP, ROUND, snapshot

from xunshi.bootstrap import App, bootstrap
from xunshi.config import Settings
from xunshi.definitions.schema import Definition
from xunshi.errors import BadInput, Refused, XunshiError
from xunshi.storage import queries as q
from xunshi.storage.tables import metadata
from xunshi.workflow.audit import event_from_row, replay
from xunshi.workflow.clock import ManualClock
from xunshi.workflow.decide import InstanceState
from xunshi.workflow.registry import parse

TRIGGERS = ("advance", "approve", "reject", "skip", "review", "finish", "reopen", "hold")
EXTRA_ROLES = ("leader", "liaison", "auditor")
DUES = (None, "3wd", "10d", "1mo")
STRANGER = "stranger"
_names = itertools.count(1)


# -- random definitions ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Spec:
    """A drawn definition: the YAML text and what the model needs to predict outcomes."""

    name: str
    text: str
    roles: tuple[str, ...]
    finals: frozenset[str]
    milestones: dict[str, dict[str, tuple[str, ...]]]  # state -> milestone -> roles
    requires: dict[str, tuple[str, ...]]
    transitions: dict[tuple[str, str], tuple[str, tuple[str, ...]]]  # (state, trigger) -> ...


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    """A valid definition with 1-5 working states and 1-2 final states."""
    name = f"prop{next(_names)}"
    roles = ("office", *draw(st.lists(st.sampled_from(EXTRA_ROLES), unique=True, max_size=3)))
    working = [f"s{i}" for i in range(draw(st.integers(1, 5)))]
    finals = [f"end{i}" for i in range(draw(st.integers(1, 2)))]
    some_roles = st.lists(st.sampled_from(roles), unique=True, max_size=len(roles))

    milestones: dict[str, dict[str, tuple[str, ...]]] = {}
    requires: dict[str, tuple[str, ...]] = {}
    states: dict[str, Any] = {}
    for s in working:
        names = [f"{s}_m{j}" for j in range(draw(st.integers(0, 3)))]
        milestones[s] = {m: tuple(draw(some_roles)) for m in names}
        requires[s] = tuple(m for m in names if draw(st.booleans()))
        body: dict[str, Any] = {"title": f"阶段{s}"}
        due = draw(st.sampled_from(DUES))
        if due is not None:
            body["due"] = due
        if names:
            body["milestones"] = {
                m: {"title": f"事项{m}", "roles": list(r)} if r else f"事项{m}"
                for m, r in milestones[s].items()
            }
        if requires[s]:
            body["requires"] = list(requires[s])
        states[s] = body
    for f in finals:
        states[f] = {"title": f"完成{f}", "final": True}

    edges: list[tuple[str, str]] = []
    for i, s in enumerate(working[1:], start=1):  # every state reachable from s0
        edges.append((draw(st.sampled_from(working[:i])), s))
    for f in finals:  # every final state reachable
        edges.append((draw(st.sampled_from(working)), f))
    for i, s in enumerate(working):  # every working state reaches a final one
        onward = working[i + 1 :] + finals
        if not any(src == s and dest in onward for src, dest in edges):
            edges.append((s, draw(st.sampled_from(onward))))
    extra = st.tuples(st.sampled_from(working), st.sampled_from(working + finals))
    edges.extend(draw(st.lists(extra, max_size=4)))

    transitions: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
    rendered = []
    for s in working:
        outgoing = [dest for src, dest in edges if src == s]
        triggers = draw(st.permutations(TRIGGERS))[: len(outgoing)]
        for trigger, dest in zip(triggers, outgoing, strict=True):
            allowed = tuple(draw(some_roles))
            transitions[(s, trigger)] = (dest, allowed)
            spec: dict[str, Any] = {"trigger": trigger, "source": s, "dest": dest}
            if allowed:
                spec["roles"] = list(allowed)
            rendered.append(spec)

    data = {
        "name": name,
        "title": f"随机流程{name}",
        "subject": "case",
        "initial": working[0],
        "roles": {r: f"角色{r}" for r in roles},
        "states": states,
        "transitions": rendered,
    }
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return Spec(name, text, roles, frozenset(finals), milestones, requires, transitions)


# -- random commands ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    """One user command: fire a trigger or record a milestone, maybe with `at`."""

    kind: str  # "fire" | "milestone"
    name: str
    role: str
    at_minutes: int | None  # relative to the clock; None: no `at`
    wait_minutes: int  # the clock moves this much before the command


def command_for(model: Model) -> st.SearchStrategy[Command]:
    """A command for the case as the model sees it: often a plausible one, often not."""
    spec = model.spec
    here = model.state
    all_triggers = [*sorted({t for _, t in spec.transitions}), "no_such_trigger"]
    all_milestones = [*sorted({m for ms in spec.milestones.values() for m in ms}), "no_such_thing"]
    triggers = st.sampled_from(all_triggers)
    local_triggers = sorted(t for s, t in spec.transitions if s == here)
    if local_triggers:
        triggers = st.one_of(st.sampled_from(local_triggers), triggers)
    milestones = st.sampled_from(all_milestones)
    local_milestones = sorted(spec.milestones.get(here, {}))
    if local_milestones:
        milestones = st.one_of(st.sampled_from(local_milestones), milestones)
    roles = st.one_of(st.sampled_from(spec.roles), st.sampled_from([*spec.roles, STRANGER]))
    at = st.one_of(st.none(), st.integers(-900, -1), st.just(0), st.integers(1, 60))
    wait = st.integers(0, 600)
    return st.one_of(
        st.builds(Command, st.just("fire"), triggers, roles, at, wait),
        st.builds(Command, st.just("milestone"), milestones, roles, at, wait),
    )


# -- the model -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Model:
    """What the rules say the case is."""

    spec: Spec
    state: str
    last: datetime
    milestones: set[str] = field(default_factory=set)

    def refusals(self, cmd: Command, now: datetime, at: datetime | None) -> set[type[XunshiError]]:
        """Why `cmd` must be refused (empty: it must succeed)."""
        spec = self.spec
        why: set[type[XunshiError]] = set()
        if self.state in spec.finals or cmd.role not in spec.roles:
            why.add(Refused)
        elif cmd.kind == "fire":
            found = spec.transitions.get((self.state, cmd.name))
            if found is None:
                why.add(Refused)
            else:
                _, allowed = found
                if allowed and cmd.role not in allowed:
                    why.add(Refused)
                if not set(spec.requires[self.state]) <= self.milestones:
                    why.add(Refused)
        else:
            declared = spec.milestones[self.state]
            if cmd.name not in declared:
                why.add(Refused)
            else:
                allowed = declared[cmd.name]
                if (allowed and cmd.role not in allowed) or cmd.name in self.milestones:
                    why.add(Refused)
        if at is not None and (at > now or at < self.last):
            why.add(BadInput)
        return why

    def apply(self, cmd: Command, occurred: datetime) -> None:
        """`cmd` succeeded at `occurred`."""
        if cmd.kind == "fire":
            self.state = self.spec.transitions[(self.state, cmd.name)][0]
            self.milestones = set()
        else:
            self.milestones.add(cmd.name)
        self.last = occurred


# -- running it ---------------------------------------------------------------------------------


# What the examples share: the schema, the definitions, the round, its group and units.
KEPT_TABLES = frozenset(
    {"definition", "inspection_round", "inspection_group", "unit", "calendar_year"}
)


def forget_cases(app: App) -> None:
    """Delete every case, its history and whatever hangs off it (the previous example's)."""
    with app.db.transaction() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name not in KEPT_TABLES:
                conn.execute(delete(table))


def register(app: App, spec: Spec) -> Definition:
    """Parse the YAML and store it as a new definition."""
    definition = parse(spec.text, f"{spec.name}.yaml")
    with app.db.transaction() as conn:
        registration = app.registry.register(
            conn,
            definition,
            source=spec.text,
            source_name=f"{spec.name}.yaml",
            loaded_by="hypothesis",
            now=app.clock.now(),
        )
    assert (registration.version, registration.created) == (1, True)
    return definition


def check_invariants(app: App, definition: Definition, case_id: int, model: Model) -> None:
    """State declared and as the model says; replay == row; the audit is clean."""
    with app.db.transaction() as conn:
        row = conn.execute(select(q.instances).where(q.instances.c.id == case_id))
        state = InstanceState.from_row(row.mappings().one())
        events = [
            event_from_row(e) for e in conn.execute(q.HISTORY, {"instance_id": case_id}).mappings()
        ]
    assert definition.has_state(state.state)
    assert (state.state, set(state.milestones)) == (model.state, model.milestones)
    assert state.last_occurred_at == model.last
    assert [e.seq for e in events] == list(range(1, state.version + 1))
    assert replay(events) == state.projection()
    report = app.services.audit.verify()
    assert report.ok, report.problems


def run_example(app: App, clock: ManualClock, data: st.DataObject, spec: Spec, steps: int) -> None:
    """Start a case on `spec` and run `steps` drawn commands on it, checking after each."""
    forget_cases(app)
    definition = register(app, spec)
    unit = f"U{next(_names)}"
    app.services.cases.add_unit(unit, f"单位{unit}")
    ref = app.services.cases.start_case(
        round_code=ROUND, unit_code=unit, group_code=GROUP, definition=spec.name, actor="巡视办"
    )
    key = f"{ROUND}/{unit}"
    model = Model(spec, definition.initial, clock.now())
    check_invariants(app, definition, ref.id, model)
    for step in range(steps):
        cmd = data.draw(command_for(model), label=f"step {step + 1}")
        clock.advance(timedelta(minutes=cmd.wait_minutes))
        now = clock.now()
        at = None if cmd.at_minutes is None else now + timedelta(minutes=cmd.at_minutes)
        expected = model.refusals(cmd, now, at)
        before = snapshot(app)
        try:
            if cmd.kind == "fire":
                app.services.cases.fire(key, cmd.name, actor="某人", role=cmd.role, at=at)
            else:
                app.services.cases.record_milestone(
                    key, cmd.name, actor="某人", role=cmd.role, at=at
                )
        except XunshiError as exc:
            event(f"{cmd.kind} refused")
            assert type(exc) in expected, (cmd, exc.message)
            assert snapshot(app) == before, cmd
        else:
            event(f"{cmd.kind} done")
            assert not expected, (cmd, "should have been refused", expected)
            model.apply(cmd, now if at is None else at)
        check_invariants(app, definition, ref.id, model)


@pytest.fixture
def round_app(app: App) -> App:
    """The `app` fixture with the round and group the examples' cases go in."""
    app.services.cases.create_round(ROUND, "性质测试", date(2024, 9, 2))
    app.services.cases.add_group(ROUND, GROUP, "组长")
    return app


@pytest.fixture
def sqlite_app(sqlite_url: str, clock: ManualClock) -> Iterator[App]:
    """An initialised application on SQLite only, with the round and group."""
    application = bootstrap(Settings(db_url=sqlite_url, actor="tester"), clock=clock)
    application.services.definitions.init("tester")
    application.services.cases.create_round(ROUND, "性质测试", date(2024, 9, 2))
    application.services.cases.add_group(ROUND, GROUP, "组长")
    yield application
    application.db.dispose()


FIXTURES_REUSED = [HealthCheck.function_scoped_fixture]  # each example forgets the last one's cases


@settings(max_examples=20, deadline=None, suppress_health_check=FIXTURES_REUSED)
@given(data=st.data())
def test_random_commands_keep_the_invariants(
    round_app: App, clock: ManualClock, data: st.DataObject
) -> None:
    spec = data.draw(specs(), label="definition")
    steps = data.draw(st.integers(1, 15), label="steps")
    run_example(round_app, clock, data, spec, steps)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES_REUSED)
@given(data=st.data())
def test_long_random_command_sequences_keep_the_invariants_on_sqlite(
    sqlite_app: App, clock: ManualClock, data: st.DataObject
) -> None:
    spec = data.draw(specs(), label="definition")
    steps = data.draw(st.integers(10, 40), label="steps")
    run_example(sqlite_app, clock, data, spec, steps)


@settings(max_examples=40, deadline=None)
@given(spec=specs())
def test_drawn_definitions_are_valid_and_round_trip(spec: Spec) -> None:
    definition = parse(spec.text, f"{spec.name}.yaml")
    assert {s.name for s in definition.states if s.final} == spec.finals
    assert {(t.source, t.trigger): (t.dest, t.roles) for t in definition.transitions} == (
        spec.transitions
    )
    assert definition.digest == parse(spec.text, "again.yaml").digest
