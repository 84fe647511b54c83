"""Delivering escalation notifications: webhook retries, giving up, the file channel (§5).

The webhook is a local `ThreadingHTTPServer` that answers 503 to its first N requests and
200 after; the deliverer runs on the virtual clock, which the tests move past each backoff
(1 s, doubling). Both backends. The escalations are the built-in `regular`'s own: its
default ladder reminds the office (提醒 to office), then tells the leading group.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from escalation_helpers import (
    KEY,
    escalations,
    outbox,
    setup_round,
    sh,
    start_case,
)

from xunshi.bootstrap import App, bootstrap
from xunshi.config import Settings
from xunshi.workflow.clock import ManualClock
from xunshi.workflow.escalation import Raised

ATTEMPTS = 5
BACKOFF = timedelta(seconds=1)
# The case starts 2024-09-02 09:00 in preparation (due 09-24): its reminder fires 09-19.
REMINDER_AT = sh(2024, 9, 19)
# "gave up after 5 attempt(s): …" (DESIGN); "attempts" reads as well.
GAVE_UP = re.compile(rf"gave up after {ATTEMPTS} attempt(?:s|\(s\)): ")
PAYLOAD_KEYS = {
    "escalation",
    "case",
    "subject",
    "stage",
    "task",
    "level",
    "title",
    "notify",
    "due_on",
    "raised_at",
    "provisional",
    # A rung that names its instrument and the role it is addressed to carries both.
    "instrument",
    "recipient",
}


@dataclass
class Hook:
    """A webhook receiver: fails the first `failures` requests with 503, then says 200."""

    failures: int
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        """Record a request; the status to answer with."""
        with self.lock:
            self.requests.append((headers, body))
            return 503 if len(self.requests) <= self.failures else 200


def _handler(hook: Hook) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            status = hook.answer({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    return Handler


@pytest.fixture
def serve() -> Iterator[Callable[[int], tuple[str, Hook]]]:
    """Start a local webhook failing its first N requests; its URL and recorder."""
    servers: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(failures: int) -> tuple[str, Hook]:
        hook = Hook(failures)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hook))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}/hook", hook

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def make_app(db_url: str, clock: ManualClock) -> Iterator[Callable[..., App]]:
    """Build an initialised app on the virtual clock with notification settings."""
    apps: list[App] = []

    def make(**settings: Any) -> App:
        app = bootstrap(
            Settings(
                db_url=db_url,
                actor="tester",
                webhook_attempts=ATTEMPTS,
                webhook_backoff=BACKOFF.total_seconds(),
                webhook_timeout=5,
                **settings,
            ),
            clock=clock,
        )
        app.services.definitions.init("tester")
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.db.dispose()


def raise_reminder(app: App, clock: ManualClock) -> Raised:
    """Start case 2024-R1/U01 and sweep when its reminder is due; that escalation."""
    setup_round(app)
    start_case(app)
    clock.set(REMINDER_AT)
    result = app.sweeper.sweep()
    assert result.raised is not None
    assert [r.level for r in result.raised] == [0]
    return result.raised[0]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_webhook_that_recovers_gets_the_notification_once_with_one_key(
    make_app: Callable[..., App], clock: ManualClock, serve: Callable[[int], tuple[str, Hook]]
) -> None:
    url, hook = serve(2)
    app = make_app(webhook_url=url)
    raised = raise_reminder(app, clock)

    first = app.deliverer.deliver()
    again = app.deliverer.deliver()  # the backoff has not passed
    clock.advance(BACKOFF - timedelta(milliseconds=1))
    still = app.deliverer.deliver()
    clock.advance(timedelta(milliseconds=1))
    second = app.deliverer.deliver()
    clock.advance(2 * BACKOFF)
    third = app.deliverer.deliver()
    clock.advance(timedelta(hours=1))
    after = app.deliverer.deliver()

    assert [(r.delivered, r.retrying, r.failed) for r in (first, again, still, second)] == [
        (0, 1, 0),
        (0, 0, 0),
        (0, 0, 0),
        (0, 1, 0),
    ]
    assert (third.delivered, third.retrying, third.failed) == (1, 0, 0)
    assert (after.delivered, after.retrying, after.failed) == (0, 0, 0)
    assert len(hook.requests) == 3
    key = f"xunshi-escalation-{raised.instance_id}-{raised.id}"
    assert [h["idempotency-key"] for h, _ in hook.requests] == [key, key, key]
    assert {h["content-type"] for h, _ in hook.requests} == {"application/json; charset=utf-8"}
    bodies = [json.loads(body) for _, body in hook.requests]
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0] == {
        "escalation": raised.id,
        "case": KEY,
        "subject": f"case {KEY}",
        "stage": "preparation",
        "task": None,
        "level": 0,
        "title": "到期提醒",
        "notify": ["office"],
        "due_on": "2024-09-24",
        "raised_at": "2024-09-19T00:00:00+08:00",
        "provisional": False,
        "instrument": "提醒",
        "recipient": "office",
    }
    (row,) = outbox(app)
    assert (row["channel"], row["status"], row["attempts"]) == ("webhook", "delivered", 3)
    assert row["idempotency_key"] == key
    assert row["delivered_at"] == REMINDER_AT + 3 * BACKOFF
    assert row["last_error"] is None


def test_a_webhook_that_never_recovers_is_given_up_after_the_last_attempt(
    make_app: Callable[..., App], clock: ManualClock, serve: Callable[[int], tuple[str, Hook]]
) -> None:
    url, hook = serve(1000)
    app = make_app(webhook_url=url)
    raised = raise_reminder(app, clock)

    outcomes = []
    for attempt in range(ATTEMPTS + 2):
        outcomes.append(app.deliverer.deliver())
        clock.advance(BACKOFF * 2**attempt)

    assert [(o.retrying, o.failed) for o in outcomes] == [
        (1, 0),
        (1, 0),
        (1, 0),
        (1, 0),
        (0, 1),
        (0, 0),
        (0, 0),
    ]
    assert len(hook.requests) == ATTEMPTS
    (row,) = outbox(app)
    assert (row["status"], row["attempts"], row["delivered_at"]) == ("failed", ATTEMPTS, None)
    assert GAVE_UP.match(row["last_error"]), row["last_error"]
    assert row["last_error"].endswith(": HTTP 503 Service Unavailable")
    # The escalation itself is recorded whatever happens to its notification.
    assert [x["id"] for x in escalations(app)] == [raised.id]
    history = list(app.services.read.history.of(KEY).events)
    assert [e.data.get("escalation") for e in history if e.kind == "escalation"] == [raised.id]


def test_the_backoff_doubles_after_each_failure(
    make_app: Callable[..., App], clock: ManualClock, serve: Callable[[int], tuple[str, Hook]]
) -> None:
    url, _ = serve(1000)
    app = make_app(webhook_url=url)
    raise_reminder(app, clock)

    waits = []
    for _ in range(ATTEMPTS - 1):
        app.deliverer.deliver()
        (row,) = outbox(app)
        waits.append(row["next_attempt_at"] - clock.now())
        assert row["last_error"] == "HTTP 503 Service Unavailable"
        clock.set(row["next_attempt_at"])

    assert waits == [BACKOFF, 2 * BACKOFF, 4 * BACKOFF, 8 * BACKOFF]


def test_a_webhook_that_is_down_is_retried_then_given_up(
    make_app: Callable[..., App], clock: ManualClock
) -> None:
    url = f"http://127.0.0.1:{_free_port()}/hook"
    app = make_app(webhook_url=url)
    raise_reminder(app, clock)

    results = []
    for attempt in range(ATTEMPTS):
        results.append(app.deliverer.deliver())
        (row,) = outbox(app)
        if attempt < ATTEMPTS - 1:
            assert row["last_error"].startswith(f"cannot reach {url}: ")
        clock.advance(BACKOFF * 2**attempt)

    assert [(r.retrying, r.failed) for r in results] == [(1, 0)] * (ATTEMPTS - 1) + [(0, 1)]
    (row,) = outbox(app)
    assert row["status"] == "failed"
    assert GAVE_UP.match(row["last_error"]), row["last_error"]
    assert f": cannot reach {url}: " in row["last_error"]
    assert len(escalations(app)) == 1


def test_the_file_channel_appends_json_lines_with_the_idempotency_key(
    make_app: Callable[..., App], clock: ManualClock, tmp_path: Path
) -> None:
    path = tmp_path / "notify.jsonl"
    app = make_app(notify_file=str(path))
    raised = raise_reminder(app, clock)
    clock.set(sh(2024, 9, 25))
    later = app.sweeper.sweep().raised
    assert later is not None
    assert [r.level for r in later] == [1]

    result = app.deliverer.deliver()

    assert (result.delivered, result.retrying, result.failed) == (2, 0, 0)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(n["escalation"], n["level"], n["title"]) for n in lines] == [
        (raised.id, 0, "到期提醒"),
        (later[0].id, 1, "超期提醒"),
    ]
    assert [n["idempotency_key"] for n in lines] == [
        f"xunshi-escalation-{raised.instance_id}-{raised.id}",
        f"xunshi-escalation-{raised.instance_id}-{later[0].id}",
    ]
    assert set(lines[0]) == PAYLOAD_KEYS | {"idempotency_key"}
    assert lines[1]["notify"] == ["office"]
    assert app.deliverer.deliver().delivered == 0
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2


def test_file_and_webhook_each_get_the_notification_under_the_same_key(
    make_app: Callable[..., App],
    clock: ManualClock,
    tmp_path: Path,
    serve: Callable[[int], tuple[str, Hook]],
) -> None:
    url, hook = serve(0)
    path = tmp_path / "notify.jsonl"
    app = make_app(notify_file=str(path), webhook_url=url)
    raised = raise_reminder(app, clock)

    assert app.deliverer.deliver().delivered == 2

    rows = outbox(app)
    assert sorted(r["channel"] for r in rows) == ["file", "webhook"]
    key = f"xunshi-escalation-{raised.instance_id}-{raised.id}"
    assert {r["idempotency_key"] for r in rows} == {key}
    (line,) = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["idempotency_key"] == key
    assert [h["idempotency-key"] for h, _ in hook.requests] == [key]


def test_an_unwritable_notification_file_is_retried_with_the_reason(
    make_app: Callable[..., App], clock: ManualClock, tmp_path: Path
) -> None:
    folder = tmp_path / "not-a-file"
    folder.mkdir()
    app = make_app(notify_file=str(folder))
    raise_reminder(app, clock)

    result = app.deliverer.deliver()

    assert (result.delivered, result.retrying) == (0, 1)
    (row,) = outbox(app)
    assert row["status"] == "pending"
    assert row["last_error"] == f"cannot write {folder}: Is a directory"


def test_a_channel_that_raises_anything_is_a_failed_attempt_not_a_failed_pass(
    make_app: Callable[..., App], clock: ManualClock, tmp_path: Path
) -> None:
    app = make_app(notify_file=str(tmp_path / "n.jsonl"))
    raise_reminder(app, clock)

    class Broken:
        name = "file"
        target = "somewhere"

        def send(self, payload: Any, key: str) -> None:
            raise RuntimeError("the channel's own bug")

    app.deliverer.channels["file"] = Broken()
    result = app.deliverer.deliver()

    assert (result.delivered, result.retrying, result.failed) == (0, 1, 0)
    [missed] = result.undelivered
    assert missed.warning() == (
        "warning: 1 notification not delivered to file somewhere: "
        "RuntimeError: the channel's own bug"
    )
    (row,) = outbox(app)
    assert (row["status"], row["last_error"]) == ("pending", "RuntimeError: the channel's own bug")
