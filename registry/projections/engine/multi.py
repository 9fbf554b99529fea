"""Projections that read the same events, caught up in one pass over the log.

The four extract projections read the same kinds of events; caught up one by
one, each would read and decode the whole log again. Here one page is read and
decoded once and
applied to each projection in its own schema, and every projection's position
moves in the same transaction as its rows: still exactly once, and a process
killed mid-page leaves all of them where they were. Facts are shared between
the projections, so a projection must not change a fact's data (none does).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from registry.infrastructure.pools import connect
from registry.projections.engine import failures
from registry.projections.engine.projection import Projection
from registry.projections.engine.runner import PAGE_SIZE, Projector

Pairs = Sequence[tuple[Projection, str]]


def fresh_together(
    projector: Projector,
    projections: Sequence[Projection],
    on_page: Callable[[int, int], None] | None = None,
) -> dict[str, str]:
    """Catch every projection up to the head in one pass; their schemas.
    A projection whose live schema is this version's is caught up there in
    one query for all of them, and is not promoted again: a long-lived
    publisher does this many times a second."""
    live = _live(projector, projections)
    pairs = [(p, live.get(p.name) or projector.target(p)) for p in projections]
    catch_up_together(projector, pairs, on_page=on_page)
    for p, schema in pairs:
        if live.get(p.name) != schema:
            projector.promote(p.name, schema)
    return {p.name: schema for p, schema in pairs}


def _live(projector: Projector, projections: Sequence[Projection]) -> dict[str, str]:
    """The live schema of each projection whose live version is its own."""
    versions = {p.name: p.version for p in projections}
    with connect(projector.conninfo) as conn:
        rows = conn.execute(
            "SELECT name, version, schema_name FROM projection_tracking "
            "WHERE live AND name = ANY(%s)",
            (list(versions),),
        ).fetchall()
    return {name: schema for name, version, schema in rows if versions[name] == version}


def catch_up_together(
    projector: Projector,
    pairs: Pairs,
    *,
    page_size: int = PAGE_SIZE,
    on_page: Callable[[int, int], None] | None = None,
) -> int:
    """Apply the log up to its head to every (projection, schema); the number
    of events read."""
    read = 0
    with connect(projector.conninfo) as conn:
        while True:
            with conn.transaction():
                n = _page(projector, conn, pairs, page_size, on_page)
            if n < 0:
                return read
            read += n


def _positions(curs: psycopg.Cursor[Any], schemas: list[str]) -> dict[str, int]:
    # Locked in one order, so two runners of overlapping sets cannot deadlock.
    rows = curs.execute(
        "SELECT schema_name, position, upto, failed_at FROM projection_tracking "
        "WHERE schema_name = ANY(%s) ORDER BY schema_name FOR UPDATE",
        (sorted(schemas),),
    ).fetchall()
    missing = set(schemas) - {r[0] for r in rows}
    if missing:
        raise LookupError(f"projection schemas {sorted(missing)} do not exist")
    scratch = [r[0] for r in rows if r[2] is not None]
    if scratch:
        raise ValueError(f"scratch schemas {scratch} are caught up one at a time")
    # A projection stopped at an event it cannot apply waits for an operator.
    return {r[0]: int(r[1]) for r in rows if r[3] is None}


def _page(
    projector: Projector,
    conn: psycopg.Connection[Any],
    pairs: Pairs,
    page_size: int,
    on_page: Callable[[int, int], None] | None,
) -> int:
    curs = conn.cursor()
    positions = _positions(curs, [schema for _, schema in pairs])
    pairs = [(p, schema) for p, schema in pairs if schema in positions]
    limit = projector.log.head()
    if not pairs or min(positions.values()) >= limit:
        return -1
    low = min(positions.values())
    wanted = [set(p.topics) for p, _ in pairs]
    topics = () if any(not t for t in wanted) else tuple(sorted(set().union(*wanted)))
    facts = projector.log.page(low, limit, page_size, topics)
    upto = facts[-1].position if len(facts) == page_size else limit
    for (projection, schema), mine in zip(pairs, wanted, strict=True):
        after = positions[schema]
        if after >= upto:
            continue
        curs.execute(
            SQL("SET LOCAL search_path TO {}, public").format(Identifier(schema))
        )
        failure = failures.apply_or_isolate(
            curs,
            projection,
            [f for f in facts if f.position > after and (not mine or f.topic in mine)],
        )
        if failure is not None:
            failures.record(curs, schema, failure)
            continue
        curs.execute(
            "UPDATE public.projection_tracking SET position = %s, updated_at = now() "
            "WHERE schema_name = %s",
            (upto, schema),
        )
    if on_page:
        on_page(upto, limit)
    return len(facts)
