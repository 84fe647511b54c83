"""The one place that wires concrete things together from Settings.

The core (database, clock, registry, schedule, engine) is built at once; the services are
built on first use, so a command imports only the modules it needs (start-up time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from xunshi.config import Settings
from xunshi.storage.db import Database
from xunshi.workflow.clock import Clock, SystemClock
from xunshi.workflow.engine import Engine
from xunshi.workflow.inspection import Inspection
from xunshi.workflow.registry import BUILTIN, Registration, Registry, parse
from xunshi.workflow.schedule import Schedule
from xunshi.workflow.views import CaseViews

if TYPE_CHECKING:
    from xunshi.workflow.auditor import Auditor
    from xunshi.workflow.calendar import Calendar
    from xunshi.workflow.escalation import Sweeper
    from xunshi.workflow.item_views import ItemViews
    from xunshi.workflow.notify import Deliverer
    from xunshi.workflow.rectification import Rectification
    from xunshi.workflow.schedule import LoadedYear


@dataclass(frozen=True, slots=True)
class InitResult:
    """What `init` did."""

    schema_created: bool
    registrations: list[Registration]


class App:
    """Every service, built once per process from the settings."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.db = Database(settings.db_url, echo=False)
        self.clock = clock or SystemClock()
        self.registry = Registry()
        self.schedule = Schedule(settings.tz, self.registry)
        self.engine = Engine(self.registry, self.clock, settings.tz, self.schedule)
        self.inspection = Inspection(self.db, self.engine)
        self.views = CaseViews(self.engine, self.schedule)

    @cached_property
    def auditor(self) -> Auditor:
        """Verify, seal, export."""
        from xunshi.workflow.auditor import Auditor

        return Auditor(self.db, self.clock)

    @cached_property
    def sweeper(self) -> Sweeper:
        """The escalation sweep."""
        from xunshi.workflow.escalation import Sweeper

        return Sweeper(
            self.db,
            self.engine,
            self.schedule,
            self.clock,
            channels=self.settings.channels,
            worker=self._worker,
            lease=timedelta(seconds=self.settings.lease_seconds),
        )

    @cached_property
    def deliverer(self) -> Deliverer:
        """The outbox delivery."""
        from xunshi.workflow.notify import Deliverer, build_channels

        channels = build_channels(
            self.settings.channels,
            notify_file=self.settings.notify_file,
            webhook_url=self.settings.webhook_url,
            webhook_timeout=self.settings.webhook_timeout,
        )
        return Deliverer(
            self.db,
            self.clock,
            channels,
            worker=self._worker,
            max_attempts=self.settings.webhook_attempts,
            backoff=timedelta(seconds=self.settings.webhook_backoff),
        )

    @cached_property
    def rectification(self) -> Rectification:
        """Items, tasks, categories."""
        from xunshi.workflow.rectification import Rectification

        return Rectification(self.db, self.engine, self.inspection, self.schedule)

    @cached_property
    def items(self) -> ItemViews:
        """Read models of items."""
        from xunshi.workflow.item_views import ItemViews

        return ItemViews(self.engine)

    @cached_property
    def _worker(self) -> str:
        from xunshi.workflow.escalation import worker_name

        return worker_name()

    def init(self, actor: str) -> InitResult:
        """Upgrade the schema and register the built-in definitions (idempotent)."""
        from xunshi.definitions.loader import builtin_sources
        from xunshi.storage.migrate import upgrade

        sources = [(name, text, parse(text, name)) for name, text in builtin_sources()]
        before, after = upgrade(self.db)

        def work(conn: Connection) -> InitResult:
            now = self.clock.now()
            registrations = [
                self.registry.register(
                    conn,
                    definition,
                    source=text,
                    source_name=f"{BUILTIN}{name}",
                    loaded_by=actor,
                    now=now,
                    builtin=True,
                )
                for name, text, definition in sources
            ]
            return InitResult(before != after, registrations)

        return self.db.run(work, immediate=True)

    def load_calendar(self, text: str, source_name: str, actor: str) -> LoadedYear:
        """Store a calendar year file; recompute the deadlines it touches."""
        from xunshi.workflow.calendar import parse_calendar_file

        data = parse_calendar_file(text, source_name)
        return self.db.run(
            lambda conn: self.schedule.load_year(
                conn,
                data,
                calendar="cn",
                source=text,
                source_name=source_name,
                actor=actor,
                now=self.clock.now(),
            ),
            immediate=True,
        )

    def calendar(self) -> Calendar:
        """The `cn` calendar with the years users loaded."""
        with self.db.transaction() as conn:
            return self.schedule.calendar(conn, "cn")

    def now(self) -> datetime:
        """The clock's current instant."""
        return self.clock.now()


def bootstrap(settings: Settings, clock: Clock | None = None) -> App:
    """Build the application: database, clock, registry, engine and services."""
    return App(settings, clock)
