"""The one place that wires concrete things together from Settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from xunshi.config import Settings
from xunshi.storage.db import Database
from xunshi.workflow.auditor import Auditor
from xunshi.workflow.calendar import Calendar, parse_calendar_file
from xunshi.workflow.clock import Clock, SystemClock
from xunshi.workflow.engine import Engine
from xunshi.workflow.escalation import Sweeper, worker_name
from xunshi.workflow.inspection import Inspection
from xunshi.workflow.item_views import ItemViews
from xunshi.workflow.labels import instance_label
from xunshi.workflow.notify import Deliverer, build_channels
from xunshi.workflow.rectification import Rectification
from xunshi.workflow.registry import BUILTIN, Registration, Registry, parse
from xunshi.workflow.schedule import LoadedYear, Schedule
from xunshi.workflow.views import CaseViews


@dataclass(frozen=True, slots=True)
class InitResult:
    """What `init` did."""

    schema_created: bool
    registrations: list[Registration]


@dataclass
class App:
    """Every service, built once per process from the settings."""

    settings: Settings
    db: Database
    clock: Clock
    registry: Registry
    schedule: Schedule
    engine: Engine
    inspection: Inspection
    views: CaseViews
    auditor: Auditor
    sweeper: Sweeper
    deliverer: Deliverer
    rectification: Rectification
    items: ItemViews

    def init(self, actor: str) -> InitResult:
        """Create the schema and register the built-in definitions (idempotent)."""
        from xunshi.definitions.loader import builtin_sources

        sources = [(name, text, parse(text, name)) for name, text in builtin_sources()]

        def work(conn: Connection) -> InitResult:
            created = self.db.create_schema(conn)
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
            return InitResult(created, registrations)

        return self.db.run(work, immediate=True)

    def load_calendar(self, text: str, source_name: str, actor: str) -> LoadedYear:
        """Store a calendar year file; recompute the deadlines it touches."""
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
    db = Database(settings.db_url, echo=False)
    clock = clock or SystemClock()
    tz = settings.tz
    registry = Registry()
    schedule = Schedule(tz, registry)
    engine = Engine(registry, clock, tz, schedule)
    worker = worker_name()
    channels = build_channels(
        settings.channels,
        notify_file=settings.notify_file,
        webhook_url=settings.webhook_url,
        webhook_timeout=settings.webhook_timeout,
    )
    inspection = Inspection(db, engine)
    return App(
        settings=settings,
        db=db,
        clock=clock,
        registry=registry,
        schedule=schedule,
        engine=engine,
        inspection=inspection,
        views=CaseViews(engine, schedule),
        auditor=Auditor(db, clock),
        sweeper=Sweeper(
            db,
            engine,
            schedule,
            clock,
            channels=settings.channels,
            labeler=instance_label,
            worker=worker,
            lease=timedelta(seconds=settings.lease_seconds),
        ),
        rectification=Rectification(db, engine, inspection, schedule),
        items=ItemViews(engine),
        deliverer=Deliverer(
            db,
            clock,
            channels,
            worker=worker,
            max_attempts=settings.webhook_attempts,
            backoff=timedelta(seconds=settings.webhook_backoff),
        ),
    )
