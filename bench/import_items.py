"""Benchmark: importing 1,000 items with 3,000 tasks from a CSV sheet (SQLite file).

    python bench/import_items.py [--items 1000] [--tasks-per-item 3] [--repeat 3]

A fresh SQLite database gets a round with 100 cases, each driven along its lifecycle into
its first stage that takes problems (整改方案), and the sample category list; the sheet
holds `--items` problems spread over the cases, each with `--tasks-per-item` measures (one
row per task). The whole import is one command: every row is checked,
then items (instances with their history and timers) and tasks (rows, `task` events,
timers) are written in one transaction. Target: under 10 seconds. Medians of the runs.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from xunshi.bootstrap import App, bootstrap
from xunshi.config import Settings
from xunshi.definitions.schema import Definition
from xunshi.services.items_import import ITEM_COLUMNS
from xunshi.services.rectification import parse_categories
from xunshi.workflow.clock import ManualClock

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2024, 9, 2, 9, 0, tzinfo=TZ)
CASES = 100


def build(path: Path) -> None:
    """A round with CASES cases and the sample category list."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    app = bootstrap(Settings(db_url=f"sqlite:///{path}", actor="bench"), ManualClock(START))
    app.services.definitions.init("bench")
    text = (resources.files("xunshi") / "data" / "categories.yaml").read_text(encoding="utf-8")
    app.services.items.load_categories(text, "categories.yaml")
    app.services.cases.create_round("B1", "基准轮次", START.date())
    plan = path.with_suffix(".plan.csv")
    with plan.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "round",
                "group",
                "group_leader",
                "unit_code",
                "unit_name",
                "unit_category",
                "definition",
            ]
        )
        for n in range(CASES):
            writer.writerow(
                ["B1", f"G{n % 8 + 1}", f"组长{n % 8 + 1}", f"U{n:03d}", f"单位{n}", "", "regular"]
            )
    app.services.cases.import_plan(plan, actor="bench")
    with app.db.transaction() as conn:
        defn = app.registry.definition(conn, "regular", 1)
    for case_id in range(1, CASES + 1):
        to_items_open(app, str(case_id), defn)
    app.db.dispose()


def to_items_open(app: App, case: str, defn: Definition) -> None:
    """Drive a case along its forward path (required milestones, then the trigger to the
    latest stage) into the first stage that takes problems (tagged `items_open`)."""
    order = [s.name for s in defn.states]
    state = defn.initial
    while not defn.state(state).has_tag("items_open"):
        forward = max(defn.transitions_from(state), key=lambda t: order.index(t.dest))
        for name in forward.required(defn.state(state)):
            declared = defn.state(state).milestone(name)
            assert declared is not None, name
            role = declared.roles[0] if declared.roles else forward.roles[0]
            count = 1 if declared.count else None  # a counted milestone (人次, 件) needs one
            app.services.cases.record_milestone(case, name, actor="bench", role=role, count=count)
        app.services.cases.fire(case, forward.trigger, actor="bench", role=forward.roles[0])
        state = forward.dest


def sheet(path: Path, items: int, tasks_per_item: int) -> int:
    """The items sheet; returns the number of task rows."""
    categories = parse_categories(
        (resources.files("xunshi") / "data" / "categories.yaml").read_text(encoding="utf-8"),
        "categories.yaml",
    )
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=ITEM_COLUMNS)
        writer.writeheader()
        for n in range(items):
            level1, level2 = categories[n % len(categories)]
            for t in range(1, tasks_per_item + 1):
                writer.writerow(
                    {
                        "round": "B1",
                        "unit_code": f"U{n % CASES:03d}",
                        "item_code": f"P{n // CASES + 1:03d}",
                        "title": f"问题{n}",
                        "manifestations": f"问题{n}的具体表现",
                        "category_l1": level1,
                        "category_l2": level2,
                        "key_problem": "是" if n % 3 == 0 else "否",
                        "common_problem": "",  # computed from categories and tags
                        "fix_now": "否",
                        "root_cause": "制度执行不严",
                        "source": "inspection",
                        "measure": f"措施{t}",
                        "responsible_leader": "分管负责同志",
                        "lead_department": "办公室",
                        "cooperating_departments": "财务处",
                        "responsible_person": f"责任人{t}",
                        "due_on": date(2024, 12, 31).isoformat(),
                        "long_term": "否",
                    }
                )
                rows += 1
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--tasks-per-item", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="xunshi-import-"))
    items_csv = work / "items.csv"
    tasks = sheet(items_csv, args.items, args.tasks_per_item)
    seconds = []
    for _ in range(args.repeat):
        db = work / "import.db"
        build(db)
        app = bootstrap(Settings(db_url=f"sqlite:///{db}", actor="bench"), ManualClock(START))
        began = time.perf_counter()
        result = app.services.items.import_items(items_csv, actor="bench")
        seconds.append(time.perf_counter() - began)
        assert (result.items, result.tasks) == (args.items, tasks), result
        assert app.services.audit.verify().ok
        app.db.dispose()
        print(f"  imported {result.items:,} items, {result.tasks:,} tasks in {seconds[-1]:.2f} s")
    print()
    print("| import (one transaction, all rows checked first) | median | runs |")
    print("|---|---|---|")
    print(
        f"| {args.items:,} items, {tasks:,} tasks | {statistics.median(seconds):.2f} s | "
        + ", ".join(f"{s:.2f}" for s in seconds)
        + " |"
    )


if __name__ == "__main__":
    main()
