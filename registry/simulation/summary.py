"""The end-of-year summary the demo prints and reports: students, fotos per
school, signals by code, funded and not funded with reasons, the voorlopig →
definitief diff, funding per school, messages per topic, lag."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import psycopg
from psycopg import Cursor
from psycopg.sql import SQL, Composed, Identifier

from registry.bootstrap import Runtime
from registry.domain.calendar import SchoolYearCalendar
from registry.projections.queries import signals as signal_list
from registry.projections.queries.diff import Side, counts
from registry.projections.queries.funding import statement

T = TypeVar("T")


def gather(
    rt: Runtime, schooljaar: str, scale: str, relay_lag: int | None
) -> dict[str, Any]:
    schema = rt.catch_up()
    now = rt.now()
    timeline = SQL("SET search_path TO {}, public").format(Identifier(schema))
    with psycopg.connect(rt.database_url) as conn:
        conn.execute(timeline)
        curs = conn.cursor()
        latest = _latest_fotos(curs, schooljaar)
        schools = [r[0] for r in curs.execute("SELECT brin FROM schools ORDER BY brin")]
        signals = signal_list.counts(curs, schooljaar, now)
        (students,) = curs.execute("SELECT count(*) FROM students").fetchone() or (0,)
        topics: dict[str, int] = dict(
            curs.execute("SELECT topic, count(*) FROM outbox GROUP BY topic").fetchall()
        )
        unfunded = _unfunded(curs, schooljaar)
    final = {b: f["definitief"] for b, f in latest.items() if "definitief" in f}
    url = rt.database_url
    both = [b for b in latest if _both(latest[b])]
    diffs = _each_school(url, timeline, _diffs(schooljaar, latest), both)
    funding = _each_school(
        url,
        timeline,
        lambda curs, brin: float(statement(curs, brin, schooljaar)["totaal"]),
        sorted(final),
    )
    funded = sum(f["bekostigd"] for f in final.values())
    counted = sum(f["controletotaal"] for f in final.values())
    lag = {
        f"projection {s.schema}": s.lag for s in rt.projector.status() if s.upto is None
    }
    if relay_lag is not None:
        lag["relay"] = relay_lag
    return {
        "schooljaar": schooljaar,
        "scale": scale,
        "at": now.isoformat(),  # the simulated clock: as known then
        "cards": {
            "schools": len(schools),
            "students": students,
            "periods on 1 Oct (definitief)": counted,
            "funded": funded,
            "not funded": counted - funded,
            "signals": sum(signals.values()),
            "messages published": sum(topics.values()),
        },
        "fotos": {
            b: {k: (f[k]["controletotaal"], f[k]["bekostigd"]) for k in f}
            for b, f in latest.items()
        },
        "signals": dict(signals),
        "unfunded": unfunded,
        "diff": diffs,
        "funding": funding,
        "topics": topics,
        "lag": lag,
    }


# The latest version of each foto, without its document: the documents are far
# too large to fetch and decode for two numbers.
_LATEST = """
SELECT DISTINCT ON (brin, soort) brin, soort, versie, position, stand_per,
  (document->>'controletotaal')::int, (document->>'bekostigd')::int
FROM fotos WHERE schooljaar = %s ORDER BY brin, soort, versie DESC
"""
# Not funded on the latest definitieve foto, by reason, counted in the database.
_UNFUNDED = """
SELECT r.code, count(*) FROM (
  SELECT DISTINCT ON (brin) document FROM fotos
  WHERE schooljaar = %s AND soort = 'definitief' ORDER BY brin, versie DESC) f,
  jsonb_array_elements(f.document->'inschrijvingen') e,
  jsonb_array_elements_text(e->'redenen') r(code)
GROUP BY r.code ORDER BY r.code
"""


def _latest_fotos(curs: Any, schooljaar: str) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for brin, soort, versie, position, stand_per, total, funded in curs.execute(
        _LATEST, (schooljaar,)
    ):
        out.setdefault(brin, {})[soort] = {
            "versie": versie,
            "position": position,
            "stand_per": stand_per,
            "controletotaal": total,
            "bekostigd": funded,
        }
    return out


def _unfunded(curs: Any, schooljaar: str) -> dict[str, int]:
    return dict(curs.execute(_UNFUNDED, (schooljaar,)).fetchall())


def _both(fotos: dict[str, Any]) -> bool:
    return "voorlopig" in fotos and "definitief" in fotos


def _diffs(
    schooljaar: str, latest: dict[str, Any]
) -> Callable[[Cursor[Any], str], dict[str, int]]:
    """The voorlopig → definitief change counts of one school."""
    peildatum = SchoolYearCalendar.of(schooljaar).count_date

    def one(curs: Cursor[Any], brin: str) -> dict[str, int]:
        a, b = latest[brin]["voorlopig"], latest[brin]["definitief"]
        return counts(
            curs,
            brin,
            schooljaar,
            peildatum,
            Side("voorlopig", a["stand_per"], a["position"]),
            Side("definitief", b["stand_per"], b["position"]),
        )

    return one


WORKERS = min(4, (os.cpu_count() or 1) + 1)


def _each_school(
    url: str, setup: Composed, work: Callable[[Cursor[Any], str], T], brins: list[str]
) -> dict[str, T]:
    """`work` for every school, over several connections at once: each call is
    the database's work (a snapshot query), and one connection keeps one server
    process busy while the others wait. Results in the order of the schools
    given."""
    todo = iter(brins)
    lock = threading.Lock()

    def worker() -> dict[str, T]:
        done: dict[str, T] = {}
        with psycopg.connect(url) as conn:
            conn.execute(setup)
            curs = conn.cursor()
            while True:
                with lock:
                    brin = next(todo, None)
                if brin is None:
                    return done
                done[brin] = work(curs, brin)

    with ThreadPoolExecutor(WORKERS) as pool:
        parts = [pool.submit(worker) for _ in range(WORKERS)]
        done = {k: v for part in parts for k, v in part.result().items()}
    return {brin: done[brin] for brin in brins}
