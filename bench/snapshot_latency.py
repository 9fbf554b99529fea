"""Section 2 of the read-side bench: one school's snapshot on the count date as
known at a random T, in each form it is asked for, beside raw references.

- snapshot(): the document as Python values (the command line, fotos);
- the document as JSON text built in the database (entries.page, all rows);
- the API's first page (1,000 entries) as JSON text;
- references: one indexed SELECT of the school's periods, and SELECT 1.

Over random schools (the p99 is the largest few), then over the largest
schools alone, then through the API (HTTP, audit of reads included; the
sign-in is left out): a fresh T, the same T again (a final answer kept in
memory) and the same T with If-None-Match (304).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from random import Random
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier
from pydantic import SecretStr

from registry.projections.queries import entries
from registry.projections.queries.peiling import snapshot

SJ = "2026-2027"
PEILDATUM = date(2026, 10, 1)
YEAR_START = datetime(2026, 8, 1, tzinfo=UTC)
YEAR_SECONDS = 365 * 24 * 3600
WARM_UP = 20
PAGE = 1000
SCHOOL_ROWS = (
    "SELECT * FROM periods WHERE brin = %s AND valid @> %s::date "
    "AND recorded @> %s::timestamptz"
)
FORMS = (
    "snapshot()",
    "JSON, all rows",
    "JSON, first page",
    "indexed SELECT",
    "SELECT 1",
)


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


@dataclass
class Latencies:
    seconds: dict[str, list[float]] = field(
        default_factory=lambda: {f: [] for f in FORMS}
    )
    rows: list[int] = field(default_factory=list)

    def p(self, form: str, q: float) -> float:
        return pct(self.seconds[form], q)


def schema_connection(url: str, schema: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(url, autocommit=True)
    conn.execute(SQL("SET search_path TO {}, public").format(Identifier(schema)))
    return conn


def _ask(curs: psycopg.Cursor[Any], brin: str, t: datetime) -> dict[str, float]:
    def whole() -> None:
        entries.page(curs, brin, SJ, PEILDATUM, t)

    def first() -> None:
        entries.page(curs, brin, SJ, PEILDATUM, t, 0, PAGE)

    return {
        "snapshot()": timed(lambda: snapshot(curs, brin, SJ, PEILDATUM, t)),
        "JSON, all rows": timed(whole),
        "JSON, first page": timed(first),
        "indexed SELECT": timed(
            lambda: curs.execute(SCHOOL_ROWS, (brin, PEILDATUM, t)).fetchall()
        ),
        "SELECT 1": timed(lambda: curs.execute("SELECT 1").fetchall()),
    }


def measure(
    url: str, schema: str, queries: int, rng: Random, brins: list[str] | None = None
) -> Latencies:
    """`queries` rounds of every form for a random school (of `brins`, default
    every school) at a random T, after a few unmeasured ones."""
    out = Latencies()
    with schema_connection(url, schema) as conn:
        curs = conn.cursor()
        # As reading() sets them for the API: a plan for the values asked,
        # every time (psycopg prepares a statement run five times, and a
        # generic plan may follow), and dates as text in ISO 8601.
        curs.execute("SET plan_cache_mode = force_custom_plan")
        curs.execute("SET DateStyle = ISO")
        if brins is None:
            brins = [r[0] for r in curs.execute("SELECT brin FROM schools").fetchall()]
        for i in range(queries + WARM_UP):
            brin, t = rng.choice(brins), random_t(rng)
            took = _ask(curs, brin, t)
            if i >= WARM_UP:
                for form, seconds in took.items():
                    out.seconds[form].append(seconds)
                out.rows.append(
                    entries.page(curs, brin, SJ, PEILDATUM, t, 0, 1).controletotaal
                )
    return out


def largest(url: str, schema: str, n: int) -> list[tuple[str, int]]:
    """The `n` schools with the most periods valid on the peildatum at year end."""
    with schema_connection(url, schema) as conn:
        return [
            (str(b), int(c))
            for b, c in conn.execute(
                "SELECT brin, count(*) FROM periods WHERE valid @> %s::date "
                "AND closed_by IS NULL GROUP BY brin ORDER BY 2 DESC LIMIT %s",
                (PEILDATUM, n),
            ).fetchall()
        ]


@dataclass
class Api:
    fresh: list[float] = field(default_factory=list)
    kept: list[float] = field(default_factory=list)
    unchanged: list[float] = field(default_factory=list)
    statuses: set[int] = field(default_factory=set)


def api(url: str, brins: list[str], queries: int, rng: Random) -> Api:
    """GET …/snapshot?stand_per=T (the first page) through the app: a fresh T,
    the same T again, and the same T with If-None-Match."""
    from fastapi.testclient import TestClient

    from registry.access.policy import Role
    from registry.access.users import Principal
    from registry.api.app import create_app
    from registry.api.deps import current_principal
    from registry.bootstrap import bootstrap
    from registry.config import Settings

    settings = Settings(
        database_url=SecretStr(url), server_keys={"cursor": SecretStr("b" * 32)}
    )
    out = Api()
    with bootstrap(settings) as runtime:
        app = create_app(runtime)
        operator = Principal("bench", Role.OPERATOR, None, None)
        app.dependency_overrides[current_principal] = lambda: operator
        client = TestClient(app)
        for i in range(queries + WARM_UP):
            brin = rng.choice(brins)
            path = f"/v1/schools/{brin}/years/{SJ}/snapshot"
            params = {"stand_per": random_t(rng).isoformat()}
            start = time.perf_counter()
            first = client.get(path, params=params)
            fresh = time.perf_counter() - start
            start = time.perf_counter()
            client.get(path, params=params)
            kept = time.perf_counter() - start
            tag = {"If-None-Match": first.headers.get("ETag", "")}
            start = time.perf_counter()
            again = client.get(path, params=params, headers=tag)
            unchanged = time.perf_counter() - start
            out.statuses |= {first.status_code, again.status_code}
            if i >= WARM_UP:
                out.fresh.append(fresh)
                out.kept.append(kept)
                out.unchanged.append(unchanged)
    return out


def median(values: list[float]) -> float:
    return statistics.median(values)
