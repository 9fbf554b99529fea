"""The bitemporal timeline against a naive oracle, on random histories.

A history is a run of deliveries (T/A/U/V records for a handful of students at
two schools) at non-decreasing recorded times, with catch-ups of the projection
in small pages between them. For many (D, T) the periods valid on D as known at
T, read from the projection, must equal what a fold of the raw stored events
recorded at or before T says; and every student with more than one such period
has exactly one funded (latest ingangsdatum, on a tie the one registered first)
and X130 on the others.

The oracle reads `registry_events` with its own JSON decoding (and opens the
sealed personal fields by the documented format) and shares no code with the
projection. Each example gets a fresh database.
"""

from __future__ import annotations

import base64
import json
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.conninfo import make_conninfo
from pydantic import SecretStr

from registry.bootstrap import Runtime, bootstrap
from registry.config import Settings
from registry.domain.foto import leerling, sort_key
from registry.projections.engine.runner import Projector
from registry.projections.queries import entries
from registry.projections.queries.peiling import PeriodRow, reasons, snapshot
from registry.projections.queries.peiling import periods as snapshot_periods
from registry.projections.timeline import Timeline
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import (
    ANNA,
    HANS,
    OLD,
    PIET,
    TWIN,
    batch,
    extended,
    period,
    prepare,
    rec,
    student,
)

SCHOOLS = ("01OE", "02AB")
INGANG = ("2026-08-01", "2026-09-01", "2026-10-01")
EIND = ("2026-08-31", "2026-09-30", "2026-10-01", "2026-10-02", "2027-07-31")
START = utc(2026, 8, 15)
GAPS = (
    timedelta(0),
    timedelta(microseconds=1),
    timedelta(hours=1),
    timedelta(days=1),
    timedelta(days=12),
    timedelta(days=31),
)
# Valid-time probes: every start and end date, and the days around them.
DAYS = sorted(
    {
        date.fromisoformat(s) + timedelta(days=k)
        for s in (*INGANG, *EIND)
        for k in (-1, 0, 1)
    }
)


def _leerling(person: dict[str, Any]) -> dict[str, Any]:
    if person is TWIN:  # no number: found by name among issued numbers (757)
        return {**student(TWIN), "uitgebreid": extended(TWIN)}
    if person.get("landcode"):  # abroad: only the extended set can be checked
        return {**student(person), "uitgebreid": extended(person)}
    return student(person)


