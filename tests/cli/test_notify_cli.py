"""`xunshi notify test CHANNEL` and `escalate` with robots, email and routes (#13).

The robots are local HTTP servers and the mail server is aiosmtpd (`notify_fakes`); the CLI
runs on the system clock, so a test message's time and a signature's timestamp are checked
against the moment the test ran.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_harness import Cli, check_exit
from notify_fakes import MailServer, Robots, dingtalk_signature, feishu_signature, robots

WECOM = "/cgi-bin/webhook/send?key=cli-test-key"
DINGTALK = "/robot/send?access_token=cli-test-token"
FEISHU = "/open-apis/bot/v2/hook/cli-test-hook"
SENT_AT = re.compile(r"\*\*时间\*\*：\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00")
ROUTES = """\
roles:
  group_leader: {channels: [dingtalk]}
  office: {channels: [wecom, email], email: [duban@example.org, banzhuren@example.org]}
  leading_group: {channels: [email], email: [lingdao@example.org]}
"""
TEST_MARKDOWN = [
    "**【测试】xunshi 通知测试**",
    "**渠道**：{channel}",
    "**角色**：office",
    "TIME",
    "这是一条测试消息：收到即说明督办通知可以送达本群或本邮箱，无需处理。",
    "—— xunshi 巡视督办",
]

robot_servers = pytest.fixture(robots)


@pytest.fixture
def mail() -> Iterator[MailServer]:
    """A plain local mail server."""
    server = MailServer()
    yield server
    server.stop()


@pytest.fixture
def routes(tmp_path: Path) -> Path:
    """The routes file of these tests."""
    path = tmp_path / "routes.yaml"
    path.write_text(ROUTES, encoding="utf-8")
    return path


def masked(markdown: str) -> list[str]:
    """The lines of a test message, its time line replaced by `TIME`."""
    return [("TIME" if SENT_AT.fullmatch(line) else line) for line in markdown.split("\n")]


# -- notify test -------------------------------------------------------------------------


def test_notify_test_posts_one_message_and_prints_the_answer(
    cli: Cli, robot_servers: Robots
) -> None:
    robot = robot_servers.start()
    env = {"XUNSHI_WECOM_URL": robot.url(WECOM)}

    out = cli.out("notify", "test", "wecom", "--role", "office", env=env)

    assert out == f"wecom (http://127.0.0.1:{robot.port}): errcode 0: ok\n"
    (posted,) = robot.requests
    assert posted.query == {"key": "cli-test-key"}
    assert posted.json["msgtype"] == "markdown"
    content = posted.json["markdown"]["content"]
    assert masked(content) == [line.format(channel="wecom") for line in TEST_MARKDOWN]
    assert not cli.path.exists()  # nothing written: no database needed, none made


def test_notify_test_signs_for_a_signed_dingtalk_robot(cli: Cli, robot_servers: Robots) -> None:
    robot = robot_servers.start()
    env = {"XUNSHI_DINGTALK_URL": robot.url(DINGTALK), "XUNSHI_DINGTALK_SECRET": "SECcli"}
    before = time.time()

    cli.out("notify", "test", "dingtalk", "--role", "office", env=env)

    (posted,) = robot.requests
    timestamp = posted.query["timestamp"]
    assert before * 1000 - 1000 <= int(timestamp) <= time.time() * 1000
    assert posted.query["sign"] == dingtalk_signature(timestamp, "SECcli")
    assert posted.json["markdown"]["title"] == "【测试】xunshi 通知测试"


def test_notify_test_json_gives_the_platforms_answer(cli: Cli, robot_servers: Robots) -> None:
    robot = robot_servers.start((200, {"code": 0, "msg": "success", "data": {}}))
    env = {"XUNSHI_FEISHU_URL": robot.url(FEISHU), "XUNSHI_FEISHU_SECRET": "fs"}

    answer = cli.json("notify", "test", "feishu", env=env)

    assert answer == {
        "channel": "feishu",
        "target": f"http://127.0.0.1:{robot.port}",
        "to": [],
        "answer": "code 0: success",
    }
    (posted,) = robot.requests
    assert posted.json["sign"] == feishu_signature(posted.json["timestamp"], "fs")
    lines = posted.json["content"]["post"]["zh_cn"]["content"]
    assert [line[0]["text"] for line in lines][:1] == ["渠道：feishu"]  # no role given


def test_notify_test_refused_by_the_platform_is_one_error_line_with_its_reason(
    cli: Cli, robot_servers: Robots
) -> None:
    robot = robot_servers.start((200, {"errcode": 310000, "errmsg": "keywords not in content"}))
    env = {"XUNSHI_DINGTALK_URL": robot.url(DINGTALK)}

    message = cli.fail("notify", "test", "dingtalk", env=env)

    assert message == (
        "dingtalk did not deliver the test message: errcode 310000: keywords not in content"
    )


def test_notify_test_email_goes_to_the_roles_addresses(
    cli: Cli, mail: MailServer, routes: Path, robot_servers: Robots
) -> None:
    env = {
        **mail.env,
        "XUNSHI_ROUTES": str(routes),
        "XUNSHI_WECOM_URL": robot_servers.start().url(WECOM),
        "XUNSHI_DINGTALK_URL": robot_servers.start().url(DINGTALK),
    }

    out = cli.out("notify", "test", "email", "--role", "office", env=env)
    to_one = cli.out("notify", "test", "email", "--to", "ceshi@example.org", env=env)

    assert out == (
        f"email (127.0.0.1:{mail.port}) to duban@example.org, banzhuren@example.org: "
        "250 2.0.0 Ok: queued as Q1\n"
    )
    assert to_one == (
        f"email (127.0.0.1:{mail.port}) to ceshi@example.org: 250 2.0.0 Ok: queued as Q2\n"
    )
    first, second = mail.handler.received
    assert first.rcpt_tos == ("duban@example.org", "banzhuren@example.org")
    assert second.rcpt_tos == ("ceshi@example.org",)
    message = first.message
    assert message["Subject"] == "【测试】xunshi 通知测试"
    assert re.fullmatch(r"<xunshi-test-\d{8}T\d{12}Z@xunshi\.example\.org>", message["Message-ID"])
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sms"], "unknown channel 'sms' (notify test: wecom, dingtalk, feishu, email)"),
        (
            ["file"],
            "notify test sends to the channels people read (wecom, dingtalk, feishu, email); "
            "file carries xunshi's own records",
        ),
        (["feishu"], "channel feishu is not configured: set XUNSHI_FEISHU_URL"),
        (
            ["wecom", "--to", "a@example.org"],
            "--to is for the email channel: robots post to their group",
        ),
        (["email"], "notify test email needs --role ROLE or --to ADDRESS: who gets it"),
        (["email", "--role", "discipline"], "role discipline has no email addresses in FILE"),
        (["email", "--to", "duban"], "--to: 'duban' is not an email address"),
    ],
)
def test_notify_test_refuses_what_it_cannot_do(
    cli: Cli,
    mail: MailServer,
    routes: Path,
    robot_servers: Robots,
    args: list[str],
    message: str,
) -> None:
    env = {
        **mail.env,
        "XUNSHI_ROUTES": str(routes),
        "XUNSHI_WECOM_URL": robot_servers.start().url(WECOM),
        "XUNSHI_DINGTALK_URL": robot_servers.start().url(DINGTALK),
    }

    assert cli.fail("notify", "test", *args, env=env) == message.replace("FILE", str(routes))
    assert mail.handler.received == []


def test_notify_test_with_a_bad_setting_says_which(cli: Cli) -> None:
    message = cli.fail("notify", "test", "dingtalk", env={"XUNSHI_DINGTALK_SECRET": "SECx"})

    assert message == "XUNSHI_DINGTALK_SECRET is set without XUNSHI_DINGTALK_URL"


# -- escalate ------------------------------------------------------------------------------


def test_escalate_routes_each_role_to_its_robots_and_addresses(
    world: Cli, mail: MailServer, routes: Path, robot_servers: Robots
) -> None:
    wecom, dingtalk = robot_servers.start(), robot_servers.start()
    env = {
        **mail.env,
        "XUNSHI_ROUTES": str(routes),
        "XUNSHI_WECOM_URL": wecom.url(WECOM),
        "XUNSHI_DINGTALK_URL": dingtalk.url(DINGTALK),
        "XUNSHI_DESK_URL": "https://desk.example.org",
    }

    result = world.run("escalate", env=env)

    assert result.stderr == ""
    listed = world.json("escalations", "list", env=env)
    assert [(e["level"], [d["channel"] for d in e["deliveries"]]) for e in listed] == [
        (0, ["dingtalk"]),  # group_leader
        (1, ["email", "wecom"]),  # office
        (2, ["email"]),  # leading_group
        (3, ["email"]),  # leading_group; discipline and organization are routed nowhere
    ]
    assert {d["status"] for e in listed for d in e["deliveries"]} == {"delivered"}
    assert "dingtalk 已送达" in world.out("escalations", "list", env=env)
    assert (len(dingtalk.requests), len(wecom.requests)) == (1, 1)
    assert wecom.requests[0].json["markdown"]["content"].splitlines()[0] == (
        "**【督办】超期督办：2024-R1/U01 示例市财政局**"
    )
    assert [m.rcpt_tos for m in mail.handler.received] == [
        ("duban@example.org", "banzhuren@example.org"),
        ("lingdao@example.org",),
        ("lingdao@example.org",),
    ]
    assert [m.message["Subject"] for m in mail.handler.received] == [
        "【督办】超期督办：2024-R1/U01 示例市财政局",
        "【告诫】超期告诫：2024-R1/U01 示例市财政局",
        "【问责】问责约谈：2024-R1/U01 示例市财政局",
    ]
    assert world.out("escalate", env=env) == "No escalation due.\n"
    assert len(mail.handler.received) == 3  # delivered once, never again


def test_a_robot_refusing_never_fails_the_sweep_and_says_why(
    world: Cli, robot_servers: Robots
) -> None:
    robot = robot_servers.start((200, {"errcode": 310000, "errmsg": "keywords not in content"}))
    env = {"XUNSHI_DINGTALK_URL": robot.url(DINGTALK)}

    result = check_exit(world.invoke(["--db", world.url, "escalate"], env), 0)

    assert result.stderr == (
        f"warning: 4 notifications not delivered to dingtalk http://127.0.0.1:{robot.port}: "
        "errcode 310000: keywords not in content\n"
    )
    assert "dingtalk 重试中(1)" in world.out("escalations", "list", env=env)


@pytest.mark.parametrize(
    ("routes_text", "message"),
    [
        (
            "roles: {office: {channels: [wechat]}}\n",
            "XUNSHI_ROUTES: FILE: roles.office.channels: unknown channel 'wechat' "
            "(wecom, dingtalk, feishu, email)",
        ),
        (
            "roles: {office: {channels: [feishu]}}\n",
            "XUNSHI_ROUTES: FILE routes to feishu, but XUNSHI_FEISHU_URL is not set",
        ),
    ],
)
def test_a_bad_route_is_refused_before_anything_is_written_or_sent(
    world: Cli, robot_servers: Robots, tmp_path: Path, routes_text: str, message: str
) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text(routes_text, encoding="utf-8")
    robot = robot_servers.start()
    env = {"XUNSHI_ROUTES": str(path), "XUNSHI_WECOM_URL": robot.url(WECOM)}

    assert world.fail("escalate", env=env) == message.replace("FILE", str(path))
    assert world.sql("SELECT count(*) FROM escalation") == [(0,)]
    assert robot.requests == []


def test_help_lists_the_notification_settings(cli: Cli) -> None:
    text = check_exit(cli.invoke(["--help"]), 0).stdout

    for variable in (
        "XUNSHI_WECOM_URL",
        "XUNSHI_DINGTALK_URL",
        "XUNSHI_DINGTALK_SECRET",
        "XUNSHI_FEISHU_URL",
        "XUNSHI_FEISHU_SECRET",
        "XUNSHI_SMTP_HOST",
        "XUNSHI_SMTP_PORT",
        "XUNSHI_SMTP_SECURITY",
        "XUNSHI_SMTP_USER",
        "XUNSHI_SMTP_PASSWORD",
        "XUNSHI_SMTP_FROM",
        "XUNSHI_SMTP_CAFILE",
        "XUNSHI_ROUTES",
        "XUNSHI_DESK_URL",
    ):
        assert f"  {variable}  " in text, variable
    assert "notify" in text.split("Commands:\n", 1)[1]
