"""The calendar of a school year: the dates the yearly cycle turns on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

from registry.domain.values import Schooljaar

# The registry's days are Dutch days: a deadline or a stop at midnight is
# midnight in the Netherlands, whatever the offset of the recorded time.
NETHERLANDS = ZoneInfo("Europe/Amsterdam")


@lru_cache(maxsize=1024)
def local_day(at: datetime) -> date:
    """The date in the Netherlands of an aware instant (cached: the rules ask
    it of the same delivery time for every record)."""
    return at.astimezone(NETHERLANDS).date()


@dataclass(frozen=True)
class SchoolYearCalendar:
    # Calendars are cached (`of`), and so are the dates the rules ask of every
    # record (cached_property writes the instance dict, past the frozen guard).
    schooljaar: Schooljaar

    @classmethod
    def of(cls, schooljaar: Schooljaar | str) -> SchoolYearCalendar:
        return _calendar(str(schooljaar))

    @property
    def _y(self) -> int:
        return self.schooljaar.start_year

    @cached_property
    def first_day(self) -> date:
        return date(self._y, 8, 1)

    @property
    def last_day(self) -> date:
        return date(self._y + 1, 7, 31)

    @cached_property
    def count_date(self) -> date:
        """Teldatum: who is enrolled on 1 October is counted for funding; on a
        Saturday or Sunday the count is on the next school day (domain.md §4.1)."""
        first = date(self._y, 10, 1)
        weekend = first.weekday() - 4  # Saturday 1, Sunday 2
        return first + timedelta(days=3 - weekend) if weekend > 0 else first

    @property
    def completeness_deadline(self) -> date:
        return date(self._y, 10, 15)

    @property
    def provisional_snapshot_dates(self) -> tuple[date, ...]:
        y = self._y
        return (date(y, 11, 15), date(y, 11, 29), date(y, 12, 13), date(y + 1, 1, 4))

    @cached_property
    def default_mutation_stop(self) -> date:
        return date(self._y + 1, 6, 1)

    @property
    def assurance_deadline(self) -> date:
        return date(self._y + 1, 6, 30)

    @property
    def final_snapshot(self) -> date:
        return date(self._y + 1, 7, 21)

    def contains(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


@lru_cache(maxsize=64)
def _calendar(schooljaar: str) -> SchoolYearCalendar:
    """A calendar is asked for per record; parse each school year once."""
    return SchoolYearCalendar(Schooljaar(schooljaar))


@lru_cache(maxsize=256)
def count_dates(first: int, last: int) -> tuple[tuple[str, date], ...]:
    """(school year, count date) of the school years starting in `first` to
    `last`: the rules look at the same few for every record."""
    return tuple(
        (str(c.schooljaar), c.count_date)
        for c in (_calendar(f"{y}-{y + 1}") for y in range(first, last + 1))
    )
