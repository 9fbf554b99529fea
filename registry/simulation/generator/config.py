"""Scales, planted-case rates and the fixed dates of the generated school year."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

SCHOOLJAAR = "2026-2027"
FIRST_DAY = date(2026, 8, 1)
LAST_DAY = date(2027, 7, 31)
PRO_AGE_LIMIT = date(2008, 8, 1)  # born before: turned 18 before FIRST_DAY (X150)
LICENCE_FROM = "2020-08-01"
MAX_RECORDS = 100_000


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


LOAD_SCHOOLS = utc(2026, 7, 1, 9)
LOAD_POPULATION = utc(2026, 7, 1, 9, 30)


@dataclass(frozen=True)
class Outage:
    """The register is down from `down` to `up`; `retry` judges waiting records."""

    down: datetime
    up: datetime
    retry: datetime

    def covers(self, at: datetime) -> bool:
        return self.down <= at < self.up

    @property
    def days(self) -> tuple[date, date]:
        return self.down.date(), self.up.date()


# A short outage while August deliveries come in, and one over the Christmas break
# that lasts more than 14 days (X132 on the few records delivered during it).
SHORT_OUTAGE = Outage(utc(2026, 8, 4, 5), utc(2026, 8, 5, 20), utc(2026, 8, 5, 20, 30))
LONG_OUTAGE = Outage(utc(2026, 12, 19, 5), utc(2027, 1, 5, 20), utc(2027, 1, 6, 6))
OUTAGES = (SHORT_OUTAGE, LONG_OUTAGE)
LONG_WAIT_DAY = date(2026, 12, 21)


@dataclass(frozen=True)
class Scale:
    name: str
    brins: int | None  # the first N BRIN in BRIN order; None = all
    students: int
    long_waits: int


SCALES = {
    "tiny": Scale("tiny", 3, 150, 1),
    "small": Scale("small", 30, 6_000, 3),
    "national": Scale("national", None, 950_000, 5),
}

# National head counts per stream (domain.md §4.6, brugjaren spread over the
# streams' first two years); each vestiging offering a stream gets an equal share
# of it, varied ±50 %, then scaled to the scale's student count.
STREAM_TOTALS = {
    "PRO": 29_000,
    "BRUG": 30_000,
    "VBO": 230_000,
    "MAVO": 153_000,
    "HAVO": 263_000,
    "VWO": 245_000,
}

# Planted cases: (share of the students, minimum).
PLANT_RATES = {
    "moves": (0.010, 2),
    "leavers": (0.006, 2),
    "late_leavers": (0.001, 1),
    "corrections": (0.002, 2),
    "key_changes": (0.003, 1),
    "typo": (0.001, 2),
    "found": (0.0005, 1),
    "unknown": (0.0005, 1),
    "border": (0.0003, 1),
    "secret": (0.0003, 1),
    "postcode": (0.001, 1),
    "double": (0.0003, 1),
    "unlicensed": (0.0002, 1),
    "pro_old": (0.0001, 1),
    "accountant": (0.0005, 1),
    "exclusions": (0.002, 2),
    "newcomers": (0.003, 1),
    "siblings": (0.10, 0),
    "abroad": (0.005, 1),
    "secret_others": (0.002, 1),
    "arrivals_first": (0.002, 1),
    "reopened": (0.001, 1),
    "stopped_deletions": (0.0005, 1),
    "next_year": (0.002, 1),
}


def planted(scale: Scale, name: str) -> int:
    rate, minimum = PLANT_RATES[name]
    return max(minimum, round(rate * scale.students))


# Shares of the schools: late and never-given completeness declarations, and
# mutation stops on request (among schools that declared on time).
LATE_DECLARATIONS = (0.03, 1)
NEVER_DECLARED = (0.02, 0)
STOPS_ON_REQUEST = (0.10, 1)


def share(count: int, rule: tuple[float, int]) -> int:
    return min(count, max(rule[1], round(rule[0] * count)))
