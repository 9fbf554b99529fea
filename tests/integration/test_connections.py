"""Pooled connections: reused while a runtime holds the pool, with the same
commit/rollback behaviour as a connection of one's own."""

from __future__ import annotations

import os
import time
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from registry.bootstrap import Runtime
from registry.infrastructure import pools
from registry.infrastructure.embedded_postgres import TUNING, _amount
from registry.infrastructure.pools import check_unless_recent, connect, pooled
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


def test_a_read_needs_no_transaction_and_the_next_block_still_has_one(
    database_url: str,
) -> None:
    """A read block runs without BEGIN and COMMIT; the same connection, lent
    next to a writer, is transactional again: its failure leaves nothing."""
    with pooled(database_url, max_size=1):
        with connect(database_url) as conn:
            conn.execute("CREATE TABLE r (n int)")
        with connect(database_url, autocommit=True) as conn:
            assert conn.execute("SELECT count(*) FROM r").fetchone() == (0,)
            status = conn.info.transaction_status
            assert status == psycopg.pq.TransactionStatus.IDLE  # no BEGIN sent
        with pytest.raises(RuntimeError), connect(database_url) as conn:
            conn.execute("INSERT INTO r VALUES (1)")
            raise RuntimeError("half way")
        with connect(database_url) as conn:
            assert not conn.autocommit
            conn.execute("INSERT INTO r VALUES (2)")
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT n FROM r").fetchall() == [(2,)]


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


def test_a_lent_connection_is_checked_rarely_and_a_dead_one_still_replaced(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[int] = []
    real = ConnectionPool.check_connection

    def counted(conn: psycopg.Connection[Any]) -> None:
        checks.append(1)
        real(conn)

    monkeypatch.setattr(ConnectionPool, "check_connection", counted)
    monkeypatch.setattr(pools, "RECHECK_AFTER_SECONDS", 60)
    with pooled(database_url, max_size=1):
        first = _pid(database_url)
        for _ in range(20):
            assert _pid(database_url) == first
        assert len(checks) == 1  # when first lent: the others came within 60 s
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        time.sleep(0.2)  # the server's goodbye reaches the socket
        assert _pid(database_url) != first  # replaced, not handed out dead


def test_the_event_stores_pool_checks_the_same_way(runtime: Runtime) -> None:
    """The library's pool takes its check when made; the registry's factory
    swaps it (a psycopg_pool that renamed the attribute would fail here)."""
    pool = runtime.registry.recorder.datastore.pool  # type: ignore[attr-defined]
    assert pool._check is check_unless_recent


def test_a_process_names_its_connections_unless_the_url_does(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An operator sees in pg_stat_activity which part of the registry holds a
    connection; an application_name in the URL is theirs and wins."""
    monkeypatch.setenv("PGAPPNAME", "before")  # restored after the test
    pools.name_connections("registry demo relay")
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SHOW application_name").fetchone() == (
            "registry demo relay",
        )
        seen = conn.execute(
            "SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()"
        ).fetchone()
        assert seen == ("registry demo relay",)
    named = database_url + " application_name=ops-console"
    with psycopg.connect(named) as conn:
        assert conn.execute("SHOW application_name").fetchone() == ("ops-console",)
