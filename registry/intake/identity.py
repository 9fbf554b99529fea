"""Identity verification (domain.md Part A step 6, contract.md): the registry's
own records first, then the population register.

- onderwijsnummer: must be one the registry knows, with the same birth date and
  sex (752);
- BSN with the limited set: the register must hold that BSN with the same birth
  date and sex (753); a landcode cannot be checked this way (753); a different
  postcode is an attention (770), and secret data too (956);
- extended set: a BSN that matches as above is used as is; otherwise the student
  is looked up by surname, voorvoegsel, all first names, birth date and sex —
  first among onderwijsnummers the registry issued, then in the register: exactly
  one person → 755 with that BSN; none or several → a new onderwijsnummer (757).
When the register is needed and unavailable, the record waits (status W).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from registry.domain.signals import Signal
from registry.domain.student import Student
from registry.domain.values import mask
from registry.intake.population import NameKey, Person, name_key
from registry.intake.wire import Leerling


@dataclass
class Lookups:
    """What one batch learned in bulk; None when the register was unavailable."""

    students: dict[str, Student]
    persons: dict[str, Person] | None
    persons_by_name: dict[NameKey, list[Person]] | None
    issued_by_name: dict[NameKey, list[str]]
    by_id: dict[UUID, Student] = field(default_factory=dict)
    _named: dict[str, Person] | None = None  # persons_by_name by BSN, when asked

    def found(self) -> list[Person]:
        """Every person the register named, by BSN or by name."""
        by_name = [p for ps in (self.persons_by_name or {}).values() for p in ps]
        return [*(self.persons or {}).values(), *by_name]

    def register_person(self, bsn: str | None) -> Person | None:
        """The register's person with this BSN, found by number or by name."""
        if bsn is None:
            return None
        person = (self.persons or {}).get(bsn)
        if person is None and self.persons_by_name:
            if self._named is None:
                self._named = {
                    p.bsn: p for ps in self.persons_by_name.values() for p in ps
                }
            person = self._named.get(bsn)
        return person

    def person(self, number: str) -> Student | None:
        """The student registered under a number, or the person it is an alias of."""
        student = self.students.get(number)
        if student is not None and student.person_id is not None:
            return self.by_id.get(student.person_id, student)
        return student


@dataclass
class Identity:
    number: str | None = None
    kind: str | None = None
    issue_number: bool = False
    signals: list[Signal] = field(default_factory=list)
    waiting: bool = False
    bsn: str | None = None  # delivered for a person under an onderwijsnummer
    link: bool = False  # ... for the first time: the two numbers are linked now

    @property
    def rejected(self) -> bool:
        return any(s.rejects for s in self.signals)


def wire_name_key(s: Leerling) -> NameKey | None:
    x = s.uitgebreid
    if (
        x is None
        or not x.achternaam
        or not x.voornamen
        or not s.geboortedatum
        or not s.geslacht
    ):
        return None
    return name_key(
        x.achternaam, x.voorvoegsel, x.voornamen, s.geboortedatum, s.geslacht
    )


def resolve(s: Leerling, look: Lookups) -> Identity:
    if s.onderwijsnummer is not None:
        return _by_onderwijsnummer(s, look)
    if s.bsn is not None:
        matched = _by_bsn(s, look)
        if s.uitgebreid is None or matched.waiting or not matched.rejected:
            return matched
    return _by_name(s, look)


def _by_onderwijsnummer(s: Leerling, look: Lookups) -> Identity:
    number = s.onderwijsnummer
    assert number is not None
    known = look.students.get(number)
    if known is None:
        return Identity(
            signals=[
                Signal(
                    "752",
                    f"onderwijsnummer {mask(number)} is not known to the registry",
                )
            ]
        )
    key = known.key
    if key["geboortedatum"] != s.geboortedatum or key["geslacht"] != s.geslacht:
        return Identity(
            signals=[
                Signal(
                    "752",
                    f"onderwijsnummer {mask(number)}: geboortedatum {s.geboortedatum} and "
                    f"geslacht {s.geslacht} do not match the registry",
                )
            ]
        )
    return Identity(number=number, kind="onderwijsnummer")


