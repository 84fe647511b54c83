"""`serve` and `scheduler run` take the connection settings as options too (over the
XUNSHI_* variables), on either side of --db."""

from __future__ import annotations

import pytest
from cli_harness import Cli

from xunshi.config import Settings


def test_the_long_running_commands_take_the_settings_as_options(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    seen: list[Settings] = []

    def fake_run(application: object, **_options: object) -> None:
        seen.append(application.state.desk.services.settings)  # type: ignore[attr-defined]
        application.state.desk.services.close()  # type: ignore[attr-defined]

    monkeypatch.setattr(uvicorn, "run", fake_run)
    cli.out("init")
    # The options hold whichever side of --db they are given on.
    cli.run("serve", "--pool-size", "7", "--lock-timeout", "2", "--statement-timeout", "30")
    assert (seen[-1].pool_size, seen[-1].lock_timeout, seen[-1].statement_timeout) == (7, 2, 30)
    assert cli.usage("serve", "--lock-timeout", "0") == (
        "Error: Invalid value for '--lock-timeout': must be a positive number of seconds."
    )
    assert "--pool-size" in cli.out("scheduler", "run", "--help")
