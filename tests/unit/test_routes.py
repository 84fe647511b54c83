"""Routes (roles → channels and addresses, per round and group) and the notification
settings, each checked at start-up with one line naming the setting and the entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from xunshi.config import Settings
from xunshi.errors import BadInput
from xunshi.routes import Destinations, Route, Router, load_routes, parse_routes

ROUTES = """\
roles:
  office: {channels: [wecom, email], email: [duban@example.org, ban2@example.org]}
  group_leader: {channels: [dingtalk]}
  leading_group: {channels: [email], email: [lingdao@example.org]}
default: {channels: [feishu]}
rounds:
  2025-R1:
    roles:
      group_leader: {channels: [feishu]}
    groups:
      G2:
        roles:
          group_leader: {channels: [email], email: [g2@example.org]}
          office: {channels: []}
"""
ROBOTS = {
    "XUNSHI_WECOM_URL": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
    "XUNSHI_DINGTALK_URL": "https://oapi.dingtalk.com/robot/send?access_token=t",
    "XUNSHI_FEISHU_URL": "https://open.feishu.cn/open-apis/bot/v2/hook/h",
}
SMTP = {"XUNSHI_SMTP_HOST": "mail.example.org", "XUNSHI_SMTP_FROM": "duban@example.org"}


@pytest.fixture
def routes_file(tmp_path: Path) -> Path:
    """The routes above, in a file."""
    path = tmp_path / "routes.yaml"
    path.write_text(ROUTES, encoding="utf-8")
    return path


def test_the_most_specific_entry_wins_for_each_role(routes_file: Path) -> None:
    routes = load_routes(str(routes_file))

    assert routes.route("office") == Route(
        ("wecom", "email"), ("duban@example.org", "ban2@example.org")
    )
    assert routes.route("group_leader") == Route(("dingtalk",))
    assert routes.route("group_leader", "2025-R1") == Route(("feishu",))
    assert routes.route("group_leader", "2025-r1", "g2") == Route(("email",), ("g2@example.org",))
    assert routes.route("group_leader", "2025-R1", "G1") == Route(("feishu",))  # the round's
    assert routes.route("group_leader", "2024-R2", "G2") == Route(("dingtalk",))  # no such round
    assert routes.route("office", "2025-R1", "G2") == Route(())  # the group says: nothing
    assert routes.route("discipline") == Route(("feishu",))  # listed nowhere: the default


def test_destinations_join_the_notified_roles_channels_and_addresses(routes_file: Path) -> None:
    routes = load_routes(str(routes_file))

    assert routes.destinations(["office", "leading_group"]) == Destinations(
        ("wecom", "email"), ("duban@example.org", "ban2@example.org", "lingdao@example.org")
    )
    assert routes.destinations(["group_leader", "office"], "2025-R1", "G2") == Destinations(
        ("email",), ("g2@example.org",)
    )
    assert routes.channels() == {"wecom", "dingtalk", "feishu", "email"}
    assert routes.addresses("leading_group") == ("lingdao@example.org",)


def test_the_router_adds_the_feeds_and_falls_back_to_the_log(routes_file: Path) -> None:
    routes = load_routes(str(routes_file))
    people = ("wecom", "dingtalk", "feishu", "email")

    with_feeds = Router(("file", "webhook"), people, routes)
    assert with_feeds.destinations(["office"], "2025-R1", "G2") == Destinations(("file", "webhook"))
    assert with_feeds.destinations(["group_leader"]) == Destinations(
        ("file", "webhook", "dingtalk")
    )
    alone = Router((), people, routes)
    assert alone.destinations(["office"], "2025-R1", "G2") == Destinations(("log",))
    assert alone.destinations(["group_leader"], "2025-R1", "G2") == Destinations(
        ("email",), ("g2@example.org",)
    )
    # Without routes every robot gets everything; nothing at all configured: the log.
    assert Router(("file",), ("wecom", "feishu")).destinations(["x"]) == Destinations(
        ("file", "wecom", "feishu")
    )
    assert Router().destinations(["office"]) == Destinations(("log",))


def test_codes_and_names_in_the_file_stay_text() -> None:
    routes = parse_routes(
        {"rounds": {"2025": {"groups": {"on": {"roles": {"office": {"channels": ["wecom"]}}}}}}},
        "r.yaml",
    )
    assert routes.route("office", "2025", "ON") == Route(("wecom",))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- office\n", "r.yaml: expected a mapping, got a list"),
        ("rolse: {}\n", "r.yaml: unknown key 'rolse' (allowed: default, roles, rounds)"),
        (
            "roles: {office: {channels: [wechat]}}\n",
            "r.yaml: roles.office.channels: unknown channel 'wechat' "
            "(wecom, dingtalk, feishu, email)",
        ),
        (
            "roles: {office: {channels: [file]}}\n",
            "r.yaml: roles.office.channels: unknown channel 'file' "
            "(wecom, dingtalk, feishu, email)",
        ),
        (
            "roles: {office: {channels: wecom}}\n",
            "r.yaml: roles.office.channels: expected a list of names, got str 'wecom'",
        ),
        (
            "roles: {office: {channels: [email]}}\n",
            "r.yaml: roles.office: channel email without addresses (email: [...])",
        ),
        (
            "roles: {office: {channels: [wecom], email: [a@example.org]}}\n",
            "r.yaml: roles.office: email addresses but no channel email in channels",
        ),
        (
            "roles: {office: {channels: [email], email: [duban]}}\n",
            "r.yaml: roles.office.email: 'duban' is not an email address",
        ),
        (
            "roles: {office: {channel: [wecom]}}\n",
            "r.yaml: roles.office: unknown key 'channel' (allowed: channels, email)",
        ),
        ("roles: {组长: {channels: [wecom]}}\n", "r.yaml: roles: '组长' is not a role name"),
        (
            "rounds: {2025/R1: {roles: {}}}\n",
            "r.yaml: rounds.2025/R1: '2025/R1' is not a code (letters, digits, . _ -)",
        ),
        (
            "rounds: {R1: {roles: {}}, r1: {roles: {}}}\n",
            "r.yaml: rounds.r1: round r1 is listed twice",
        ),
        (
            "rounds: {R1: {groups: {G1: {roles: {}}, g1: {}}}}\n",
            "r.yaml: rounds.R1.groups.g1: group g1 is listed twice",
        ),
        (
            "rounds: {R1: {groups: {G1: {default: {channels: [wecom]}}}}}\n",
            "r.yaml: rounds.R1.groups.G1: unknown key 'default' (allowed: roles)",
        ),
        (
            "roles: {office: [\n",
            "r.yaml line 2: expected the node content, but found '<stream end>'",
        ),
    ],
)
def test_a_bad_routes_file_is_one_line_naming_the_entry(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(BadInput) as caught:
        load_routes(str(path))

    assert caught.value.message == f"XUNSHI_ROUTES: {message}".replace("r.yaml", str(path))


def test_a_routes_file_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    with pytest.raises(BadInput) as caught:
        load_routes(str(tmp_path / "nowhere.yaml"))
    assert caught.value.message == (
        f"XUNSHI_ROUTES: cannot read {tmp_path / 'nowhere.yaml'}: No such file or directory"
    )


# -- settings ----------------------------------------------------------------------------


def test_robots_smtp_routes_and_desk_are_read_from_the_environment(routes_file: Path) -> None:
    settings = Settings.from_env(
        {
            **ROBOTS,
            "XUNSHI_DINGTALK_SECRET": "SECabc",
            "XUNSHI_FEISHU_SECRET": "fs-secret",
            **SMTP,
            "XUNSHI_SMTP_SECURITY": "SSL",
            "XUNSHI_SMTP_USER": "duban",
            "XUNSHI_SMTP_PASSWORD": "pw",
            "XUNSHI_ROUTES": str(routes_file),
            "XUNSHI_DESK_URL": "https://desk.example.org/xunshi/",
            "XUNSHI_NOTIFY_FILE": "n.jsonl",
        }
    )

    assert settings.wecom is not None and settings.wecom.secret is None
    assert settings.dingtalk is not None and settings.dingtalk.secret == "SECabc"
    assert settings.feishu is not None and settings.feishu.secret == "fs-secret"
    assert settings.smtp is not None
    assert (settings.smtp.security, settings.smtp.port, settings.smtp.user) == ("ssl", 465, "duban")
    assert "pw" not in repr(settings.smtp)
    assert settings.desk_url == "https://desk.example.org/xunshi"
    assert settings.channels == ["file", "wecom", "dingtalk", "feishu", "email"]
    assert settings.router.feeds == ("file",)


@pytest.mark.parametrize(
    ("security", "port"), [(None, 587), ("starttls", 587), ("ssl", 465), ("none", 25)]
)
def test_the_smtp_port_follows_the_security_unless_given(
    routes_file: Path, security: str | None, port: int
) -> None:
    env = {**SMTP, "XUNSHI_ROUTES": str(routes_file), **ROBOTS}
    if security:
        env["XUNSHI_SMTP_SECURITY"] = security
    smtp = Settings.from_env(env).smtp
    assert smtp is not None and smtp.port == port
    smtp = Settings.from_env({**env, "XUNSHI_SMTP_PORT": "2525"}).smtp
    assert smtp is not None and smtp.port == 2525


BAD_SETTINGS = [
    ({"XUNSHI_WECOM_URL": "qyapi.weixin.qq.com/x"}, "XUNSHI_WECOM_URL is not an http(s) URL"),
    ({"XUNSHI_DINGTALK_URL": "ftp://x/y"}, "XUNSHI_DINGTALK_URL is not an http(s) URL"),
    ({"XUNSHI_FEISHU_SECRET": "s"}, "XUNSHI_FEISHU_SECRET is set without XUNSHI_FEISHU_URL"),
    (
        {**ROBOTS, "XUNSHI_DINGTALK_SECRET": "SEC abc"},
        "XUNSHI_DINGTALK_SECRET has spaces in it: copy the secret exactly",
    ),
    ({"XUNSHI_DESK_URL": "desk"}, "XUNSHI_DESK_URL is not an http(s) URL"),
    ({"XUNSHI_SMTP_FROM": "a@example.org"}, "XUNSHI_SMTP_FROM is set without XUNSHI_SMTP_HOST"),
    (
        {"XUNSHI_SMTP_HOST": "mail.example.org"},
        "XUNSHI_SMTP_HOST is set without XUNSHI_SMTP_FROM (the sender address)",
    ),
    (
        {**SMTP, "XUNSHI_SMTP_HOST": "smtp://mail"},
        "XUNSHI_SMTP_HOST='smtp://mail' is not a host name",
    ),
    (
        {**SMTP, "XUNSHI_SMTP_SECURITY": "tls"},
        "XUNSHI_SMTP_SECURITY='tls' is not starttls, ssl or none",
    ),
    ({**SMTP, "XUNSHI_SMTP_PORT": "smtp"}, "XUNSHI_SMTP_PORT='smtp' is not a number"),
    ({**SMTP, "XUNSHI_SMTP_PORT": "70000"}, "XUNSHI_SMTP_PORT=70000 is not a port (1–65535)"),
    ({**SMTP, "XUNSHI_SMTP_FROM": "巡视办"}, "XUNSHI_SMTP_FROM='巡视办' is not an email address"),
    ({**SMTP, "XUNSHI_SMTP_USER": "u"}, "XUNSHI_SMTP_USER is set without XUNSHI_SMTP_PASSWORD"),
    ({**SMTP, "XUNSHI_SMTP_PASSWORD": "p"}, "XUNSHI_SMTP_PASSWORD is set without XUNSHI_SMTP_USER"),
    (
        {**SMTP, "XUNSHI_SMTP_USER": "u", "XUNSHI_SMTP_PASSWORD": "口令"},
        "XUNSHI_SMTP_PASSWORD must be ASCII: SMTP logins send nothing else",
    ),
    (
        {**SMTP, "XUNSHI_SMTP_CAFILE": "/nowhere/ca.pem"},
        "XUNSHI_SMTP_CAFILE: /nowhere/ca.pem is not a file",
    ),
    (
        {**SMTP, "XUNSHI_SMTP_SECURITY": "none", "XUNSHI_SMTP_CAFILE": __file__},
        "XUNSHI_SMTP_CAFILE is set but XUNSHI_SMTP_SECURITY is none",
    ),
    (
        SMTP,
        "XUNSHI_SMTP_HOST is set but no route sends email: give the roles' addresses in "
        "XUNSHI_ROUTES (channels: [email], email: [...])",
    ),
]


@pytest.mark.parametrize(("env", "message"), BAD_SETTINGS)
def test_a_bad_notification_setting_is_one_line_naming_it(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(BadInput) as caught:
        Settings.from_env(env)
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("missing", "setting"),
    [
        ("XUNSHI_WECOM_URL", "XUNSHI_WECOM_URL"),
        ("XUNSHI_DINGTALK_URL", "XUNSHI_DINGTALK_URL"),
        ("XUNSHI_FEISHU_URL", "XUNSHI_FEISHU_URL"),
    ],
)
def test_routes_to_a_channel_that_is_not_configured_are_refused(
    routes_file: Path, missing: str, setting: str
) -> None:
    env = {**ROBOTS, **SMTP, "XUNSHI_ROUTES": str(routes_file)}
    del env[missing]
    channel = missing.removeprefix("XUNSHI_").removesuffix("_URL").lower()

    with pytest.raises(BadInput) as caught:
        Settings.from_env(env)

    assert caught.value.message == (
        f"XUNSHI_ROUTES: {routes_file} routes to {channel}, but {setting} is not set"
    )


def test_routes_that_send_email_need_the_smtp_server(routes_file: Path) -> None:
    with pytest.raises(BadInput) as caught:
        Settings.from_env({**ROBOTS, "XUNSHI_ROUTES": str(routes_file)})
    assert caught.value.message == (
        f"XUNSHI_ROUTES: {routes_file} routes to email, but XUNSHI_SMTP_HOST is not set"
    )