def _by_bsn(s: Leerling, look: Lookups) -> Identity:
    bsn = s.bsn
    assert bsn is not None
    if s.landcode is not None and s.uitgebreid is None:
        return Identity(
            signals=[
                Signal(
                    "753",
                    f"bsn {mask(bsn)} with landcode {s.landcode}: a student living abroad "
                    "cannot be checked with the limited set; deliver the extended set",
                )
            ]
        )
    if look.persons is None:
        # The register is down: a student the registry knows, with the birth
        # date and sex it holds, is confirmed by its own records.
        known = look.person(bsn)
        if known is not None and (
            known.key["geboortedatum"],
            known.key["geslacht"],
        ) == (s.geboortedatum, s.geslacht):
            return _as_person(bsn, known.number, [])
        return Identity(waiting=True)
    person = look.persons.get(bsn)
    if (
        person is None
        or person.geboortedatum != s.geboortedatum
        or person.geslacht != s.geslacht
    ):
        return Identity(
            signals=[
                Signal(
                    "753",
                    f"bsn {mask(bsn)}, geboortedatum {s.geboortedatum} and geslacht {s.geslacht} "
                    "do not match the population register",
                )
            ]
        )
    signals = _attention(person, s)
    known = look.person(bsn)
    if known is not None:
        return _as_person(bsn, known.number, signals)
    issued = look.issued_by_name.get(person.name_key, [])
    if len(issued) == 1:
        # The person an onderwijsnummer was issued to has a BSN now.
        return Identity(
            issued[0], "onderwijsnummer", signals=signals, bsn=bsn, link=True
        )
    return Identity(number=bsn, kind="bsn", signals=signals)


def _as_person(bsn: str, number: str, signals: list[Signal]) -> Identity:
    """A BSN as the person it belongs to: itself, or the onderwijsnummer's
    person it was linked to."""
    if number == bsn:
        return Identity(number=bsn, kind="bsn", signals=signals)
    return Identity(number, "onderwijsnummer", signals=signals, bsn=bsn)


def _attention(person: Person, s: Leerling) -> list[Signal]:
    signals = []
    if (
        s.postcode is not None
        and person.postcode is not None
        and person.postcode != s.postcode
    ):
        signals.append(
            Signal("770", f"postcode {s.postcode} differs from the population register")
        )
    if person.geheim:
        signals.append(
            Signal("956", "the person's data are secret in the population register")
        )
    return signals


def _by_name(s: Leerling, look: Lookups) -> Identity:
    key = wire_name_key(s)
    if key is None:
        return Identity(
            signals=[Signal("X104", "uitgebreid: incomplete for a name lookup")]
        )
    issued = look.issued_by_name.get(key, [])
    if len(issued) == 1:
        return Identity(number=issued[0], kind="onderwijsnummer")
    if look.persons_by_name is None:
        return Identity(waiting=True)
    found = look.persons_by_name.get(key, [])
    if len(found) == 1:
        person = found[0]
        signals = (
            []
            if person.bsn == s.bsn
            else [
                Signal(
                    "755",
                    f"found in the population register by name and birth date; "
                    f"bsn {mask(person.bsn)} returned",
                )
            ]
        )
        if person.geheim:
            signals.append(
                Signal("956", "the person's data are secret in the population register")
            )
        known = look.person(person.bsn)
        if known is not None:
            return _as_person(person.bsn, known.number, signals)
        return Identity(number=person.bsn, kind="bsn", signals=signals)
    why = "nobody" if not found else f"{len(found)} persons"
    return Identity(
        kind="onderwijsnummer",
        issue_number=True,
        signals=[
            Signal(
                "757",
                f"{why} found in the population register by name and birth date; "
                "an onderwijsnummer was issued",
            )
        ],
    )
