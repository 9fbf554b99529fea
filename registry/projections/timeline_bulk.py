"""The timeline loaded in bulk (engine/bulk.py): the rules of timeline.py's
page fold, over the whole log at once.

Periods and enrolments, two thirds of the log, are derived in SQL from the
stored events, on a connection of their own while the rest is folded here.
A period's versions follow its stream: every event opens a version but a
deletion, and the next event of the stream closes it; an end carries the
terms of the version it closes. A stream the page fold would treat otherwise
(not opened by its registration, an end of nothing, a state to upcast, a
malformed one) makes the bulk load give way to the page fold.

The versions wait in a scratch table until the students are loaded: a
version carries its student's number, kind and BSN as they end up (the page
fold copies them in and rewrites them in place), so `finish` writes periods
once, joined to the students. Doubles are derived from the versions as
they end up: what the page fold notes and then narrows with later closes.

Students are handed out when registered; later changes to a student's row
(key data, a linked BSN, links, forgetting) are kept per student and applied
by one UPDATE before the indexes exist. Schools, vestigingen, licences,
school years and exclusions (a few thousand rows) are kept until the end.
Values stay in their stored form (`EventLog.bulk_page`) and go out as text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.utils import resolve_topic
from psycopg import Cursor
from psycopg.sql import SQL, Composable

from registry.infrastructure.sealing import PERSONAL, forgotten_number
from registry.projections import events
from registry.projections.engine.event_log import Fact, stored_text
from registry.projections.engine.projection import BulkLoad, NoBulk, Rows

Kept = list[Any]  # [brin, vestiging, ..., opened_at, opened_by, closed_at, closed_by]

# Each enrolment event with what the page fold reads of it and of its stream:
# the registration (first event), the event before and after it, and the
# terms of the last event that was not an end (`grp` counts those). Fields are
# typed and the topic coded as they are read, so the sorts and the materialised
# steps carry about a third less than the text did (docs/benchmarks-notes.md).
_STEPS = """
WITH steps AS MATERIALIZED (SELECT x.*,
  first_value(x.vestiging) OVER g AS c_vestiging,
  first_value(x.elementcode) OVER g AS c_elementcode,
  first_value(x.leerjaar) OVER g AS c_leerjaar,
  first_value(x.jaren_pro) OVER g AS c_jaren_pro
FROM (
  SELECT f.*, row_number() OVER w AS n, lag(f.kind) OVER w AS prev,
    lead(f.pos) OVER w AS next_pos, lead(f.at) OVER w AS next_at,
    first_value(f.r_student_id) OVER w AS student_id,
    first_value(f.r_brin) OVER w AS brin,
    first_value(f.r_ingangsdatum) OVER w AS ingangsdatum,
    first_value(f.pos) OVER w AS registered_by,
    count(*) FILTER (WHERE f.kind <> 'E') OVER w AS grp
  FROM (
    SELECT eid, pos, CASE topic WHEN %(registered)s THEN 'R' WHEN %(ended)s THEN 'E'
        WHEN %(deleted)s THEN 'D' ELSE 'O' END::"char" AS kind,
      (j->'timestamp'->>'_data_')::timestamptz AS at,
      jsonb_typeof(j->'terms') AS terms_type, j->'terms'->>'vestiging' AS vestiging,
      j->'terms'->>'elementcode' AS elementcode,
      (j->'terms'->>'leerjaar')::int AS leerjaar,
      (j->'terms'->>'jaren_pro')::int AS jaren_pro,
      (CASE WHEN topic = %(ended)s THEN j->'einddatum'->>'_data_'
        ELSE j->'terms'->'einddatum'->>'_data_' END)::date AS einddatum,
      j ? 'einddatum' AS has_end, j ? 'class_version' AS upcast,
      jsonb_typeof(j->'source') AS source_type,
      (j->'source'->>'batchnummer')::int AS batchnummer,
      (j->'source'->>'meldingnummer')::int AS meldingnummer,
      coalesce((j->'source'->>'accountant')::boolean, false) AS accountant,
      (j->'student_id'->>'_data_')::uuid AS r_student_id, j->>'brin' AS r_brin,
      (j->'ingangsdatum'->>'_data_')::date AS r_ingangsdatum
    FROM (
      SELECT e.originator_id AS eid, e.notification_id AS pos, e.topic,
        convert_from(e.state, 'UTF8')::jsonb AS j
      FROM {events} e
      WHERE e.topic = ANY(%(topics)s) AND e.notification_id <= %(limit)s
      OFFSET 0  -- each state parsed once, not once for every field read
    ) parsed
    OFFSET 0  -- the fields read before the sort: it sorts them, not the states
  ) f
  WINDOW w AS (PARTITION BY f.eid ORDER BY f.pos)
) x
WINDOW g AS (PARTITION BY x.eid, x.grp ORDER BY x.pos)),
enrolments AS (INSERT INTO enrolments
  SELECT eid, student_id, brin, ingangsdatum, pos FROM steps WHERE kind = 'R'),
