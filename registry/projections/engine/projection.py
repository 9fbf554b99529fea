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

from registry.projections.engine.event_log import Fact

Handler = Callable[[Cursor[Any], Fact], None]


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

    @classmethod
    def schema(cls) -> str:
        return f"p_{cls.name}_v{cls.version}"
