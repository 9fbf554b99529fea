"""A snapshot's entries as the document (`bron-vo-foto/1`) shows them, shaped,
judged and sorted in the database: one school of 11,000 enrolments is then
one index scan, one sort and one round trip, not 11,000 rows turned into
dicts. `rows` gives them as values (the Python document is built from them);
`page` gives a page of them as JSON text, with the student number of each,
for an answer that is sent as it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from psycopg import Cursor, capabilities
from psycopg.sql import SQL, Composable, Composed, Literal

from registry.domain.foto import EXCLUSION_CODES, FotoEntry
from registry.projections.queries import verdicts

# The reasons, sorted by code as foto.verdict sorts them, as one text,
# comma-separated, '' when funded: cheaper for the server than an array
# (built, then stripped of NULLs) and for the client to read.
_WHY = {
    "X121": verdicts.UNLICENSED,
    "X130": verdicts.DOUBLE,
    **{code: verdicts.excluded(reden) for reden, code in EXCLUSION_CODES.items()},
}
_REDENEN = SQL("concat_ws(',', {})").format(
    SQL(", ").join(
        SQL("CASE WHEN {} THEN {} END").format(cond, Literal(code))
        for code, cond in sorted(_WHY.items())
    )
)
# contract.md: by student number (the BSN first: foto.student_number), then
# vestiging, then ingangsdatum; the rest only makes ties come out the same.
_ORDER = SQL(
    'key COLLATE "C", vestiging COLLATE "C", ingangsdatum, '
    'elementcode COLLATE "C", leerjaar, einddatum NULLS LAST'
)
# Read from verdicts.with_verdicts, each period judged where it is read.
_SHAPED = SQL("""
SELECT CASE WHEN v.kind = 'bsn' THEN v.number ELSE v.bsn END AS bsn,
  CASE WHEN v.kind = 'bsn' THEN NULL ELSE v.number END AS onderwijsnummer,
  CASE WHEN v.kind = 'bsn' THEN v.number ELSE coalesce(v.bsn, v.number) END AS key,
  v.vestiging, v.elementcode, v.leerjaar, v.ingangsdatum, v.einddatum,
  {redenen} AS redenen
FROM valid v
""").format(redenen=_REDENEN)
# The dates as text (ISO 8601, _iso_dates): no date objects made to be
# formatted again; the key only sorts.
_ROWS = SQL("""{verdicts}
SELECT e.bsn, e.onderwijsnummer, e.vestiging, e.elementcode, e.leerjaar,
  e.ingangsdatum::text, e.einddatum::text, e.redenen
FROM ({shaped}) e ORDER BY {order}
""")
# One entry as JSON, keys in the document's order, by concatenation: to_json
# on each value would double the time of a large school's page. It is safe
# because the periods table admits only digits, letters, ':' and '-' in these
# columns (timeline.py) and the dates are in ISO 8601 (_iso_dates).
_ENTRY = SQL("""'{"leerling":{"bsn":' || coalesce('"' || e.bsn || '"', 'null')
  || ',"onderwijsnummer":' || coalesce('"' || e.onderwijsnummer || '"', 'null')
  || '},"vestiging":"' || e.vestiging || '","elementcode":"' || e.elementcode
  || '","leerjaar":' || e.leerjaar || ',"ingangsdatum":"' || e.ingangsdatum
  || '","einddatum":' || coalesce('"' || e.einddatum || '"', 'null')
  || CASE WHEN e.redenen = '' THEN ',"bekostigd":true,"redenen":[]}'
    ELSE ',"bekostigd":false,"redenen":["'
      || replace(e.redenen, ',', '","') || '"]}' END""")
# The whole answer's counts, and only the page's entries built (an aggregate's
# arguments are not computed for rows its FILTER leaves out). The aggregates
# sort as the window does, so the rows are sorted once.
_PAGE = SQL("""{verdicts}
SELECT count(*), count(*) FILTER (WHERE e.redenen = ''),
  '[' || coalesce(string_agg({entry}, ',' ORDER BY {order}) FILTER (WHERE {on_page}), '')
    || ']',
  coalesce(array_agg(e.key ORDER BY {order}) FILTER (WHERE {on_page}), '{{}}')
