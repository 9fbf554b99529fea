"""Connections to PostgreSQL: from a pool while a runtime holds one for the URL,
else a connection of their own.

A new connection costs the server a process and an authentication, and the
stores would otherwise open one per call, several per delivered batch.

`connect` behaves like `with psycopg.connect(url) as conn` either way: the
block's transaction commits at its end, or rolls back on an exception. A pooled
connection goes back with its row factory reset; session settings must not be
changed on one (use SET LOCAL inside the block's transaction).
"""

from __future__ import annotations

import os
import select
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool

_POOLS: dict[str, tuple[ConnectionPool, int]] = {}
_LOCK = threading.Lock()
# A delivery borrows a connection a dozen times; checking each loan is a round
# trip, and under load every round trip waits for a core again.
RECHECK_AFTER_SECONDS = 1.0
_checked: weakref.WeakKeyDictionary[psycopg.Connection[Any], float] = (
    weakref.WeakKeyDictionary()
)


def name_connections(name: str) -> None:
    """Every connection this process opens from now on carries `name` as its
    `application_name` (libpq reads PGAPPNAME), which `pg_stat_activity` and
    the server's log lines show: an operator sees which part of the registry
    holds a connection, a lock or a core. An `application_name` given in the
    database URL still wins. Processes started from this one inherit it."""
    os.environ["PGAPPNAME"] = name[:63]  # the server keeps 63 bytes


def check_unless_recent(conn: psycopg.Connection[Any]) -> None:
    """The pool's check when a connection is lent: a round trip, unless the
    connection passed one less than RECHECK_AFTER_SECONDS ago and nothing came
    from the server since. A server that stops or ends the session says so
    (or closes the socket), so a connection that died with it is still
    replaced, not handed to a request."""
    now = time.monotonic()
    last = _checked.get(conn)
    if last is not None and now - last < RECHECK_AFTER_SECONDS and _quiet(conn):
        return
    ConnectionPool.check_connection(conn)
    _checked[conn] = now


def _quiet(conn: psycopg.Connection[Any]) -> bool:
    """Nothing to read on an idle connection's socket (a poll, no round trip;
    poll, unlike select, takes descriptors above 1023)."""
    try:
        waiting = select.poll()
        waiting.register(conn.fileno(), select.POLLIN)
        return not waiting.poll(0)
    except (OSError, ValueError, psycopg.Error):
        return False


@contextmanager
def connect(
    url: str, row_factory: Any = None, *, autocommit: bool = False
) -> Iterator[psycopg.Connection[Any]]:
    """`autocommit`: for a block whose statements need no transaction around
    them (a single read): each is one round trip, not three with BEGIN and
    COMMIT, which a delivery of a few records otherwise pays a dozen times."""
    entry = _POOLS.get(url)
    if entry is None:
        with psycopg.connect(
            url, row_factory=row_factory or tuple_row, autocommit=autocommit
        ) as conn:
            yield conn
        return
    with entry[0].connection() as conn:
        if row_factory is not None:
            conn.row_factory = row_factory
        was = conn.autocommit
        if autocommit:
            conn.autocommit = True
        try:
            yield conn
        finally:
            conn.row_factory = tuple_row
            if autocommit and not was:
                _transactional_again(conn)


def _transactional_again(conn: psycopg.Connection[Any]) -> None:
    """Lend no connection in autocommit to a block that expects a transaction:
    one that cannot be set back is closed, and the pool drops it."""
    try:
        conn.autocommit = False
    except psycopg.Error:
        conn.close()


@contextmanager
def pooled(
    url: str,
    max_size: int = 8,
    configure: Callable[[psycopg.Connection[Any]], None] | None = None,
) -> Iterator[None]:
    """Pool the connections to `url` made through `connect` in this process
    while the block runs (blocks may nest; the outermost pool is kept).
    `configure` sees each new connection and must leave it idle."""
    with _LOCK:
        pool, users = _POOLS.get(url, (None, 0))
        if pool is None:
            pool = ConnectionPool(
                url,
                min_size=1,
                max_size=max_size,
                open=True,
                name="registry",
                configure=configure,
                # Checked when lent: a connection that died with the server
                # is replaced, not handed to a request.
                check=check_unless_recent,
                kwargs={"connect_timeout": 5},
                timeout=5,  # then PoolTimeout: 503, try again
            )
        _POOLS[url] = (pool, users + 1)
    try:
        yield
    finally:
        with _LOCK:
            users = _POOLS[url][1] - 1
            if users:
                _POOLS[url] = (pool, users)
            else:
                del _POOLS[url]
                pool.close()
