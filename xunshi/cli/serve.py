"""`xunshi serve`: the web desk over the same database, for people who sign in."""

from __future__ import annotations

import click

from xunshi.cli.options import connection_options
from xunshi.cli.root import DaemonCommand, State, pass_state


@click.command("serve", cls=DaemonCommand)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@connection_options
@pass_state
def serve(state: State, host: str, port: int) -> None:
    """Serve the web desk (pages and the JSON API under /api/v1) until interrupted."""
    # Imported here: only `serve` pays for the web framework and the server.
    import uvicorn

    from xunshi.web.app import create_app

    state.services()  # refuse a database not at this xunshi's schema, in one line
    app = create_app(state.settings)
    click.echo(f"Serving the desk on http://{host}:{port}/ (Ctrl-C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
