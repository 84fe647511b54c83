"""The email channel (#13): one message per escalation to the notified roles' addresses, a
text and an HTML part, a Message-ID from the idempotency key; a server that refuses leaves
the delivery failed with its reason.

The mail server is aiosmtpd on 127.0.0.1 (`notify_fakes.MailServer`): plain, STARTTLS or
SSL with the test certificate in `tests/fixtures/tls`, with or without a login. Both backends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from escalation_helpers import outbox, setup_round, sh, start_case
from notify_fakes import CERT, MailServer

from xunshi.bootstrap import App, bootstrap
from xunshi.config import Settings, Smtp
from xunshi.routes import parse_routes
from xunshi.workflow.clock import ManualClock
from xunshi.workflow.escalation import Raised

ATTEMPTS = 3
BACKOFF = timedelta(seconds=1)
SENDER = "巡视办 <duban@xunshi.example.org>"
ROUTES = parse_routes(
    {
        "roles": {
            "group_leader": {"channels": ["email"], "email": ["zuzhang@example.org"]},
            "office": {
                "channels": ["email"],
                "email": ["duban@example.org", "banzhuren@example.org"],
            },
        },
        "rounds": {
            "2024-R1": {
                "groups": {
                    "G1": {
                        "roles": {
                            "group_leader": {
                                "channels": ["email"],
                                "email": ["g1@example.org"],
                            }
                        }
                    }
                }
            }
        },
    },
    "routes.yaml",
)


@pytest.fixture
def mail_servers() -> Iterator[Callable[..., MailServer]]:
    """Start mail servers for a test; stopped after it."""
    started: list[MailServer] = []

    def start(security: str = "none", login: tuple[str, str] | None = None) -> MailServer:
        server = MailServer(security, login)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def make_app(db_url: str, clock: ManualClock) -> Iterator[Callable[..., App]]:
    """An initialised app on the virtual clock mailing through `server`."""
    apps: list[App] = []

    def make(server: MailServer, login: tuple[str, str] | None = None, **settings: Any) -> App:
        user, password = login or (None, None)
        cafile = str(CERT) if server.security != "none" else None
        smtp = Smtp("127.0.0.1", server.port, server.security, SENDER, user, password, cafile)
        app = bootstrap(
            Settings(
                db_url=db_url,
                actor="tester",
                webhook_attempts=ATTEMPTS,
                webhook_backoff=BACKOFF.total_seconds(),
                webhook_timeout=5,
                smtp=smtp,
                routes=ROUTES,
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


def raise_two(app: App, clock: ManualClock) -> tuple[Raised, Raised]:
    """Case 2024-R1/U01's reminder (group_leader, 09-19) and its 督办 (office, 09-25)."""
    setup_round(app)
    start_case(app)
    clock.set(sh(2024, 9, 19))
    (reminder,) = app.sweeper.sweep().raised
    clock.set(sh(2024, 9, 25))
    (overdue,) = app.sweeper.sweep().raised
    return reminder, overdue


def test_one_message_per_escalation_to_the_routed_addresses_with_text_and_html(
    make_app: Callable[..., App], clock: ManualClock, mail_servers: Callable[..., MailServer]
) -> None:
    server = mail_servers()
    app = make_app(server, desk_url="https://desk.example.org")
    reminder, overdue = raise_two(app, clock)

    result = app.deliverer.deliver()

    assert (result.delivered, result.retrying, result.failed) == (2, 0, 0)
    first, second = server.handler.received
    assert first.mail_from == "duban@xunshi.example.org"
    assert first.rcpt_tos == ("g1@example.org",)  # group G1's own leader address
    assert second.rcpt_tos == ("duban@example.org", "banzhuren@example.org")
    mail = second.message
    assert mail["Subject"] == "【督办】超期督办：2024-R1/U01 单位U01"
    assert mail["From"] == SENDER
    assert mail["To"] == "duban@example.org, banzhuren@example.org"
    assert mail["Message-ID"] == (
        f"<xunshi-escalation-{overdue.instance_id}-{overdue.id}@xunshi.example.org>"
    )
    assert mail["Date"] == "Wed, 25 Sep 2024 00:00:00 +0800"  # sent then, in business time
    assert first.message["Message-ID"] == (
        f"<xunshi-escalation-{reminder.instance_id}-{reminder.id}@xunshi.example.org>"
    )
    assert mail.get_content_type() == "multipart/alternative"
    text, html = mail.iter_parts()
    assert text.get_content_type() == "text/plain"
    # Text travels in its canonical form, CRLF line ends.
    assert text.get_content().replace("\r\n", "\n") == (
        "【督办】超期督办：2024-R1/U01 单位U01\n"
        "案件：2024-R1/U01 单位U01\n"
        "巡视组：G1\n"
        "阶段：巡前准备\n"
        "期限：2024-09-24（已超期 1 天）\n"
        "通知：巡视办\n"
        "请尽快完成“巡前准备”阶段工作，并说明超期原因。\n"
        "查看：https://desk.example.org/cases/2024-R1/U01\n"
        "—— xunshi 巡视督办\n"
    )
    assert html.get_content_type() == "text/html"
    assert html.get_content().startswith(
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"></head><body>'
        "<h3>【督办】超期督办：2024-R1/U01 单位U01</h3><table>"
    )
    assert '<a href="https://desk.example.org/cases/2024-R1/U01">查看详情</a>' in html.get_content()
    # 7-bit transfer encodings only: a server without 8BITMIME takes it as it is.
    assert max(second.raw) < 128
    rows = outbox(app)
    assert [(r["channel"], r["status"]) for r in rows] == [("email", "delivered")] * 2
    assert app.deliverer.deliver().delivered == 0
    assert len(server.handler.received) == 2


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_mail_goes_over_tls_with_a_login(
    make_app: Callable[..., App],
    clock: ManualClock,
    mail_servers: Callable[..., MailServer],
    security: str,
) -> None:
    login = ("duban", "s3cret")
    server = mail_servers(security, login)
    app = make_app(server, login)
    raise_two(app, clock)

    assert app.deliverer.deliver().delivered == 2

    assert server.handler.logins == ["duban", "duban"]
    assert len(server.handler.received) == 2


