"""Benchmark: what sealing personal data under per-person keys costs.

In one run, on one server, alternating the two modes round by round:
  intake  one delivery of N new students end to end (bench/intake.py's batch)
  save    N Student.Registered events by save_in_batches (the raw write path)
  read    the N students loaded again by get_many in a fresh registry (cold key
          cache: keys fetched with one query a bulk load)
each with sealing on (the registry's only mode in use) and off
(SEAL_PERSONAL_DATA=n, the bench's switch). Prints medians, records/s and the
ratio sealed/plain. Usage: python bench/encryption.py [N] [ROUNDS]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import psycopg
from intake import batch, bsns, persons, school  # bench/intake.py
from psycopg.conninfo import make_conninfo
from pydantic import SecretStr

from registry.application.registry import Registry
from registry.bootstrap import Runtime, bootstrap
from registry.config import Settings
from registry.domain.student import KeyData, Student
from registry.domain.values import Onderwijsnummer
from registry.infrastructure.embedded_postgres import EmbeddedPostgres
from registry.infrastructure.event_store import event_store_env

AT = datetime(2026, 8, 20, tzinfo=UTC)
KEY = KeyData(date(2013, 5, 17), "M", postcode="9711AB")
MODES = ("sealed", "plain")


@contextmanager
def database(server: str, sealed: bool) -> Iterator[Runtime]:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = make_conninfo(server, dbname=name)
    os.environ["SEAL_PERSONAL_DATA"] = "y" if sealed else "n"
    try:
        with bootstrap(Settings(database_url=SecretStr(url), clock="simulated")) as rt:
            yield rt
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def rate(n: int, work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return n / (time.perf_counter() - start)


def intake_rate(server: str, n: int, sealed: bool) -> float:
    with database(server, sealed) as rt:
        rt.registry.load_schools([school()], AT)
        people = persons(bsns(n))
        rt.population.load(people, AT)
        raw = batch(people)
        return rate(n, lambda: rt.intake.submit(raw, AT))


def save_and_read_rates(server: str, n: int, sealed: bool) -> tuple[float, float]:
    numbers = (Onderwijsnummer.from_serial(s) for s in range(10 * n))
    valid = [x for x in numbers if x is not None][:n]
    students = [Student.register(x, KEY, AT, issued=True) for x in valid]
    with database(server, sealed) as rt:
        saved = rate(n, lambda: rt.registry.save_in_batches(students, AT, 1000))
        fresh = Registry(env=event_store_env(rt.database_url, rt.settings))
        try:
            ids = [s.id for s in students]
            read = rate(n, lambda: fresh.get_many(ids))
        finally:
            fresh.close()
        return saved, read


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    settings = Settings()
    embedded = None if settings.database_url else EmbeddedPostgres(settings.state_dir)
    server = embedded.start() if embedded else settings.database_url.get_secret_value()  # type: ignore[union-attr]
    for mode in MODES:  # warm up: the first round of a process pays for imports
        intake_rate(server, min(n, 1000), mode == "sealed")
        save_and_read_rates(server, min(n, 1000), mode == "sealed")
    found: dict[tuple[str, str], list[float]] = {}
    for r in range(rounds):
        for mode in MODES if r % 2 == 0 else MODES[::-1]:
            sealed = mode == "sealed"
            found.setdefault(("intake", mode), []).append(
                intake_rate(server, n, sealed)
            )
            saved, read = save_and_read_rates(server, n, sealed)
            found.setdefault(("save", mode), []).append(saved)
            found.setdefault(("read", mode), []).append(read)
    print(f"sealing personal data: {n} students, median of {rounds} rounds")
    for what in ("intake", "save", "read"):
        s, p = (statistics.median(found[(what, m)]) for m in MODES)
        print(
            f"  {what:6}: sealed {s:9,.0f}/s  plain {p:9,.0f}/s  "
            f"ratio sealed/plain {s / p:.3f}"
        )
    if embedded:
        embedded.stop()


if __name__ == "__main__":
    main()
