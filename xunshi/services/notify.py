"""`xunshi notify test CHANNEL`: one test message through a channel people read, now.

The message goes straight to the channel (no outbox, no escalation: nothing is written) and
the platform's answer comes back: `errcode 0: ok` from a robot, `250 …` from a mail server,
or `NotDelivered` with the platform's reason (`errcode 310000: keywords not in content`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from xunshi.config import Settings
from xunshi.errors import BadInput, NotDelivered
from xunshi.routes import ROUTED_CHANNELS, parse_address
from xunshi.workflow.channels import build_channel
from xunshi.workflow.clock import Clock
from xunshi.workflow.mail import EmailChannel
from xunshi.workflow.messages import notify_test_message
from xunshi.workflow.notify import DeliveryFailed
from xunshi.workflow.robots import RobotChannel


@dataclass(frozen=True, slots=True)
class TestSent:
    """A test message the platform accepted, and what it answered."""

    __test__ = False  # not a pytest test class, whatever its name

    channel: str
    target: str  # where (host, or SMTP server), never the robot's token
    answer: str
    to: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "channel": self.channel,
            "target": self.target,
            "to": list(self.to),
            "answer": self.answer,
        }


class NotifyService:
    """Trying the notification channels."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    def test(self, channel: str, *, role: str | None = None, to: Sequence[str] = ()) -> TestSent:
        """Send one test message through `channel` now; what the platform answered."""
        if channel not in ROUTED_CHANNELS:
            people = ", ".join(ROUTED_CHANNELS)
            if channel in ("log", "file", "webhook"):
                raise BadInput(
                    f"notify test sends to the channels people read ({people}); "
                    f"{channel} carries xunshi's own records"
                )
            raise BadInput(f"unknown channel {channel!r} (notify test: {people})")
        if to and channel != "email":
            raise BadInput("--to is for the email channel: robots post to their group")
        sender = build_channel(channel, self.settings, self.clock)
        now = self.clock.now()
        message = notify_test_message(
            channel, role, now.astimezone(self.settings.tz), self.settings.desk_url
        )
        try:
            if isinstance(sender, EmailChannel):
                recipients = self._recipients(role, to)
                key = f"xunshi-test-{now.astimezone(UTC).strftime('%Y%m%dT%H%M%S%fZ')}"
                answer = sender.send_message(message, key, recipients)
                return TestSent(channel, sender.target, answer, recipients)
            assert isinstance(sender, RobotChannel)
            return TestSent(channel, sender.target, sender.send_message(message))
        except DeliveryFailed as exc:
            raise NotDelivered(f"{channel} did not deliver the test message: {exc}") from None

    def _recipients(self, role: str | None, to: Sequence[str]) -> tuple[str, ...]:
        """`--to` addresses, else the addresses the routes give the role."""
        if to:
            return tuple(dict.fromkeys(parse_address(a, "--to") for a in to))
        if role is None:
            raise BadInput("notify test email needs --role ROLE or --to ADDRESS: who gets it")
        routes = self.settings.routes
        found = routes.addresses(role) if routes is not None else ()
        if not found:
            source = routes.source if routes is not None else "XUNSHI_ROUTES"
            raise BadInput(f"role {role} has no email addresses in {source}")
        return found
