"""The one place that wires concrete things together from Settings.

`App` holds the parts (database, clock, registry, schedule, engine); `Services` is what
front ends get: the commands and the read side, built on first use so that a command
imports only the modules it needs (start-up time). Nothing here does business work.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from xunshi.config import Settings
from xunshi.storage.db import ConnectionSettings, Database
from xunshi.workflow.clock import Clock, SystemClock
from xunshi.workflow.engine import Engine
from xunshi.workflow.registry import Registry
from xunshi.workflow.schedule import Schedule

if TYPE_CHECKING:
    from xunshi.read.context import ReadContext
    from xunshi.read.reader import Reader
    from xunshi.services.audit import AuditService
    from xunshi.services.calendar import CalendarService
    from xunshi.services.clues import ClueService
    from xunshi.services.definitions import DefinitionService
    from xunshi.services.escalation import EscalationService
    from xunshi.services.extensions import ExtensionService
    from xunshi.services.inspection import CaseService
    from xunshi.services.notify import NotifyService
    from xunshi.services.rectification import ItemService
    from xunshi.services.rounds import RoundService
    from xunshi.services.schema import SchemaService
    from xunshi.services.themes import ThemeService
    from xunshi.services.users import UserService
    from xunshi.workflow.escalation import Sweeper
    from xunshi.workflow.notify import Deliverer


class App:
    """The parts, built once per process from the settings."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        connection = ConnectionSettings(
            settings.pool_size, settings.statement_timeout, settings.lock_timeout
        )
        self.db = Database(
            settings.db_url, echo=False, durable=settings.durable, connection=connection
        )
        self.clock = clock or SystemClock()
        self.registry = Registry()
        self.schedule = Schedule(settings.tz, self.registry)
        self.engine = Engine(self.registry, self.clock, settings.tz, self.schedule)
        self.services = Services(self)

    @cached_property
    def sweeper(self) -> Sweeper:
        """The escalation sweep."""
        # Imported on first use: a command loads only the parts it needs.
        from xunshi.workflow.escalation import Sweeper, worker_name

        return Sweeper(
            self.db,
            self.engine,
            self.schedule,
            self.clock,
            router=self.settings.router,
            worker=worker_name(),
            lease=timedelta(seconds=self.settings.lease_seconds),
        )

    @cached_property
    def deliverer(self) -> Deliverer:
        """The outbox delivery."""
        # Imported on first use: a command loads only the parts it needs.
        from xunshi.workflow.channels import build_channels
        from xunshi.workflow.notify import Deliverer

        return Deliverer(
            self.db,
            self.clock,
            build_channels(self.settings, self.clock),
            worker=self.sweeper.worker,
            max_attempts=self.settings.webhook_attempts,
            backoff=timedelta(seconds=self.settings.webhook_backoff),
            lease=timedelta(seconds=self.settings.delivery_lease_seconds),
        )

    @cached_property
    def read_context(self) -> ReadContext:
        """What every query reads through."""
        # Imported on first use: a command loads only the parts it needs.
        from xunshi.read.context import ReadContext

        return ReadContext(
            self.db,
            self.registry,
            self.schedule,
            self.settings.tz,
            self.clock,
            self.settings.common_problem_units,
        )


