"""Pooled connections: reused while a runtime holds the pool, with the same
commit/rollback behaviour as a connection of one's own."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.rows import dict_row

from registry.runtime.connections import connect, pooled


def _pid(url: str) -> int:
    with connect(url) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
    assert row is not None
    return int(row[0])


def test_a_pool_reuses_its_connections_and_resets_the_row_factory(
    database_url: str,
) -> None:
    assert _pid(database_url) != _pid(database_url)  # no pool: one each
    with pooled(database_url, max_size=1):
        first = _pid(database_url)
        with connect(database_url, dict_row) as conn:
            assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}
        with connect(database_url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert _pid(database_url) == first


def test_a_failed_block_rolls_back_and_a_good_one_commits(database_url: str) -> None:
    with pooled(database_url, max_size=1):
        with connect(database_url) as conn:
            conn.execute("CREATE TABLE t (n int)")
        with pytest.raises(RuntimeError), connect(database_url) as conn:
            conn.execute("INSERT INTO t VALUES (1)")
            raise RuntimeError("half way")
        with connect(database_url) as conn:
            conn.execute("INSERT INTO t VALUES (2)")
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT n FROM t").fetchall() == [(2,)]
