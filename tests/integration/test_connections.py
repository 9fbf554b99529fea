"""Pooled connections: reused while a runtime holds the pool, with the same
commit/rollback behaviour as a connection of one's own."""

from __future__ import annotations

import os

import psycopg
import pytest
from psycopg.rows import dict_row

from registry.infrastructure.embedded_postgres import TUNING, _amount
from registry.infrastructure.pools import connect, pooled
from registry.simulation.processes import NICE, _backend_gives_way


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


def test_the_embedded_server_checkpoints_by_time_not_every_gigabyte(
    server_url: str,
) -> None:
    if os.environ.get("REGISTRY_DATABASE_URL"):
        pytest.skip("a given server is its operator's to tune")
    with connect(server_url) as conn:
        for name, value in TUNING.items():
            row = conn.execute(
                "SELECT setting || coalesce(unit, '') FROM pg_settings WHERE name = %s",
                (name,),
            ).fetchone()
            assert row is not None and _amount(row[0]) == _amount(value)


def test_an_extract_connection_makes_its_server_process_give_way(
    server_url: str,
) -> None:
    if os.environ.get("REGISTRY_DATABASE_URL"):
        pytest.skip("the server process of a given server may not be ours")
    with psycopg.connect(server_url) as conn:
        _backend_gives_way(conn)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        assert os.getpriority(os.PRIO_PROCESS, int(row[0])) == NICE
