"""The verdict core of snapshots, in SQL: the periods valid on a peildatum as
known at a time (or at a log position), each with what its funding verdict
rests on (peiling.py lists the rules)."""

from __future__ import annotations

from psycopg.sql import SQL, Composable, Composed, Literal

# The periods valid on D as known at T (or at log position P), each with what
# its verdict rests on. {one} narrows every part to one school. One school's
# rows come from its index with the student's number on them, so no
# lookup per row. X130 ranks only the students noted in `doubles` for D and
# T (two enrolments valid and known at once), over their periods at every
# school; the licences and exclusions read are those of the school and of
# those periods' schools. Only otherwise fundable periods (licensed, not
# excluded) take part in a ranking.
_WITH = """
WITH valid AS (
  SELECT p.brin, p.number, p.kind, p.bsn, p.vestiging, p.elementcode, p.leerjaar,
    p.ingangsdatum, p.einddatum, p.student_id, p.enrolment_id, p.opened_by
  FROM periods p WHERE {one_p} p.valid @> %(d)s::date AND {p}),
contested AS MATERIALIZED (
  SELECT DISTINCT d.student_id FROM doubles d
  WHERE {one_d} d.valid @> %(d)s::date AND {k}),
rivals AS MATERIALIZED (
  SELECT p.enrolment_id, p.student_id, p.brin, p.vestiging, p.elementcode,
    p.ingangsdatum, p.registered_by
  FROM contested c JOIN periods p ON p.student_id = c.student_id
  WHERE p.valid @> %(d)s::date AND {p}),
schools AS MATERIALIZED (
  SELECT %(brin)s::text AS brin UNION SELECT brin FROM rivals),
lic AS MATERIALIZED ({licences}),
exc AS MATERIALIZED (
  SELECT z.brin, z.student_id, array_agg(DISTINCT z.reden ORDER BY z.reden)
    AS excluded
  FROM (SELECT x.brin, x.student_id, x.reden FROM exclusions x
        WHERE x.schooljaar = %(sj)s AND {x} {one_x}
        UNION ALL
        SELECT x.brin, s.student_id, x.reden FROM exclusions x
        JOIN students s ON s.bsn_id = x.student_id
        WHERE x.schooljaar = %(sj)s AND {x} {one_x}) z
  GROUP BY z.brin, z.student_id),
judged AS (
  SELECT r.enrolment_id, r.student_id, r.ingangsdatum, r.registered_by,
    {licensed_r} AND exc.excluded IS NULL AS fundable
  FROM rivals r {join_r}
  LEFT JOIN exc ON (exc.brin, exc.student_id) = (r.brin, r.student_id)),
ranked AS (
  SELECT j.enrolment_id, j.fundable AND row_number() OVER (
    PARTITION BY j.student_id, j.fundable
    ORDER BY j.ingangsdatum DESC, j.registered_by) > 1 AS double
  FROM judged j)
"""
# Each period with its verdict's parts as columns: for the country (a hash
# join to each small table is then cheapest) and for the callers that read
# the reasons one by one (peiling.PeriodRow).
_JOINED = """
SELECT v.brin, v.number, v.kind, v.bsn, v.vestiging, v.elementcode, v.leerjaar,
  v.ingangsdatum, v.einddatum, coalesce(k.double, false) AS double, v.student_id,
  v.enrolment_id, v.opened_by, NOT {licensed_v} AS unlicensed, exc.excluded
FROM valid v {join_v}
LEFT JOIN exc ON (exc.brin, exc.student_id) = (v.brin, v.student_id)
LEFT JOIN ranked k ON k.enrolment_id = v.enrolment_id
"""
# The licences valid on D as known, and whether a period's is among them.
# The country's: a table, hash-joined to a million periods. One school's: the
# school's and its rivals' schools' licences (hundreds), a hashed IN looked up
# for each period. Joined as a table, the planner cannot tell how many rows it
# holds once narrowed to the school (it guessed one) and for some schools
# scanned it once per period: 150 ms, not 8, for a school of 3,100 periods. A
# set in one jsonb value, looked up by a key built for each period, was slower
# than the hashed IN for the largest schools (docs/benchmarks-notes.md).
_LICENCES = {  # the CTE, whether {a}'s period is licensed, and the join it needs
    False: (
        "SELECT DISTINCT l.brin, l.vestiging, l.elementcode "
        "FROM licences l WHERE l.valid @> %(d)s::date AND {l}",
        "lic.brin IS NOT NULL",
        "LEFT JOIN lic ON (lic.brin, lic.vestiging, lic.elementcode) "
        "= ({a}.brin, {a}.vestiging, {a}.elementcode)",
    ),
    True: (
        "SELECT DISTINCT l.brin, l.vestiging, l.elementcode FROM licences l "
        "WHERE l.brin = ANY(ARRAY(SELECT brin FROM schools)) "
        "AND l.valid @> %(d)s::date AND {l}",
        "({a}.brin, {a}.vestiging, {a}.elementcode) IN "
        "(SELECT lic.brin, lic.vestiging, lic.elementcode FROM lic)",
        "",
    ),
}
# The conditions that narrow each part to one school (brin = %(brin)s).
_ONE_SCHOOL = {
    "one_p": "p.brin = %(brin)s AND",
    "one_d": "d.brin = %(brin)s AND",
    "one_x": "AND x.brin = ANY(ARRAY(SELECT brin FROM schools))",
}


