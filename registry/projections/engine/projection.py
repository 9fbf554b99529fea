"""What a projection is: its tables, the events it reads, its name and version.

A projection's DDL and statements use unqualified table names; the runner sets
the search path to the projection's schema, so the same code fills the live
tables, a new version beside them (blue/green), or a scratch schema for an audit
replay.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

from psycopg import Cursor
from psycopg.sql import Composable

from registry.projections.engine.event_log import Fact

Handler = Callable[[Cursor[Any], Fact], None]
Rows = dict[str, list[tuple[Any, ...]]]  # table → rows in its column order


class NoBulk(Exception):
    """The schema cannot be loaded in bulk; it is built page by page."""


class BulkLoad(ABC):
    """A projection folded in memory over the log from its start (a rebuild,
    engine/bulk.py): rows are handed out once final and COPied into tables
    with no indexes yet. Facts come from `EventLog.bulk_page` (values in their
    stored form). What it builds must equal, row for row, what `apply_page`
    builds from the same log; an event it cannot fold raises, and the engine
    then builds the schema page by page instead (which stops at that event)."""

    topics: tuple[str, ...]  # the events `page` folds
    set_based_tables: tuple[str, ...] = ()  # the tables only `set_based` fills

    def set_based(self, curs: Cursor[Any], events_table: Composable, limit: int) -> int:
        """Tables derived in SQL from the stored events up to `limit`, on a
        connection of its own while the pages are folded; the events read."""
        return 0

    @abstractmethod
    def page(self, facts: list[Fact]) -> Rows:
        """Fold a page, in log order; the rows it made final."""

    @abstractmethod
    def rest(self) -> Rows:
        """After the last page: every row not handed out yet."""

    @abstractmethod
    def finish(self, curs: Cursor[Any]) -> None:
        """Set-based work on the loaded tables, before their indexes exist."""

    def finish_parts(self, parts: int) -> list[str]:
        """After `finish`: statements that may run at once (up to `parts`),
        each in a transaction of its own with the schema on the search path."""
        return []

    def finished(self, curs: Cursor[Any]) -> None:  # noqa: B027 (optional)
        """After every part of the finish."""


class Projection(ABC):
    name: ClassVar[str]
    version: ClassVar[int]
    ddl: ClassVar[str]
    # The stored topics of the events it reads; the runner reads only those.
    topics: ClassVar[tuple[str, ...]]
    # table → SELECT of its rows as known at log position %(p)s (audit replay)
    audit: ClassVar[dict[str, str]] = {}
    # Its tables whose rows each belong to one school (a `brin` column), the
    # school's own table first: what a rebuild of one school replaces.
    school_tables: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def apply_page(self, curs: Cursor[Any], facts: list[Fact]) -> None:
        """Apply a page of the log, in log order, in the page's transaction."""

    def bulk(self) -> BulkLoad | None:
        """A fresh fold for a bulk rebuild, if the projection has one."""
        return None

    @classmethod
    def schema(cls) -> str:
        return f"p_{cls.name}_v{cls.version}"
