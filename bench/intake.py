"""Benchmark: one delivery of N records end to end (parse, check, verify against
the population register, append) vs the raw COPY rate of the same records into
the same PostgreSQL in the same run. Usage: python bench/intake.py [N] [ROUNDS]
[--processes P] [--small K]

Two floors are measured beside it, to say where a record's time goes: the rows
the delivery's save wrote, copied alone into tables of the same shape (the
database's share, no Python), and the delivery's events alone, a student and a
period a record built by the domain and saved as intake saves them (no parsing,
rules or checks). Intake cannot be faster than either.

With --processes P, P deliveries of N records from P schools go in at once, one
process each, after the single-process rounds: the aggregate rate is how intake
scales out across cores (the event log's insert lock serialises only the saves).

With --small K, K deliveries of SMALL_SIZE records each, one after another: most
deliveries are that small (the national demo's median batch), so what a
delivery costs beyond its records shows here. Their median time is set against
the same records copied in a transaction of their own (BEGIN, COPY, COMMIT)."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from figures import record
from pydantic import SecretStr
from scratch import scratch_database

from registry.bootstrap import bootstrap
from registry.config import Settings
from registry.domain.enrolment import Enrolment, PeriodTerms, Source
from registry.domain.school import Licence, SchoolRegistration, VestigingRegistration
from registry.domain.student import KeyData, Student
from registry.domain.values import Bsn
from registry.infrastructure import collector
from registry.infrastructure.embedded_postgres import EmbeddedPostgres
from registry.intake.population import PersonIn

AT = datetime(2026, 8, 20, tzinfo=UTC)
WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
SMALL_SIZE = 2  # records: the national demo's median delivery


def bsns(n: int) -> list[str]:
    out, k = [], 300_000_000
    while len(out) < n:
        d = f"{k:09d}"
        if sum(int(x) * w for x, w in zip(d, WEIGHTS, strict=True)) % 11 == 0:
            out.append(d)
        k += 1
    return out


def persons(numbers: list[str]) -> list[PersonIn]:
    return [
        PersonIn(
            bsn=b,
            achternaam="Jansen",
            voornamen="Anna",
            geboortedatum=date(2013, 1, 1) + timedelta(days=i % 365),
            geslacht="MV"[i % 2],
            postcode="9711AB",
        )
        for i, b in enumerate(numbers)
    ]


def batch(people: list[PersonIn], brin: str = "01OE", batchnummer: int = 1) -> str:
    records: list[dict[str, Any]] = [
        {
            "meldingnummer": i,
            "soort": "I",
            "mutatie": "T",
            "leerling": {
                "bsn": p.bsn,
                "geboortedatum": str(p.geboortedatum),
                "geslacht": p.geslacht,
                "postcode": p.postcode,
            },
            "inschrijving": {
                "vestiging": "00",
                "ingangsdatum": "2026-08-01",
                "elementcode": "0300",
                "leerjaar": 1,
            },
        }
        for i, p in enumerate(people, 1)
    ]
    return json.dumps(
        {
            "format": "bron-vo-batch/1",
            "brin": brin,
            "aanleverpunt": 0,
            "batchnummer": batchnummer,
            "schooljaar": "2026-2027",
            "soort": "INSCHRIJVING",
            "verantwoordelijke": "INSTELLING",
            "meldingen": records,
        }
    )


def school(brin: str = "01OE") -> SchoolRegistration:
    lic = (Licence("0300", date(2020, 8, 1)),)
    v = VestigingRegistration("00", "Hoofd", True, "9711AB", "GM0014", lic)
    return SchoolRegistration(brin, "Bench College", "GM0014", (v,))


def raw_rows(raw: str) -> list[tuple[str, str, str, str]]:
    return [
        (r["leerling"]["bsn"], "01OE", r["inschrijving"]["ingangsdatum"], json.dumps(r))
        for r in json.loads(raw)["meldingen"]
    ]


def raw_table(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        "CREATE TABLE raw_records (bsn text, brin text, ingangsdatum date,"
        " record jsonb, PRIMARY KEY (bsn, brin, ingangsdatum))"
    )
    conn.commit()


def copy_rows(conn: psycopg.Connection[Any], rows: Sequence[tuple[str, ...]]) -> None:
    """The rows in a transaction of their own."""
    with conn.cursor().copy("COPY raw_records FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    conn.commit()


def copy_rate(url: str, raw: str) -> float:
    rows = raw_rows(raw)
    with psycopg.connect(url) as conn:
        raw_table(conn)
        start = time.perf_counter()
        copy_rows(conn, rows)
        return len(rows) / (time.perf_counter() - start)


# The tables a delivery's save writes to: the log and intake's side tables.
SAVED = (
    "registry_events",
    "intake_enrolments",
    "intake_issued",
    "intake_waiting",
    "intake_batches",
    "person_keys",
    "student_numbers",
)


def floor_rate(url: str, n: int) -> float:
    """The database's share of intake with no Python: the rows the delivery's
    save wrote, copied in one transaction into empty tables of the same shape
    and indexes. COPY is the cheapest way in, so no save of these rows can be
    faster than this (the scratch database holds one school's events besides)."""
    with psycopg.connect(url) as conn:
        rows: dict[str, bytes] = {}
        for table in SAVED:
            conn.execute(f"CREATE TABLE floor_{table} (LIKE {table} INCLUDING ALL)")
            with conn.cursor().copy(f"COPY {table} TO STDOUT (FORMAT binary)") as out:
                rows[table] = b"".join(bytes(chunk) for chunk in out)
        conn.commit()
        start = time.perf_counter()
        for table, data in rows.items():
            with conn.cursor().copy(
                f"COPY floor_{table} FROM STDIN (FORMAT binary)"
            ) as copy:
                copy.write(data)
        conn.commit()
        return n / (time.perf_counter() - start)


def events_alone_rate(server: str, people: list[PersonIn]) -> float:
    """What the delivery's events cost with nothing of intake around them: a
    student and a period for each person, built through the domain and saved
    (mapped, sealed, copied) in one save, as intake saves them. No parsing, no
    rules, no identity checks, no state read."""
    terms = PeriodTerms("00", "0300", 1)
    with (
        scratch_database(server) as url,
        bootstrap(Settings(database_url=SecretStr(url), clock="simulated")) as rt,
    ):
        rt.registry.load_schools([school()], AT)
        start = time.perf_counter()
        made: list[Student | Enrolment] = []
        with collector.paused():  # as intake runs a delivery
            _make(people, made, terms)
            rt.registry.save_at(*made, at=AT)
        return len(people) / (time.perf_counter() - start)


def _make(
    people: list[PersonIn], made: list[Student | Enrolment], terms: PeriodTerms
) -> None:
    for i, p in enumerate(people, 1):
        key = KeyData(p.geboortedatum, p.geslacht, postcode=p.postcode)
        student = Student.register(Bsn(p.bsn), key, AT)
        source = Source("01OE", 0, "2026-2027", 1, i)
        made.append(student)
        made.append(
            Enrolment.register(student.id, "01OE", date(2026, 8, 1), terms, source, AT)
        )


def one_round(server: str, n: int) -> tuple[float, float, float, dict[str, int]]:
    """Intake's rate, the raw COPY's and the floor's, and the feedback's counts."""
    with scratch_database(server) as url:
        with bootstrap(Settings(database_url=SecretStr(url), clock="simulated")) as rt:
            rt.registry.load_schools([school()], AT)
            people = persons(bsns(n))
            rt.population.load(people, AT)
            raw = batch(people)
            start = time.perf_counter()
            fb = rt.intake.submit(raw, AT).feedback
            rate = n / (time.perf_counter() - start)
        status = {k: fb[k] for k in ("goedgekeurd", "afgekeurd", "wachtend")}
        return rate, copy_rate(url, raw), floor_rate(url, n), status


def _deliver(url: str, raw: str, ready: Any, out: Any) -> None:
    """One process of the parallel round."""
    with bootstrap(Settings(database_url=SecretStr(url), clock="simulated")) as rt:
        ready.wait()  # every process connected: they start together
        began = time.perf_counter()
        fb = rt.intake.submit(raw, AT).feedback
        out.put((began, time.perf_counter(), fb["goedgekeurd"]))


def parallel_round(server: str, n: int, processes: int) -> tuple[float, int]:
    """P schools' deliveries at once: (aggregate records/s, records accepted)."""
    brins = [f"{i + 1:02d}OE" for i in range(processes)]
    with scratch_database(server) as url:
        numbers = bsns(n * processes)
        people = persons(numbers)
        with bootstrap(Settings(database_url=SecretStr(url), clock="simulated")) as rt:
            rt.registry.load_schools([school(b) for b in brins], AT)
            rt.population.load(people, AT)
        raws = [batch(people[i * n : (i + 1) * n], b) for i, b in enumerate(brins)]
        ctx = multiprocessing.get_context("spawn")  # no inherited connections
        ready, out = ctx.Barrier(processes), ctx.Queue()
        workers = [
            ctx.Process(target=_deliver, args=(url, raw, ready, out)) for raw in raws
        ]
        for w in workers:
            w.start()
        results = [out.get() for _ in workers]
        for w in workers:
            w.join()
        wall = max(r[1] for r in results) - min(r[0] for r in results)
        return n * processes / wall, sum(r[2] for r in results)


def small_deliveries(server: str, count: int) -> tuple[float, float]:
    """Median seconds of a delivery of SMALL_SIZE new students, and of copying
    its records raw. The first tenth of each warms up and is not counted."""
    people = persons(bsns(SMALL_SIZE * count))
    raws = [
        batch(people[i * SMALL_SIZE : (i + 1) * SMALL_SIZE], batchnummer=i + 1)
        for i in range(count)
    ]
    with scratch_database(server) as url:
        with bootstrap(Settings(database_url=SecretStr(url), clock="simulated")) as rt:
            rt.registry.load_schools([school()], AT)
            rt.population.load(people, AT)
            times, accepted = [], 0
            for i, raw in enumerate(raws):
                start = time.perf_counter()
                fb = rt.intake.submit(raw, AT + timedelta(seconds=i)).feedback
                times.append(time.perf_counter() - start)
                accepted += fb["goedgekeurd"]
        assert accepted == SMALL_SIZE * count, accepted
        with psycopg.connect(url) as conn:
            raw_table(conn)
            rows = [raw_rows(raw) for raw in raws]
            raw_times = []
            for r in rows:
                start = time.perf_counter()
                copy_rows(conn, r)
                raw_times.append(time.perf_counter() - start)
    warm = count // 10
    return statistics.median(times[warm:]), statistics.median(raw_times[warm:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("rounds", nargs="?", type=int, default=3)
    parser.add_argument("--processes", type=int, default=0)
    parser.add_argument("--small", type=int, default=0)
    args = parser.parse_args()
    n, rounds = args.n, args.rounds
    settings = Settings()
    embedded = None if settings.database_url else EmbeddedPostgres(settings.state_dir)
    server = embedded.start() if embedded else settings.database_url.get_secret_value()  # type: ignore[union-attr]
    results = [one_round(server, n) for _ in range(rounds)]
    intake = statistics.median(r[0] for r in results)
    raw = statistics.median(r[1] for r in results)
    floor = statistics.median(r[2] for r in results)
    people = persons(bsns(n))
    alone = statistics.median(events_alone_rate(server, people) for _ in range(rounds))
    print(
        f"intake of one {n}-record delivery, median of {rounds} rounds "
        f"(feedback: {results[-1][3]})"
    )
    print(
        f"  intake end to end : {intake:10,.0f} records/s (parse, check, verify, append)"
    )
    print(f"  raw COPY          : {raw:10,.0f} records/s (same records, same server)")
    print(f"  ratio             : {intake / raw:.3f}")
    print(
        f"  its rows alone    : {floor:10,.0f} records/s, ratio {floor / raw:.3f} "
        "(the save's rows copied: the database's share, no Python)"
    )
    print(
        f"  its events alone  : {alone:10,.0f} records/s, ratio {alone / raw:.3f} "
        "(a student and a period each, built by the domain and saved as intake "
        "saves them: no parsing, rules or checks)"
    )
    print(
        f"  a record          : {1e6 / intake:10.1f} µs = rows {1e6 / floor:.1f} "
        f"+ making and saving its events {1e6 / alone - 1e6 / floor:.1f} "
        f"+ parsing, checks, rules {1e6 / intake - 1e6 / alone:.1f}"
    )
    record("intake_records_per_s", intake, "records/s", raw)
    record("intake_rows_alone_records_per_s", floor, "records/s", raw)
    record("intake_events_alone_records_per_s", alone, "records/s", raw)
    if args.processes > 1:
        rate, accepted = parallel_round(server, n, args.processes)
        print(
            f"  {args.processes} schools at once : {rate:10,.0f} records/s in all, "
            f"{accepted:,} of {n * args.processes:,} accepted "
            f"(×{rate / intake:.2f} one delivery; {os.cpu_count()} cores)"
        )
        record("intake_parallel_records_per_s", rate, "records/s", raw)
    if args.small:
        one, copied = small_deliveries(server, args.small)
        print(
            f"  {args.small} deliveries of {SMALL_SIZE} records: "
            f"{one * 1000:.2f} ms each (median); the records copied in a "
            f"transaction of their own {copied * 1000:.2f} ms, ratio {copied / one:.3f}"
        )
        record(
            "intake_small_delivery_ms",
            one * 1000,
            "ms",
            copied * 1000,
            lower_is_better=True,
            sized=False,  # the same deliveries at any scale
        )
    if embedded:
        embedded.stop()


if __name__ == "__main__":
    main()
