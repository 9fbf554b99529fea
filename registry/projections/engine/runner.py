"""Running projections exactly once: each page of the log is applied and the
projection's position advanced in one transaction, and the tracking row is
locked for it, so two runners never apply the same page.

Versions: a projection's tables live in schema `p_<name>_v<version>`. A new
version is built beside the live one and made live when it has caught up
(blue/green); readers ask `live_schema(name)`. A scratch schema holds an audit
replay up to a chosen position.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from registry.infrastructure.pools import connect
from registry.projections.engine import bulk, failures
from registry.projections.engine.event_log import EventLog
from registry.projections.engine.projection import Projection

ANALYZE_AFTER = 5000  # events one catch-up read; then ANALYZE its schema
PAGE_SIZE = 2000
BULK_FROM = 5000  # events in the log from which a new schema is built in bulk


@dataclass(frozen=True)
class Status:
    name: str
    version: int
    schema: str
    position: int
    head: int
    live: bool
    updated_at: datetime
    upto: int | None = None
    failed_at: int | None = None  # the event it could not apply
    failure: str | None = None

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)


class ProjectionStopped(RuntimeError):
    """A projection stopped at an event it cannot apply (see its status)."""


class Projector:
    def __init__(self, conninfo: str, log: EventLog | None = None) -> None:
        """`log`: the registry's notification log; by default a reader of its
        own on `conninfo` (opened on first use)."""
        self.conninfo = conninfo
        self.log = log or EventLog.open(conninfo)

    def _connect(self) -> AbstractContextManager[psycopg.Connection[Any]]:
        return connect(self.conninfo)

    def ensure(
        self,
        projection: Projection,
        schema: str | None = None,
        *,
        upto: int | None = None,
    ) -> str:
        """Create the projection's schema and tables if missing, empty. The
        first schema of a projection becomes live at once; a rebuild or a new
        version when it has caught up (promote); a scratch schema (`upto`)
        never."""
        schema = schema or projection.schema()
        with self._connect() as conn:
            # A bulk build of this schema finishes first (engine/bulk.py).
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", (bulk.lock_key(schema),)
            )
            if self.tracked(schema, conn):
                return schema
            name = Identifier(schema)
            # Left by a bulk build that was killed: never read, never tracked.
            conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(name))
            conn.execute(SQL("CREATE SCHEMA {}").format(name))
            conn.execute(SQL("SET LOCAL search_path TO {}, public").format(name))
            conn.execute(projection.ddl.encode())
            self._register(conn, projection, schema, 0, upto)
        return schema

    def build(
        self,
        projection: Projection,
        schema: str | None = None,
        *,
        upto: int | None = None,
        on_page: Callable[[int, int], None] | None = None,
        at_least: int = 0,
        page_size: int = bulk.BULK_PAGE,
    ) -> int:
        """Create the schema filled up to the head (or `upto`) at bulk speed
        (engine/bulk.py), unless it exists; the events loaded. For a log of
        fewer than `at_least` events it is created empty, as `ensure` does,
        for a catch-up to fill (so too when the bulk fold fails)."""
        schema = schema or projection.schema()
        if self.log.head() < at_least:
            self.ensure(projection, schema, upto=upto)
            return 0
        return bulk.build(
            self, projection, schema, upto=upto, on_page=on_page, page_size=page_size
        )

    def tracked(self, schema: str, conn: psycopg.Connection[Any] | None = None) -> bool:
        if conn is None:
            with self._connect() as own:
                return self.tracked(schema, own)
        row = conn.execute(
            "SELECT 1 FROM projection_tracking WHERE schema_name = %s", (schema,)
        ).fetchone()
        return row is not None

    def track(
        self, projection: Projection, schema: str, position: int, upto: int | None
    ) -> None:
        """Start tracking a schema filled up to `position` (a bulk build)."""
        with self._connect() as conn:
            self._register(conn, projection, schema, position, upto)

    @staticmethod
    def _register(
        conn: psycopg.Connection[Any],
        projection: Projection,
        schema: str,
        position: int,
        upto: int | None,
    ) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('projection_ddl'))")
        live = (
            upto is None
            and not conn.execute(
                "SELECT 1 FROM projection_tracking WHERE name = %s AND live",
                (projection.name,),
            ).fetchone()
        )
        conn.execute(
            "INSERT INTO projection_tracking "
            "(schema_name, name, version, upto, live, position)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (schema, projection.name, projection.version, upto, live, position),
        )

    def target(self, projection: Projection) -> str:
        """The schema to keep up to date: the live one when it is this version,
        else this version's own (new) schema, which takes over once caught up."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT schema_name FROM projection_tracking "
                "WHERE name = %s AND live AND version = %s",
                (projection.name, projection.version),
            ).fetchone()
        if row:
            return str(row[0])
        self.build(projection, at_least=BULK_FROM)
        return projection.schema()

    def fresh(self, projection: Projection) -> str:
        """Catch the projection up to the head now; its schema to read."""
        schema = self.target(projection)
        self.catch_up(projection, schema)
        self.promote(projection.name, schema)
        return schema

    def live_position(self, name: str) -> int:
        """The log position the live tables of projection `name` have applied."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT position FROM projection_tracking WHERE name = %s AND live",
                (name,),
            ).fetchone()
        return int(row[0]) if row else 0

    def holds(self, projection: Projection, reached: int, position: int) -> bool:
        """Whether tables at log position `reached` show the log up to `position`:
        they do when no event the projection reads lies between the two."""
        if reached >= position:
            return True
        return not self.log.page(reached, position, 1, projection.topics)

    def wait(self, projection: Projection, position: int, timeout: float = 30.0) -> int:
        """Block until the live tables of `projection` show the log up to
        `position` (a command reading its own write); the position they are at.
        TimeoutError after `timeout` seconds. Polls with a growing interval, as
        the library's TrackingRecorder.wait does."""
        deadline = time.monotonic() + timeout
        interval = 0.01
        while not self.holds(
            projection, reached := self.live_position(projection.name), position
        ):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"projection {projection.name} is at log position {reached}, "
                    f"not yet {position}, after {timeout} s: is the projector "
                    "running (`registry projections run`)?"
                )
            time.sleep(min(interval, remaining))
            interval = min(interval * 2, 0.5)
        return reached

    def live_schema(self, name: str) -> str:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT schema_name FROM projection_tracking WHERE name = %s AND live",
                (name,),
            ).fetchone()
        if row is None:
            raise LookupError(f"projection {name} has no live schema; run it first")
        return str(row[0])

    def rebuild(
        self,
        projection: Projection,
        on_page: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> str:
        """Build the projection again beside the live one and make it live when
        caught up (engine/rebuild.py); the new schema."""
        from registry.projections.engine.rebuild import rebuild

        return rebuild(self, projection, on_page, should_stop)

    def stopped(self, schema: str) -> tuple[int, str] | None:
        """Where and why the schema stopped at an event it could not apply."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT failed_at, failure FROM projection_tracking "
                "WHERE schema_name = %s AND failed_at IS NOT NULL",
                (schema,),
            ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def catch_up(
        self,
        projection: Projection,
        schema: str | None = None,
        *,
        page_size: int = PAGE_SIZE,
        on_page: Callable[[int, int], None] | None = None,
        on_connect: Callable[[psycopg.Connection[Any]], None] | None = None,
    ) -> int:
        """Apply the log up to its head (or the schema's `upto`); return the
        number of events read. `on_connect` lets a watchdog cancel the work."""
        schema = schema or projection.schema()
        read = 0
        with self._connect() as conn:
            if on_connect:
                on_connect(conn)
            while True:
                with conn.transaction():
                    n = self._page(conn, projection, schema, page_size, on_page)
                if n < 0:
                    break
                read += n
            if read >= ANALYZE_AFTER:
                self._analyze(conn, schema)
        return read

    @staticmethod
    def _analyze(conn: psycopg.Connection[Any], schema: str) -> None:
        """Fresh planner statistics after a large catch-up (a rebuild, a
        delivery of thousands): with none, the planner takes a table of
        thousands for a row or two and a school's snapshot scans it once per
        student (seconds, not milliseconds) until autovacuum comes round."""
        with conn.transaction():
            tables = conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
            ).fetchall()
            for (table,) in tables:
                conn.execute(
                    SQL("ANALYZE {}.{}").format(Identifier(schema), Identifier(table))
                )

    def _page(
        self,
        conn: psycopg.Connection[Any],
        projection: Projection,
        schema: str,
        page_size: int,
        on_page: Callable[[int, int], None] | None,
    ) -> int:
        curs = conn.cursor()
        row = curs.execute(
            "SELECT position, upto, failed_at FROM projection_tracking "
            "WHERE schema_name = %s FOR UPDATE",
            (schema,),
        ).fetchone()
        if row is None:
            raise LookupError(f"projection schema {schema} does not exist")
        position, upto, failed_at = row
        head = self.log.head()
        limit = head if upto is None else min(upto, head)
        if position >= limit or failed_at is not None:
            return -1
        curs.execute(
            SQL("SET LOCAL search_path TO {}, public").format(Identifier(schema))
        )
        facts = self.log.page(position, limit, page_size, projection.topics)
        failure = failures.apply_or_isolate(curs, projection, facts)
        if failure is not None:
            failures.record(curs, schema, failure)
            return -1
        new_position = facts[-1].position if len(facts) == page_size else limit
        curs.execute(
            "UPDATE public.projection_tracking SET position = %s, updated_at = now() "
            "WHERE schema_name = %s",
            (new_position, schema),
        )
        if on_page:
            on_page(new_position, limit)
        return len(facts)

    def status(self) -> list[Status]:
        with self._connect() as conn:
            h = self.log.head()
            rows = conn.execute(
                "SELECT name, version, schema_name, position, live, updated_at, upto, "
                "failed_at, failure FROM projection_tracking "
                "ORDER BY name, version, schema_name"
            ).fetchall()
        return [
            Status(
                r[0],
                r[1],
                r[2],
                r[3],
                h if r[6] is None else min(r[6], h),
                r[4],
                r[5],
                r[6],
                r[7],
                r[8],
            )
            for r in rows
        ]

    def resume(self, name: str) -> list[str]:
        """Let the stopped schemas of projection `name` try again (after a fix of
        the code that could not apply the event); the schemas resumed."""
        with self._connect() as conn:
            rows = conn.execute(
                "UPDATE projection_tracking SET failed_at = NULL, failure = NULL "
                "WHERE name = %s AND failed_at IS NOT NULL RETURNING schema_name",
                (name,),
            ).fetchall()
        return [str(r[0]) for r in rows]

    def promote(self, name: str, schema: str) -> bool:
        """Make `schema` the live one of projection `name` if it has caught up;
        the old one stays until dropped, so no reader is cut off mid-query."""
        with self._connect() as conn:
            position = conn.execute(
                "SELECT position FROM projection_tracking WHERE schema_name = %s "
                "AND upto IS NULL FOR UPDATE",
                (schema,),
            ).fetchone()
            if position is None or position[0] < self.log.head():
                return False
            conn.execute(
                "UPDATE projection_tracking SET live = false WHERE name = %s AND live",
                (name,),
            )
            conn.execute(
                "UPDATE projection_tracking SET live = true WHERE schema_name = %s",
                (schema,),
            )
        return True

    def drop(self, schema: str) -> None:
        with self._connect() as conn:
            live = conn.execute(
                "SELECT live FROM projection_tracking WHERE schema_name = %s", (schema,)
            ).fetchone()
            if live and live[0]:
                raise ValueError(f"{schema} is live; promote another version first")
            conn.execute(
                SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(schema))
            )
            conn.execute(
                "DELETE FROM projection_tracking WHERE schema_name = %s", (schema,)
            )