class Services:
    """What front ends use: commands (each its own transaction) and the read side."""

    def __init__(self, app: App) -> None:
        self._app = app

    @property
    def settings(self) -> Settings:
        """The settings the services were built from."""
        return self._app.settings

    @cached_property
    def schema(self) -> SchemaService:
        """The database schema: check, upgrade, revisions."""
        # Imported on first use: a command loads only the parts it needs.
        from xunshi.services.schema import SchemaService

        return SchemaService(self._app.db)

    @cached_property
    def definitions(self) -> DefinitionService:
        """`init`, validating and loading definitions."""
        # Imported on first use: a command loads only the parts it needs.
        from xunshi.services.definitions import DefinitionService

        app = self._app
        return DefinitionService(app.db, app.registry, app.clock, self.schema)

    @cached_property
    def cases(self) -> CaseService:
        """Rounds, groups, units and cases."""
        # Imported on first use: a command loads only the parts it needs.
        from xunshi.services.inspection import CaseService

        return CaseService(self._app.db, self._app.engine)

    @cached_property
    def rounds(self) -> RoundService:
        """The round plan and round-wide events."""
        # Imported on first use: a command loads only the parts it needs.
        from xunshi.services.rounds import RoundService

        return RoundService(self._app.db, self._app.engine, self._app.schedule)

    @cached_property
    def items(self) -> ItemService:
        """Items, tasks and categories."""
        # Imported on first use: a command loads only the parts it needs.
        from xunshi.services.rectification import ItemService

        return ItemService(self._app.db, self._app.engine, self._app.schedule)

    @cached_property
    def extensions(self) -> ExtensionService:
        """Extension requests of tasks (延期申请) and the office's decisions."""
        # Imported on first use: a command loads only the parts it needs.
        from xunshi.services.extensions import ExtensionService

        return ExtensionService(self._app.db, self._app.engine, self._app.schedule)

    @cached_property
    def themes(self) -> ThemeService:
        """Thematic reports (专题): define them, link items, move their measures."""
        # Imported on first use: a command loads only the parts it needs.
        from xunshi.services.themes import ThemeService

        return ThemeService(self._app.db, self._app.clock, self.items)

    @cached_property
    def users(self) -> UserService:
        """People of the web desk: users, API tokens, sign-ins."""
        # Imported on first use: a command loads only the parts it needs.
        from xunshi.services.users import UserService

        return UserService(self._app.db, self._app.clock, self._app.settings.tz)

    @cached_property
    def clues(self) -> ClueService:
        """问题线索: registering, handing over, disposing, linking to problems."""
        # Imported on first use: a command loads only the parts it needs.
        from xunshi.services.clues import ClueService

        return ClueService(self._app.db, self._app.engine)

    @cached_property
    def calendar(self) -> CalendarService:
        """Loading calendar years, resetting them to the built-in data."""
        # Imported on first use: a command loads only the parts it needs.
        from xunshi.services.calendar import CalendarService

        app = self._app
        return CalendarService(app.db, app.schedule, app.engine, app.clock)

    @cached_property
    def escalations(self) -> EscalationService:
        """Sweeps, deliveries, acknowledgements."""
        # Imported on first use: a command loads only the parts it needs.
        from xunshi.services.escalation import EscalationService

        app = self._app
        return EscalationService(app.db, app.engine, lambda: app.sweeper, lambda: app.deliverer)

    @cached_property
    def notify(self) -> NotifyService:
        """Trying the notification channels (`notify test`)."""
        # Imported on first use: a command loads only the parts it needs.
        from xunshi.services.notify import NotifyService

        return NotifyService(self._app.settings, self._app.clock)

    @cached_property
    def audit(self) -> AuditService:
        """Verify, seal, export."""
        # Imported on first use: a command loads only the parts it needs.
        from xunshi.services.audit import AuditService

        return AuditService(self._app.db, self._app.clock)

    @cached_property
    def read(self) -> Reader:
        """Every query."""
        # Imported on first use: a command loads only the parts it needs.
        from xunshi.read.reader import Reader

        return Reader(self._app.read_context)

    def now(self) -> datetime:
        """The clock's instant (the demo runs on a virtual clock)."""
        return self._app.clock.now()

    def close(self) -> None:
        """Close every database connection."""
        self._app.db.dispose()


def bootstrap(settings: Settings, clock: Clock | None = None) -> App:
    """Build the parts: database, clock, registry, schedule, engine (services on first use)."""
    return App(settings, clock)


def services(settings: Settings, clock: Clock | None = None) -> Services:
    """What a front end needs, built from the settings."""
    return App(settings, clock).services
