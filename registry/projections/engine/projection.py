"""What a projection is: its tables, its handlers, its name and version.

A projection's DDL and statements use unqualified table names; the runner sets
the search path to the projection's schema, so the same code fills the live
tables, a new version beside them (blue/green), or a scratch schema for an audit
replay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from psycopg import Cursor

from registry.projections.engine.event_log import Fact, topic_of

Handler = Callable[[Cursor[Any], Fact], None]


class Projection:
    name: ClassVar[str]
    version: ClassVar[int]
    ddl: ClassVar[str]
    # table → SELECT of its rows as known at log position %(p)s (audit replay)
    audit: ClassVar[dict[str, str]] = {}

    def handlers(self) -> dict[str, Handler]:
        """Event kind (e.g. 'Enrolment.Registered') → handler."""
        raise NotImplementedError

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(topic_of(kind) for kind in self.handlers())

    def apply_page(self, curs: Cursor[Any], facts: list[Fact]) -> None:
        handlers = self.handlers()
        for fact in facts:
            handler = handlers.get(fact.kind)
            if handler is not None:
                handler(curs, fact)

    @classmethod
    def schema(cls) -> str:
        return f"p_{cls.name}_v{cls.version}"
