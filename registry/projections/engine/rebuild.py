"""Rebuilding a projection from the log, whole or for one school.

Whole: a new schema is filled beside the live one and made live once caught
up (blue/green); readers keep the old tables until the switch, which is one
transaction. Cancelled (`should_stop`, Ctrl-C), the partial schema is dropped
and the live tables are untouched: a rebuild starts again from the beginning.

One school: the whole log is replayed into a scratch schema (a school's rows
depend on events that name no school, a student's corrections among them),
up to the live tables' position. Then, in one transaction holding the live
position's lock, the school's rows of every per-school table are deleted from
the live tables and the scratch's inserted: the live tables stay at the same
log position, so no event is applied twice or skipped. If the live tables
moved on meanwhile, the scratch catches up to them first. Rows that belong to
no school (a projection's `students`) are left: a fault there needs the whole
rebuild. The scratch schema is dropped at the end, cancelled or not.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from registry.infrastructure.pools import connect
from registry.projections.engine.projection import Projection
from registry.projections.engine.runner import ProjectionStopped, Projector

OnPage = Callable[[int, int], None]
ShouldStop = Callable[[], bool]


class RebuildCancelled(Exception):
    """The operator stopped the rebuild; the live tables are unchanged."""


def _pages(on_page: OnPage | None, should_stop: ShouldStop | None) -> OnPage:
    """The page callback, which cancels the page (rolled back) when told to stop."""

    def page(position: int, limit: int) -> None:
        if should_stop is not None and should_stop():
            raise RebuildCancelled(
                "the rebuild was stopped; the live tables are unchanged"
            )
        if on_page is not None:
            on_page(position, limit)

    return page


def _discard(projector: Projector, schema: str) -> None:
    # ValueError: it became live as the stop came, and the rebuild is done.
    with contextlib.suppress(ValueError):
        projector.drop(schema)


def rebuild(
    projector: Projector,
    projection: Projection,
    on_page: OnPage | None = None,
    should_stop: ShouldStop | None = None,
) -> str:
    """Build the projection again beside the live one, make it live when
    caught up and drop the old one; the new schema."""
    old = projector.live_schema(projection.name)
    with connect(projector.conninfo) as conn:
        taken = conn.execute(
            "SELECT count(*) FROM projection_tracking WHERE name = %s",
            (projection.name,),
        ).fetchone()
    schema = f"{projection.schema()}_r{int(taken[0]) if taken else 0}"
    page = _pages(on_page, should_stop)
    try:
        projector.build(projection, schema, on_page=page)
        while True:
            projector.catch_up(projection, schema, on_page=page)
            if projector.promote(projection.name, schema):
                break
            stopped = projector.stopped(schema)
            if stopped is not None:
                raise ProjectionStopped(
                    f"the rebuild stopped before log position {stopped[0]}: "
                    f"{stopped[1]}; the live tables are unchanged"
                )
    except (ProjectionStopped, RebuildCancelled, KeyboardInterrupt):
        _discard(projector, schema)
        raise
    projector.drop(old)
    return schema


def rebuild_school(
    projector: Projector,
    projection: Projection,
    brin: str,
    on_page: OnPage | None = None,
    should_stop: ShouldStop | None = None,
) -> dict[str, Any]:
    """Re-derive one school's rows and swap them into the live tables at
    their position; what was replaced, table by table."""
    if not projection.school_tables:
        raise ValueError(
            f"projection {projection.name} has no per-school tables: rebuild it whole"
        )
    live = _live(projector, projection, brin)
    scratch = f"school_{projection.name}_{uuid.uuid4().hex[:8]}"
    upto = projector.live_position(projection.name)
    page = _pages(on_page, should_stop)
    try:
        projector.build(projection, scratch, upto=upto, on_page=page)
        while True:
            projector.catch_up(projection, scratch, on_page=page)
            stopped = projector.stopped(scratch)
            if stopped is not None:
                raise ProjectionStopped(
                    f"the replay stopped before log position {stopped[0]}: "
                    f"{stopped[1]}; the live tables are unchanged"
                )
            swapped = _swap(projector, projection, live, scratch, brin)
            if swapped is not None:
                return swapped
    finally:
        projector.drop(scratch)


def _live(projector: Projector, projection: Projection, brin: str) -> str:
    """The live schema, if it is this code's version and holds the school."""
    with connect(projector.conninfo) as conn:
        row = conn.execute(
            "SELECT schema_name, version FROM projection_tracking "
            "WHERE name = %s AND live",
            (projection.name,),
        ).fetchone()
        if row is None:
            raise LookupError(f"projection {projection.name} has no live schema")
        schema, version = str(row[0]), int(row[1])
        if version != projection.version:
            raise ValueError(
                f"the live tables of {projection.name} are version {version}, the "
                f"code's {projection.version}: rebuild it whole"
            )
        known = conn.execute(
            SQL("SELECT 1 FROM {} WHERE brin = %s LIMIT 1").format(
                Identifier(schema, projection.school_tables[0])
            ),
            (brin,),
        ).fetchone()
    if known is None:
        raise LookupError(f"no school {brin} in projection {projection.name}")
    return schema


def _swap(
    projector: Projector, projection: Projection, live: str, scratch: str, brin: str
) -> dict[str, Any] | None:
    """In one transaction at the live position: the school's rows replaced.
    None when the live tables moved on: the scratch is to catch up to them."""
    with connect(projector.conninfo) as conn:
        (position,) = conn.execute(
            "SELECT position FROM projection_tracking WHERE schema_name = %s "
            "AND live FOR UPDATE",
            (live,),
        ).fetchone() or (None,)
        if position is None:
            raise LookupError(f"{live} is no longer live: run the rebuild again")
        (reached,) = conn.execute(
            "SELECT position FROM projection_tracking WHERE schema_name = %s",
            (scratch,),
        ).fetchone() or (0,)
        if reached > position:
            raise RuntimeError(f"{scratch} is past the live tables of {live}")
        if reached < position:
            conn.execute(
                "UPDATE projection_tracking SET upto = %s WHERE schema_name = %s",
                (position, scratch),
            )
            return None
        tables = {
            t: _replace(conn, live, scratch, t, brin) for t in projection.school_tables
        }
        conn.execute(
            "UPDATE projection_tracking SET updated_at = now() WHERE schema_name = %s",
            (live,),
        )
    return {"schema": live, "position": position, "tables": tables}


def _replace(
    conn: psycopg.Connection[Any], live: str, scratch: str, table: str, brin: str
) -> dict[str, int]:
    columns = [
        Identifier(str(r[0]))
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = %s ORDER BY ordinal_position",
            (live, table),
        ).fetchall()
    ]
    names = SQL(", ").join(columns)
    deleted = conn.execute(
        SQL("DELETE FROM {} WHERE brin = %s").format(Identifier(live, table)), (brin,)
    ).rowcount
    inserted = conn.execute(
        SQL("INSERT INTO {} ({}) SELECT {} FROM {} WHERE brin = %s").format(
            Identifier(live, table), names, names, Identifier(scratch, table)
        ),
        (brin,),
    ).rowcount
    return {"deleted": deleted, "inserted": inserted}