PEOPLE = (ANNA, PIET, HANS, TWIN, OLD)


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Deliveries whose records touch a small pool of periods, so that A, U and
    V mostly find the period they name and doubles and ties across the two
    schools are common."""
    pool = draw(
        st.lists(
            st.tuples(st.sampled_from(PEOPLE), st.sampled_from(INGANG)),
            min_size=1,
            max_size=4,
            unique_by=lambda p: (id(p[0]), p[1]),
        )
    )

    @st.composite
    def records(draw: st.DrawFn) -> dict[str, Any]:
        person, ingangsdatum = draw(st.sampled_from(pool))
        mutatie = draw(st.sampled_from("TTAUV"))
        # mostly a possible end (an end before the start is rejected: X124)
        ends = [e for e in EIND if e >= ingangsdatum or draw(st.integers(0, 7)) == 0]
        einddatum = draw(st.sampled_from([*ends] if mutatie == "U" else [None, *ends]))
        inschrijving = {
            "vestiging": draw(st.sampled_from(("00", "01"))),
            "ingangsdatum": ingangsdatum,
            "einddatum": einddatum,
            "elementcode": draw(st.sampled_from(("0300", "0090"))),
            "leerjaar": draw(st.integers(1, 3)),
            "jaren_pro": None,
        }
        return {"person": person, "mutatie": mutatie, "inschrijving": inschrijving}

    delivery = st.fixed_dictionaries(
        {
            "brin": st.sampled_from(SCHOOLS),
            "records": st.lists(records(), min_size=1, max_size=6),
            "gap": st.sampled_from(GAPS),
            # catch the projection up after this delivery, in pages of this size
            "page_size": st.none() | st.integers(1, 9),
        }
    )
    return draw(st.lists(delivery, min_size=1, max_size=12))


# --- a fresh database per example -------------------------------------------


@contextmanager
def fresh_runtime(server_url: str) -> Iterator[Runtime]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            bootstrap(
                Settings(
                    database_url=SecretStr(make_conninfo(server_url, dbname=name)),
                    clock="simulated",
                    state_dir=Path(tmp),
                )
            ) as rt,
        ):
            prepare(rt)
            yield rt
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the oracle: a naive fold of the raw events -----------------------------


def _decode_hook(d: dict[str, Any]) -> Any:
    kind = d.get("_type_")
    if kind == "datetime_iso":
        return datetime.fromisoformat(d["_data_"])
    if kind == "date_iso":
        return date.fromisoformat(d["_data_"])
    if kind == "uuid_hex":
        return uuid.UUID(d["_data_"])
    return d


@dataclass
class RawEvent:
    position: int
    aggregate: uuid.UUID
    kind: str  # e.g. "Enrolment.Ended"
    data: dict[str, Any]

    @property
    def at(self) -> datetime:
        at: datetime = self.data["timestamp"]
        return at


def raw_events(url: str) -> list[RawEvent]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT notification_id, originator_id, topic, state FROM registry_events "
            "ORDER BY notification_id"
        ).fetchall()
        keys = dict(conn.execute("SELECT student_id, key FROM person_keys").fetchall())
    return [
        RawEvent(
            pos,
            agg,
            topic.split(":")[-1],
            _opened(json.loads(bytes(state), object_hook=_decode_hook), agg, keys),
        )
        for pos, agg, topic, state in rows
    ]


def _opened(data: dict[str, Any], agg: uuid.UUID, keys: dict[Any, Any]) -> Any:
    """Personal fields opened by the format of docs/privacy.md, with no registry
    code: AES-GCM, nonce first, the stream id as associated data."""
    sealed = data.pop("_sealed_", None)
    if sealed is None:
        return data
    blob = base64.b64decode(sealed["_data_"])
    plain = AESGCM(bytes(keys[agg])).decrypt(blob[:12], blob[12:], agg.bytes)
    return {**data, **json.loads(plain, object_hook=_decode_hook)}


@dataclass
class OraclePeriod:
    number: str
    brin: str
    ingangsdatum: date
    registered_at: int  # position of the enrolment's first Registered event
    terms: dict[str, Any] | None = field(default=None)

    def valid_on(self, d: date) -> bool:
        if self.terms is None:
            return False
        end = self.terms.get("einddatum")
        return self.ingangsdatum <= d and (end is None or d <= end)

    def key(self) -> tuple[Any, ...]:
        assert self.terms is not None
        t = self.terms
        return (
            self.number,
            self.brin,
            self.ingangsdatum,
            t["elementcode"],
            t.get("einddatum"),
            t["vestiging"],
            t["leerjaar"],
        )


def oracle_known_at(events: list[RawEvent], t: datetime) -> list[OraclePeriod]:
    """Every enrolment as the registry held it at recorded time t."""
    numbers: dict[uuid.UUID, str] = {}
    enrolments: dict[uuid.UUID, OraclePeriod] = {}
    for e in events:
        if e.at > t:
            continue
        d = e.data
        if e.kind == "Student.Registered":
            numbers[e.aggregate] = d["number"]
        elif e.kind == "Enrolment.Registered":
            enrolments[e.aggregate] = OraclePeriod(
                numbers[d["student_id"]],
                d["brin"],
                d["ingangsdatum"],
                e.position,
                dict(d["terms"]),
            )
        elif e.kind in ("Enrolment.Amended", "Enrolment.Reregistered"):
            enrolments[e.aggregate].terms = dict(d["terms"])
        elif e.kind == "Enrolment.Ended":
            terms = enrolments[e.aggregate].terms
            assert terms is not None
            terms["einddatum"] = d["einddatum"]
        elif e.kind == "Enrolment.Deleted":
            enrolments[e.aggregate].terms = None
    return list(enrolments.values())


def oracle_verdicts(
    known: list[OraclePeriod], d: date
) -> dict[tuple[str, str, date], list[str]]:
    """(number, brin, ingangsdatum) → redenen of every period valid on d."""
    by_student: dict[str, list[OraclePeriod]] = defaultdict(list)
    for p in known:
        if p.valid_on(d):
            by_student[p.number].append(p)
    out: dict[tuple[str, str, date], list[str]] = {}
    for ps in by_student.values():
        winner = max(ps, key=lambda p: (p.ingangsdatum, -p.registered_at))
        for p in ps:
            out[(p.number, p.brin, p.ingangsdatum)] = [] if p is winner else ["X130"]
    return out


# --- the projection's answers -----------------------------------------------

_VALID_AT = """
SELECT s.number, p.brin, p.ingangsdatum, p.elementcode, p.einddatum, p.vestiging,
  p.leerjaar
