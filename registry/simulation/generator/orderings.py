"""Orderings the first generator never made, each of which once broke a rule
(issue 14): a transfer the new school delivers first, a `U` followed by an `A`
that re-opens the period, a `V` of a counted period labelled with the next
school year after the stop (X140 all the same), and next-year enrolments
delivered late in a batch labelled 2027-2028."""

from __future__ import annotations

from datetime import date, timedelta

from registry.simulation.generator.cohort import Pupil
from registry.simulation.generator.config import Scale, planted
from registry.simulation.generator.curriculum import YEARS
from registry.simulation.generator.events import (
    DAY,
    MAY,
    EventPlanter,
    Plan,
    anyone,
)
from registry.simulation.generator.timeline import blocked, delivery_day, random_day

NEXT_YEAR = "2027-2028"
NEXT_FIRST_DAY = date(2027, 8, 1)
AFTER_STOP = (date(2027, 6, 3), date(2027, 6, 18))  # stopped, no assurance yet
LATE_INTAKE = (date(2027, 7, 22), date(2027, 8, 13))
AFTER_COUNT_DATE = date(2026, 10, 5)


class YearPlanter(EventPlanter):
    def plans(self) -> list[Plan]:
        return [
            *super().plans(),
            ("arrivals_first", self.dest.can_leave, self.arrive_first),
            ("reopened", anyone, self.reopen),
            ("stopped_deletions", anyone, self.delete_counted),
        ]

    def plant(self, scale: Scale) -> None:
        super().plant(scale)
        self.counts["next_year"] = self.next_year(planted(scale, "next_year"))

    def arrive_first(self, pupil: Pupil) -> bool:
        """A move after the count date whose new school delivers its `T` before
        the old school's `U` (no X130: the periods never share a 1 October)."""
        site = self.dest.other(self.rng, pupil)
        assert site is not None
        start, _ = self._day(AFTER_COUNT_DATE, MAY, pupil.site.school)
        ready = start - timedelta(days=1 + self.rng.randrange(10))
        arrived = delivery_day(ready, site.school)
        left = delivery_day(max(start, arrived + DAY), pupil.site.school)
        if blocked(arrived) or blocked(left) or left > start + timedelta(days=6):
            return self.arrive_first(pupil)  # the U on time: no X131 here
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
        self.add(
            pupil, left, "U", **self._period(pupil, end=start - DAY, reden="overstap")
        )
        return True

    def reopen(self, pupil: Pupil) -> bool:
        """Ended after the count date, then re-opened by an `A` without einddatum
        1–4 weeks later, before any mutation stop."""
        school = pupil.site.school
        end, _ = self._day(AFTER_COUNT_DATE, date(2027, 1, 29), school)
        told = delivery_day(end + DAY, school)
        again = delivery_day(end + timedelta(days=7 + self.rng.randrange(22)), school)
        if blocked(told) or blocked(again):
            return self.reopen(pupil)
        self.add(pupil, told, "U", **self._period(pupil, end=end))
        self.add(pupil, again, "A", **self._period(pupil))
        return True

    def delete_counted(self, pupil: Pupil) -> bool:
        """A `V` of the counted August enrolment after the stop, in a batch
        labelled with the next school year: rejected with X140."""
        _, day = self._day(*AFTER_STOP, pupil.site.school)
        self.add(
            pupil, day, "V", **self._period(pupil, tag="stopped", schooljaar=NEXT_YEAR)
        )
        return True

    def next_year(self, count: int) -> int:
        """New first-year students from 1 August 2027, delivered from 22 July on
        (after the definitieve foto of 2026-2027) in batches labelled 2027-2028."""
        sites = [site for school in self.schools for site in school.sites]
        for _ in range(count):
            site = sites[int(self.rng.random() * len(sites))]
            stream = self.rng.choice(site.streams)
            leerjaar = YEARS[stream][0]
            day = delivery_day(random_day(self.rng, *LATE_INTAKE), site.school)
            pupil = self.cohort.new_pupil(site, stream, leerjaar, NEXT_FIRST_DAY)
            pupil.busy = True
            self.add(pupil, day, "T", **self._period(pupil, schooljaar=NEXT_YEAR))
        return count
