"""Records (meldingen) in the contract's shape, and the feedback each one gets
once the whole schedule has run: its final status and signal codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from registry.simulation.generator.cohort import Pupil
from registry.simulation.generator.config import PRO_AGE_LIMIT
from registry.simulation.generator.curriculum import jaren_pro
from registry.simulation.generator.picking import Item
from registry.simulation.generator.reference import Site

IDENTITY_SIGNALS = {
    "plain": (),
    "typo": (),
    "secret": ("956",),
    "postcode": ("770",),
    "found": ("755",),
    "border": ("755",),
    "unknown": ("757",),
}
LATE = timedelta(days=7)


@dataclass(frozen=True)
class Waiting:
    """A record delivered while the register was down, resolved at `retry` and
    judged as of its delivery."""

    retry: datetime
    long: bool  # waited more than 14 days (X132)


def leerling(pupil: Pupil, birth: date, number: str) -> dict[str, Any]:
    p = pupil.person
    extended = pupil.mode in ("found", "border", "unknown")
    return {
        "bsn": None if extended else p.bsn,
        "onderwijsnummer": None,
        "leerlingnummer": number,
        "geboortedatum": birth.isoformat(),
        "geslacht": p.geslacht,
        "postcode": pupil.delivered_postcode,
        "landcode": p.landcode,
        "uitgebreid": _extended(pupil) if extended else None,
    }


def _extended(pupil: Pupil) -> dict[str, Any]:
    p = pupil.person
    abroad = p.landcode is not None
    return {
        "achternaam": p.surname,
        "voorvoegsel": p.prefix,
        "voornamen": p.first_names,
        "straatnaam": None if abroad else p.street,
        "huisnummer": None if abroad else p.house,
        "huisnummertoevoeging": None if abroad else p.suffix,
        "plaatsnaam": None if abroad else p.place,
        "buitenlands_adres": list(p.abroad) if abroad else None,
    }


def inschrijving(
    site: Site,
    start: date,
    end: date | None,
    code: str,
    leerjaar: int,
) -> dict[str, Any]:
    return {
        "vestiging": site.vestiging,
        "ingangsdatum": start.isoformat(),
        "einddatum": end.isoformat() if end else None,
        "elementcode": code,
        "leerjaar": leerjaar,
        "jaren_pro": jaren_pro(code, leerjaar),
    }


def melding(
    n: int, mutatie: str, student: dict[str, Any], **rest: Any
) -> dict[str, Any]:
    return {
        "meldingnummer": n,
        "soort": "W" if mutatie == "W" else "I",
        "mutatie": "A" if mutatie == "W" else mutatie,
        "leerling": student,
        "inschrijving": rest.get("inschrijving"),
        "wijziging": rest.get("wijziging"),
    }


def august_record(n: int, pupil: Pupil) -> dict[str, Any]:
    birth, year = pupil.delivered_birth, pupil.delivered_leerjaar
    period = inschrijving(pupil.site, pupil.start, None, pupil.code, year)
    return melding(n, "T", leerling(pupil, birth, pupil.number), inschrijving=period)


def item_record(n: int, item: Item) -> dict[str, Any]:
    pupil = item.pupil
    student = leerling(pupil, pupil.person.geboortedatum, item.number or pupil.number)
    if item.mutatie == "W":
        old = pupil.person.postcode
        change = {"oud": {"postcode": old}, "nieuw": {"postcode": item.new_postcode}}
        return melding(n, "W", student, wijziging=change)
    assert item.site and item.start and item.code and item.leerjaar
    period = inschrijving(item.site, item.start, item.end, item.code, item.leerjaar)
    if item.reden is not None:
        period["reden_einde"] = item.reden
    return melding(n, item.mutatie, student, inschrijving=period)


class Judge:
    """The outcome the registry must give each record (contract.md, domain.md)."""

    def __init__(self, licences: dict[tuple[str, str], list[str]]) -> None:
        self.licences = {k: frozenset(v) for k, v in licences.items()}

    def _terms(self, site: Site, code: str, birth: date) -> list[str]:
        codes = []
        if code not in self.licences.get((site.brin, site.vestiging), frozenset()):
            codes.append("X121")
        if code == "0090" and birth < PRO_AGE_LIMIT:
            codes.append("X150")
        return codes

    def august(self, pupil: Pupil, wait: Waiting | None) -> tuple[str, list[str]]:
        if pupil.mode == "typo":
            return "A", ["753"]
        codes = list(IDENTITY_SIGNALS[pupil.mode])
        codes += self._terms(pupil.site, pupil.code, pupil.delivered_birth)
        return "G", codes + (["X132"] if wait and wait.long else [])

    def item(
        self, item: Item, delivered: date, wait: Waiting | None
    ) -> tuple[str, list[str]]:
        pupil = item.pupil
        if item.tag == "stopped":  # a counted period, whatever the batch's label
            return "A", ["X140"]
        codes = list(IDENTITY_SIGNALS[pupil.mode])
        if item.mutatie in ("T", "A"):
            assert item.site and item.code
            codes += self._terms(item.site, item.code, pupil.person.geboortedatum)
        if item.tag == "double":
            codes.append("X130")
        if item.mutatie == "U" and item.end and delivered > item.end + LATE:
            codes.append("X131")
        return "G", codes + (["X132"] if wait and wait.long else [])
