"""`audit verify` and `audit export` stream the history a window of instances at a time: the
same report and the same bytes whatever the window, each window loading only its own rows,
and progress reported as the work goes on (both backends)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from rectification_helpers import Rectifying

from xunshi.bootstrap import App
from xunshi.services import audit as audit_service
from xunshi.services.audit import EXPORT_COLUMNS, export_text
from xunshi.storage import queries as q
from xunshi.workflow.audit import Event, check_chain, event_from_row
from xunshi.workflow.clock import ManualClock
from xunshi.workflow.resolve import instance_keys, label_of

UNITS = ("U01", "U02", "U03", "U04")


@pytest.fixture
def rect(app: App, clock: ManualClock) -> Rectifying:
    """Four cases in rectification, each with two problems (one with a done task, one
    rectifying with an open task): twelve instances, items between their cases' ids."""
    world = Rectifying(app, clock)
    for unit in UNITS:
        world.case(unit)
        for code in ("P01", "P02"):
            item = world.item(unit, code, tags=("承包商管理",) if code == "P01" else ())
            task = world.task(item, date(2024, 12, 31))
            world.begin(item)
            if code == "P01":
                world.done(str(task.id))
    return world


def _report(app: App) -> tuple[int, int, list[str]]:
    report = app.services.audit.verify()
    return report.chains, report.events, [str(p) for p in report.problems]


