"""The channel objects the settings configure, by name (what the outbox's `channel` says)."""

from __future__ import annotations

from pathlib import Path

from xunshi.config import CHANNEL_SETTINGS, Settings
from xunshi.errors import BadInput
from xunshi.workflow.clock import Clock
from xunshi.workflow.mail import EmailChannel
from xunshi.workflow.notify import Channel, FileChannel, LogChannel, WebhookChannel
from xunshi.workflow.robots import DingTalkChannel, FeishuChannel, RobotChannel, WeComChannel

ROBOTS: dict[str, type[RobotChannel]] = {
    "wecom": WeComChannel,
    "dingtalk": DingTalkChannel,
    "feishu": FeishuChannel,
}


def build_channels(settings: Settings, clock: Clock) -> dict[str, Channel]:
    """Every configured channel (the log when none is), by name."""
    return {name: build_channel(name, settings, clock) for name in settings.channels}


def build_channel(name: str, settings: Settings, clock: Clock) -> Channel:
    """The channel called `name`, if the settings configure it; else BadInput naming them."""
    s = settings
    if name == "log":
        return LogChannel()
    if name == "file" and s.notify_file:
        return FileChannel(Path(s.notify_file))
    if name == "webhook" and s.webhook_url:
        return WebhookChannel(s.webhook_url, s.webhook_timeout)
    robot = {"wecom": s.wecom, "dingtalk": s.dingtalk, "feishu": s.feishu}.get(name)
    if robot is not None:
        return ROBOTS[name](
            robot.url,
            secret=robot.secret,
            timeout=s.webhook_timeout,
            now=clock.now,
            desk_url=s.desk_url,
        )
    if name == "email" and s.smtp is not None:
        return EmailChannel(
            s.smtp, timeout=s.webhook_timeout, now=clock.now, tz=s.tz, desk_url=s.desk_url
        )
    known = ("log", "file", "webhook", *ROBOTS, "email")
    if name not in known:
        raise BadInput(f"unknown channel {name!r} (channels: {', '.join(known)})")
    setting = {"file": "XUNSHI_NOTIFY_FILE", "webhook": "XUNSHI_WEBHOOK_URL", **CHANNEL_SETTINGS}[
        name
    ]
    raise BadInput(f"channel {name} is not configured: set {setting}")
