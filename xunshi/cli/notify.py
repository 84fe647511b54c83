"""`xunshi notify test CHANNEL`: try a channel people read, and see the platform's answer."""

from __future__ import annotations

import click

from xunshi.cli import render
from xunshi.cli.root import State, XunshiGroup, pass_state


@click.group(cls=XunshiGroup)
def notify() -> None:
    """Notification channels (robots, email)."""


@notify.command("test")
@click.argument("channel", metavar="CHANNEL")
@click.option("--role", help="The role the message is for (email: its routed addresses).")
@click.option(
    "--to", "to", multiple=True, metavar="ADDRESS", help="Email this address (repeatable)."
)
@pass_state
def notify_test(state: State, channel: str, role: str | None, to: tuple[str, ...]) -> None:
    """Send one test message through CHANNEL (wecom, dingtalk, feishu, email) now."""
    # The database is not needed: nothing is written, the message goes straight out.
    sent = state.services(initialised=False).notify.test(channel, role=role, to=to)
    render.emit(state, sent.to_json(), lambda: render.notify_answer(sent))
