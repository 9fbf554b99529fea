"""The end-of-year summary the demo prints and reports: students, fotos per
school, signals by code, funded and not funded with reasons, the voorlopig →
definitief diff, funding per school, messages per topic, lag."""

from __future__ import annotations

from collections import Counter
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from registry.domain.calendar import SchoolYearCalendar
from registry.projections import signals as signal_list
from registry.projections.diff import Side, counts
from registry.projections.timeline import Timeline
from registry.runtime.bootstrap import Runtime

KINDS = ("voorlopig", "actueel", "definitief")


def gather(
    rt: Runtime, schooljaar: str, scale: str, relay_lag: int | None
) -> dict[str, Any]:
    schema = rt.projector.fresh(Timeline())
    now = rt.now()
    with psycopg.connect(rt.database_url) as conn:
        conn.execute(SQL("SET search_path TO {}, public").format(Identifier(schema)))
        curs = conn.cursor()
        latest = _latest_fotos(curs, schooljaar)
        schools = [r[0] for r in curs.execute("SELECT brin FROM schools ORDER BY brin")]
        signals: Counter[str] = Counter()
        for brin in schools:
            signals.update(
                s["code"] for s in signal_list.current(curs, brin, schooljaar, now)
            )
        (students,) = curs.execute("SELECT count(*) FROM students").fetchone() or (0,)
        diffs = _diffs(curs, schooljaar, latest)
        topics: dict[str, int] = dict(
            curs.execute("SELECT topic, count(*) FROM outbox GROUP BY topic").fetchall()
        )
        unfunded = _unfunded(curs, schooljaar)
    final = {b: f["definitief"] for b, f in latest.items() if "definitief" in f}
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
        "funding": _funding(rt, schooljaar, sorted(final)),
        "topics": topics,
        "lag": lag,
    }


# The latest version of each foto, without its document: at national scale the
# documents are ~1 GB of JSON that took 15 s to fetch and decode for two numbers.
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


def _diffs(
    curs: Any, schooljaar: str, latest: dict[str, Any]
) -> dict[str, dict[str, int]]:
    peildatum = SchoolYearCalendar.of(schooljaar).count_date
    out = {}
    for brin, fotos in latest.items():
        if "voorlopig" not in fotos or "definitief" not in fotos:
            continue
        a, b = fotos["voorlopig"], fotos["definitief"]
        out[brin] = counts(
            curs,
            brin,
            schooljaar,
            peildatum,
            Side("voorlopig", a["stand_per"], a["position"]),
            Side("definitief", b["stand_per"], b["position"]),
        )
    return out


def _funding(rt: Runtime, schooljaar: str, brins: list[str]) -> dict[str, float]:
    from registry.projections.funding_view import statement

    return {
        brin: float(
            statement(rt.projector, rt.database_url, brin, schooljaar)["totaal"]
        )
        for brin in brins
    }
