"""Benchmark: the read side at national scale, each figure beside a raw reference
measured in the same run on the same server.

1. Full rebuild of the Timeline projection into a fresh schema (events/s: the
   bulk load, its indexes and ANALYZE), vs a raw scan of the events table in pages of the projector's size, json.loads of
   every state. Median of R rounds.
2. One school's snapshot on 1 October as known at a random stand_per (random
   school, random T over the school year): p50/p99 latency of snapshot(), of
   the document as JSON built in the database and of the API's first page, vs
   the same school's periods fetched by one indexed SELECT (no verdicts) and a
   SELECT 1 round trip; the same for the largest schools alone, and through
   the API (bench/snapshot_latency.py).
3. National totals on 1 October as known at T (median of a few calls, and of
   the same T asked again), vs a count(*) of the periods valid then.
4. A reader tailing the log (read_page up to head) while 8 threads write through
   Registry.save_at with one shared monotonic clock, in a fresh database: the
   positions it read vs every notification_id in the table.

The data set (bench/national.py: 638 schools, N students, > 3 M events for
N=960,000) is built once into its own database and reused. The live timeline
schema is caught up and ANALYZEd before the queries.

Usage: python bench/readside.py [--students N] [--rounds R] [--queries Q]
                                [--rebuild-data] [--sections 1234]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from random import Random
from typing import Any

import national
import psycopg
import snapshot_latency
from figures import record
from psycopg.conninfo import make_conninfo
from psycopg.sql import SQL, Identifier
from pydantic import SecretStr

from registry.application.errors import ConcurrentChange, RecordedTimeWentBack
from registry.application.registry import Registry
from registry.config import Settings
from registry.domain.enrolment import Enrolment, PeriodTerms, Source
from registry.domain.student import KeyData, Student
from registry.domain.values import Bsn
from registry.infrastructure import collector
from registry.infrastructure.event_store import EVENTS_TABLE
from registry.infrastructure.migrations import migrate
from registry.projections.engine.event_log import EventLog
from registry.projections.engine.runner import PAGE_SIZE, Projector
from registry.projections.queries.peiling import national_totals
from registry.projections.timeline import Timeline
from registry.simulation.generator.people import BsnCounter

SJ = "2026-2027"
PEILDATUM = date(2026, 10, 1)
YEAR_START = datetime(2026, 8, 1, tzinfo=UTC)
YEAR_SECONDS = 365 * 24 * 3600
SCRATCH = "bench_rebuild_"  # prefix of the schemas the rebuild rounds create
WRITERS = 8


def random_t(rng: Random) -> datetime:
    return YEAR_START + timedelta(seconds=rng.random() * YEAR_SECONDS)


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


# 1. Rebuild vs raw scan


def live_timeline(projector: Projector, url: str) -> str:
    """The live timeline schema, caught up to the head; leftovers of an
    interrupted earlier run dropped. The whole database is then vacuumed and
    analysed, as a production one is kept: otherwise an autovacuum of the
    freshly written log or schema may run beside the measurements. A
    checkpoint then writes out what the data set's build left in memory, so
    the first rounds do not share the disk with it (a fresh data set's first
    run measured the rebuild a quarter slower)."""
    with psycopg.connect(url) as conn:
        stale = conn.execute(
            "SELECT schema_name FROM projection_tracking WHERE schema_name LIKE %s",
            (SCRATCH + "%",),
        ).fetchall()
    for (schema,) in stale:
        projector.drop(schema)
    schema = projector.fresh(Timeline())
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SQL("SET search_path TO {}").format(Identifier(schema)))
        conn.execute("VACUUM (ANALYZE)")
        # A configured server's user may not: its checkpointer decides then.
        with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
            conn.execute("CHECKPOINT")
    return schema


def rebuild_rate(projector: Projector) -> float:
    """Events/s of a full rebuild of the timeline into a fresh schema, as
    `registry projections rebuild` builds it: loaded in bulk, indexed and
    ANALYZEd, tracked at the head."""
    schema = f"{SCRATCH}{uuid.uuid4().hex[:8]}"
    try:
        start = time.perf_counter()
        read = projector.build(Timeline(), schema, upto=projector.log.head())
        return read / (time.perf_counter() - start)
    finally:
        projector.drop(schema)


def raw_scan_rate(url: str) -> float:
    """Events/s of the same log read raw: pages of PAGE_SIZE up to the head, one
    transaction each, json.loads of every state."""
    read, position = 0, 0
    query = SQL(
        "SELECT notification_id, topic, state FROM {} WHERE notification_id > %s "
        "AND notification_id <= %s ORDER BY notification_id LIMIT %s"
    ).format(Identifier(EVENTS_TABLE))
    log = EventLog.open(url)
    limit = log.head()
    log.close()
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        while position < limit:
            with conn.transaction():
                rows = conn.execute(query, (position, limit, PAGE_SIZE)).fetchall()
            for _, _, state in rows:
                json.loads(state)
            read += len(rows)
            position = rows[-1][0] if len(rows) == PAGE_SIZE else limit
        return read / (time.perf_counter() - start)


def rebuild(url: str, rounds: int) -> tuple[float, float]:
    """Median events/s of the rebuild and of the raw scan, rounds interleaved."""
    projector = Projector(url)
    results = [(rebuild_rate(projector), raw_scan_rate(url)) for _ in range(rounds)]
    return (
        statistics.median(r[0] for r in results),
        statistics.median(r[1] for r in results),
    )


# 2. One school's snapshot: bench/snapshot_latency.py


# 3. National totals


NATIONAL_ROWS = (
    "SELECT count(*) FROM periods WHERE valid @> %s::date "
    "AND recorded @> %s::timestamptz"
)


@dataclass
class Totals:
    seconds: float  # median, a fresh T each
    raw: float  # median count(*)
    kept: float  # median, the same (final) T again
    periods: int


def totals(url: str, schema: str, calls: int, rng: Random) -> Totals:
    """national_totals and the raw count(*) over `calls` random T, each T asked
    twice (the second time a final answer is kept in memory)."""
    done, raw, kept, counted = [], [], [], 0
    with snapshot_latency.schema_connection(url, schema) as conn:
        curs = conn.cursor()
        for _ in range(calls):
            t = random_t(rng)
            start = time.perf_counter()
            result = national_totals(curs, SJ, PEILDATUM, t)
            done.append(time.perf_counter() - start)
            kept.append(timed(lambda: national_totals(curs, SJ, PEILDATUM, t)))  # noqa: B023
            counted = sum(s["controletotaal"] for s in result.values())
            raw.append(
                timed(lambda: curs.execute(NATIONAL_ROWS, (PEILDATUM, t)).fetchone())  # noqa: B023
            )
    return Totals(
        statistics.median(done),
        statistics.median(raw),
        statistics.median(kept),
        counted,
    )


# 4. Tailing reader with concurrent writers


class SharedClock:
    """One monotonic recorded time for every writer: a microsecond counter."""

    def __init__(self, base: datetime) -> None:
        self.base, self.ticks, self.lock = base, 0, threading.Lock()

    def now(self) -> datetime:
        with self.lock:
            self.ticks += 1
            return self.base + timedelta(microseconds=self.ticks)


@dataclass
class WriterStats:
    events: int = 0
    retries: int = 0


KEY = KeyData(date(2013, 5, 17), "V", postcode="9711AB")
TERMS = PeriodTerms("00", "0300", 1)


def new_aggregates(numbers: list[str], at: datetime) -> list[Any]:
    """A student and its enrolment from 1 August for each number, recorded at `at`."""
    source = Source("01OE", 0, SJ, 1, 1)
    out: list[Any] = []
    for number in numbers:
        student = Student.register(Bsn(number), KEY, at)
        out += [
            student,
            Enrolment.register(student.id, "01OE", date(2026, 8, 1), TERMS, source, at),
        ]
    return out


def writer(
    registry: Registry, clock: SharedClock, first: int, saves: int, stats: WriterStats
) -> None:
    """`saves` saves of 1-20 new students each; a save whose time another writer
    overtook is retried with a fresh time (and fresh events)."""
    rng, numbers = Random(first), BsnCounter(first)
    for _ in range(saves):
        batch = [numbers() for _ in range(rng.randint(1, 20))]
        while True:
            at = clock.now()
            aggregates = new_aggregates(batch, at)
            try:
                registry.save_at(*aggregates, at=at)
            except (RecordedTimeWentBack, ConcurrentChange):
                stats.retries += 1
                continue
            stats.events += len(aggregates)
            break


def tail(url: str, done: threading.Event, positions: list[int]) -> None:
    """Read the log from the last position up to the head, page by page, as the
    projector does, until the writers are done and the head is reached."""
    log, position = EventLog.open(url), 0
    try:
        while True:
            finished = done.is_set()  # read before the head: the last pass sees all
            limit = log.head()
            while position < limit:
                facts = log.page(position, limit, PAGE_SIZE)
                positions += [f.position for f in facts]
                position = facts[-1].position if len(facts) == PAGE_SIZE else limit
            if finished:
                return
            time.sleep(0.002)
    finally:
        log.close()


@dataclass
class TailResult:
    missed: int
    extra: int
    events: int
    rate: float
    retries: int


def tailing(server_url: str, saves: int) -> TailResult:
    """8 writers and one tailing reader on a fresh database, dropped after."""
    name = f"bench_tail_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = make_conninfo(server_url, dbname=name)
    try:
        return _tailing(url, saves)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _tailing(url: str, saves: int) -> TailResult:
    from registry.infrastructure.event_store import event_store_env

    settings = Settings(
        database_url=SecretStr(url), pool_size=WRITERS, pool_max_overflow=2
    )
    migrate(url, settings)
    registry = Registry(env=event_store_env(url, settings))
    try:
        clock = SharedClock(datetime(2027, 8, 1, tzinfo=UTC))
        stats = [WriterStats() for _ in range(WRITERS)]
        threads = [
            threading.Thread(
                target=writer,
                args=(registry, clock, 30_000_000 + i * 1_000_000, saves, s),
            )
            for i, s in enumerate(stats)
        ]
        done, positions = threading.Event(), []
        reader = threading.Thread(target=tail, args=(url, done, positions))
        reader.start()
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - start
        done.set()
        reader.join()
    finally:
        registry.close()
    with psycopg.connect(url) as conn:
        stored = {
            r[0] for r in conn.execute(f"SELECT notification_id FROM {EVENTS_TABLE}")
        }
    read = set(positions)
    events = sum(s.events for s in stats)
    assert events == len(stored), (events, len(stored))
    return TailResult(
        missed=len(stored - read),
        extra=len(positions) - len(read & stored),
        events=events,
        rate=events / seconds,
        retries=sum(s.retries for s in stats),
    )


# Report

MS = 1000.0


def print_rebuild(url: str, events: int, rounds: int) -> None:
    built, raw = rebuild(url, rounds)
    print(
        f"1. full rebuild of the timeline, {events:,} events, median of {rounds} rounds"
    )
    print(f"   rebuild (fresh schema)  : {built:10,.0f} events/s")
    print(
        f"   raw scan + json.loads   : {raw:10,.0f} events/s "
        f"(pages of {PAGE_SIZE}, same server)"
    )
    print(f"   ratio                   : {built / raw:.2f}")
    record("rebuild_events_per_s", built, "events/s", raw)


def _latency_lines(lat: snapshot_latency.Latencies) -> None:
    for form in snapshot_latency.FORMS:
        p50, p99 = lat.p(form, 0.5) * MS, lat.p(form, 0.99) * MS
        print(f"   {form:23s} : p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")


def print_snapshots(url: str, schema: str, queries: int, rng: Random) -> None:
    lat = snapshot_latency.measure(url, schema, queries, rng)
    print(
        f"2. one school's snapshot on {PEILDATUM} as known at a random T, {queries} "
        f"queries (rows: median {statistics.median(lat.rows):,.0f}, max {max(lat.rows):,})"
    )
    _latency_lines(lat)
    raw = "indexed SELECT"
    p50 = lat.p(raw, 0.5) / lat.p("snapshot()", 0.5)
    p99 = lat.p(raw, 0.99) / lat.p("snapshot()", 0.99)
    print(f"   ratio (raw / snapshot())  : p50 {p50:.2f}   p99 {p99:.2f}")
    p99_ms, raw_ms = lat.p("snapshot()", 0.99) * MS, lat.p(raw, 0.99) * MS
    record("snapshot_p99_ms", p99_ms, "ms", raw_ms, lower_is_better=True)
    json_ms = lat.p("JSON, all rows", 0.99) * MS
    record("snapshot_json_p99_ms", json_ms, "ms", raw_ms, lower_is_better=True)
    page_ms = lat.p("JSON, first page", 0.99) * MS
    record("snapshot_page_p99_ms", page_ms, "ms", raw_ms, lower_is_better=True)
    record("snapshot_rows_max", max(lat.rows), "rows")
    biggest = snapshot_latency.largest(url, schema, 3)
    named = ", ".join(f"{b} {n:,}" for b, n in biggest)
    per = max(20, queries // 4)
    big = snapshot_latency.measure(url, schema, per, rng, [b for b, _ in biggest])
    print(f"   the largest schools ({named} periods), {per} queries:")
    _latency_lines(big)
    big_ms = big.p("JSON, all rows", 0.99) * MS
    big_raw = big.p(raw, 0.99) * MS
    record("snapshot_largest_json_p99_ms", big_ms, "ms", big_raw, lower_is_better=True)
    record(
        "snapshot_largest_p99_ms",
        big.p("snapshot()", 0.99) * MS,
        "ms",
        big_raw,
        lower_is_better=True,
    )
    http = snapshot_latency.api(url, [b for b, _ in biggest], per, rng)
    print(
        f"   through the API, the largest schools' first page, {per} requests "
        f"(statuses {sorted(http.statuses)}):"
    )
    for label, values in (
        ("a fresh T", http.fresh),
        ("the same T again", http.kept),
        ("the same, If-None-Match", http.unchanged),
    ):
        p50, p99 = pct(values, 0.5) * MS, pct(values, 0.99) * MS
        print(f"   {label:23s} : p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")
    record(
        "snapshot_api_p99_ms", pct(http.fresh, 0.99) * MS, "ms", lower_is_better=True
    )


def print_totals(url: str, schema: str, calls: int, rng: Random) -> None:
    got = totals(url, schema, calls, rng)
    print(
        f"3. national totals on {PEILDATUM} as known at a random T, median of "
        f"{calls} calls ({got.periods:,} periods)"
    )
    print(f"   national_totals()       : {got.seconds:8.2f} s")
    print(f"   the same T again (kept) : {got.kept:8.4f} s")
    print(
        f"   raw count(*)            : {got.raw:8.2f} s (periods valid on D as known at T)"
    )
    print(f"   ratio                   : {got.raw / got.seconds:.2f}")
    record("national_totals_s", got.seconds, "s", got.raw, lower_is_better=True)


def print_tailing(server_url: str, saves: int) -> None:
    tailed = tailing(server_url, saves)
    print(
        f"4. tailing reader, {WRITERS} writers through Registry.save_at, "
        f"{tailed.events:,} events"
    )
    print(f"   missed: {tailed.missed}   read twice or unknown: {tailed.extra}")
    record("tail_missed", tailed.missed, "events")
    record("tail_read_twice", tailed.extra, "events")
    print(
        f"   written                 : {tailed.rate:10,.0f} events/s "
        f"({tailed.retries} saves retried at a later time)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=national.DEFAULT_STUDENTS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--tail-saves", type=int, default=150, help="saves per writer")
    parser.add_argument("--rebuild-data", action="store_true")
    parser.add_argument(
        "--sections", default="1234", help="which of sections 1-4 to run, e.g. 23"
    )
    args = parser.parse_args()
    collector.tune()  # as every registry process has its garbage collector
    server_url, embedded = national.server()
    try:
        url, data = national.ensure(server_url, args.students, args.rebuild_data)
        with psycopg.connect(url) as conn:
            events = conn.execute(f"SELECT count(*) FROM {EVENTS_TABLE}").fetchone()[0]  # type: ignore[index]
        # A dataset kept from an older run: migrate it.
        migrate(url, Settings(database_url=SecretStr(url)))
        projector = Projector(url)
        schema = live_timeline(projector, url)
        rng = Random(7)
        print(f"read side at national scale ({data})")
        if "1" in args.sections:
            print_rebuild(url, events, args.rounds)
        if "2" in args.sections:
            print_snapshots(url, schema, args.queries, rng)
        if "3" in args.sections:
            print_totals(url, schema, args.calls, rng)
        if "4" in args.sections:
            print_tailing(server_url, args.tail_saves)
    finally:
        if embedded:
            embedded.stop()


if __name__ == "__main__":
    main()
