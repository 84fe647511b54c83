"""Alembic's environment for xunshi: run the migrations on the connection xunshi hands over.

`xunshi.storage.migrate` opens the transaction (and takes the lock) before calling Alembic,
so that stamping a legacy database and every revision commit or roll back together; Alembic
sees a connection already in a transaction and leaves its ending to xunshi.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "xunshi migrations run through xunshi.storage.migrate, with a connection "
        "in config.attributes['connection']"
    )
context.configure(
    connection=connection,
    # SQLite cannot ALTER most things; batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
