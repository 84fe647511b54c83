"""Group robots (#13): WeCom, DingTalk and Feishu get their platform's message, signed where
the platform signs, and an HTTP 200 carrying an error code is a failed delivery.

Each robot is a local HTTP server (`notify_fakes.RobotServer`) that records the exact
request and answers from a script; the deliverer runs on the virtual clock, which the tests
move past each backoff (1 s, doubling). Both backends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from escalation_helpers import KEY, outbox, setup_round, sh, start_case
from notify_fakes import (
    OK,
    Robots,
    dingtalk_signature,
    feishu_signature,
    free_port,
    robots,
)

from xunshi.bootstrap import App, bootstrap
from xunshi.config import Robot, Settings
from xunshi.routes import parse_routes
from xunshi.workflow.clock import ManualClock
from xunshi.workflow.escalation import Raised
from xunshi.workflow.messages import Message
from xunshi.workflow.robots import DingTalkChannel

ATTEMPTS = 5
BACKOFF = timedelta(seconds=1)
# Case 2024-R1/U01 starts 2024-09-02 in preparation (due 09-24); its reminder fires 09-19.
REMINDER_AT = sh(2024, 9, 19)
DESK = "https://desk.example.org"
WECOM = "/cgi-bin/webhook/send?key=693a91f6-test-key"
DINGTALK = "/robot/send?access_token=dt-test-token"
FEISHU = "/open-apis/bot/v2/hook/fs-test-hook"
# The reminder of the case's first stage, as every robot shows it.
REMINDER_TITLE = "【提醒】到期提醒：2024-R1/U01 单位U01"
REMINDER_FACTS = [
    ("案件", "2024-R1/U01 单位U01"),
    ("巡视组", "G1"),
    ("阶段", "巡前准备"),
    ("期限", "2024-09-24（还有 5 天）"),
    ("通知", "巡视组组长"),
]
REMINDER_ACTION = "请于 2024-09-24 前完成“巡前准备”阶段工作。"
REMINDER_MARKDOWN = "\n".join(
    [
        f"**{REMINDER_TITLE}**",
        *(f"**{label}**：{value}" for label, value in REMINDER_FACTS),
        REMINDER_ACTION,
        f"[查看详情]({DESK}/cases/2024-R1/U01)",
        "—— xunshi 巡视督办",
    ]
)

robot_servers = pytest.fixture(robots)


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
    (raised,) = app.sweeper.sweep().raised
    assert raised.level == 0
    return raised


def test_wecom_gets_a_markdown_message_at_its_webhook(
    make_app: Callable[..., App], clock: ManualClock, robot_servers: Robots
) -> None:
    robot = robot_servers.start()
    app = make_app(wecom=Robot(robot.url(WECOM)), desk_url=DESK)
    raise_reminder(app, clock)

    result = app.deliverer.deliver()

    assert (result.delivered, result.retrying, result.failed) == (1, 0, 0)
    (posted,) = robot.requests
    assert (posted.path, posted.query) == ("/cgi-bin/webhook/send", {"key": "693a91f6-test-key"})
    assert posted.headers["content-type"] == "application/json; charset=utf-8"
    assert posted.json == {"msgtype": "markdown", "markdown": {"content": REMINDER_MARKDOWN}}
    (row,) = outbox(app)
    assert (row["channel"], row["status"], row["attempts"]) == ("wecom", "delivered", 1)


def test_a_signed_dingtalk_robot_gets_timestamp_and_signature_in_its_url(
    make_app: Callable[..., App], clock: ManualClock, robot_servers: Robots
) -> None:
    robot = robot_servers.start()
    secret = "SEC0123456789abcdef"
    app = make_app(dingtalk=Robot(robot.url(DINGTALK), secret), desk_url=DESK)
    raise_reminder(app, clock)

    assert app.deliverer.deliver().delivered == 1

    (posted,) = robot.requests
    timestamp = str(int(REMINDER_AT.timestamp() * 1000))  # milliseconds
    assert posted.path == "/robot/send"
    assert posted.query == {
        "access_token": "dt-test-token",
        "timestamp": timestamp,
        "sign": dingtalk_signature(timestamp, secret),
    }
    assert posted.headers["content-type"] == "application/json; charset=utf-8"
    assert posted.json == {
        "msgtype": "markdown",
        "markdown": {"title": REMINDER_TITLE, "text": REMINDER_MARKDOWN.replace("\n", "\n\n")},
    }


def test_the_dingtalk_signature_is_url_encoded() -> None:
    # A signature with `+`, `/` and `=` in it arrives intact only if the URL encodes them.
    channel = DingTalkChannel(
        "https://oapi.dingtalk.com/robot/send?access_token=t",
        secret="SECx",
        timeout=1,
        now=lambda: REMINDER_AT,
    )
    signs = []
    for millis in range(50):
        moment = REMINDER_AT + timedelta(milliseconds=millis)
        url, _ = channel.request(Message("t", (), "a"), moment)
        timestamp = str(int(moment.timestamp() * 1000))
        sign = dingtalk_signature(timestamp, "SECx")
        signs.append(sign)
        encoded = sign.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
        assert url == (
            "https://oapi.dingtalk.com/robot/send?access_token=t"
            f"&timestamp={timestamp}&sign={encoded}"
        )
    assert any("+" in s or "/" in s for s in signs)  # the encoding was put to the test


def test_an_unsigned_dingtalk_robot_gets_its_url_as_configured(
    make_app: Callable[..., App], clock: ManualClock, robot_servers: Robots
) -> None:
    robot = robot_servers.start()
    app = make_app(dingtalk=Robot(robot.url(DINGTALK)))
    raise_reminder(app, clock)

    assert app.deliverer.deliver().delivered == 1

    (posted,) = robot.requests
    assert posted.query == {"access_token": "dt-test-token"}
    assert "查看详情" not in posted.json["markdown"]["text"]  # no desk, no link


def test_a_signed_feishu_robot_gets_a_post_message_with_timestamp_and_signature(
    make_app: Callable[..., App], clock: ManualClock, robot_servers: Robots
) -> None:
    robot = robot_servers.start((200, {"code": 0, "msg": "success", "data": {}}))
    secret = "fs-secret-0123"
    app = make_app(feishu=Robot(robot.url(FEISHU), secret), desk_url=DESK)
    raise_reminder(app, clock)

    assert app.deliverer.deliver().delivered == 1

    (posted,) = robot.requests
    timestamp = str(int(REMINDER_AT.timestamp()))  # seconds
    assert (posted.path, posted.query) == (FEISHU, {})
    assert posted.headers["content-type"] == "application/json; charset=utf-8"
    assert posted.json == {
        "timestamp": timestamp,
        "sign": feishu_signature(timestamp, secret),
        "msg_type": "post",
        "content": {
            "post": {
                "zh_cn": {
                    "title": REMINDER_TITLE,
                    "content": [
                        *([{"tag": "text", "text": f"{k}：{v}"}] for k, v in REMINDER_FACTS),
                        [{"tag": "text", "text": REMINDER_ACTION}],
                        [{"tag": "a", "text": "查看详情", "href": f"{DESK}/cases/2024-R1/U01"}],
                        [{"tag": "text", "text": "—— xunshi 巡视督办"}],
                    ],
                }
            }
        },
    }


ERRORS = [
    pytest.param(
        "wecom",
        WECOM,
        {"errcode": 93000, "errmsg": "invalid webhook url"},
        OK,
        "errcode 93000: invalid webhook url",
        id="wecom",
    ),
    pytest.param(
        "dingtalk",
        DINGTALK,
        {"errcode": 310000, "errmsg": "keywords not in content"},
        OK,
        "errcode 310000: keywords not in content",
        id="dingtalk",
    ),
    pytest.param(
        "feishu",
        FEISHU,
        {"code": 19021, "msg": "sign match fail or timestamp is not within one hour", "data": {}},
        {"code": 0, "msg": "success", "data": {}},
        "code 19021: sign match fail or timestamp is not within one hour",
        id="feishu",
    ),
]


@pytest.mark.parametrize(("channel", "path", "refusal", "success", "reason"), ERRORS)
def test_an_error_code_in_a_200_is_a_failed_delivery_retried_under_the_same_key(
    make_app: Callable[..., App],
    clock: ManualClock,
    robot_servers: Robots,
    channel: str,
    path: str,
    refusal: dict[str, Any],
    success: dict[str, Any],
    reason: str,
) -> None:
    robot = robot_servers.start((200, refusal), (200, success))
    app = make_app(**{channel: Robot(robot.url(path), "s3cret" if channel != "wecom" else None)})
    raised = raise_reminder(app, clock)
    key = f"xunshi-escalation-{raised.instance_id}-{raised.id}"

    first = app.deliverer.deliver()

    assert (first.delivered, first.retrying, first.failed) == (0, 1, 0)
    (row,) = outbox(app)
    assert (row["status"], row["attempts"], row["last_error"]) == ("pending", 1, reason)
    assert row["idempotency_key"] == key
    [missed] = first.undelivered
    assert missed.warning() == (
        f"warning: 1 notification not delivered to {channel} http://127.0.0.1:{robot.port}: "
        f"{reason}"
    )
    (view,) = app.services.read.escalations.many()
    assert [d.label for d in view.deliveries] == [f"{channel} 重试中(1)"]

    clock.advance(BACKOFF)
    second = app.deliverer.deliver()
    clock.advance(timedelta(hours=1))
    after = app.deliverer.deliver()

    assert (second.delivered, second.retrying, second.failed) == (1, 0, 0)
    assert (after.delivered, after.retrying, after.failed) == (0, 0, 0)
    assert len(robot.requests) == 2
    assert robot.accepted == 1  # exactly one message in the group
    # The same message both times (a signed robot's timestamp and signature aside).
    first_body, second_body = ({**r.json, "timestamp": 0, "sign": 0} for r in robot.requests)
    assert first_body == second_body
    (row,) = outbox(app)
    assert (row["status"], row["attempts"], row["last_error"]) == ("delivered", 2, None)
    assert row["idempotency_key"] == key
    (view,) = app.services.read.escalations.many()
    assert [d.label for d in view.deliveries] == [f"{channel} 已送达"]


def test_a_robot_that_keeps_refusing_is_given_up_with_its_code(
    make_app: Callable[..., App], clock: ManualClock, robot_servers: Robots
) -> None:
    robot = robot_servers.start((200, {"errcode": 310000, "errmsg": "keywords not in content"}))
    app = make_app(dingtalk=Robot(robot.url(DINGTALK)))
    raise_reminder(app, clock)

    outcomes = []
    for attempt in range(ATTEMPTS + 1):
        outcomes.append(app.deliverer.deliver())
        clock.advance(BACKOFF * 2**attempt)

    assert [(o.retrying, o.failed) for o in outcomes] == [(1, 0)] * 4 + [(0, 1), (0, 0)]
    assert len(robot.requests) == ATTEMPTS
    assert robot.accepted == 0
    (row,) = outbox(app)
    assert row["status"] == "failed"
    assert row["last_error"] == "gave up after 5 attempts: errcode 310000: keywords not in content"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ((200, b"<html>busy</html>"), "answer is not JSON: <html>busy</html>"),
        ((200, {"ok": True}), 'unexpected answer: {"ok": true}'),
        ((200, []), "unexpected answer: []"),
        ((500, {"errcode": -1, "errmsg": "system busy"}), "HTTP 500 Internal Server Error"),
        (
            (200, {"errcode": 45009, "errmsg": "api freq out of limit"}),
            "errcode 45009: api freq out of limit",
        ),
    ],
)
def test_anything_but_a_zero_code_is_a_failed_attempt_with_the_reason(
    make_app: Callable[..., App],
    clock: ManualClock,
    robot_servers: Robots,
    answer: tuple[int, Any],
    reason: str,
) -> None:
    robot = robot_servers.start(answer)
    app = make_app(wecom=Robot(robot.url(WECOM)))
    raise_reminder(app, clock)

    assert app.deliverer.deliver().retrying == 1

    (row,) = outbox(app)
    assert (row["status"], row["last_error"]) == ("pending", reason)


def test_an_older_feishu_robot_answering_statuscode_is_understood(
    make_app: Callable[..., App], clock: ManualClock, robot_servers: Robots
) -> None:
    robot = robot_servers.start(
        (200, {"StatusCode": 9499, "StatusMessage": "Bad Request"}),
        (200, {"Extra": None, "StatusCode": 0, "StatusMessage": "success"}),
    )
    app = make_app(feishu=Robot(robot.url(FEISHU)))
    raise_reminder(app, clock)

    app.deliverer.deliver()
    (row,) = outbox(app)
    assert row["last_error"] == "code 9499: Bad Request"
    clock.advance(BACKOFF)
    assert app.deliverer.deliver().delivered == 1
    assert "timestamp" not in robot.requests[0].json  # not signed without a secret


def test_a_robot_that_is_down_is_named_by_its_host_never_its_token(
    make_app: Callable[..., App], clock: ManualClock
) -> None:
    port = free_port()
    app = make_app(dingtalk=Robot(f"http://127.0.0.1:{port}{DINGTALK}", "SECtoken"))
    raise_reminder(app, clock)

    result = app.deliverer.deliver()

    (row,) = outbox(app)
    assert row["last_error"].startswith(f"cannot reach http://127.0.0.1:{port}: ")
    assert "dt-test-token" not in row["last_error"]
    assert "SECtoken" not in row["last_error"]
    [missed] = result.undelivered
    assert "dt-test-token" not in missed.warning()


# -- routing -------------------------------------------------------------------------------


def test_routes_send_each_role_to_its_channels_and_the_feeds_get_everything(
    make_app: Callable[..., App], clock: ManualClock, robot_servers: Robots, tmp_path: Path
) -> None:
    wecom, dingtalk, feishu = robot_servers.start(), robot_servers.start(), robot_servers.start()
    routes = parse_routes(
        {
            "roles": {
                "group_leader": {"channels": ["dingtalk"]},
                "office": {"channels": ["wecom", "feishu"]},
            },
            "rounds": {"2024-r1": {"roles": {"office": {"channels": ["wecom"]}}}},
        },
        "routes.yaml",
    )
    app = make_app(
        wecom=Robot(wecom.url(WECOM)),
        dingtalk=Robot(dingtalk.url(DINGTALK)),
        feishu=Robot(feishu.url(FEISHU)),
        notify_file=str(tmp_path / "n.jsonl"),
        routes=routes,
    )
    reminder = raise_reminder(app, clock)  # group_leader
    clock.set(sh(2024, 9, 25))
    (overdue,) = app.sweeper.sweep().raised  # level 1: office

    assert app.deliverer.deliver().delivered == 4

    rows = {(r["escalation_id"], r["channel"]) for r in outbox(app)}
    assert rows == {
        (reminder.id, "file"),
        (reminder.id, "dingtalk"),
        (overdue.id, "file"),
        (overdue.id, "wecom"),  # the round's route for office: wecom only
    }
    assert (len(wecom.requests), len(dingtalk.requests), len(feishu.requests)) == (1, 1, 0)
    assert (
        wecom.requests[0]
        .json["markdown"]["content"]
        .startswith(f"**【督办】超期督办：{KEY} 单位U01**")
    )
