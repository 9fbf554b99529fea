"""Days and instants: each school delivers on its own weekday at its own minute,
so every operation of the schedule has a distinct instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from random import Random

from registry.simulation.generator.config import (
    LONG_OUTAGE,
    LONG_WAIT_DAY,
    SHORT_OUTAGE,
)

DAY = timedelta(days=1)
BATCH_HOUR = 8
SECONDS_PER_SCHOOL = 50  # batches of school i start at 08:00 + 50·i s


def weekday_of(school: int) -> int:
    return school % 5


def next_weekday(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def delivery_day(ready: date, school: int) -> date:
    """The school's first delivery day on or after `ready`."""
    return next_weekday(ready, weekday_of(school))


def blocked(day: date) -> bool:
    """Ordinary deliveries stay out of the outages (the planted ones excepted)."""
    return any(o.days[0] <= day <= o.days[1] for o in (SHORT_OUTAGE, LONG_OUTAGE))


def random_day(rng: Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def stamp(day: date, hour: int, seconds: int = 0) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC) + timedelta(seconds=seconds)


def batch_at(
    day: date, school: int, chunk: int = 0, hour: int = BATCH_HOUR
) -> datetime:
    return stamp(day, hour, school * SECONDS_PER_SCHOOL + chunk)


def august_day(school: int) -> date:
    """August deliveries: the working days from 3 August in turn."""
    days = [
        d
        for d in (date(2026, 8, 3) + timedelta(days=i) for i in range(28))
        if d.weekday() < 5
    ]
    return days[school % len(days)]


def long_wait_day() -> date:
    return LONG_WAIT_DAY


def iso(at: datetime) -> str:
    return at.isoformat()