-- An end carries the terms of the last version not opened by an end.
versions AS (INSERT INTO period_versions
  SELECT eid, student_id, brin, c_vestiging, c_elementcode, c_leerjaar,
    c_jaren_pro, ingangsdatum, einddatum, daterange(ingangsdatum, einddatum, '[]'),
    tstzrange(at, next_at, '[)'), pos, next_pos, batchnummer, meldingnummer,
    accountant, registered_by
  FROM steps WHERE kind <> 'D')
-- The events the page fold would treat otherwise; the rows are undone then.
SELECT count(*), count(*) FILTER (WHERE upcast
  OR (n = 1) <> (kind = 'R')
  OR (kind = 'E' AND (prev IS NULL OR prev = 'D' OR NOT has_end))
  OR source_type <> 'object'
  OR kind NOT IN ('E', 'D') AND terms_type IS DISTINCT FROM 'object')
FROM steps
"""
# The versions without what finish copies from the students (unlogged: a
# scratch table, dropped before the build is tracked).
_VERSIONS = """
CREATE UNLOGGED TABLE period_versions AS SELECT enrolment_id, student_id, brin,
  vestiging, elementcode, leerjaar, jaren_pro, ingangsdatum, einddatum, valid,
  recorded, opened_by, closed_by, batchnummer, meldingnummer, accountant,
  registered_by
FROM periods WITH NO DATA
"""
# The pairs timeline._DOUBLES notes, with the recorded ranges and positions
# it ends with once every later close has narrowed them (_CLOSE_DOUBLES):
# the intersections of the versions as they end up. Their log positions
# overlap as ranges do, without making them: a version is closed after it
# was opened, and p was opened before r.
_DOUBLES = """
INSERT INTO doubles
SELECT DISTINCT r.student_id, b.brin, r.valid * p.valid, r.recorded * p.recorded,
  int8range(r.opened_by, r.closed_by) * int8range(p.opened_by, p.closed_by),
  r.enrolment_id, p.enrolment_id
FROM period_versions r JOIN period_versions p ON p.student_id = r.student_id
  AND p.opened_by < r.opened_by AND (p.closed_by IS NULL OR r.opened_by < p.closed_by)
  AND p.enrolment_id <> r.enrolment_id AND p.valid && r.valid
