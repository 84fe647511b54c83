"""Helpers of the escalation, sweeper, notification and scheduler tests.

Imported by the tests of this folder as `escalation_helpers` (pytest puts the folder on
`sys.path`). Everything here works on any backend: the tests pass a database URL or an `App`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from forward import Need, Step, forward_path
from sqlalchemy import func, select

from xunshi.bootstrap import App
from xunshi.keys import parse_reference
from xunshi.storage import queries as q
from xunshi.storage.tables import metadata
from xunshi.workflow.clock import ManualClock
from xunshi.workflow.resolve import InstanceRef, resolve_case

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROUND = "2024-R1"
GROUP = "G1"
KEY = f"{ROUND}/U01"
REPO = Path(__file__).resolve().parents[2]

# A plausible 2027 calendar file (the shipped `chinesecalendar` data stops at 2026).
CALENDAR_2027 = """\
year: 2027
holidays:
  - {from: 2027-01-01, to: 2027-01-03, title: 元旦}
  - {from: 2027-02-06, to: 2027-02-13, title: 春节}
  - 2027-04-05
  - {from: 2027-05-01, to: 2027-05-05, title: 劳动节}
  - {from: 2027-10-01, to: 2027-10-07, title: 国庆节}
workdays:
  - 2027-02-20
  - 2027-09-26
  - 2027-10-09
"""


# The sweep's mechanics (rung arithmetic, catch-up, leases, crashes, races) are tested on a
# definition of their own, so that a change of the built-in lifecycles does not move them: a
# 15wd preparation, a 5wd mobilization, a 30wd onsite stage, and one four-rung ladder
# counted from each stage's due date (-3wd, 0, +5wd, +10wd), each rung notifying others.
TIMED = "timed"
TIMED_YAML = """\
name: timed
title: 计时测试流程
subject: case
calendar: cn
initial: preparation
roles:
  office: 巡视办
  leading_group: 巡视工作领导小组
  group_leader: 巡视组组长
  unit_liaison: 被巡视单位联络员
  discipline: 纪检监察机构
  organization: 组织部门
escalation:
  - {at: -3wd, level: 0, title: 到期提醒, notify: [group_leader]}
  - {at: 0, level: 1, title: 超期督办, notify: [office]}
  - {at: 5wd, level: 2, title: 超期告诫, notify: [leading_group]}
  - {at: 10wd, level: 3, title: 问责约谈, notify: [leading_group, discipline, organization]}
states:
  preparation:
    title: 巡前准备
    due: 15wd
    milestones:
      briefings_received: 听取有关部门情况通报
      training_done: 巡前培训
    requires: [briefings_received, training_done]
  mobilization:
    title: 动员部署
    due: 5wd
    milestones:
      mobilization_meeting: 召开动员会
      contacts_published: 公布联系方式
    requires: [mobilization_meeting, contacts_published]
  onsite:
    title: 现场巡视
    due: 30wd
    milestones:
      individual_talks: 个别谈话
    requires: [individual_talks]
  closed:
    title: 完成
    final: true
transitions:
  - {trigger: move_in, source: preparation, dest: mobilization, roles: [group_leader]}
  - {trigger: start_onsite, source: mobilization, dest: onsite, roles: [group_leader]}
  - {trigger: leave_site, source: onsite, dest: closed, roles: [group_leader]}
"""
# The forward path of `timed`, in the shape tests/forward.py gives the built-ins'.
TIMED_PATH: tuple[Step, ...] = (
    Step(
        "preparation",
        (Need("briefings_received", "office", False), Need("training_done", "office", False)),
        "move_in",
        "group_leader",
    ),
    Step(
        "mobilization",
        (
            Need("mobilization_meeting", "group_leader", False),
            Need("contacts_published", "group_leader", False),
        ),
        "start_onsite",
        "group_leader",
    ),
    Step(
        "onsite", (Need("individual_talks", "group_leader", False),), "leave_site", "group_leader"
    ),
)


def load_timed(app: App) -> None:
    """Register the `timed` definition (see TIMED_YAML) in `app`'s database."""
    app.services.definitions.load(TIMED_YAML, "timed.yaml", "tester")


def path_of(definition: str) -> tuple[Step, ...]:
    """The forward path of `definition`: `timed` or a built-in."""
    return TIMED_PATH if definition == TIMED else forward_path(definition)


