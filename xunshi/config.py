"""Settings: every option from the command line or a `XUNSHI_*` environment variable."""

from __future__ import annotations

import getpass
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from xunshi.errors import BadInput

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
    "XUNSHI_WEBHOOK_ATTEMPTS": "delivery attempts before a notification is given up (default 6)",
    "XUNSHI_WEBHOOK_BACKOFF": "seconds before the first retry, doubling after (default 30)",
    "XUNSHI_WEBHOOK_TIMEOUT": "seconds to wait for the webhook to answer (default 10)",
    "XUNSHI_LEASE": "seconds a sweeper may hold a claimed timer (default 60)",
}


@dataclass(frozen=True)
class Settings:
    """Everything the wiring needs; built once at start-up."""

    db_url: str = DEFAULT_DB_URL
    timezone: str = DEFAULT_TIMEZONE
    actor: str = "system"
    debug: bool = False
    notify_file: str | None = None
    webhook_url: str | None = None
    webhook_attempts: int = 6
    webhook_backoff: float = 30.0
    webhook_timeout: float = 10.0
    lease_seconds: float = 60.0
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def channels(self) -> list[str]:
        """Notification channels: file and webhook when configured, else the log."""
        names = [n for n, on in (("file", self.notify_file), ("webhook", self.webhook_url)) if on]
        return names or ["log"]

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
        return cls(
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
            extra={k: v for k, v in env.items() if k.startswith("XUNSHI_")},
        )


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


def _webhook_url(raw: str | None) -> str | None:
    """The URL as given, once it is one a POST can go to: http(s), a host, a valid port."""
    if raw is None:
        return None
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 -- reading it checks it
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput("XUNSHI_WEBHOOK_URL is not an http(s) URL")
    if any(c.isspace() for c in raw):
        raise BadInput("XUNSHI_WEBHOOK_URL is not an http(s) URL")
    return raw


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "system"
