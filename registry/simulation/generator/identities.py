"""Planted identity cases, each on a student whose only record is the August
enrolment (a typo also gets its corrected delivery later):

- typo: the limited set with a birth date that is not the register's → 753;
- secret: the person's data are secret in the register → 956;
- postcode: a postcode other than the register's → 770;
- found: no BSN, extended set, exactly one person in the register → 755;
- border: lives across the border (landcode), extended set, no BSN, listed in
  the register as a person abroad → 755;
- unknown: no BSN, extended set, nobody in the register → 757;
- pro_old: praktijkonderwijs for a student who turned 18 before 1 August → X150.
"""

from __future__ import annotations

from datetime import date, timedelta
from random import Random

from registry.simulation.generator import names
from registry.simulation.generator.cohort import MODES, Pupil
from registry.simulation.generator.config import Scale, planted
from registry.simulation.generator.people import PersonMaker
from registry.simulation.generator.picking import Picker

NameKey = tuple[str, str, str, date, str]


class IdentityPlanter:
    def __init__(self, rng: Random, picker: Picker, maker: PersonMaker) -> None:
        self.rng = rng
        self.picker = picker
        self.maker = maker
        self.name_keys: set[NameKey] = set()
        self.counts: dict[str, int] = {}

    def plant(self, scale: Scale) -> None:
        self.pro_old(planted(scale, "pro_old"))
        for mode in MODES[1:]:  # every student not planted stays "plain"
            taken = self.picker.take(planted(scale, mode), lambda p: True)
            for pupil in taken:
                pupil.mode = mode
                getattr(self, mode)(pupil)
            self.counts[mode] = len(taken)

    def typo(self, pupil: Pupil) -> None:
        shift = self.rng.choice((1, 2, 10, -1, -3, 31))
        pupil.delivered_birth = pupil.person.geboortedatum + timedelta(days=shift)

    def secret(self, pupil: Pupil) -> None:
        pupil.person.geheim = True

    def postcode(self, pupil: Pupil) -> None:
        p = pupil.person
        assert p.gemeente is not None
        pupil.delivered_postcode = self.maker.postcode(p.gemeente, avoid=p.postcode)

    def found(self, pupil: Pupil) -> None:
        self.rename(pupil, names.RESERVED_FOUND)

    def border(self, pupil: Pupil) -> None:
        self.rename(pupil, names.RESERVED_FOUND)
        self.maker.move_abroad(pupil.person)
        pupil.delivered_postcode = None

    def unknown(self, pupil: Pupil) -> None:
        self.rename(pupil, names.RESERVED_UNKNOWN)
        pupil.person.in_register = False

    def rename(self, pupil: Pupil, surnames: tuple[str, ...]) -> None:
        """A reserved surname, with a name key no other planted person has."""
        p = pupil.person
        while True:
            p.prefix = None
            p.surname = self.rng.choice(surnames)
            p.first_names = self.maker.first_names(p.geslacht)
            key = (
                p.surname.lower(),
                "",
                p.first_names.lower(),
                p.geboortedatum,
                p.geslacht,
            )
            if key not in self.name_keys:
                self.name_keys.add(key)
                return

    def pro_old(self, count: int) -> None:
        """PRO students (or, where no vestiging teaches PRO, vmbo students moved
        to 0090) born before 1 August 2008, in leerjaar 6."""
        taken = self.picker.take(count, lambda p: p.stream == "PRO")
        if len(taken) < count:
            taken += self.picker.take(count - len(taken), lambda p: p.stream == "VBO")
        for pupil in taken:
            birth = date(2007, 8, 1) + timedelta(days=self.rng.randrange(330))
            pupil.person.geboortedatum = birth
            pupil.delivered_birth = birth
            pupil.code, pupil.leerjaar, pupil.delivered_leerjaar = "0090", 6, 6
        self.counts["pro_old"] = len(taken)
