"""Long reads run outside write transactions: sealing verifies every chain in a read
transaction, so writers go on meanwhile (on SQLite they would otherwise wait for the whole
verification, or time out), and the seal covers the heads it verified."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from worlds import ROUND, World

from xunshi.bootstrap import App
from xunshi.services.audit import AuditService
from xunshi.workflow.clock import ManualClock


def test_a_writer_is_not_held_up_while_a_seal_verifies(
    app: App, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    World(app, clock).case("U01")
    original = AuditService._verify
    written: list[Any] = []

    def verify_while_someone_writes(
        self: AuditService, conn: Any, progress: Any = None, workers: int | None = 1
    ) -> Any:
        report = original(self, conn, progress, workers)

        def write() -> None:
            try:
                written.append(
                    app.services.cases.record_milestone(
                        f"{ROUND}/U01", "briefings_received", actor="张组长", role="group_leader"
                    )
                )
            except Exception as exc:  # asserted below
                written.append(exc)

        writer = threading.Thread(target=write)
        writer.start()
        writer.join(5)  # the seal waits for the writer: a writer waiting for it would hang
        assert not writer.is_alive(), "the writer waited for the seal"
        return report

    monkeypatch.setattr(AuditService, "_verify", verify_while_someone_writes)
    seal = app.services.audit.seal("审计员")
    monkeypatch.undo()
    [change] = written
    assert not isinstance(change, Exception), change
    assert seal.events == 1  # what was verified: the case's first event, not the later one
    assert app.services.audit.verify(seal.digest).ok  # the sealed head is still in the chain