CROSS JOIN LATERAL (VALUES (r.brin), (p.brin)) b(brin)
"""
# The last enrolment event loaded, for the horizon.
_LAST = """
SELECT notification_id, convert_from(state, 'UTF8')::jsonb->'timestamp'->>'_data_'
FROM {events} WHERE topic = ANY(%(topics)s) AND notification_id <= %(limit)s
ORDER BY notification_id DESC LIMIT 1
"""
# The page fold copies a student's row into a version when it is written: a
# student registered after their enrolment may or may not be there by then,
# depending on where the page ended.
_UNSEEN = """
SELECT count(*) FROM enrolments e LEFT JOIN students s USING (student_id)
WHERE s.registered_by IS NULL OR s.registered_by > e.registered_by
"""
# As timeline._INSERT, with the students as they end up: the page fold
# rewrites a version's number and BSN in place when the student's row changes.
# Written school by school: a school's snapshot then reads its own heap pages
# rather than one page a row (docs/benchmarks-notes.md).
# In parts by school, at once: each part writes pages of its own.
_PERIODS = """
INSERT INTO periods SELECT v.*, s.number, s.kind, s.bsn
FROM period_versions v LEFT JOIN students s ON s.student_id = v.student_id
WHERE mod(hashtext(v.brin)::bigint + 2147483648, {parts}) = {part}
ORDER BY v.brin, v.student_id
"""
_SQL_PARAMS = {
    "registered": events.ENROLMENT_REGISTERED,
    "ended": events.ENROLMENT_ENDED,
    "deleted": events.ENROLMENT_DELETED,
    "topics": sorted(events.ENROLMENT),
}

_PATCHED = (
    "number",
    "geboortedatum",
    "geslacht",
    "postcode",
    "landcode",
    "bsn",
    "person_id",
)
_KEY = ("geboortedatum", "geslacht", "postcode", "landcode")
_PATCHES = """
CREATE TEMP TABLE student_patches (student_id uuid, number text,
  geboortedatum date, geslacht text, postcode text, landcode text, bsn text,
  person_id uuid, changed text[]) ON COMMIT DROP;
CREATE TEMP TABLE student_aliases (person_id uuid, alias_id uuid,
  position bigint) ON COMMIT DROP;
"""
_APPLY = (
    "UPDATE students s SET {} FROM student_patches p WHERE s.student_id = p.student_id"
)
# An alias's link names the person's row if it was registered before it.
_ALIASES = """
UPDATE students s SET bsn_id = a.alias_id FROM (
  SELECT DISTINCT ON (a.person_id) a.person_id, a.alias_id
  FROM student_aliases a JOIN students p ON p.student_id = a.person_id
    AND p.registered_by < a.position
  ORDER BY a.person_id, a.position DESC) a