def _spy(
    monkeypatch: pytest.MonkeyPatch, name: str, seen: list[Any], measure: Callable[[Any], Any]
) -> None:
    """Record `measure(result)` of each call of the service module's function `name`."""
    real = getattr(audit_service, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        seen.append(measure(result))
        return result

    monkeypatch.setattr(audit_service, name, spy)


def test_verify_loads_one_window_of_rows_at_a_time(
    app: App, rect: Rectifying, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _report(app)
    assert whole[0] == 12 and not whole[2]
    monkeypatch.setattr(audit_service, "_WINDOW", 3)
    monkeypatch.setattr(audit_service, "_BATCH", 4)
    labels: list[int] = []
    _spy(monkeypatch, "_labels", labels, len)
    facts: list[int] = []
    _spy(monkeypatch, "_item_facts", facts, len)
    chains_per_window: list[set[int]] = []
    real_events = audit_service.AuditService._events

    def events(self: Any, conn: Any, lo: int | None = None, hi: int | None = None) -> Any:
        ids: set[int] = set()
        chains_per_window.append(ids)
        for event in real_events(self, conn, lo, hi):
            assert (lo is None or event.instance_id >= lo) and (
                hi is None or event.instance_id < hi
            )
            ids.add(event.instance_id)
            yield event

    monkeypatch.setattr(audit_service.AuditService, "_events", events)
    assert _report(app) == whole
    # 12 instances, 3 a window: four windows, each loading the labels, facts and events of
    # at most its three instances, then the open-ended one after them (events of instances
    # without a row would be there), empty here.
    assert len(chains_per_window) == 5 and len(labels) == 5 and not chains_per_window[-1]
    assert max(labels) <= 3 and max(len(ids) for ids in chains_per_window) <= 3
    assert sum(len(ids) for ids in chains_per_window) == 12
    assert sum(facts) == 8 and max(facts) <= 3  # the eight problems' facts, spread


def test_verify_streams_events_in_batches_of_the_batch_size(
    app: App, rect: Rectifying, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes: list[list[int]] = []
    real_batches = audit_service._batches

    def batches(conn: Any, statement: Any) -> Any:
        seen: list[int] = []
        sizes.append(seen)
        for batch in real_batches(conn, statement):
            seen.append(len(batch))
            yield batch

    monkeypatch.setattr(audit_service, "_batches", batches)
    monkeypatch.setattr(audit_service, "_BATCH", 7)
    monkeypatch.setattr(audit_service, "_WINDOW", 5)
    report = app.services.audit.verify()
    assert report.ok
    # Three windows (5 + 5 + the open-ended rest), each read 7 rows at a time.
    assert len(sizes) == 3 and sum(map(sum, sizes)) == report.events
    for window in sizes:
        assert all(size == 7 for size in window[:-1]) and 0 < window[-1] <= 7


def test_the_same_problems_are_found_whatever_the_window(
    app: App, rect: Rectifying, monkeypatch: pytest.MonkeyPatch
) -> None:
    rect.sql("UPDATE rectification_task SET measure = '改过' WHERE id = 1")
    rect.sql("UPDATE rectification_item SET title = '改过的标题' WHERE id = 5")
    rect.sql("UPDATE instance SET state = 'closed' WHERE id = 9")
    rect.sql("UPDATE event SET reason = '改过' WHERE instance_id = 12 AND seq = 2")
    rect.sql("DELETE FROM event WHERE instance_id = 3 AND seq = 2")
    whole = _report(app)
    assert len({p.split(" seq ")[0] for p in whole[2]}) == 5, whole[2]
    for window in (1, 2, 5):
        monkeypatch.setattr(audit_service, "_WINDOW", window)
        assert _report(app) == whole


def test_verify_reports_progress_up_to_every_event(
    app: App, rect: Rectifying, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_service, "_WINDOW", 4)
    seen: list[int] = []
    report = app.services.audit.verify(progress=seen.append)
    # After each window of four instances, then after the (empty) open-ended last one.
    assert len(seen) == 4 and seen[0] < seen[1] < seen[2] == seen[3] == report.events


def _old_export(app: App, fmt: str) -> str:
    """The export as it was written before streaming by windows: every event in one query,
    labels of every instance, each record built from `event_from_row`."""
    out, tz = io.StringIO(), app.settings.tz
    with app.db.transaction() as conn:
        keys = instance_keys(conn)
        labels = {instance_id: label_of(keys, instance_id) for instance_id in keys}
        events = [event_from_row(row) for row in conn.execute(q.ALL_EVENTS).mappings()]
    records = [audit_service._export_record(event, labels, tz) for event in events]
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return out.getvalue()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for record in records:
        record["data"] = json.dumps(record["data"], ensure_ascii=False, sort_keys=True)
        writer.writerow([record[c] for c in EXPORT_COLUMNS])
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_is_byte_identical_whatever_the_window(
    app: App, rect: Rectifying, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    before = _old_export(app, fmt)
    assert "承包商管理" in before and before.count("\n") > 100
    for window in (1, 3, 500):
        monkeypatch.setattr(audit_service, "_WINDOW", window)
        assert export_text(app.services.audit, fmt, app.settings.tz) == before
    seen: list[int] = []
    count = app.services.audit.export(io.StringIO(), fmt, app.settings.tz, seen.append)
    assert seen[-1] == count and count == before.count("\n") - (fmt == "csv")


def test_the_streamed_event_hashes_like_the_stored_row(app: App, rect: Rectifying) -> None:
    """The fast path (stored texts) and the slow one (parsed values) agree on every event,
    and an event whose data text is not canonical still verifies (by the slow path)."""
    with app.db.transaction() as conn:
        rows = conn.execute(q.ALL_EVENTS).mappings().all()
        streamed = list(app.services.audit._events(conn))
    assert len(streamed) == len(rows) > 100
    for row, event in zip(rows, streamed, strict=True):
        assert event == event_from_row(row)
        assert event.stored is not None and event.stored[0] == row["data"]
        assert event.compute_hash() == row["hash"]
        respaced = Event(**{**_fields(event), "stored": (json.dumps(dict(event.data)), None, None)})
        assert respaced.compute_hash() == row["hash"]
    first = streamed[0]
    count, found = check_chain(first.instance_id, "x", [first], None)
    assert count == 1 and [p.reason for p in found] == [
        "history of an instance that does not exist"
    ]


def _fields(event: Event) -> dict[str, Any]:
    return {name: getattr(event, name) for name in Event.__dataclass_fields__ if name != "stored"}
