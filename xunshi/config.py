"""Settings: every option from the command line or a `XUNSHI_*` environment variable."""

from __future__ import annotations

import getpass
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from xunshi.errors import BadInput
from xunshi.routes import ROUTED_CHANNELS, Router, Routes, load_routes

N = TypeVar("N", int, float)

DEFAULT_DB_URL = "sqlite:///xunshi.db"
DEFAULT_TIMEZONE = "Asia/Shanghai"

# Listed in `xunshi --help`; each is read by `Settings.from_env`.
ENVIRONMENT: dict[str, str] = {
    "XUNSHI_DB": f"database URL (default {DEFAULT_DB_URL})",
    "XUNSHI_TZ": f"business time zone (default {DEFAULT_TIMEZONE})",
    "XUNSHI_ACTOR": "who is acting when a command has no --actor (default: login name)",
    "XUNSHI_DEBUG": "1 to print tracebacks of failures to stderr",
    "XUNSHI_NOTIFY_FILE": "append escalation notifications to this JSON-lines file",
    "XUNSHI_WEBHOOK_URL": "POST escalation notifications (JSON, Idempotency-Key) to this URL",
    "XUNSHI_WECOM_URL": "WeCom (企业微信) group robot webhook URL",
    "XUNSHI_DINGTALK_URL": "DingTalk (钉钉) group robot webhook URL",
    "XUNSHI_DINGTALK_SECRET": "DingTalk robot signing secret (SEC…), if the robot is signed",
    "XUNSHI_FEISHU_URL": "Feishu (飞书) group robot webhook URL",
    "XUNSHI_FEISHU_SECRET": "Feishu robot signing secret, if the robot is signed",
    "XUNSHI_SMTP_HOST": "SMTP server for the email channel (needs XUNSHI_ROUTES for addresses)",
    "XUNSHI_SMTP_PORT": "SMTP port (default 587 with starttls, 465 with ssl, 25 with none)",
    "XUNSHI_SMTP_SECURITY": "starttls (default), ssl or none",
    "XUNSHI_SMTP_USER": "SMTP login (with XUNSHI_SMTP_PASSWORD)",
    "XUNSHI_SMTP_PASSWORD": "SMTP password",
    "XUNSHI_SMTP_FROM": "sender address of notification emails",
    "XUNSHI_SMTP_CAFILE": "CA certificates (PEM) to trust for the SMTP server, if not the system's",
    "XUNSHI_ROUTES": "YAML file routing each role (per round, group) to channels and addresses",
    "XUNSHI_DESK_URL": "base URL of the desk; messages link to DESK/cases/ROUND/UNIT",
    "XUNSHI_WEBHOOK_ATTEMPTS": "delivery attempts before a notification is given up (default 6)",
    "XUNSHI_WEBHOOK_BACKOFF": "seconds before the first retry, doubling after (default 30)",
    "XUNSHI_WEBHOOK_TIMEOUT": "seconds to wait for a webhook, robot or SMTP server (default 10)",
    "XUNSHI_LEASE": "seconds a sweeper may hold a claimed timer (default 60)",
    "XUNSHI_DELIVERY_LEASE": "seconds a scheduler may hold the notifications it claimed for "
    "delivery before another takes them over (default 120)",
    "XUNSHI_POOL_SIZE": "database connections each process keeps open (default 5; 10 more "
    "under a burst)",
    "XUNSHI_STATEMENT_TIMEOUT": "seconds after which PostgreSQL cancels a statement (default: "
    "the server's)",
    "XUNSHI_LOCK_TIMEOUT": "seconds a command waits for a lock before giving up (PostgreSQL: "
    "default the server's; SQLite: default 10)",
    "XUNSHI_SECRET_KEY": "key signing the web desk's session cookies (at least 32 characters; "
    "default: one made once and kept in the database)",
    "XUNSHI_COMMON_PROBLEM_UNITS": "an item is a common problem (共性问题) when its category and "
    "one of its tags occur in at least this many units of its round (default 3)",
}


