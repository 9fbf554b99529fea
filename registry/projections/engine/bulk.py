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
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.sql import SQL, Composable, Identifier

from registry.infrastructure.redact import error_text
from registry.projections.engine.failures import TRANSIENT
from registry.projections.engine.projection import BulkLoad, NoBulk, Projection, Rows

if TYPE_CHECKING:
    from registry.projections.engine.runner import Projector

log = logging.getLogger(__name__)
BULK_PAGE = 10_000
# Index builds at once: each is one server process sorting its table.
WORKERS = max(1, min(4, os.cpu_count() or 1))
# Per index build: GiST builds buffer in it, btree builds sort in it.
BUILD_MEMORY = "256MB"
OnPage = Callable[[int, int], None]


def lock_key(schema: str) -> str:
    """The advisory lock a build of `schema` holds (`ensure` takes it too)."""
    return f"projection_build:{schema}"


@dataclass
class Indexes:
    """What the DDL made and the load goes without, to be made again after."""

    drop: list[str] = field(default_factory=list)
    build: list[str] = field(default_factory=list)  # CREATE [UNIQUE] INDEX …
    attach: list[str] = field(default_factory=list)  # … ADD CONSTRAINT … USING INDEX


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
        beside = _Beside(conninfo, schema, loader, projector.log.table(), limit)
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
        with conn.transaction():
            conn.execute(search_path(schema))
            loader.finish(conn.cursor())
    # An ANALYZE waits for the index builds of its own table only.
    analyze = [f"ANALYZE {t}" for t in _tables(conninfo, schema)]
    _in_parallel(conninfo, indexes.build + analyze)
    with psycopg.connect(conninfo) as conn, conn.transaction():
        for statement in indexes.attach:
            conn.execute(statement.encode())
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
    indexes = _indexes(conn, schema)
    for statement in indexes.drop:
        conn.execute(statement.encode())
    return indexes


def _indexes(conn: psycopg.Connection[Any], schema: str) -> Indexes:
    """Every index of the schema, as statements that make it again. A unique
    or primary key constraint is made as its index, then attached to it (which
    takes no time), so it too builds beside the others."""
    out = Indexes()
    constraints = conn.execute(
        "SELECT c.conrelid::regclass::text, quote_ident(c.conname), c.contype, "
        "pg_get_indexdef(c.conindid) FROM pg_constraint c "
        "WHERE c.connamespace = %s::regnamespace AND c.contype IN ('p','u','x','f')",
        (schema,),
    ).fetchall()
    for table, name, kind, index in constraints:
        if kind not in ("p", "u"):
            raise NoBulk(f"{table} has a constraint of kind {kind}")
        out.drop.append(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        out.build.append(index)
        what = "PRIMARY KEY" if kind == "p" else "UNIQUE"
        out.attach.append(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} {what} USING INDEX {name}"
        )
    plain = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
        "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
        "WHERE t.relnamespace = %s::regnamespace AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        (schema,),
    ).fetchall()
    for index, definition in plain:
        out.drop.append(f"DROP INDEX {index}")
        out.build.append(definition)
    # GiST builds take longest: first, so the btrees fill the gaps beside them.
    out.build.sort(key=lambda s: " USING gist " not in s)
    return out


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


def _tables(conninfo: str, schema: str) -> list[str]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT format('%%I.%%I', schemaname, tablename) FROM pg_tables "
            "WHERE schemaname = %s",
            (schema,),
        ).fetchall()
    return [str(r[0]) for r in rows]


def _in_parallel(conninfo: str, statements: list[str]) -> None:
    """Run the statements on up to WORKERS connections of their own, each in
    its own transaction; the first error is raised once all have stopped."""
    pending = list(reversed(statements))
    errors: list[BaseException] = []
    guard = threading.Lock()

    def work() -> None:
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(f"SET maintenance_work_mem = '{BUILD_MEMORY}'".encode())
                while not errors:
                    with guard:
                        if not pending:
                            return
                        statement = pending.pop()
                    conn.execute(statement.encode())
        except BaseException as e:
            errors.append(e)

    threads = [
        threading.Thread(target=work) for _ in range(min(WORKERS, len(statements)))
    ]
    for t in threads:
        t.start()
    try:
        for t in threads:
            t.join()
    except BaseException as e:  # an interrupt: no statement started after it
        errors.append(e)
        raise
    if errors:
        raise errors[0]


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