def sh(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """An instant given in business time (Asia/Shanghai)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def setup_round(app: App, code: str = ROUND, start: date = date(2024, 9, 2)) -> None:
    """Create round `code` with group G1."""
    app.services.cases.create_round(code, f"{code} 巡视", start)
    app.services.cases.add_group(code, GROUP, "张组长")


def start_case(
    app: App,
    unit: str = "U01",
    round_code: str = ROUND,
    at: datetime | None = None,
    definition: str = "regular",
) -> InstanceRef:
    """Register `unit` (if new) and start its `definition` case in `round_code`."""
    if unit not in {u.code for u in app.services.read.catalog.units()}:
        app.services.cases.add_unit(unit, f"单位{unit}")
    return app.services.cases.start_case(
        round_code=round_code,
        unit_code=unit,
        group_code=GROUP,
        definition=definition,
        actor="巡视办",
        at=at,
    )


def leave_stage(app: App, key: str, stage: str) -> None:
    """Record `stage`'s required milestones and fire its forward trigger, at the clock's now
    (along the forward path of the case's definition)."""
    for step in path_of(instance(app, key)["definition_name"]):
        if step.stage == stage:
            for need in step.needs:
                app.services.cases.record_milestone(
                    key,
                    need.name,
                    actor="张组长",
                    role=need.role,
                    count=12 if need.counted else None,
                )
            if step.evaluation is not None:
                app.services.cases.evaluate(
                    key,
                    score=step.evaluation.score,
                    grade=step.evaluation.grade,
                    dimensions=dict(step.evaluation.dimensions),
                    actor="巡视办",
                    role=step.evaluation.role,
                )
            app.services.cases.fire(key, step.trigger, actor="张组长", role=step.role)
            return
    raise ValueError(f"{stage} is not on the forward path")


def move_in(app: App, clock: ManualClock, key: str, at: datetime) -> date:
    """Move case `key` out of preparation at `at` (`regular`: into onsite; `timed`: into
    mobilization); its new due date."""
    clock.set(at)
    leave_stage(app, key, "preparation")
    due = instance(app, key)["due_on"]
    assert isinstance(due, date)
    return due


def drive_to_closed(app: App, key: str) -> None:
    """Move case `key` along the whole forward path (at the clock's now)."""
    row = instance(app, key)
    current = row["state"]
    started = False
    for step in path_of(row["definition_name"]):
        started = started or step.stage == current
        if started:
            leave_stage(app, key, step.stage)


def instance(app: App, key: str) -> dict[str, Any]:
    """The instance row of case `key`."""
    with app.db.transaction() as conn:
        ref = resolve_case(conn, parse_reference(key, "case"))
        row = conn.execute(select(q.instances).where(q.instances.c.id == ref.id))
        return dict(row.mappings().one())


def timers(app: App, instance_id: int | None = None) -> list[dict[str, Any]]:
    """Timer rows (of one instance), by id."""
    t = q.timers
    stmt = select(t).order_by(t.c.id)
    if instance_id is not None:
        stmt = stmt.where(t.c.instance_id == instance_id)
    with app.db.transaction() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def live_timer(app: App, instance_id: int) -> dict[str, Any]:
    """The instance's one live (pending or claimed) timer: its stage's next rung."""
    live = [t for t in timers(app, instance_id) if t["status"] in ("pending", "claimed")]
    assert len(live) == 1, f"{len(live)} live timers: {live}"
    return live[0]


def timer_rungs(app: App) -> dict[tuple[str, int], int]:
    """How many timers there are per (status, level): where each stage's ladder stands."""
    t = q.timers
    with app.db.transaction() as conn:
        rows = conn.execute(
            select(t.c.status, t.c.level, func.count()).group_by(t.c.status, t.c.level)
        )
        return {(status, int(level)): int(count) for status, level, count in rows}


def escalations(app: App) -> list[dict[str, Any]]:
    """Escalation rows, by id."""
    x = q.escalations
    with app.db.transaction() as conn:
        return [dict(r) for r in conn.execute(select(x).order_by(x.c.id)).mappings()]


def outbox(app: App) -> list[dict[str, Any]]:
    """Outbox rows, by id."""
    o = q.outbox
    with app.db.transaction() as conn:
        return [dict(r) for r in conn.execute(select(o).order_by(o.c.id)).mappings()]


def timer_status_counts(app: App) -> dict[str, int]:
    """How many timers there are in each status."""
    t = q.timers
    with app.db.transaction() as conn:
        rows = conn.execute(select(t.c.status, func.count()).group_by(t.c.status))
        return {status: int(count) for status, count in rows}


def escalation_counts(app: App) -> dict[tuple[int, int, int, int], int]:
    """Escalations per (instance_id, stage_seq, task_id, level): each must be 1."""
    x = q.escalations
    with app.db.transaction() as conn:
        rows = conn.execute(
            select(x.c.instance_id, x.c.stage_seq, x.c.task_id, x.c.level, func.count()).group_by(
                x.c.instance_id, x.c.stage_seq, x.c.task_id, x.c.level
            )
        )
        return {(r[0], r[1], r[2], r[3]): int(r[4]) for r in rows}


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every row of every table: what a refused command must leave untouched."""

    tables: dict[str, tuple[tuple[Any, ...], ...]]

    def changed(self, other: Snapshot) -> list[str]:
        """The names of the tables whose rows differ."""
        return [name for name in self.tables if self.tables[name] != other.tables.get(name)]


def snapshot(app: App) -> Snapshot:
    """Every row of every table of `app`'s database, in primary-key order."""
    with app.db.transaction() as conn:
        return Snapshot(
            {
                table.name: tuple(
                    tuple(row)
                    for row in conn.execute(select(table).order_by(*table.primary_key.columns))
                )
                for table in metadata.sorted_tables
            }
        )


def write_plan(
    path: Path, round_code: str, units: int, prefix: str = "U", definition: str = "regular"
) -> Path:
    """A plan sheet (CSV) with `units` `definition` cases in `round_code`, in ten groups."""
    header = "round,group,group_leader,unit_code,unit_name,unit_category,definition"
    rows = [
        f"{round_code},G{i % 10},组长{i % 10},{prefix}{i:05d},单位{i},,{definition}"
        for i in range(units)
    ]
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def child_env() -> dict[str, str]:
    """The environment of a child process: no `XUNSHI_*` from outside, no proxies."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUNSHI_")}
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        env.pop(name, None)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def run_script(
    path: Path, source: str, args: Sequence[str], *, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Write a Python script to `path` and run it with this interpreter; its result."""
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(path), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(),
        check=False,
    )


def start_script(path: Path, source: str, args: Sequence[str]) -> subprocess.Popen[str]:
    """Write a Python script to `path` and start it with this interpreter."""
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, str(path), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