def test_a_wrong_password_is_a_failed_delivery_with_the_servers_answer(
    make_app: Callable[..., App], clock: ManualClock, mail_servers: Callable[..., MailServer]
) -> None:
    server = mail_servers("starttls", ("duban", "right"))
    app = make_app(server, ("duban", "wrong"))
    raise_two(app, clock)

    result = app.deliverer.deliver()

    assert (result.delivered, result.retrying) == (0, 2)
    assert {r["last_error"] for r in outbox(app)} == {
        "SMTP login refused: 535 5.7.8 Authentication credentials invalid"
    }
    assert server.handler.received == []


def test_a_server_that_refuses_the_message_leaves_it_failed_with_the_reason_then_gives_up(
    make_app: Callable[..., App], clock: ManualClock, mail_servers: Callable[..., MailServer]
) -> None:
    server = mail_servers()
    server.handler.refuse_data = "554 5.7.1 Message rejected as spam"
    app = make_app(server)
    raise_two(app, clock)

    outcomes = []
    for attempt in range(ATTEMPTS + 1):
        outcomes.append(app.deliverer.deliver())
        clock.advance(BACKOFF * 2**attempt)

    assert [(o.retrying, o.failed) for o in outcomes] == [(2, 0), (2, 0), (0, 2), (0, 0)]
    assert {(r["status"], r["last_error"]) for r in outbox(app)} == {
        ("failed", "gave up after 3 attempts: SMTP 554 5.7.1 Message rejected as spam")
    }
    assert server.handler.received == []


def test_a_server_that_refuses_every_recipient_names_them_and_delivers_once_it_takes_them(
    make_app: Callable[..., App], clock: ManualClock, mail_servers: Callable[..., MailServer]
) -> None:
    server = mail_servers()
    server.handler.refuse_rcpt = {
        "duban@example.org": "550 5.1.1 User unknown",
        "banzhuren@example.org": "550 5.1.1 User unknown",
    }
    app = make_app(server)
    _reminder, overdue = raise_two(app, clock)

    first = app.deliverer.deliver()

    assert (first.delivered, first.retrying) == (1, 1)  # the reminder to g1@ went
    row = next(r for r in outbox(app) if r["escalation_id"] == overdue.id)
    assert (row["status"], row["last_error"]) == (
        "pending",
        "every recipient refused: duban@example.org: 550 5.1.1 User unknown; "
        "banzhuren@example.org: 550 5.1.1 User unknown",
    )
    [missed] = first.undelivered
    assert missed.warning().startswith(
        f"warning: 1 notification not delivered to email 127.0.0.1:{server.port}: every recipient"
    )

    server.handler.refuse_rcpt = {}
    clock.advance(BACKOFF)
    assert app.deliverer.deliver().delivered == 1
    assert [m.rcpt_tos for m in server.handler.received] == [
        ("g1@example.org",),
        ("duban@example.org", "banzhuren@example.org"),
    ]
    keys = {m.message["Message-ID"] for m in server.handler.received}
    assert len(keys) == 2


def test_a_message_some_recipients_took_is_delivered_and_not_repeated(
    make_app: Callable[..., App], clock: ManualClock, mail_servers: Callable[..., MailServer]
) -> None:
    server = mail_servers()
    server.handler.refuse_rcpt = {"banzhuren@example.org": "550 5.1.1 User unknown"}
    app = make_app(server)
    raise_two(app, clock)

    assert app.deliverer.deliver().delivered == 2

    assert server.handler.received[1].rcpt_tos == ("duban@example.org",)
    clock.advance(timedelta(hours=1))
    assert app.deliverer.deliver().delivered == 0
    assert len(server.handler.received) == 2


def test_a_mail_server_that_is_down_is_retried_with_the_reason(
    make_app: Callable[..., App], clock: ManualClock, mail_servers: Callable[..., MailServer]
) -> None:
    server = mail_servers()
    server.stop()
    app = make_app(server)
    raise_two(app, clock)

    assert app.deliverer.deliver().retrying == 2

    assert {r["last_error"] for r in outbox(app)} == {
        f"cannot reach 127.0.0.1:{server.port}: Connection refused"
    }


def test_a_tls_server_whose_certificate_is_not_trusted_is_a_failed_attempt(
    db_url: str, clock: ManualClock, mail_servers: Callable[..., MailServer]
) -> None:
    server = mail_servers("ssl")
    smtp = Smtp("127.0.0.1", server.port, "ssl", SENDER)  # the system's CAs only
    app = bootstrap(
        Settings(db_url=db_url, actor="tester", smtp=smtp, routes=ROUTES, webhook_timeout=5),
        clock=clock,
    )
    try:
        app.services.definitions.init("tester")
        raise_two(app, clock)

        assert app.deliverer.deliver().retrying == 2

        (error,) = {r["last_error"] for r in outbox(app)}
        assert error.startswith(f"TLS with 127.0.0.1:{server.port} failed: ")
        assert "CERTIFICATE_VERIFY_FAILED" in error
    finally:
        app.db.dispose()
