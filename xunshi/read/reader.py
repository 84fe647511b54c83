"""One door to the read side: each query family, built on first use."""

from __future__ import annotations

from functools import cached_property

from xunshi.read.cases import CaseQueries
from xunshi.read.catalog import CatalogQueries
from xunshi.read.clues import ClueQueries
from xunshi.read.common import CommonQueries
from xunshi.read.context import ReadContext
from xunshi.read.deadlines import DeadlineQueries
from xunshi.read.escalations import EscalationQueries
from xunshi.read.extensions import ExtensionQueries
from xunshi.read.history import HistoryQueries
from xunshi.read.items import ItemQueries
from xunshi.read.ledger import LedgerQueries
from xunshi.read.overview import OverviewQueries
from xunshi.read.progress import ProgressQueries
from xunshi.read.rounds import RoundQueries
from xunshi.read.statistics import StatisticsQueries
from xunshi.read.theme_reports import ThemeReportQueries
from xunshi.read.themes import ThemeQueries
from xunshi.read.users import UserQueries


class Reader:
    """Every query front ends ask."""

    def __init__(self, ctx: ReadContext) -> None:
        self.ctx = ctx

    @cached_property
    def cases(self) -> CaseQueries:
        """Case views: one, many, as of an instant."""
        return CaseQueries(self.ctx)

    @cached_property
    def items(self) -> ItemQueries:
        """Item views with their tasks."""
        return ItemQueries(self.ctx)

    @cached_property
    def clues(self) -> ClueQueries:
        """Clue views and histories, for the roles that may see them."""
        return ClueQueries(self.ctx)

    @cached_property
    def history(self) -> HistoryQueries:
        """Histories of cases and items."""
        return HistoryQueries(self.ctx)

    @cached_property
    def escalations(self) -> EscalationQueries:
        """Escalations."""
        return EscalationQueries(self.ctx)

    @cached_property
    def extensions(self) -> ExtensionQueries:
        """Extension requests of tasks (the office's inbox)."""
        return ExtensionQueries(self.ctx)

    @cached_property
    def ledger(self) -> LedgerQueries:
        """The rectification ledger."""
        return LedgerQueries(self.ctx, self.items)

    @cached_property
    def themes(self) -> ThemeQueries:
        """The thematic view."""
        return ThemeQueries(self.ctx, self.items)

    @cached_property
    def theme_reports(self) -> ThemeReportQueries:
        """Themes (专题) of a round and their reports."""
        return ThemeReportQueries(self.ctx, self.items)

    @cached_property
    def common(self) -> CommonQueries:
        """The computed common problems (共性问题) of a round."""
        return CommonQueries(self.ctx)

    @cached_property
    def overview(self) -> OverviewQueries:
        """A round at a glance."""
        return OverviewQueries(self.ctx, self.cases, self.escalations, self.items, self.clues)

    @cached_property
    def statistics(self) -> StatisticsQueries:
        """The leading group's statistics of a round."""
        return StatisticsQueries(self.ctx, self.cases, self.items)

    @cached_property
    def deadlines(self) -> DeadlineQueries:
        """Open deadlines of a round: stages and tasks (the calendar feed)."""
        return DeadlineQueries(self.ctx, self.cases, self.items)

    @cached_property
    def rounds(self) -> RoundQueries:
        """A round's plan and its round events."""
        return RoundQueries(self.ctx)

    @cached_property
    def catalog(self) -> CatalogQueries:
        """Rounds, groups, units, categories, definitions, the calendar."""
        return CatalogQueries(self.ctx)

    @cached_property
    def users(self) -> UserQueries:
        """Users of the web desk."""
        return UserQueries(self.ctx)

    @cached_property
    def progress(self) -> ProgressQueries:
        """The rectification progress of a round: open and accepted items day by day."""
        return ProgressQueries(self.ctx)
