"""Benchmark: the extracts caught up over a log, against the raw read of it.

Over the first E events of the read side's data set (bench/national.py), in a
transaction that is rolled back (the data set is left as it was):

- raw: the log's pages read and decoded, nothing applied (the limit of any
  projection that reads them);
- together: the registry's `extracts`, the four recipients over one copy of the
  students and periods (registry/projections/extracts/group.py);
- separate: the four recipients as projections of their own, each with its own
  copy, caught up in one pass as before 2026-12-05 (engine/multi.py).

Each prints events/s, the CPU seconds of this process and of the server backend
that applies the pages (when the server runs on this machine; the log is read on
a connection of its own, not counted), and the messages written, whose digest
must be the same both ways. Median of R rounds. The pages are applied by the
engine's own step (`multi._page`) on a connection the bench holds, so that the
whole catch-up can be rolled back.

Usage: python bench/extracts.py [--students N] [--events E] [--rounds R]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import national
import psycopg
from figures import record
from psycopg.sql import SQL, Identifier
from pydantic import SecretStr

from registry.bootstrap import payload_check
from registry.config import Settings
from registry.infrastructure import collector
from registry.infrastructure.migrations import migrate
from registry.infrastructure.pools import connect
from registry.projections.engine import multi
from registry.projections.engine.catalog import EXTRACTS
from registry.projections.engine.projection import Projection
from registry.projections.engine.runner import PAGE_SIZE, Projector
from registry.projections.extracts.base import ExtractProjection
from registry.projections.extracts.group import Extracts
from registry.publishing.contract import topic


@dataclass(frozen=True)
class Round:
    events: int
    seconds: float
    client_cpu: float
    server_cpu: float | None
    messages: int
    digest: str

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def _backend_cpu(pid: int) -> float | None:
    """User + system seconds of a server process on this machine."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def recipients() -> list[Any]:
    """Each checks its payloads against the contract, as the registry's do."""
    made = [e(b"bench-" + e.recipient.encode(), topic) for e in EXTRACTS]
    for recipient in made:
        recipient.check = payload_check()
    return made


def _measured(url: str, step: Callable[[psycopg.Connection[Any]], int]) -> Round:
    with connect(url) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        pid = row[0]
        with conn.transaction(force_rollback=True):
            seq = conn.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()
            assert seq is not None
            t0, c0, s0 = time.perf_counter(), time.process_time(), _backend_cpu(pid)
            events = step(conn)
            t1, c1, s1 = time.perf_counter(), time.process_time(), _backend_cpu(pid)
            rows = conn.execute(
                "SELECT message_id, recipient, topic, key, kind, payload::text, "
                "source_position, student_id FROM outbox WHERE seq > %s "
                "ORDER BY message_id",
                (seq[0],),
            ).fetchall()
    server = None if s0 is None or s1 is None else s1 - s0
    digest = hashlib.sha256(repr(rows).encode()).hexdigest()[:16]
    return Round(events, t1 - t0, c1 - c0, server, len(rows), digest)


def _raw(projector: Projector, limit: int) -> Callable[[Any], int]:
    topics = tuple(sorted(ExtractProjection.topics))

    def step(conn: Any) -> int:
        position, read = 0, 0
        while position < limit:
            facts = projector.log.page(position, limit, PAGE_SIZE, topics)
            if not facts:
                break
            read += len(facts)
            position = facts[-1].position
        return read

    return step


def _applied(
    projector: Projector, url: str, projections: list[Projection]
) -> Callable[[Any], int]:
    pairs = []
    for p in projections:
        schema = f"bench_x_{p.name}"
        _drop(url, schema)
        projector.ensure(p, schema)
        pairs.append((p, schema))

    def step(conn: Any) -> int:
        read = 0
        while (n := multi._page(projector, conn, pairs, PAGE_SIZE, None)) >= 0:
            read += n
        return read

    return step


def _drop(url: str, schema: str) -> None:
    with connect(url) as conn:
        conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(schema)))
        conn.execute("DELETE FROM projection_tracking WHERE schema_name = %s", (schema,))


def _line(name: str, r: Round, raw: float | None) -> str:
    ratio = f"  ratio {r.rate / raw:.3f}" if raw else ""
    server = "n/a" if r.server_cpu is None else f"{r.server_cpu:.1f}"
    messages = f"  messages {r.messages:,} ({r.digest})" if r.messages else ""
    return (
        f"   {name:9s}: {r.rate:10,.0f} events/s  client CPU {r.client_cpu:.1f} s  "
        f"server CPU {server} s{ratio}{messages}"
    )


def median(rounds: list[Round]) -> Round:
    return sorted(rounds, key=lambda r: r.rate)[len(rounds) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=60_000)
    parser.add_argument("--events", type=int, default=400_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    collector.tune()
    server_url, embedded = national.server()
    try:
        url, data = national.ensure(server_url, args.students)
        migrate(url, Settings(database_url=SecretStr(url)))
        projector = Projector(url)
        head = projector.log.head()
        limit = min(head, args.events)
        projector.log.head = lambda: limit  # type: ignore[method-assign]
        print(f"extracts over the first {limit:,} log positions ({data})")
        ways: dict[str, list[Round]] = {"raw": [], "together": [], "separate": []}
        for _ in range(args.rounds):
            ways["raw"].append(_measured(url, _raw(projector, limit)))
            group = Extracts(recipients(), payload_check())
            ways["together"].append(_measured(url, _applied(projector, url, [group])))
            alone: list[Projection] = list(recipients())
            ways["separate"].append(_measured(url, _applied(projector, url, alone)))
        for p in [Extracts(recipients()), *recipients()]:
            _drop(url, f"bench_x_{p.name}")
        best = {k: median(v) for k, v in ways.items()}
        raw = best["raw"].rate
        for name, r in best.items():
            print(_line(name, r, None if name == "raw" else raw))
        same = best["together"].digest == best["separate"].digest
        print(f"   the same messages both ways: {same}")
        record("extracts_events_per_s", best["together"].rate, "events/s", raw)
        cpu = statistics.median(
            r.client_cpu + (r.server_cpu or 0) for r in ways["together"]
        )
        alone_cpu = statistics.median(
            r.client_cpu + (r.server_cpu or 0) for r in ways["separate"]
        )
        print(f"   CPU together / separate: {cpu:.1f} / {alone_cpu:.1f} s")
        if not same:
            raise SystemExit("the extracts sent other messages together than apart")
    finally:
        if embedded:
            embedded.stop()


if __name__ == "__main__":
    main()