WHERE s.student_id = a.person_id
"""


def _range(start: Any, end: Any, bounds: str) -> str:
    return f"{bounds[0]}{start},{end or ''}{bounds[1]}"


class TimelineLoad(BulkLoad):
    set_based_tables = ("enrolments", "doubles")

    def __init__(self, topics: tuple[str, ...]) -> None:
        self.topics = tuple(t for t in topics if t not in events.ENROLMENT)
        self.schools: dict[UUID, str] = {}
        self.years: dict[UUID, tuple[str, str]] = {}
        self.open: dict[tuple[str, str, str], list[Kept]] = {}
        self.kept: dict[str, list[Kept]] = {"vestigingen": [], "licences": []}
        self.rows: Rows = {t: [] for t in ("schools", "school_years", "exclusions")}
        self.ready: Rows = {"students": []}
        self.patches: dict[UUID, dict[str, Any]] = {}
        self.aliases: list[tuple[Any, UUID, int]] = []
        # The horizon: the last event folded here and the last enrolment
        # event (position, time; each side's own), and the last event that
        # rewrote a number or link in place.
        self.last: tuple[int, Any] = (0, None)
        self.last_enrolment: tuple[int, Any] = (0, None)
        self.identities = 0

    def _steps(self) -> dict[str, Callable[[Fact], None]]:
        # Made for each page, not kept: bound methods kept on the load would
        # make it a cycle, and its rows would then outlive the rebuild until
        # a full collection.
        return {
            events.STUDENT_REGISTERED: self._student,
            events.STUDENT_KEY_DATA_CHANGED: self._key_changed,
            events.STUDENT_BSN_LINKED: self._bsn_linked,
            events.STUDENT_LINKED_TO: self._linked_to,
            events.STUDENT_FORGOTTEN: self._forgotten,
            events.SCHOOL_REGISTERED: self._school,
            events.VESTIGING_OPENED: self._vestiging_opened,
            events.VESTIGING_CHANGED: self._vestiging_opened,
            events.VESTIGING_CLOSED: self._vestiging_closed,
            events.LICENCES_CHANGED: self._licences,
            events.SCHOOL_YEAR_OPENED: self._year,
            events.ASSURANCE_REPORTED: self._assurance,
        }

    def page(self, facts: list[Fact]) -> Rows:
        steps = self._steps()
        for fact in facts:
            steps[fact.topic](fact)
        if facts:
            self.last = (facts[-1].position, stored_text(facts[-1].data["timestamp"]))
        ready = self.ready
        self.ready = {t: [] for t in ready}
        return ready

    def set_based(self, curs: Cursor[Any], events_table: Composable, limit: int) -> int:
        """Enrolments and periods up to `limit`, from the stored events."""
        if any(t in PERSONAL or _upcasts(t) for t in events.ENROLMENT):
            raise NoBulk("enrolment events are sealed or upcast: folded page by page")
        params = {**_SQL_PARAMS, "limit": limit}
        curs.execute(_VERSIONS)
        query = SQL(_STEPS).format(events=events_table)
        read, odd = curs.execute(query, params).fetchone() or (0, 0)
        if odd:
            raise NoBulk(f"{odd} enrolment events the page fold treats otherwise")
        curs.execute(_DOUBLES)
        last = curs.execute(SQL(_LAST).format(events=events_table), params).fetchone()
        if last is not None:
            self.last_enrolment = (last[0], last[1])
        return int(read)

    def rest(self) -> Rows:
        rows = self.page([])
        for table, kept in self.kept.items():
            rows[table] = [_versioned(k) for k in kept]
        return rows | self.rows

    def finish(self, curs: Cursor[Any]) -> None:
        self._patch_students(curs)
        unseen = curs.execute(_UNSEEN).fetchone()
        if unseen and unseen[0]:
            raise NoBulk(f"{unseen[0]} enrolments registered before their student")
        last = max(self.last, self.last_enrolment, key=lambda seen: seen[0])
        curs.execute(
            "UPDATE horizon SET recorded_at = %s, identities = %s",
            (last[1], self.identities),
        )

    def finish_parts(self, parts: int) -> list[str]:
        return [_PERIODS.format(parts=parts, part=part) for part in range(parts)]

    def finished(self, curs: Cursor[Any]) -> None:
        curs.execute("DROP TABLE period_versions")

    def _patch_students(self, curs: Cursor[Any]) -> None:
        if not self.patches and not self.aliases:
            return
        curs.execute(_PATCHES)
        with curs.copy("COPY student_patches FROM STDIN") as copy:
            for sid, patch in self.patches.items():
                copy.write_row(
                    (sid, *(stored_text(patch.get(c)) for c in _PATCHED), list(patch))
                )
        with curs.copy("COPY student_aliases FROM STDIN") as copy:
            for alias in self.aliases:
                copy.write_row(alias)
        assigned = ", ".join(
            f"{c} = CASE WHEN '{c}' = ANY(p.changed) THEN p.{c} ELSE s.{c} END"
            for c in _PATCHED
        )
        curs.execute(_APPLY.format(assigned).encode())
        curs.execute(_ALIASES)

    # --- students --------------------------------------------------------------

    def _student(self, fact: Fact) -> None:
        d, key = fact.data, fact.data["key"]
        self.ready["students"].append(
            (
                fact.originator_id,
                d["number"],
                d["kind"],
                stored_text(key.get("geboortedatum")),
                key.get("geslacht"),
                key.get("postcode"),
                key.get("landcode"),
                fact.position,
                None,
                None,
                None,
            )
        )

    def _patch(self, sid: UUID, **changed: Any) -> None:
        self.patches.setdefault(sid, {}).update(changed)

    def _key_changed(self, fact: Fact) -> None:
        new = fact.data["new"]
        self._patch(fact.originator_id, **{k: new[k] for k in _KEY})

    def _bsn_linked(self, fact: Fact) -> None:
        self.identities = fact.position
        self._patch(fact.originator_id, bsn=fact.data["bsn"])

    def _linked_to(self, fact: Fact) -> None:
        self.identities = fact.position
        person = stored_text(fact.data["person_id"])
        self._patch(fact.originator_id, person_id=person)
        self.aliases.append((person, fact.originator_id, fact.position))

    def _forgotten(self, fact: Fact) -> None:
        sid, self.identities = fact.originator_id, fact.position
        self._patch(sid, number=forgotten_number(sid), bsn=None, **dict.fromkeys(_KEY))

    # --- schools and school years ---------------------------------------------

    def _school(self, fact: Fact) -> None:
        self.schools[fact.originator_id] = fact.data["brin"]
        self.rows["schools"].append(
            (fact.originator_id, fact.data["brin"], fact.position)
        )

    def _keep(self, table: str, row: list[Any], fact: Fact) -> None:
        """A row opened by `fact`, closed by a later `_close_kept`."""
        kept = [*row, stored_text(fact.data["timestamp"]), fact.position, None, None]
        self.kept[table].append(kept)
        self.open.setdefault((table, row[0], row[1]), []).append(kept)

    def _close_kept(self, table: str, brin: str, vestiging: str, fact: Fact) -> None:
        for kept in self.open.pop((table, brin, vestiging), []):
            kept[-2:] = [stored_text(fact.data["timestamp"]), fact.position]

    def _vestiging_opened(self, fact: Fact) -> None:
        brin, d = self.schools[fact.originator_id], fact.data
        self._close_kept("vestigingen", brin, d["vestiging"], fact)
        details = d["details"]
        row = [brin, d["vestiging"], details["hoofdvestiging"], details["gemeente"]]
        self._keep("vestigingen", row, fact)

    def _vestiging_closed(self, fact: Fact) -> None:
        brin, vestiging = self.schools[fact.originator_id], fact.data["vestiging"]
        for table in ("vestigingen", "licences"):
            self._close_kept(table, brin, vestiging, fact)

    def _licences(self, fact: Fact) -> None:
        brin, vestiging = self.schools[fact.originator_id], fact.data["vestiging"]
        self._close_kept("licences", brin, vestiging, fact)
        for lic in fact.data["licences"]:
            valid = _range(stored_text(lic["van"]), stored_text(lic.get("tot")), "[]")
            self._keep("licences", [brin, vestiging, lic["elementcode"], valid], fact)

    def _year(self, fact: Fact) -> None:
        key = (fact.data["brin"], fact.data["schooljaar"])
        self.years[fact.originator_id] = key
        self.rows["school_years"].append((fact.originator_id, *key, fact.position))

    def _assurance(self, fact: Fact) -> None:
        key = self.years[fact.originator_id]
        at = stored_text(fact.data["timestamp"])
        self.rows["exclusions"] += [
            (*key, stored_text(e["student_id"]), e["reden"], at, fact.position)
            for e in fact.data["exclusions"]
        ]


def _upcasts(topic: str) -> bool:
    return getattr(resolve_topic(topic), "class_version", 1) != 1


def _versioned(kept: Kept) -> tuple[Any, ...]:
    """A kept row as stored: its recorded range from when it was opened and
    closed, then the positions that did."""
    *row, opened_at, opened_by, closed_at, closed_by = kept
    return (*row, _range(opened_at, closed_at, "[)"), opened_by, closed_by)