SMTP_SECURITY = {"starttls": 587, "ssl": 465, "none": 25}
# Each channel a route may name, and the setting that configures it.
CHANNEL_SETTINGS = {
    "wecom": "XUNSHI_WECOM_URL",
    "dingtalk": "XUNSHI_DINGTALK_URL",
    "feishu": "XUNSHI_FEISHU_URL",
    "email": "XUNSHI_SMTP_HOST",
}


@dataclass(frozen=True)
class Robot:
    """A group robot's webhook, and its signing secret if the robot is signed."""

    url: str
    secret: str | None = None


@dataclass(frozen=True)
class Smtp:
    """The SMTP server of the email channel."""

    host: str
    port: int
    security: str  # starttls | ssl | none
    sender: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    cafile: str | None = None


@dataclass(frozen=True)
class Settings:
    """Everything the wiring needs; built once at start-up."""

    db_url: str = DEFAULT_DB_URL
    timezone: str = DEFAULT_TIMEZONE
    actor: str = "system"
    debug: bool = False
    notify_file: str | None = None
    # Secrets never show in a repr (a traceback, a debug print): webhook URLs carry tokens,
    # robots their keys, SMTP its password, `extra` every XUNSHI_* variable.
    webhook_url: str | None = field(default=None, repr=False)
    webhook_attempts: int = 6
    webhook_backoff: float = 30.0
    webhook_timeout: float = 10.0
    lease_seconds: float = 60.0
    delivery_lease_seconds: float = 120.0
    common_problem_units: int = 3
    pool_size: int = 5
    statement_timeout: float | None = None  # seconds; None: the server's
    lock_timeout: float | None = None  # seconds; None: the server's (SQLite: 10)
    wecom: Robot | None = field(default=None, repr=False)
    dingtalk: Robot | None = field(default=None, repr=False)
    feishu: Robot | None = field(default=None, repr=False)
    smtp: Smtp | None = field(default=None, repr=False)
    routes: Routes | None = None
    desk_url: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    extra: Mapping[str, str] = field(default_factory=dict, repr=False)
    # False only for a throwaway database (the demo's): SQLite commits without waiting for
    # the disk. Never read from the environment.
    durable: bool = True

    @property
    def feeds(self) -> list[str]:
        """The channels of xunshi's own JSON (file, webhook): they get every notification."""
        return [n for n, on in (("file", self.notify_file), ("webhook", self.webhook_url)) if on]

    @property
    def people_channels(self) -> list[str]:
        """The configured channels people read (robots, email), which routes choose among."""
        configured = {
            "wecom": self.wecom,
            "dingtalk": self.dingtalk,
            "feishu": self.feishu,
            "email": self.smtp,
        }
        return [name for name in ROUTED_CHANNELS if configured[name] is not None]

    @property
    def channels(self) -> list[str]:
        """Every configured notification channel; the log when there is none."""
        return [*self.feeds, *self.people_channels] or ["log"]

    @property
    def router(self) -> Router:
        """What chooses each notification's channels and addresses."""
        return Router(tuple(self.feeds), tuple(self.people_channels), self.routes)

    @property
    def tz(self) -> ZoneInfo:
        """The business time zone."""
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise BadInput(f"unknown time zone {self.timezone!r} (XUNSHI_TZ)") from exc

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, db_url: str | None = None
    ) -> Settings:
        """Settings from `XUNSHI_*` variables, an explicit `db_url` taking precedence."""
        env = os.environ if env is None else env
        settings = cls(
            db_url=db_url or env.get("XUNSHI_DB") or DEFAULT_DB_URL,
            timezone=env.get("XUNSHI_TZ") or DEFAULT_TIMEZONE,
            actor=env.get("XUNSHI_ACTOR") or _login_name(),
            debug=env.get("XUNSHI_DEBUG", "") not in ("", "0"),
            notify_file=env.get("XUNSHI_NOTIFY_FILE") or None,
            webhook_url=_webhook_url(env.get("XUNSHI_WEBHOOK_URL") or None),
            webhook_attempts=_number(env, "XUNSHI_WEBHOOK_ATTEMPTS", 6, int),
            webhook_backoff=_number(env, "XUNSHI_WEBHOOK_BACKOFF", 30.0, float),
            webhook_timeout=_number(env, "XUNSHI_WEBHOOK_TIMEOUT", 10.0, float),
            lease_seconds=_number(env, "XUNSHI_LEASE", 60.0, float),
            delivery_lease_seconds=_number(env, "XUNSHI_DELIVERY_LEASE", 120.0, float),
            common_problem_units=_number(env, "XUNSHI_COMMON_PROBLEM_UNITS", 3, int),
            pool_size=_number(env, "XUNSHI_POOL_SIZE", 5, int),
            statement_timeout=_optional(env, "XUNSHI_STATEMENT_TIMEOUT"),
            lock_timeout=_optional(env, "XUNSHI_LOCK_TIMEOUT"),
            wecom=_robot(env, "WECOM", signed=False),
            dingtalk=_robot(env, "DINGTALK", signed=True),
            feishu=_robot(env, "FEISHU", signed=True),
            smtp=_smtp(env),
            routes=load_routes(env["XUNSHI_ROUTES"]) if env.get("XUNSHI_ROUTES") else None,
            desk_url=_desk_url(env.get("XUNSHI_DESK_URL") or None),
            secret_key=_secret_key(env.get("XUNSHI_SECRET_KEY") or None),
            extra={k: v for k, v in env.items() if k.startswith("XUNSHI_")},
        )
        _check_routing(settings)
        return settings