FROM periods p JOIN students s USING (student_id)
WHERE p.valid @> %s::date AND p.recorded @> %s::timestamptz
"""


def _row_key(r: dict[str, Any]) -> tuple[Any, ...]:
    return (
        r["number"],
        r["brin"],
        r["ingangsdatum"],
        r["elementcode"],
        r["einddatum"],
        r["vestiging"],
        r["leerjaar"],
    )


def _entry(row: PeriodRow) -> str:
    """A period as a document entry, built in Python from its row."""
    why = reasons(row)
    einddatum = row["einddatum"]
    entry = {
        "leerling": leerling(row["number"], row["kind"], row["bsn"]),
        "vestiging": row["vestiging"],
        "elementcode": row["elementcode"],
        "leerjaar": row["leerjaar"],
        "ingangsdatum": row["ingangsdatum"].isoformat(),
        "einddatum": einddatum.isoformat() if einddatum else None,
        "bekostigd": not why,
        "redenen": why,
    }
    return json.dumps(entry, sort_keys=True)


def _shown(entries: list[Any]) -> list[str]:
    return sorted(json.dumps(e, sort_keys=True) for e in entries)


def check(
    curs: psycopg.Cursor[Any], events: list[RawEvent], d: date, t: datetime
) -> None:
    known = oracle_known_at(events, t)
    expected = sorted(p.key() for p in known if p.valid_on(d))
    direct = sorted(curs.execute(_VALID_AT, (d, t)).fetchall())
    assert direct == expected, (d, t)
    via = sorted(_row_key(r) for r in snapshot_periods(curs, None, SJ, d, t))
    assert via == expected, (d, t)
    # Known exactly at the log position of T's last event (as fotos are
    # derived): the same, as every event at or before T is at or before it.
    p = max((e.position for e in events if e.at <= t), default=0)
    exact = snapshot_periods(curs, None, SJ, d, t, position=p)
    assert sorted(_row_key(r) for r in exact) == expected, (d, t, p)

    verdicts = oracle_verdicts(known, d)
    seen: dict[tuple[str, str, date], list[str]] = {}
    for brin in SCHOOLS:
        doc = snapshot(curs, brin, SJ, d, t)
        # The document shaped in the database says what its rows do, at T, at
        # the position, and as the JSON an answer sends.
        rows = snapshot_periods(curs, brin, SJ, d, t)
        assert _shown(doc["inschrijvingen"]) == sorted(map(_entry, rows))
        # In the contract's order as the database sorted them (the document
        # does not sort them again).
        assert doc["inschrijvingen"] == sorted(doc["inschrijvingen"], key=sort_key)
        at_p = snapshot(curs, brin, SJ, d, t, position=p)
        assert at_p["inschrijvingen"] == doc["inschrijvingen"], (brin, d, t, p)
        sent = entries.page(curs, brin, SJ, d, t)
        assert json.loads(sent.entries) == doc["inschrijvingen"]
        assert (sent.controletotaal, sent.bekostigd) == (
            doc["controletotaal"],
            doc["bekostigd"],
        )
        for e in doc["inschrijvingen"]:
            number = e["leerling"]["bsn"] or e["leerling"]["onderwijsnummer"]
            key = (number, brin, date.fromisoformat(e["ingangsdatum"]))
            assert key not in seen
            seen[key] = e["redenen"]
            assert e["bekostigd"] == (not e["redenen"])
        assert doc["controletotaal"] == len(doc["inschrijvingen"])
    assert seen == verdicts, (d, t)
    funded: dict[str, int] = defaultdict(int)
    for (number, _, _), why in seen.items():
        funded[number] += not why
    assert all(n == 1 for n in funded.values())


def deliver(rt: Runtime, history: list[dict[str, Any]]) -> None:
    projector = Projector(rt.database_url)
    projector.ensure(Timeline())
    at = START
    numbers = dict.fromkeys(SCHOOLS, 0)
    for step in history:
        at += step["gap"]
        numbers[step["brin"]] += 1
        body = batch(
            *(
                rec(
                    i,
                    _leerling(r["person"]),
                    r["mutatie"],
                    inschrijving=r["inschrijving"],
                )
                for i, r in enumerate(step["records"], 1)
            ),
            number=numbers[step["brin"]],
            brin=step["brin"],
        )
        rt.intake.submit(body, at)
        if step["page_size"] is not None:
            projector.catch_up(Timeline(), page_size=step["page_size"])


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    history=histories(),
    last_page_size=st.integers(1, 9),
)
def test_timeline_equals_a_naive_fold_of_the_log(
    server_url: str, history: list[dict[str, Any]], last_page_size: int
) -> None:
    with fresh_runtime(server_url) as rt:
        deliver(rt, history)
        Projector(rt.database_url).catch_up(Timeline(), page_size=last_page_size)
        events = raw_events(rt.database_url)
        instants = sorted({e.at for e in events if e.at >= START})
        probes = sorted(
            {START - timedelta(days=1), utc(2027, 12, 31)}
            | {
                s + k
                for s in instants
                for k in (-timedelta(microseconds=1), timedelta(0))
            }
        )
        with psycopg.connect(rt.database_url) as conn:
            conn.execute(f"SET search_path TO {Timeline.schema()}, public")
            curs = conn.cursor()
            for t in probes:
                for d in DAYS:
                    check(curs, events, d, t)


def test_a_version_replaced_at_its_own_instant_is_known_at_positions_before(
    runtime: Runtime,
) -> None:
    """A foto is derived at the head position P at instant T; a correction
    recorded later at the same instant T must not change what P knew."""
    prepare(runtime)
    t = utc(2026, 8, 20)
    runtime.intake.submit(batch(rec(1, student(ANNA))), t)
    p = runtime.registry.recorder.max_notification_id()
    corrected = period(elementcode="0090")
    runtime.intake.submit(
        batch(rec(1, student(ANNA), "A", inschrijving=corrected), number=2), t
    )
    projector = Projector(runtime.database_url)
    projector.ensure(Timeline())
    projector.catch_up(Timeline())
    with psycopg.connect(runtime.database_url) as conn:
        conn.execute(f"SET search_path TO {Timeline.schema()}, public")
        rows = snapshot_periods(conn.cursor(), "01OE", SJ, date(2026, 10, 1), t, p)
    assert [(r["number"], r["elementcode"]) for r in rows] == [(ANNA["bsn"], "0300")]
