"""Reading a projection's live tables: one read-only transaction that sees the
rows and the position they were written up to as of one instant, so an answer
can say which log position it is given at. Reading never catches up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from psycopg import Cursor
from psycopg.sql import SQL, Identifier

from registry.infrastructure.pools import connect


class ProjectionNotReady(LookupError):
    """The projection has no live tables yet (it never ran)."""


@dataclass(frozen=True)
class Reading:
    cursor: Cursor[Any]
    schema: str
    position: int  # the log position the live tables have applied


@contextmanager
def reading(conninfo: str, name: str) -> Iterator[Reading]:
    with connect(conninfo) as conn:
        # One snapshot for the position and every query after it: a page
        # committed meanwhile is seen by none of them.
        # A plan for the values asked, every time: psycopg prepares a query
        # run five times on a connection, and PostgreSQL may then switch to a
        # generic plan that, not knowing the school or the dates, scans the
        # periods once per student (a snapshot of 11,000: seconds, not ms).
        # Dates as text in ISO 8601 (answers built in SQL write them so). One
        # round trip for the three.
        conn.execute(
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
            "SET LOCAL plan_cache_mode = force_custom_plan; "
            "SET LOCAL DateStyle = ISO"
        )
        row = conn.execute(
            "SELECT schema_name, position FROM projection_tracking "
            "WHERE name = %s AND live",
            (name,),
        ).fetchone()
        if row is None:
            raise ProjectionNotReady(f"projection {name} has no live tables yet")
        conn.execute(
            SQL("SET LOCAL search_path TO {}, public").format(Identifier(row[0]))
        )
        yield Reading(conn.cursor(), str(row[0]), int(row[1]))
