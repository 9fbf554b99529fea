"""Persons of the synthetic population register, their BSNs, names and addresses."""

from __future__ import annotations

from datetime import date
from random import Random
from typing import Any

from registry.simulation.generator import names
from registry.simulation.generator.reference import (
    municipality_names,
    pc4_by_municipality,
)

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_NEVER = frozenset({"SA", "SD", "SS"})
_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2)


class BsnCounter:
    """Valid BSNs from a counter: 8 digits from 20000000 on plus the check digit
    that makes the weighted sum (9…2, −1) ≡ 0 mod 11; bodies whose check digit
    would be 10 are skipped. They start with 2, so never look like an
    onderwijsnummer ("10…")."""

    def __init__(self, start: int = 20_000_000) -> None:
        self.next_body = start

    def __call__(self) -> str:
        # The weighted sum of a body's first and last four digits, from tables:
        # a national year numbers a million people.
        high, low = _HIGH_SUMS, _LOW_SUMS
        while True:
            body = self.next_body
            self.next_body += 1
            check = (high[body // 10_000] + low[body % 10_000]) % 11
            if check < 10:
                return f"{body:08d}{check}"


def _weighted_sums(weights: tuple[int, ...]) -> list[int]:
    """For each 4-digit group 0000…9999, its digits times `weights`."""
    return [
        sum(int(d) * w for d, w in zip(f"{n:04d}", weights, strict=True))
        for n in range(10_000)
    ]


_HIGH_SUMS = _weighted_sums(_WEIGHTS[:4])
_LOW_SUMS = _weighted_sums(_WEIGHTS[4:])


class Person:
    """One line of the population register (and what the school knows of it)."""

    __slots__ = (
        "abroad",
        "bsn",
        "first_names",
        "geboortedatum",
        "geheim",
        "gemeente",
        "geslacht",
        "house",
        "in_register",
        "landcode",
        "place",
        "postcode",
        "prefix",
        "street",
        "suffix",
        "surname",
    )

    def __init__(self, bsn: str, birth: date, sex: str) -> None:
        self.bsn = bsn
        self.geboortedatum = birth
        self.geslacht = sex
        self.surname = ""
        self.prefix: str | None = None
        self.first_names = ""
        self.street: str | None = None
        self.house: int | None = None
        self.suffix: str | None = None
        self.postcode: str | None = None
        self.place: str | None = None
        self.gemeente: str | None = None
        self.landcode: str | None = None
        self.abroad: tuple[str, ...] = ()
        self.geheim = False
        self.in_register = True

    def line(self) -> dict[str, Any]:
        return {
            "bsn": self.bsn,
            "achternaam": self.surname,
            "voorvoegsel": self.prefix,
            "voornamen": self.first_names,
            "geboortedatum": self.geboortedatum.isoformat(),
            "geslacht": self.geslacht,
            "straatnaam": self.street,
            "huisnummer": self.house,
            "huisnummertoevoeging": self.suffix,
            "postcode": self.postcode,
            "plaatsnaam": self.place,
            "gemeente": self.gemeente,
            "landcode": self.landcode,
            "geheim": self.geheim,
        }


class PersonMaker:
    def __init__(self, rng: Random) -> None:
        self.rng = rng
        self.bsn = BsnCounter()
        self.pc4 = pc4_by_municipality()
        self.places = municipality_names()

    def first_names(self, sex: str) -> str:
        pool = names.FIRST_M if sex == "M" else names.FIRST_V
        r = self.rng.random
        count = 1 if r() < 0.55 else (2 if r() < 0.8 else 3)
        chosen = [pool[int(r() * len(pool))] for _ in range(count)]
        return " ".join(dict.fromkeys(chosen))

    def postcode(self, gemeente: str, avoid: str | None = None) -> str:
        r = self.rng.random
        pc4s = self.pc4[gemeente]
        while True:
            letters = _LETTERS[int(r() * 26)] + _LETTERS[int(r() * 26)]
            code = pc4s[int(r() * len(pc4s))] + letters
            if letters not in _NEVER and code != avoid:
                return code

    def new(self, birth: date, sex: str, gemeente: str) -> Person:
        """A resident of `gemeente` with a random name and address."""
        r = self.rng.random
        p = Person(self.bsn(), birth, sex)
        p.prefix, p.surname = names.SURNAMES[int(r() * len(names.SURNAMES))]
        p.first_names = self.first_names(sex)
        self.house_in(p, gemeente)
        return p

    def house_in(self, p: Person, gemeente: str) -> None:
        r = self.rng.random
        p.street = names.STREETS[int(r() * len(names.STREETS))]
        p.house = 1 + int(r() * 180)
        p.suffix = names.SUFFIXES[int(r() * 5)] if r() < 0.08 else None
        p.postcode = self.postcode(gemeente)
        p.gemeente = gemeente
        p.place = self.places[gemeente]

    def sibling(self, of: Person, birth: date) -> Person:
        sex = "M" if self.rng.random() < 0.5 else "V"
        p = Person(self.bsn(), birth, sex)
        p.prefix, p.surname = of.prefix, of.surname
        p.first_names = self.first_names(sex)
        p.street, p.house, p.suffix = of.street, of.house, of.suffix
        p.postcode, p.place, p.gemeente = of.postcode, of.place, of.gemeente
        return p

    def move_abroad(self, p: Person) -> None:
        """Give `p` an address across the border: a landcode and no postcode."""
        landcode, place, postal, street = self.rng.choice(names.ABROAD)
        house = 1 + self.rng.randrange(120)
        p.street, p.house, p.suffix = street, house, None
        p.postcode, p.gemeente, p.landcode = None, None, landcode
        p.place = place
        p.abroad = (f"{street} {house}", f"{postal} {place}", names.COUNTRY[landcode])
