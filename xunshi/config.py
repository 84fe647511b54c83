"""Settings: every option from the command line or a `XUNSHI_*` environment variable."""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from xunshi.errors import BadInput

DEFAULT_DB_URL = "sqlite:///xunshi.db"
DEFAULT_TIMEZONE = "Asia/Shanghai"

# Listed in `xunshi --help`; each is read by `Settings.from_env`.
ENVIRONMENT: dict[str, str] = {
    "XUNSHI_DB": f"database URL (default {DEFAULT_DB_URL})",
    "XUNSHI_TZ": f"business time zone (default {DEFAULT_TIMEZONE})",
    "XUNSHI_ACTOR": "who is acting when a command has no --actor (default: login name)",
    "XUNSHI_DEBUG": "1 to log tracebacks and SQL timing to stderr",
}


@dataclass(frozen=True)
class Settings:
    """Everything the wiring needs; built once at start-up."""

    db_url: str = DEFAULT_DB_URL
    timezone: str = DEFAULT_TIMEZONE
    actor: str = "system"
    debug: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)

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
            extra={k: v for k, v in env.items() if k.startswith("XUNSHI_")},
        )


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "system"