FROM (SELECT s.*, row_number() OVER (ORDER BY {order}) AS n FROM ({shaped}) s) e
""")
_ON_PAGE = SQL("e.n > %(start)s AND e.n <= %(end)s")
# Every entry: no row numbers to count.
_WHOLE = SQL("""{verdicts}
SELECT count(*), count(*) FILTER (WHERE e.redenen = ''),
  '[' || coalesce(string_agg({entry}, ',' ORDER BY {order}), '') || ']',
  coalesce(array_agg(e.key ORDER BY {order}), '{{}}')
FROM ({shaped}) e
""")
# Rows in a chunk of a snapshot's entries (rows); a quarter or three times
# as many took the same.
_CHUNK = 1000
# The code an answer is made by (its entity tag names it).
CODE = hashlib.sha256(
    repr(
        (_ORDER, _SHAPED, _ENTRY, _PAGE, _WHOLE, verdicts.with_verdicts(False, True))
    ).encode()
).hexdigest()[:16]


def _shaped(by_position: bool) -> dict[str, Composable]:
    """One school's entries, shaped: the `verdicts` and `shaped` of a query."""
    return {"verdicts": verdicts.with_verdicts(by_position, True), "shaped": _SHAPED}


def _params(
    brin: str | None, schooljaar: str, d: date, t: datetime, position: int | None
) -> dict[str, Any]:
    return {"brin": brin, "sj": schooljaar, "d": d, "t": t, "p": position}


def _iso_dates(curs: Cursor[Any]) -> None:
    """Dates are written as text by the session's DateStyle: refuse any but
    ISO 8601 (reading() sets it) rather than put another form in a document.
    The server reports the setting, so this asks it nothing."""
    style = curs.connection.info.parameter_status("DateStyle") or ""
    if not style.startswith("ISO"):
        raise ValueError(f"snapshot entries need DateStyle ISO, not {style!r}")


def rows(
    curs: Cursor[Any],
    brin: str,
    schooljaar: str,
    d: date,
    t: datetime,
    position: int | None = None,
) -> list[FotoEntry]:
    """The school's entries on D as known at T (or at position P), in the
    contract's order (foto.sort_key, then the rest of _ORDER)."""
    _iso_dates(curs)
    query = _ROWS.format(**_shaped(position is not None), order=_ORDER)
    params = _params(brin, schooljaar, d, t, position)
    return [
        {
            "leerling": {"bsn": bsn, "onderwijsnummer": onr},
            "vestiging": vestiging,
            "elementcode": code,
            "leerjaar": leerjaar,
            "ingangsdatum": start,
            "einddatum": end,
            "bekostigd": not why,
            "redenen": why.split(",") if why else [],
        }
        for bsn, onr, vestiging, code, leerjaar, start, end, why in _fetched(
            curs, query, params
        )
    ]


def _fetched(
    curs: Cursor[Any], query: Composed, params: dict[str, Any]
) -> Iterable[tuple[Any, ...]]:
    """The rows in chunks where the client library can (libpq 17 or later):
    the entries of one chunk are built while the server sends the next, so the
    client's work overlaps the server's (docs/benchmarks-notes.md)."""
    if capabilities.has_stream_chunked():
        return curs.stream(query, params, size=_CHUNK)
    return curs.execute(query, params).fetchall()


@dataclass(frozen=True)
class Page:
    """A page of a snapshot's entries as a JSON array, the student number of
    each (for the audit of reads), and the counts of the whole snapshot."""

    entries: str
    numbers: tuple[str, ...]
    controletotaal: int
    bekostigd: int


def page(
    curs: Cursor[Any],
    brin: str,
    schooljaar: str,
    d: date,
    t: datetime,
    start: int = 0,
    limit: int | None = None,
) -> Page:
    """Entries start+1 to start+limit (every one when `limit` is None) of the
    school's snapshot on D as known at T."""
    _iso_dates(curs)
    shaped = _shaped(False)
    params = _params(brin, schooljaar, d, t, None)
    if start == 0 and limit is None:
        query = _WHOLE.format(entry=_ENTRY, order=_ORDER, **shaped)
    else:
        query = _PAGE.format(
            entry=_ENTRY, on_page=_ON_PAGE, order=_ORDER, **shaped
        )
        end = start + limit if limit is not None else 2**62
        params |= {"start": start, "end": end}
    row = curs.execute(query, params).fetchone()
    assert row is not None  # an aggregate: always one row
    return Page(row[2], tuple(row[3]), row[0], row[1])
