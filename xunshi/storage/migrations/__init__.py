"""Alembic migrations of the schema, shipped inside the package.

`xunshi.storage.migrate` runs them programmatically (no alembic.ini): `env.py` receives the
connection of a transaction xunshi has already opened. This module only names the revisions,
without importing Alembic, so that every command can check the database's revision cheaply;
`tests/unit/test_migration_revisions.py` keeps the names equal to the scripts in `versions/`.

To add a revision: copy `script.py.mako` into `versions/NNNN_what_it_does.py` (or run
`alembic.command.revision` with `xunshi.storage.migrate.config()`), write its operations by
hand, and append NNNN to REVISIONS below.
"""

from __future__ import annotations

# oldest first
REVISIONS = (
    "0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010", "0011", "0012",
    "0013",
)  # fmt: skip
HEAD = REVISIONS[-1]

# What a database made before migrations records in `schema_info`, as a revision.
LEGACY_REVISIONS = {"1": "0001"}
