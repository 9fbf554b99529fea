"""The students enrolled from 1 August: spread over the vestigingen in proportion
to the streams they offer, each with a person in the register (and some
siblings)."""

from __future__ import annotations

from datetime import date, timedelta
from random import Random

from registry.simulation.generator.config import (
    FIRST_DAY,
    STREAM_TOTALS,
    Scale,
    planted,
)
from registry.simulation.generator.curriculum import (
    YEARS,
    Curriculum,
    birth_date,
    jaren_pro,
)
from registry.simulation.generator.people import Person, PersonMaker
from registry.simulation.generator.reference import SchoolRef, Site, offering_counts

REPEATERS = 0.05

# Identity modes of a student: how the school identifies them, which signal that
# brings. "plain" students carry no signal at all.
MODES = ("plain", "typo", "secret", "postcode", "found", "border", "unknown")


class Pupil:
    """A student's enrolment as the school delivers it."""

    __slots__ = (
        "busy",
        "code",
        "delivered_birth",
        "delivered_leerjaar",
        "delivered_postcode",
        "leerjaar",
        "mode",
        "number",
        "person",
        "site",
        "start",
        "stream",
    )

    def __init__(
        self, person: Person, site: Site, stream: str, leerjaar: int, code: str
    ) -> None:
        self.person = person
        self.site = site
        self.stream = stream
        self.leerjaar = leerjaar
        self.code = code
        self.number = ""
        self.mode = "plain"
        self.busy = False  # taken by a planted case: no other event
        self.start = FIRST_DAY
        self.delivered_birth = person.geboortedatum  # differs for a typo (753)
        self.delivered_postcode = person.postcode  # differs for 770
        self.delivered_leerjaar = leerjaar  # differs before an accountant mutation

    @property
    def jaren_pro(self) -> int | None:
        return jaren_pro(self.code, self.leerjaar)


def capacities(rng: Random, schools: list[SchoolRef], scale: Scale) -> list[float]:
    """Expected students per (site, stream), in site then stream order."""
    offering = offering_counts()
    raw = [
        STREAM_TOTALS[stream] / offering[stream] * (0.5 + rng.random())
        for school in schools
        for site in school.sites
        for stream in site.streams
    ]
    factor = scale.students / sum(raw)
    return [c * factor for c in raw]


def _split(rng: Random, total: int, years: tuple[int, ...]) -> list[int]:
    counts = [total // len(years)] * len(years)
    for i in rng.sample(range(len(years)), total % len(years)):
        counts[i] += 1
    return counts


class Cohort:
    def __init__(self, rng: Random, maker: PersonMaker, curriculum: Curriculum):
        self.rng = rng
        self.maker = maker
        self.curriculum = curriculum
        self.pupils: list[Pupil] = []
        self.persons: list[Person] = []
        self.numbers: dict[int, int] = {}

    def enrol_all(self, schools: list[SchoolRef], scale: Scale) -> None:
        caps = iter(capacities(self.rng, schools, scale))
        sibling_rate = planted(scale, "siblings") / scale.students
        for school in schools:
            for site in school.sites:
                for stream in site.streams:
                    count = int(next(caps) + self.rng.random())
                    years = YEARS[stream]
                    for year, n in zip(
                        years, _split(self.rng, count, years), strict=True
                    ):
                        for _ in range(n):
                            pupil = self.new_pupil(site, stream, year)
                            if self.rng.random() < sibling_rate:
                                self.add_sibling(pupil.person)

    def new_pupil(
        self, site: Site, stream: str, leerjaar: int, start: date = FIRST_DAY
    ) -> Pupil:
        r = self.rng.random
        birth = birth_date(self.rng, leerjaar, r() < REPEATERS)
        person = self.maker.new(birth, "M" if r() < 0.5 else "V", site.gemeente)
        self.persons.append(person)
        code = self.curriculum.code(site, stream, leerjaar)
        pupil = Pupil(person, site, stream, leerjaar, code)
        pupil.start = start
        pupil.number = self.next_number(site.school)
        self.pupils.append(pupil)
        return pupil

    def next_number(self, school: int) -> str:
        n = self.numbers.get(school, 0) + 1
        self.numbers[school] = n
        return f"{100000 + n}"

    def add_sibling(self, of: Person) -> None:
        r = self.rng.random
        if r() < 0.5:
            birth = of.geboortedatum - timedelta(days=700 + int(r() * 1500))
        else:
            birth = of.geboortedatum + timedelta(days=700 + int(r() * 1500))
        self.persons.append(self.maker.sibling(of, min(birth, date(2026, 6, 30))))

    def add_others(self, scale: Scale) -> None:
        """Adults in the register: some living abroad, some with secret data."""
        r = self.rng.random
        for kind in ("abroad", "secret_others"):
            for _ in range(planted(scale, kind)):
                birth = date(1960, 1, 1) + timedelta(days=int(r() * 14000))
                sex = "M" if r() < 0.5 else "V"
                gemeente = self.rng.choice(self.persons).gemeente or "GM0363"
                person = self.maker.new(birth, sex, gemeente)
                if kind == "abroad":
                    self.maker.move_abroad(person)
                else:
                    person.geheim = True
                self.persons.append(person)