# The largest number a setting may be (seconds, attempts): past it a sleep or a timeout
# overflows, and no office means it.
MAX_SETTING = 1e9


def _number(env: Mapping[str, str], name: str, default: N, kind: Callable[[str], N]) -> N:
    raw = env.get(name)
    if not raw:
        return default
    try:
        # Python reads `１２` and `1_000` as numbers too; a setting is written in ASCII.
        if not raw.strip().isascii() or "_" in raw:
            raise ValueError(raw)
        value = kind(raw)
    except ValueError:
        raise BadInput(f"{name}={raw!r} is not a number") from None
    if not math.isfinite(value) or value <= 0 or value > MAX_SETTING:
        raise BadInput(f"{name} must be a positive number of at most {MAX_SETTING:.0f}, not {raw}")
    return value


def _optional(env: Mapping[str, str], name: str) -> float | None:
    """A positive number of seconds, or None when the variable is unset or empty."""
    return _number(env, name, 0.0, float) if env.get(name) else None


MIN_SECRET_KEY = 32


def _secret_key(raw: str | None) -> str | None:
    """The cookie-signing key as given, once it is long enough to be one."""
    if raw is not None and len(raw.strip()) < MIN_SECRET_KEY:
        raise BadInput(f"XUNSHI_SECRET_KEY must have at least {MIN_SECRET_KEY} characters")
    return raw


def _webhook_url(raw: str | None) -> str | None:
    """The URL as given, once it is one a POST can go to: http(s), a host, a valid port."""
    return None if raw is None else _http_url(raw, "XUNSHI_WEBHOOK_URL")


def _http_url(raw: str, name: str) -> str:
    """`raw` if it is an http(s) URL with a host and a valid port; else `BadInput`."""
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 -- reading it checks it
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(f"{name} is not an http(s) URL")
    if any(c.isspace() for c in raw):
        raise BadInput(f"{name} is not an http(s) URL")
    return raw


def _robot(env: Mapping[str, str], platform: str, *, signed: bool) -> Robot | None:
    """A group robot from `XUNSHI_<PLATFORM>_URL` (and `_SECRET` where the platform signs)."""
    url_name, secret_name = f"XUNSHI_{platform}_URL", f"XUNSHI_{platform}_SECRET"
    url = env.get(url_name) or None
    secret = (env.get(secret_name) or None) if signed else None
    if url is None:
        if secret is not None:
            raise BadInput(f"{secret_name} is set without {url_name}")
        return None
    if secret is not None and (secret != secret.strip() or any(c.isspace() for c in secret)):
        raise BadInput(f"{secret_name} has spaces in it: copy the secret exactly")
    return Robot(_http_url(url, url_name), secret)


