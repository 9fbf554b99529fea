"""A bulk build's indexes (engine/bulk.py): taken off a fresh schema after its
DDL ran, made again once its tables are filled, several at a time.

A unique or primary key constraint is made as its index and then attached to
it (which takes no time), so it too builds beside the others. A table's
indexes and its ANALYZE start as soon as that table is complete, while the
others are still being filled.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from registry.projections.engine.projection import NoBulk

# Index builds at once: each is one server process sorting its table.
WORKERS = max(1, min(4, os.cpu_count() or 1))
# Per index build: GiST builds buffer in it, btree builds sort in it.
BUILD_MEMORY = "256MB"

_CONSTRAINTS = """
SELECT t.relname, c.conrelid::regclass::text, quote_ident(c.conname), c.contype,
  pg_get_indexdef(c.conindid)
FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
WHERE c.connamespace = %s::regnamespace AND c.contype IN ('p','u','x','f')
"""
_PLAIN = """
SELECT t.relname, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
WHERE t.relnamespace = %s::regnamespace AND NOT EXISTS
  (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
"""
_TABLES = """
SELECT relname, oid::regclass::text FROM pg_class
WHERE relnamespace = %s::regnamespace AND relkind = 'r'
"""


@dataclass
class Indexes:
    """What the DDL made and the load goes without, to be made again after.
    Names are schema-qualified (taken down with the search path empty)."""

    drop: list[str] = field(default_factory=list)
    build: dict[str, list[str]] = field(default_factory=dict)  # table → statements
    attach: list[str] = field(default_factory=list)  # … ADD CONSTRAINT … USING INDEX

    @classmethod
    def taken_off(cls, conn: psycopg.Connection[Any], schema: str) -> Indexes:
        """Every index of the schema dropped, and how to make each again."""
        out = cls()
        for relname, table in conn.execute(_TABLES, (schema,)).fetchall():
            out.build[relname] = [f"ANALYZE {table}"]  # after its indexes
        for relname, table, name, kind, index in conn.execute(
            _CONSTRAINTS, (schema,)
        ).fetchall():
            if kind not in ("p", "u"):
                raise NoBulk(f"{table} has a constraint of kind {kind}")
            out.drop.append(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            out.build[relname].insert(0, index)
            what = "PRIMARY KEY" if kind == "p" else "UNIQUE"
            out.attach.append(
                f"ALTER TABLE {table} ADD CONSTRAINT {name} {what} USING INDEX {name}"
            )
        for relname, index, definition in conn.execute(_PLAIN, (schema,)).fetchall():
            out.drop.append(f"DROP INDEX {index}")
            out.build[relname].insert(0, definition)
        for statement in out.drop:
            conn.execute(statement.encode())
        return out

    def of(self, tables: Iterable[str]) -> list[str]:
        """The statements of these tables, handed out once."""
        return [s for t in tables for s in self.build.pop(t, [])]

    def rest(self) -> list[str]:
        return self.of(list(self.build))


class Builders:
    """Statements run on up to WORKERS connections of their own, each in its
    own transaction, as they are added. GiST builds take longest: each batch
    starts with them, so the btrees fill the gaps beside them. An ANALYZE
    waits for the index builds of its own table only."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.pending: queue.Queue[str | None] = queue.Queue()
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._work) for _ in range(WORKERS)]
        for t in self.threads:
            t.start()

    def add(self, statements: list[str]) -> None:
        for s in sorted(
            statements, key=lambda s: (" USING gist " not in s, "ANALYZE" in s)
        ):
            self.pending.put(s)

    def close(self, stop: bool = False) -> None:
        """Wait for every statement added (or, with `stop`, only for those
        running); raise the first error."""
        if stop:
            self.errors.append(RuntimeError("stopped"))
        for _ in self.threads:
            self.pending.put(None)
        try:
            for t in self.threads:
                t.join()
        except BaseException as e:  # an interrupt: no statement starts after it
            self.errors.append(e)
            raise
        if self.errors and not stop:
            raise self.errors[0]

    def _work(self) -> None:
        try:
            with psycopg.connect(self.conninfo, autocommit=True) as conn:
                conn.execute(f"SET maintenance_work_mem = '{BUILD_MEMORY}'".encode())
                while (statement := self.pending.get()) is not None:
                    if not self.errors:
                        conn.execute(statement.encode())
        except BaseException as e:
            self.errors.append(e)
