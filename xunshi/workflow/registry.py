"""Definition versions in the database: register, look up, compile (once per version)."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from xunshi.definitions.schema import Definition, canonical_json, definition_from_dict
from xunshi.errors import BadInput, InvalidDefinition, NotFound, Refused
from xunshi.storage import queries as q
from xunshi.storage.prepared import Prepared
from xunshi.workflow.guards import guard_names
from xunshi.workflow.machine import CompiledDefinition, MachineCache


@dataclass(frozen=True, slots=True)
class DefinitionVersion:
    """One registered version of a definition."""

    name: str
    version: int
    digest: str
    title: str
    subject: str
    loaded_at: datetime
    loaded_by: str
    source_name: str

    @property
    def builtin(self) -> bool:
        """Whether this version came from the bundled definitions (`init`)."""
        return self.source_name.startswith(BUILTIN)


@dataclass(frozen=True, slots=True)
class Registration:
    """The result of loading a definition: which version, and whether it was new."""

    name: str
    version: int
    created: bool
    kept: bool = False  # a built-in not registered: the office's own version stays latest


def parse(text: str, source: str, *, guards: Collection[str] | None = None) -> Definition:
    """Parse and validate definition text, translating problems to InvalidDefinition."""
    # Imported here: the YAML machinery is not needed by commands that only read.
    from xunshi.definitions.loader import DefinitionError, parse_definition

    try:
        return parse_definition(text, source, guards=guard_names() if guards is None else guards)
    except DefinitionError as exc:
        raise InvalidDefinition(source, [str(p) for p in exc.problems]) from exc


BUILTIN = "builtin:"
_LATEST_VERSION = Prepared(q.LATEST_DEFINITION_VERSION)


class Registry:
    """Stored definitions and their compiled machines."""

    def __init__(self) -> None:
        self._machines = MachineCache()
        self._definitions: dict[tuple[str, int], Definition] = {}

    def register(
        self,
        conn: Connection,
        definition: Definition,
        *,
        source: str,
        source_name: str,
        loaded_by: str,
        now: datetime,
        builtin: bool = False,
        replace_builtin: bool = False,
    ) -> Registration:
        """Store `definition` as version N+1 unless the latest version has the same content.

        With `builtin`, a name whose latest version someone loaded from a file of their own
        is left alone: `init` must not put the built-in back over a customised lifecycle.
        A file of one's own may not become a new version of a built-in unless
        `replace_builtin`, and no new version may change what a definition is for.
        """
        latest = conn.execute(q.LATEST_DEFINITION, {"name": definition.name}).mappings().first()
        digest = definition.digest
        if latest is not None and latest["digest"] == digest:
            return Registration(definition.name, latest["version"], created=False)
        if builtin and latest is not None and not latest["source_name"].startswith(BUILTIN):
            return Registration(definition.name, latest["version"], created=False, kept=True)
        if latest is not None and latest["subject"] != definition.subject:
            raise Refused(
                f"definition {definition.name} is for {latest['subject']}s; a new version "
                f"cannot be for {definition.subject}s (give it another name)"
            )
        if not builtin and not replace_builtin and self._is_builtin(conn, definition.name):
            raise Refused(
                f"{definition.name} is a built-in definition: a new version would be the one "
                f"new cases use; load it with --replace-builtin to mean that, or give your "
                "definition another name"
            )
        version = 1 if latest is None else latest["version"] + 1
        # A version number this process saw inside a transaction that rolled back may be
        # cached with other content; the version being written now replaces it.
        self._forget(definition.name, version)
        conn.execute(
            q.definitions.insert(),
            {
                "name": definition.name,
                "version": version,
                "digest": digest,
                "title": definition.title,
                "subject": definition.subject,
                "body": canonical_json(definition.to_dict()),
                "source": source,
                "source_name": source_name,
                "loaded_at": now,
                "loaded_by": loaded_by,
            },
        )
        return Registration(definition.name, version, created=True)

    def _is_builtin(self, conn: Connection, name: str) -> bool:
        """Whether `name` was first registered from the bundled definitions."""
        first = conn.execute(
            select(q.definitions.c.source_name).where(
                q.definitions.c.name == name, q.definitions.c.version == 1
            )
        ).scalar()
        return first is not None and str(first).startswith(BUILTIN)

    def _forget(self, name: str, version: int) -> None:
        self._definitions.pop((name, version), None)
        self._machines.forget(name, version)

    def definition(self, conn: Connection, name: str, version: int) -> Definition:
        """One stored version (cached: versions never change)."""
        key = (name, version)
        found = self._definitions.get(key)
        if found is None:
            row = conn.execute(q.DEFINITION_VERSION, {"name": name, "version": version}).first()
            if row is None:
                raise NotFound(f"definition {name} version {version} is not registered")
            found = definition_from_dict(json.loads(row.body))
            self._definitions[key] = found
        return found

    def latest_version(self, conn: Connection, name: str, subject: str | None = None) -> int:
        """The newest version number of `name`.

        Not found, the message lists the names of `subject`'s definitions (every name
        without one): a typo in `case start` must not offer an item definition.
        """
        row = _LATEST_VERSION.first(conn, {"name": name})
        if row is None:
            known = ", ".join(self.names(conn, subject)) or "none"
            what = "definition" if subject is None else f"{subject} definition"
            raise NotFound(f"no {what} called {name} (registered: {known})")
        return int(row["version"])

    def compiled(self, conn: Connection, name: str, version: int) -> CompiledDefinition:
        """The `transitions` machine for one version, compiled on first use."""
        return self._machines.get(name, version, lambda n, v: self.definition(conn, n, v))

    def names(self, conn: Connection, subject: str | None = None) -> list[str]:
        """Every registered definition name (of `subject` only, if given)."""
        d = q.definitions
        stmt = select(d.c.name).distinct().order_by(d.c.name)
        if subject is not None:
            stmt = stmt.where(d.c.subject == subject)
        return list(conn.execute(stmt).scalars())

    def versions(self, conn: Connection, name: str | None = None) -> list[DefinitionVersion]:
        """Registered versions, newest last (of one name, or all)."""
        d = q.definitions
        stmt = select(
            d.c.name,
            d.c.version,
            d.c.digest,
            d.c.title,
            d.c.subject,
            d.c.loaded_at,
            d.c.loaded_by,
            d.c.source_name,
        ).order_by(d.c.name, d.c.version)
        if name is not None:
            stmt = stmt.where(d.c.name == name)
        return [DefinitionVersion(**row) for row in conn.execute(stmt).mappings()]

    def check_state(self, conn: Connection, subject: str, state: str) -> None:
        """Refuse a state no definition of `subject` declares (a typo must not read as none)."""
        d = q.definitions
        known: set[str] = set()
        for name, version in conn.execute(
            select(d.c.name, d.c.version).where(d.c.subject == subject)
        ):
            known.update(s.name for s in self.definition(conn, name, version).states)
        if state not in known:
            states = ", ".join(sorted(known))
            raise BadInput(f"no {subject} definition has a state called {state} (states: {states})")

    def source(self, conn: Connection, name: str, version: int) -> str:
        """The YAML text a version was loaded from."""
        row = conn.execute(q.DEFINITION_VERSION, {"name": name, "version": version}).first()
        if row is None:
            raise NotFound(f"definition {name} version {version} is not registered")
        return str(row.source)
