"""The console entry point (`xunshi`, `python -m xunshi`): the first xunshi code to run."""

from __future__ import annotations

import sys

from xunshi import stopping


def main() -> None:
    """Run the command line; `scheduler run` catches a stop request from its first moment."""
    if stopping.is_daemon(sys.argv[1:]):
        stopping.catch_early()
    # The command line (click, every command group) after the signal handlers are in place.
    from xunshi.cli import main as cli_main

    cli_main()
