"""Append to the golden log (tests/data/golden_events.jsonl) the stored events of a
fixed scenario that drives the real domain API.

Run ONLY to add a line for a NEW event class: add the step that records it to the
scenario below (after the existing steps of its aggregate, or on a new aggregate,
so that the versions already in the file stay the same), then run

    PYTHONPATH=. .venv/bin/python -m tests.support.make_golden_log

Never regenerate existing lines, and never edit them by hand: the point of the file
is that it is what old code wrote, so that tests/unit/test_golden_log.py proves the
current code still loads it. The script therefore keeps every existing line as it
is and appends only the events whose originator id and version have no line yet.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.domain import CanMutateAggregate

from registry.domain import ids
from registry.domain.enrolment import Enrolment, PeriodTerms, Source
from registry.domain.school import (
    Licence,
    School,
    SchoolRegistration,
    VestigingRegistration,
)
from registry.domain.school_year import RecordedExclusion, SchoolYear
from registry.domain.student import KeyData, Student
from registry.domain.values import Bsn, Onderwijsnummer
from tests.support.golden_log import (
    GOLDEN_LOG,
    format_line,
    read_lines,
    registry_mapper,
    to_line,
)

BRIN = "01OE"
SCHOOLJAAR = "2026-2027"
BSN = "800000481"  # passes the 11-proof; a test number, no one's
OLD_ID = ids.legacy_student_id(BSN)  # the scenario's students keep their first ids


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def school() -> School:
    """A vestiging cannot close unless another was opened, so this is the one
    aggregate that stores an event class (VestigingOpened) twice."""
    licences = (
        Licence("0300", date(2020, 8, 1)),
        Licence("0100", date(2020, 8, 1), date(2031, 7, 31)),
    )
    hoofd = VestigingRegistration(
        "00", "Hoofdlocatie", True, "9711AB", "GM0014", licences
    )
    dependance = VestigingRegistration(
        "01", "Dependance Noord", False, "9741AB", "GM0014"
    )
    first = SchoolRegistration(BRIN, "Voorbeeld College", "GM0034", (hoofd, dependance))
    s = School.register(first, utc(2026, 8, 1, 6))
    moved = VestigingRegistration(
        "00", "Hoofdlocatie", True, "9711CE", "GM0014", licences
    )
    s.revise(
        SchoolRegistration(BRIN, "Voorbeeld Lyceum", "GM0014", (moved,)),
        utc(2026, 9, 1, 6),
    )
    return s


def foto(soort: str, stand_per: datetime, positie: int, totaal: int) -> dict[str, Any]:
    """The reference to an issued foto that the foto service records."""
    return {
        "versie": 1,
        "hash": hashlib.sha256(f"{BRIN} {SCHOOLJAAR} {soort}".encode()).hexdigest(),
        "positie": positie,
        "stand_per": stand_per.isoformat(),
        "peildatum": "2026-10-01",
        "controletotaal": totaal,
        "bekostigd": totaal - 3,
    }


def school_year() -> SchoolYear:
    y = SchoolYear.open(BRIN, SCHOOLJAAR, utc(2026, 8, 3, 9))
    y.declare_complete(utc(2026, 10, 12, 10))
    at = utc(2026, 11, 15, 20)
    y.record_provisional_snapshot(foto("voorlopig", at, 18_422, 412), at)
    y.stop_mutations(utc(2027, 3, 1, 9), on_request=True)
    at = utc(2027, 3, 2, 20)
    y.record_current_snapshot(foto("actueel", at, 40_917, 415), at)
    # Stored as v1 (numbers) by the code of then; recorded by id since.
    exclusion: RecordedExclusion = {"student_id": OLD_ID, "reden": "verzuim"}
    y.report_assurance([3, 1, 2], [exclusion], utc(2027, 6, 15, 11))
    at = utc(2027, 7, 21, 20)
    y.record_final_snapshot(foto("definitief", at, 61_330, 414), at)
    y.close(utc(2027, 7, 31, 12))
    return y


def next_school_year() -> SchoolYear:
    """The year after: its assurance report stores an exclusion by student id
    (SchoolYear.AssuranceReported v2), the shape written since v1 held numbers."""
    y = SchoolYear.open(BRIN, "2027-2028", utc(2027, 8, 2, 9))
    y.declare_complete(utc(2027, 10, 11, 10))
    at = utc(2027, 11, 15, 20)
    y.record_provisional_snapshot(foto("voorlopig", at, 70_001, 420), at)
    y.stop_mutations(utc(2028, 3, 1, 9), on_request=True)
    at = utc(2028, 3, 2, 20)
    y.record_current_snapshot(foto("actueel", at, 80_002, 421), at)
    exclusion: RecordedExclusion = {"student_id": OLD_ID, "reden": "indicatie"}
    y.report_assurance([1], [exclusion], utc(2028, 6, 14, 11))
    return y


def extended_set(
    straat: str, huisnummer: int, toevoeging: str | None
) -> dict[str, Any]:
    return {
        "achternaam": "Vries",
        "voorvoegsel": "de",
        "voornamen": "Daniëlle Sophie",
        "straatnaam": straat,
        "huisnummer": huisnummer,
        "huisnummertoevoeging": toevoeging,
        "plaatsnaam": "Groningen",
        "buitenlands_adres": None,
    }


def student() -> Student:
    key = KeyData(date(2014, 3, 9), "V", "9711AB")
    s = Student.register(
        Bsn(BSN),
        key,
        utc(2026, 9, 15, 10),
        extended=extended_set("Voorbeeldstraat", 12, None),
        student_id=OLD_ID,
    )
    source = {"brin": BRIN, "batchnummer": 7, "meldingnummer": 12}
    at = utc(2026, 11, 2, 14)
    s.change_key_data({"postcode": "9711AB"}, {"postcode": "9722EF"}, source, at)
    s.record_extended_set(extended_set("Proefweg", 3, "A"), at)
    s.record_residence("GM0014", utc(2027, 3, 1, 9))
    s.forget("retention", utc(2032, 8, 1, 3))
    return s


def source(batch: int, melding: int) -> Source:
    return Source(BRIN, 0, SCHOOLJAAR, batch, melding)


def enrolment() -> Enrolment:
    e = Enrolment.register(
        Student.create_id(BSN),
        BRIN,
        date(2026, 8, 1),
        PeriodTerms("00", "0300", 1),
        source(3, 41),
        utc(2026, 9, 15, 10),
    )
    vwo = PeriodTerms("00", "0100", 1)
    e.amend(vwo, source(5, 8), utc(2026, 10, 6, 10))
    e.end(date(2027, 1, 31), source(9, 2), utc(2027, 2, 3, 10))
    e.delete(source(10, 1), utc(2027, 2, 10, 10))
    e.reregister(vwo, source(11, 1), utc(2027, 2, 17, 10))
    e.end(date(2027, 7, 31), source(12, 1), utc(2027, 7, 6, 10), "diploma")
    return e


LINKED_BSN = "800000122"


def linked_person() -> tuple[Student, Student]:
    """A person first registered under an issued onderwijsnummer, and the BSN
    delivered for them later, linked to them."""
    key = KeyData(date(2013, 1, 2), "M", "9711AB")
    number = Onderwijsnummer.from_serial(42)
    assert number is not None
    person = Student.register(
        number,
        key,
        utc(2026, 9, 1, 10),
        issued=True,
        student_id=ids.legacy_student_id(str(number)),
    )
    at = utc(2027, 1, 12, 10)
    alias = Student.register(
        Bsn(LINKED_BSN), key, at, student_id=ids.legacy_student_id(LINKED_BSN)
    )
    person.link_bsn(Bsn(LINKED_BSN), at)
    alias.link_to(person, at)
    return person, alias


def scenario() -> Iterator[CanMutateAggregate[UUID]]:
    for aggregate in (
        school(),
        school_year(),
        student(),
        enrolment(),
        *linked_person(),
        next_school_year(),
    ):
        yield from aggregate.collect_events()


def append_new_lines(path: Path = GOLDEN_LOG) -> int:
    existing = read_lines(path) if path.exists() else []
    known = {(line["originator_id"], line["originator_version"]) for line in existing}
    mapper = registry_mapper()
    new = [
        line
        for line in (to_line(mapper.to_stored_event(e)) for e in scenario())
        if (line["originator_id"], line["originator_version"]) not in known
    ]
    with path.open("a", encoding="utf-8") as f:
        f.writelines(format_line(line) for line in new)
    return len(new)


if __name__ == "__main__":
    sys.stdout.write(f"appended {append_new_lines()} lines to {GOLDEN_LOG}\n")