def _smtp(env: Mapping[str, str]) -> Smtp | None:
    """The SMTP server, if `XUNSHI_SMTP_HOST` is set; every other SMTP setting checked."""
    host = env.get("XUNSHI_SMTP_HOST") or None
    if host is None:
        stray = [n for n in _SMTP_NAMES if env.get(n)]
        if stray:
            raise BadInput(f"{stray[0]} is set without XUNSHI_SMTP_HOST")
        return None
    if any(c.isspace() or c in "/:@" for c in host):
        raise BadInput(f"XUNSHI_SMTP_HOST={host!r} is not a host name")
    security = (env.get("XUNSHI_SMTP_SECURITY") or "starttls").lower()
    if security not in SMTP_SECURITY:
        raise BadInput(
            f"XUNSHI_SMTP_SECURITY={env['XUNSHI_SMTP_SECURITY']!r} is not starttls, ssl or none"
        )
    port = _number(env, "XUNSHI_SMTP_PORT", SMTP_SECURITY[security], int)
    if port > 65535:
        raise BadInput(f"XUNSHI_SMTP_PORT={port} is not a port (1–65535)")
    sender = env.get("XUNSHI_SMTP_FROM") or None
    if sender is None:
        raise BadInput("XUNSHI_SMTP_HOST is set without XUNSHI_SMTP_FROM (the sender address)")
    sender = _sender(sender)
    user = env.get("XUNSHI_SMTP_USER") or None
    password = env.get("XUNSHI_SMTP_PASSWORD") or None
    if (user is None) != (password is None):
        given, missing = (
            ("XUNSHI_SMTP_USER", "XUNSHI_SMTP_PASSWORD")
            if password is None
            else ("XUNSHI_SMTP_PASSWORD", "XUNSHI_SMTP_USER")
        )
        raise BadInput(f"{given} is set without {missing}")
    for name, value in (("XUNSHI_SMTP_USER", user), ("XUNSHI_SMTP_PASSWORD", password)):
        if value is not None and not value.isascii():
            raise BadInput(f"{name} must be ASCII: SMTP logins send nothing else")
    cafile = env.get("XUNSHI_SMTP_CAFILE") or None
    if cafile is not None:
        if security == "none":
            raise BadInput("XUNSHI_SMTP_CAFILE is set but XUNSHI_SMTP_SECURITY is none")
        if not Path(cafile).is_file():
            raise BadInput(f"XUNSHI_SMTP_CAFILE: {cafile} is not a file")
    return Smtp(host, port, security, sender, user, password, cafile)


_SMTP_NAMES = (
    "XUNSHI_SMTP_PORT",
    "XUNSHI_SMTP_SECURITY",
    "XUNSHI_SMTP_USER",
    "XUNSHI_SMTP_PASSWORD",
    "XUNSHI_SMTP_FROM",
    "XUNSHI_SMTP_CAFILE",
)


def _sender(raw: str) -> str:
    """The sender as given (`duban@example.org` or `巡视办 <duban@example.org>`), checked."""
    # Parsing an address is for the email channel only (start-up time of every command).
    from email.utils import parseaddr

    _name, address = parseaddr(raw)
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in address):
        raise BadInput(f"XUNSHI_SMTP_FROM={raw!r} is not an email address")
    return raw


def _desk_url(raw: str | None) -> str | None:
    """The desk's base URL without a trailing slash."""
    return None if raw is None else _http_url(raw, "XUNSHI_DESK_URL").rstrip("/")


def _check_routing(settings: Settings) -> None:
    """Every channel a route names is configured; email has addresses to go to."""
    routes = settings.routes
    if settings.smtp is not None and (routes is None or "email" not in routes.channels()):
        raise BadInput(
            "XUNSHI_SMTP_HOST is set but no route sends email: give the roles' addresses "
            "in XUNSHI_ROUTES (channels: [email], email: [...])"
        )
    if routes is None:
        return
    configured = set(settings.people_channels)
    for channel in ROUTED_CHANNELS:
        if channel in routes.channels() and channel not in configured:
            raise BadInput(
                f"XUNSHI_ROUTES: {routes.source} routes to {channel}, "
                f"but {CHANNEL_SETTINGS[channel]} is not set"
            )


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "system"
