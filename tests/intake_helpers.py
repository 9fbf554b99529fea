"""Builders of real batches (bron-vo-batch/1) and a register to deliver them to."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from uuid import UUID

from registry.bootstrap import Runtime
from registry.domain.school import Licence, SchoolRegistration, VestigingRegistration
from registry.intake.population import PersonIn
from tests.conftest import utc
from tests.factories import SJ

ANNA = {
    "bsn": "800000481",
    "achternaam": "Jansen",
    "voornamen": "Anna Maria",
    "geboortedatum": "2013-05-17",
    "geslacht": "V",
    "postcode": "9711AB",
}
PIET = {
    "bsn": "800000122",
    "achternaam": "Bakker",
    "voorvoegsel": "de",
    "voornamen": "Piet",
    "geboortedatum": "2013-01-02",
    "geslacht": "M",
    "postcode": "9711AB",
    "geheim": True,
}
HANS = {
    "bsn": "830000008",
    "achternaam": "Müller",
    "voornamen": "Hans",
    "geboortedatum": "2012-02-03",
    "geslacht": "M",
    "landcode": "9089",
}
TWIN = {
    "achternaam": "Visser",
    "voornamen": "Sam",
    "geboortedatum": "2013-03-03",
    "geslacht": "M",
    "postcode": "9711AB",
}
OLD = {
    "bsn": "200000020",
    "achternaam": "Smit",
    "voornamen": "Kees",
    "geboortedatum": "2007-06-01",
    "geslacht": "M",
    "postcode": "9711AB",
}


def prepare(rt: Runtime) -> None:
    lic = tuple(Licence(c, date(2020, 8, 1)) for c in ("0300", "0090"))
    vest = (
        VestigingRegistration("00", "Hoofd", True, "9711AB", "GM0014", lic),
        VestigingRegistration("01", "Dependance", False, "9712CD", "GM0014", lic),
    )
    rt.registry.load_schools(
        [
            SchoolRegistration("01OE", "Een", "GM0014", vest),
            SchoolRegistration("02AB", "Twee", "GM0014", vest),
        ],
        utc(2026, 7, 1),
    )
    twins = [{**TWIN, "bsn": b} for b in ("200000007", "200000019")]
    old = {**OLD, "bsn": "200000020"}
    persons = [PersonIn.model_validate(p) for p in (ANNA, PIET, HANS, *twins, old)]
    rt.population.load(persons, utc(2026, 7, 1))


def student(person: dict[str, Any], **changes: Any) -> dict[str, Any]:
    s = {
        "bsn": person.get("bsn"),
        "geboortedatum": person["geboortedatum"],
        "geslacht": person["geslacht"],
        "postcode": person.get("postcode"),
        "landcode": person.get("landcode"),
    }
    return {**s, **changes}


def extended(person: dict[str, Any], **changes: Any) -> dict[str, Any]:
    x = {
        "achternaam": person["achternaam"],
        "voorvoegsel": person.get("voorvoegsel"),
        "voornamen": person["voornamen"],
    }
    if person.get("landcode"):
        x["buitenlands_adres"] = ["Hauptstrasse 1", "Emden"]
    else:
        x |= {"straatnaam": "Dorpsstraat", "huisnummer": 12, "plaatsnaam": "Groningen"}
    return {**x, **changes}


def period(**changes: Any) -> dict[str, Any]:
    p = {
        "vestiging": "00",
        "ingangsdatum": "2026-08-01",
        "einddatum": None,
        "elementcode": "0300",
        "leerjaar": 1,
        "jaren_pro": None,
    }
    return {**p, **changes}


def rec(
    n: int,
    leerling: dict[str, Any],
    mutatie: str = "T",
    soort: str = "I",
    inschrijving: dict[str, Any] | None = None,
    wijziging: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if inschrijving is None and soort == "I":
        inschrijving = period()
    return {
        "meldingnummer": n,
        "soort": soort,
        "mutatie": mutatie,
        "leerling": leerling,
        "inschrijving": inschrijving,
        "wijziging": wijziging,
    }


def batch(
    *records: dict[str, Any],
    number: int = 1,
    brin: str = "01OE",
    soort: str = "INSCHRIJVING",
    **fields: Any,
) -> str:
    body = {
        "format": "bron-vo-batch/1",
        "brin": brin,
        "aanleverpunt": 0,
        "batchnummer": number,
        "schooljaar": SJ,
        "soort": soort,
        "verantwoordelijke": "ACCOUNTANT"
        if soort == "ACCOUNTANTSMUTATIE"
        else "INSTELLING",
        "pakket": {"naam": "TestLAS", "versie": "1"},
        "meldingen": list(records),
    }
    return json.dumps({**body, **fields})


def verdicts(feedback: dict[str, Any]) -> dict[int, tuple[str, list[str]]]:
    return {
        m["meldingnummer"]: (m["status"], [s["code"] for s in m["signalen"]])
        for m in feedback["meldingen"]
    }


# A 16-year-old in the register, living in gm0014.
JIP = {
    "bsn": "300000108",
    "achternaam": "de Vries",
    "voornamen": "Jip",
    "geboortedatum": "2010-03-01",
    "geslacht": "M",
    "postcode": "9711AB",
    "gemeente": "GM0014",
}
OLDER = {**JIP, "bsn": "300000121", "geboortedatum": "2003-01-10"}  # 23 by the due date


_BATCHES: dict[tuple[int, str], int] = {}
_STARTS: dict[tuple[int, str], str] = {}


class School:
    """Deliveries of one school, numbered in order."""

    def __init__(self, rt: Runtime, brin: str) -> None:
        self.rt, self.brin = rt, brin

    def deliver(self, at: datetime, *records: dict[str, Any]) -> None:
        key = (id(self.rt), self.brin)
        _BATCHES[key] = number = _BATCHES.get(key, 0) + 1
        numbered = [{**r, "meldingnummer": i} for i, r in enumerate(records, 1)]
        year = "2027-2028" if at >= utc(2027, 8, 1) else "2026-2027"
        raw = batch(*numbered, number=number, brin=self.brin, schooljaar=year)
        feedback = self.rt.intake.submit(raw, at).feedback
        assert all(v[0] == "G" for v in verdicts(feedback).values()), verdicts(feedback)


def forget_deliveries() -> None:
    _BATCHES.clear()
    _STARTS.clear()


def prepared_with_jip(rt: Runtime) -> Runtime:
    """The schools prepared, no delivery remembered, and Jip in the population
    register from 2 July 2026 (the forgetting and extract tests' start)."""
    forget_deliveries()
    prepare(rt)
    rt.load_population([PersonIn.model_validate(JIP)], utc(2026, 7, 2))
    return rt


def later(rt: Runtime, at: datetime) -> None:
    """Anything delivered by another student: recorded time moves on."""
    key = (id(rt), "anna")
    start = _STARTS.setdefault(
        key, "2027-08-01" if at >= utc(2027, 8, 1) else "2026-08-01"
    )
    first = key not in _BATCHES
    _BATCHES[key] = 1
    anna = rec(
        1, student(ANNA), "T" if first else "A", inschrijving=period(ingangsdatum=start)
    )
    School(rt, "02AB").deliver(at, anna)


def student_id(rt: Runtime, number: str) -> UUID:
    """The id of the registered student the number names (ids are random)."""
    found = rt.registry.student_ids([number])
    assert number in found, "no registered student has that number"
    return found[number]