def _known(alias: str, by_position: bool) -> SQL:
    """A row version known at recorded time T, or, exactly, at log position P
    (a foto is re-derived at the position it was issued at, so events recorded
    later at the same instant cannot change it). A version opened and closed at
    one instant has an empty recorded range, but was known between the two
    positions; the time condition only helps the index."""
    if not by_position:
        return SQL(alias + ".recorded @> %(t)s::timestamptz")
    return SQL(
        alias + ".opened_by <= %(p)s AND coalesce(" + alias + ".closed_by, "
        "9223372036854775807) > %(p)s AND (isempty(" + alias + ".recorded) OR "
        "lower(" + alias + ".recorded) <= %(t)s)"
    )


def with_verdicts(by_position: bool, one_school: bool) -> Composed:
    """The WITH clause the judged periods are read from: `valid` (one school's,
    %(brin)s, or the country's periods valid on %(d)s as known at %(t)s, or
    exactly at log position %(p)s) and what their verdicts rest on."""
    return SQL(_WITH).format(**_parts(by_position, one_school))


def periods_query(by_position: bool, one_school: bool) -> Composed:
    """The judged periods (peiling.PeriodRow), read as with_verdicts says."""
    return SQL(_WITH + _JOINED).format(**_parts(by_position, one_school))


# A period `v`'s verdict's parts as flags, each a lookup in a set the server
# hashes once. For one school's thousands of periods this is cheaper than
# _JOINED's joins to the exclusions and rankings, which are mostly empty
# (docs/benchmarks-notes.md). The sets hold no NULL, so NOT IN is exact.
UNLICENSED = SQL("NOT " + _LICENCES[True][1].format(a="v"))
DOUBLE = SQL("v.enrolment_id IN (SELECT k.enrolment_id FROM ranked k WHERE k.double)")


def excluded(reden: str) -> Composed:
    """Whether `v`'s student is on the exclusions with this reden."""
    return SQL(
        "(v.brin, v.student_id) IN (SELECT exc.brin, exc.student_id FROM exc "
        "WHERE {} = ANY(exc.excluded))"
    ).format(Literal(reden))


def _parts(by_position: bool, one_school: bool) -> dict[str, Composable]:
    x = "x.position <= %(p)s" if by_position else "x.recorded_at <= %(t)s"
    # A pair noted in doubles was known at once over `positions` (at a log
    # position) and over `recorded` (at a time).
    k = (
        "d.positions @> %(p)s::bigint"
        if by_position
        else "d.recorded @> %(t)s::timestamptz"
    )
    narrow = {n: SQL(c if one_school else "") for n, c in _ONE_SCHOOL.items()}
    cte, licensed, join = _LICENCES[one_school]
    licences: dict[str, Composable] = {
        "licences": SQL(cte).format(l=_known("l", by_position))
    }
    for a in ("r", "v"):  # the rivals, the school's own periods
        licences[f"licensed_{a}"] = SQL(licensed.format(a=a))
        licences[f"join_{a}"] = SQL(join.format(a=a))
    return {"p": _known("p", by_position), "x": SQL(x), "k": SQL(k), **licences, **narrow}
