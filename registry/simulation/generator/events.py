"""Planted events after August, each on its own plain student.

Dates: mid-year events fall between September and May; no ordinary delivery
falls in an outage of the population register. An end date is delivered on
the school's first delivery day after it (within 7 days); a move's new school
delivers after the old school's U (so a move never overlaps on 1 October)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from random import Random
from typing import Unpack

from registry.simulation.generator.cohort import Cohort, Pupil
from registry.simulation.generator.config import LONG_WAIT_DAY, Scale, planted
from registry.simulation.generator.curriculum import YEARS, allows
from registry.simulation.generator.picking import Destinations, Item, ItemFields, Picker
from registry.simulation.generator.reference import SchoolRef, Site
from registry.simulation.generator.timeline import blocked, delivery_day, random_day

SEPTEMBER = date(2026, 9, 7)
MAY = date(2027, 5, 21)
DAY = timedelta(days=1)
Plan = tuple[str, Callable[[Pupil], bool], Callable[[Pupil], bool]]


class EventPlanter:
    def __init__(
        self, rng: Random, picker: Picker, cohort: Cohort, schools: list[SchoolRef]
    ) -> None:
        self.rng = rng
        self.picker = picker
        self.cohort = cohort
        self.schools = schools
        self.dest = Destinations(schools)
        self.items: list[Item] = []
        self.counts: dict[str, int] = {}

    def plans(self) -> list[Plan]:
        return [
            ("double", self.dest.can_leave, self.double),
            ("moves", self.dest.can_leave, self.move),
            ("leavers", anyone, self.leave),
            ("late_leavers", anyone, self.late_leave),
            ("corrections", anyone, self.correct),
            ("key_changes", lambda p: p.person.postcode is not None, self.key_change),
            ("accountant", _correctable, self.accountant),
        ]

    def plant(self, scale: Scale) -> None:
        for name, accept, plant in self.plans():
            taken = self.picker.take(planted(scale, name), accept)
            self.counts[name] = sum(1 for pupil in taken if plant(pupil))
        self.counts["newcomers"] = self.newcomers(planted(scale, "newcomers"))
        self.counts["long_waits"] = self.newcomers(scale.long_waits, LONG_WAIT_DAY)

    def add(
        self,
        pupil: Pupil,
        day: date,
        mutatie: str,
        site: Site | None = None,
        **kw: Unpack[ItemFields],
    ) -> Item:
        site = pupil.site if site is None else site
        item = Item(day, site.school, pupil, mutatie, site, **kw)
        self.items.append(item)
        return item

    def _day(self, first: date, last: date, school: int) -> tuple[date, date]:
        """An event date and the school's delivery day for it, out of outages."""
        while True:
            day = random_day(self.rng, first, last)
            delivered = delivery_day(day, school)
            if not blocked(delivered) and not blocked(day):
                return day, delivered

    def _period(self, pupil: Pupil, **kw: Unpack[ItemFields]) -> ItemFields:
        return {
            "code": pupil.code,
            "leerjaar": pupil.leerjaar,
            "start": pupil.start,
            "number": pupil.number,
        } | kw

    def leave(self, pupil: Pupil) -> bool:
        end, _ = self._day(SEPTEMBER, MAY, pupil.site.school)
        day = delivery_day(end + DAY, pupil.site.school)
        if blocked(day):
            return self.leave(pupil)
        self.add(pupil, day, "U", **self._period(pupil, end=end))
        return True

    def late_leave(self, pupil: Pupil) -> bool:
        """An end date delivered 8–30 days after it (X131)."""
        end, _ = self._day(date(2026, 10, 5), date(2027, 4, 23), pupil.site.school)
        late = end + timedelta(days=8 + self.rng.randrange(23))
        day = delivery_day(late, pupil.site.school)
        if blocked(day):
            return self.late_leave(pupil)
        self.add(pupil, day, "U", **self._period(pupil, end=end))
        return True

    def move(self, pupil: Pupil) -> bool:
        site = self.dest.other(self.rng, pupil)
        assert site is not None
        start, _ = self._day(SEPTEMBER, MAY, pupil.site.school)
        left = delivery_day(start, pupil.site.school)  # ready the day after the end
        arrived = delivery_day(max(start, left + DAY), site.school)
        if blocked(left) or blocked(arrived):
            return self.move(pupil)
        self.add(
            pupil, left, "U", **self._period(pupil, end=start - DAY, reden="overstap")
        )
        code = self.cohort.curriculum.code(site, pupil.stream, pupil.leerjaar)
        number = self.cohort.next_number(site.school)
        self.add(
            pupil,
            arrived,
            "T",
            site,
            code=code,
            leerjaar=pupil.leerjaar,
            start=start,
            number=number,
        )
        return True

    def double(self, pupil: Pupil) -> bool:
        """Also enrolled at another school from September, never ended (X130)."""
        site = self.dest.other(self.rng, pupil)
        assert site is not None
        start = random_day(self.rng, date(2026, 9, 1), date(2026, 9, 25))
        day = delivery_day(start, site.school)
        code = self.cohort.curriculum.code(site, pupil.stream, pupil.leerjaar)
        number = self.cohort.next_number(site.school)
        self.add(
            pupil,
            day,
            "T",
            site,
            code=code,
            leerjaar=pupil.leerjaar,
            start=start,
            number=number,
            tag="double",
        )
        return True

    def correct(self, pupil: Pupil) -> bool:
        """Started later than 1 August: V on the old date, T on the new one, in
        one batch or (every other case) in two consecutive ones."""
        school = pupil.site.school
        start = random_day(self.rng, date(2026, 8, 24), date(2026, 9, 18))
        _, day = self._day(max(start, SEPTEMBER), date(2026, 10, 23), school)
        second = delivery_day(day + DAY, school) if self.rng.random() < 0.5 else day
        self.add(pupil, day, "V", **self._period(pupil))
        self.add(pupil, second, "T", **self._period(pupil, start=start))
        return True

    def key_change(self, pupil: Pupil) -> bool:
        _, day = self._day(date(2026, 9, 14), MAY, pupil.site.school)
        gemeente = pupil.person.gemeente
        assert gemeente is not None
        new = self.cohort.maker.postcode(gemeente, avoid=pupil.person.postcode)
        self.add(pupil, day, "W", new_postcode=new, number=pupil.number)
        return True

    def accountant(self, pupil: Pupil) -> bool:
        """Delivered in August one leerjaar too low; corrected by the accountant
        in June, after the mutation stop."""
        pupil.delivered_leerjaar = pupil.leerjaar - 1
        _, day = self._day(date(2027, 6, 2), date(2027, 6, 11), pupil.site.school)
        self.add(pupil, day, "A", **self._period(pupil, tag="accountant"))
        return True

    def corrected_typos(self, pupils: list[Pupil]) -> None:
        """The August enrolment again, now with the register's birth date."""
        for pupil in pupils:
            if pupil.mode == "typo":
                _, day = self._day(SEPTEMBER, date(2026, 9, 30), pupil.site.school)
                self.add(pupil, day, "T", **self._period(pupil))

    def newcomers(self, count: int, start: date | None = None) -> int:
        """Students enrolling mid-year; with `start`, delivered that very day."""
        sites = [site for school in self.schools for site in school.sites]
        for _ in range(count):
            site = sites[int(self.rng.random() * len(sites))]
            stream = self.rng.choice(site.streams)
            leerjaar = self.rng.choice(YEARS[stream])
            if start is None:
                begin, day = self._day(date(2026, 9, 14), MAY, site.school)
            else:
                begin, day = start, start
            pupil = self.cohort.new_pupil(site, stream, leerjaar, begin)
            pupil.busy = True
            tag = "long-wait" if start else ""
            self.add(pupil, day, "T", **self._period(pupil, tag=tag))
        return count


def anyone(pupil: Pupil) -> bool:
    return True


def _correctable(pupil: Pupil) -> bool:
    return (
        pupil.leerjaar > 1
        and pupil.code != "0090"
        and allows(pupil.code, pupil.leerjaar - 1)
    )
