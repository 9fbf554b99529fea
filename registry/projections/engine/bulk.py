"""A fresh schema filled at bulk speed: a rebuild, a new version, an audit's
scratch schema.

Page by page the log is decoded (`EventLog.bulk_page`) and folded in memory
by the projection's `BulkLoad`, and the rows it made final are COPied into
tables that have no indexes yet; meanwhile, on a second connection, the
loader may derive tables in SQL from the stored events (`set_based`). The
DDL's indexes and unique constraints are taken off after it ran and made
again once at the end, on several connections at once, beside an ANALYZE of
every table. Only then is the schema tracked, at the position of the last
event loaded, in one transaction: rows and position commit together, and a
catch-up goes on from there page by page.

Until it is tracked, nothing reads the schema. A build killed half-way
leaves it untracked; the next build of that schema (or `ensure`) drops it and
starts again. A build holds an advisory lock on its schema's name, so two
never race. An event the bulk fold cannot apply, or a unique index that
cannot be made, drops the partial schema and builds it page by page instead,
which stops at the event as a catch-up would (engine/failures.py).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.sql import SQL, Composable, Identifier, Literal

from registry.infrastructure.redact import error_text
from registry.projections.engine.failures import TRANSIENT
from registry.projections.engine.indexes import (
    BUILD_MEMORY,
    WORKERS,
    Builders,
    Indexes,
)
from registry.projections.engine.projection import BulkLoad, NoBulk, Projection, Rows

if TYPE_CHECKING:
    from registry.projections.engine.runner import Projector

log = logging.getLogger(__name__)
BULK_PAGE = 10_000
OnPage = Callable[[int, int], None]


def lock_key(schema: str) -> str:
    """The advisory lock a build of `schema` holds (`ensure` takes it too)."""
    return f"projection_build:{schema}"


def build(
    projector: Projector,
    projection: Projection,
    schema: str,
    *,
    upto: int | None = None,
    page_size: int = BULK_PAGE,
    on_page: OnPage | None = None,
) -> int:
    """Build `schema` in bulk up to the head (or `upto`) unless it exists;
    the events loaded. Without a bulk fold, or when the fold fails, it is
    created empty for a catch-up to fill page by page."""
    loader = projection.bulk()
    if loader is None:
        projector.ensure(projection, schema, upto=upto)
        return 0
    stopped: list[BaseException] = []

    def page(position: int, limit: int) -> None:
        try:
            if on_page is not None:
                on_page(position, limit)
        except BaseException as e:
            stopped.append(e)  # the caller's: a cancel, not a fault to work round
            raise

    with held(projector.conninfo, schema):
        if projector.tracked(schema):
            return 0
        head = projector.log.head()
        limit = head if upto is None else min(upto, head)
        try:
            started = time.monotonic()
            read = load(projector, projection, loader, schema, limit, page_size, page)
            projector.track(projection, schema, position=limit, upto=upto)
        except BaseException as e:
            _drop(projector.conninfo, schema)
            reason = None if stopped else fallback_reason(e)
            if reason is None:
                raise
            log.warning(
                "projection %s: no bulk build (%s); building it page by page",
                schema,
                reason,
            )
        else:
            log.info(
                "projection %s built in bulk: %d events up to log position %d "
                "in %.1f s",
                schema,
                read,
                limit,
                time.monotonic() - started,
            )
            if on_page is not None:
                on_page(limit, limit)
            return read
    projector.ensure(projection, schema, upto=upto)
    return 0


def _drop(conninfo: str, schema: str) -> None:
    with contextlib.suppress(psycopg.Error), psycopg.connect(conninfo) as conn:
        conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(schema)))


def load(
    projector: Projector,
    projection: Projection,
    loader: BulkLoad,
    schema: str,
    limit: int,
    page_size: int,
    on_page: OnPage,
) -> int:
    """Create `schema`, load the log up to `limit` and index it; the events
    read. The schema is not tracked yet: the caller does that."""
    conninfo = projector.conninfo
    with psycopg.connect(conninfo) as conn:
        with conn.transaction():
            indexes = _create(conn, projection, schema)
        builders = Builders(conninfo)
        try:
            read = _filled(
                conn,
                projector,
                loader,
                schema,
                limit,
                page_size,
                on_page,
                lambda: builders.add(indexes.of(loader.set_based_tables)),
            )
            builders.add(indexes.rest())
        except BaseException:
            builders.close(stop=True)
            raise
    builders.close()
    with psycopg.connect(conninfo) as conn, conn.transaction():
        for statement in indexes.attach:
            conn.execute(statement.encode())
    return read


def _filled(
    conn: psycopg.Connection[Any],
    projector: Projector,
    loader: BulkLoad,
    schema: str,
    limit: int,
    page_size: int,
    on_page: OnPage,
    then: Callable[[], None],
) -> int:
    """The tables filled: the loader's pages here, its set-based part beside
    (`then` once that has committed), its `finish` after both."""
    beside = _Beside(projector.conninfo, schema, loader, projector.log.table(), limit)
    beside.then = then
    beside.start()
    try:
        with conn.transaction(), _no_collection():
            fill = _Fill(projector.log, loader, page_size, on_page)
            read = fill(conn.cursor(), schema, limit)
    except BaseException:
        beside.cancel()
        raise
    finally:
        beside.join()
    read += beside.result()
    # Its joins hash whole tables: in memory, not in batches on disk.
    memory = SQL("SET LOCAL work_mem = {}").format(Literal(BUILD_MEMORY))
    with conn.transaction():
        conn.execute(search_path(schema))
        conn.execute(memory)
        loader.finish(conn.cursor())
    parts = loader.finish_parts(WORKERS)
    if parts:  # the cores are free now: the fold and the set-based part are done
        prefix = SQL("{}; {}; ").format(search_path(schema), memory).as_string(conn)
        at_once = Builders(projector.conninfo)
        at_once.add([prefix + part for part in parts])
        at_once.close()
    with conn.transaction():
        conn.execute(search_path(schema))
        loader.finished(conn.cursor())
    return read


def _create(
    conn: psycopg.Connection[Any], projection: Projection, schema: str
) -> Indexes:
    name = Identifier(schema)
    conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(name))
    conn.execute(SQL("CREATE SCHEMA {}").format(name))
    conn.execute(SQL("SET LOCAL search_path TO {}, public").format(name))
    conn.execute(projection.ddl.encode())
    # Names taken down as qualified ones: they are used on other connections.
    conn.execute("SET LOCAL search_path TO pg_catalog")
    return Indexes.taken_off(conn, schema)


def search_path(schema: str) -> psycopg.sql.Composed:
    return SQL("SET LOCAL search_path TO {}, public").format(Identifier(schema))


@contextlib.contextmanager
def _no_collection() -> Iterator[None]:
    """No cyclic garbage collection while the fold holds its many rows: they
    form no cycles, and each collection would walk all of them (it took 40%
    of the fold's time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Beside(threading.Thread):
    """The loader's set-based part, on a connection of its own."""

    def __init__(
        self,
        conninfo: str,
        schema: str,
        loader: BulkLoad,
        events_table: Composable,
        limit: int,
    ) -> None:
        super().__init__(daemon=True)
        self.args = (conninfo, schema, loader, events_table, limit)
        self.conn: psycopg.Connection[Any] | None = None
        self.read = 0
        self.error: BaseException | None = None
        self.cancelled = False
        self.then: Callable[[], None] = lambda: None

    def run(self) -> None:
        conninfo, schema, loader, events_table, limit = self.args
        try:
            with psycopg.connect(conninfo) as conn:
                self.conn = conn
                if self.cancelled:
                    return
                with conn.transaction():
                    conn.execute(search_path(schema))
                    conn.execute(f"SET LOCAL work_mem = '{BUILD_MEMORY}'".encode())
                    self.read = loader.set_based(conn.cursor(), events_table, limit)
            self.then()
        except BaseException as e:
            self.error = e

    def cancel(self) -> None:
        self.cancelled = True
        if self.conn is not None:
            self.conn.cancel_safe()

    def result(self) -> int:
        if self.error is not None:
            raise self.error
        return self.read


@dataclass
class _Fill:
    log: Any  # EventLog
    loader: BulkLoad
    page_size: int
    on_page: OnPage

    def __call__(self, curs: psycopg.Cursor[Any], schema: str, limit: int) -> int:
        curs.execute(search_path(schema))
        position = read = 0
        topics = self.loader.topics
        while position < limit:
            facts = self.log.bulk_page(position, limit, self.page_size, topics)
            _copy(curs, self.loader.page(facts))
            read += len(facts)
            position = facts[-1].position if len(facts) == self.page_size else limit
            # The indexes are still to come: "done" is said after them.
            self.on_page(min(position, limit - 1), limit)
        _copy(curs, self.loader.rest())
        return read


def _copy(curs: psycopg.Cursor[Any], rows: Rows) -> None:
    for table, batch in rows.items():
        if batch:
            with curs.copy(SQL("COPY {} FROM STDIN").format(Identifier(table))) as copy:
                for row in batch:
                    copy.write_row(row)


@contextlib.contextmanager
def held(conninfo: str, schema: str) -> Iterator[None]:
    """The build lock of `schema`, for as long as the block runs (a session
    lock on a connection of its own: a killed builder's goes with it)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (lock_key(schema),))
        try:
            yield
        finally:
            with contextlib.suppress(psycopg.Error):
                conn.execute(
                    "SELECT pg_advisory_unlock(hashtext(%s))", (lock_key(schema),)
                )


def fallback_reason(error: BaseException) -> str | None:
    """Why a failed bulk load is to be built page by page instead; None for
    what must be raised (a lost connection, a cancel, an interrupt)."""
    if isinstance(error, TRANSIENT) or not isinstance(error, Exception):
        return None
    if isinstance(error, NoBulk):
        return str(error)
    return error_text(error)
