"""Benchmark: `save(*many)` of new aggregates in batches vs COPY of the same rows.

The raw limit is PostgreSQL's COPY of the identical stored-event rows into a table
of the same shape, measured in the same run on the same server. Prints medians of
several rounds and the ratio. Usage: python bench/save_many.py [N] [ROUNDS]
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime

import psycopg
from psycopg.conninfo import make_conninfo
from pydantic import SecretStr

from registry.bootstrap import bootstrap
from registry.config import Settings
from registry.domain.student import KeyData, Student
from registry.domain.values import Onderwijsnummer
from registry.infrastructure.embedded_postgres import EmbeddedPostgres

AT = datetime(2026, 8, 1, tzinfo=UTC)
KEY = KeyData(date(2013, 5, 17), "M", postcode="9711AB")


def students(n: int) -> list[Student]:
    numbers = (Onderwijsnummer.from_serial(s) for s in range(1_000_000))
    valid = [x for x in numbers if x is not None][:n]
    return [Student.register(x, KEY, AT, issued=True) for x in valid]


def one_round(server_url: str, n: int, batch: int) -> tuple[float, float]:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = make_conninfo(server_url, dbname=name)
    try:
        with bootstrap(Settings(database_url=SecretStr(url), clock="simulated")) as rt:
            aggregates = students(n)
            rows = [
                rt.registry.mapper.to_stored_event(a.pending_events[0])
                for a in aggregates
            ]
            start = time.perf_counter()
            rt.registry.save_in_batches(aggregates, AT, batch)
            save_s = time.perf_counter() - start
        with psycopg.connect(url) as conn:
            conn.execute(
                "CREATE TABLE raw (originator_id uuid, originator_version bigint,"
                " topic text, state bytea, notification_id bigserial,"
                " PRIMARY KEY (originator_id, originator_version))"
            )
            conn.commit()
            start = time.perf_counter()
            with conn.cursor().copy(
                "COPY raw (originator_id, originator_version, topic, state) FROM STDIN"
            ) as copy:
                for r in rows:
                    copy.write_row(
                        (r.originator_id, r.originator_version, r.topic, r.state)
                    )
            conn.commit()
            copy_s = time.perf_counter() - start
        return n / save_s, n / copy_s
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    settings = Settings()
    embedded = None
    if settings.database_url is None:
        embedded = EmbeddedPostgres(settings.state_dir)
        server_url = embedded.start()
    else:
        server_url = settings.database_url.get_secret_value()
    results = [one_round(server_url, n, 1000) for _ in range(rounds)]
    save = statistics.median(r[0] for r in results)
    copy = statistics.median(r[1] for r in results)
    print(
        f"save(*many), batches of 1000: {n} new aggregates, median of {rounds} rounds"
    )
    print(f"  save_in_batches : {save:10,.0f} aggregates/s")
    print(f"  raw COPY        : {copy:10,.0f} rows/s (same rows, same server)")
    print(f"  ratio           : {save / copy:.2f}")
    if embedded:
        embedded.stop()


if __name__ == "__main__":
    main()
