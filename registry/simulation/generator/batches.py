"""Deliveries: one batch per school, day and soort (split above MAX_RECORDS), each
school's batchnummers 1, 2, 3… per school year in time order; plus the planted refused batch
(a copy with an unknown `soort`, delivered just before the corrected one under
the same batchnummer) and the planted re-delivery of an identical batch.

Instants within a school's slot (08:00 + 50 s × school): the refused copy at +0,
regular chunks from +1, accountant batches from +21, a re-delivery at +45."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from registry.simulation.generator.cohort import Pupil
from registry.simulation.generator.config import (
    FIRST_DAY,
    MAX_RECORDS,
    OUTAGES,
    SCHOOLJAAR,
)
from registry.simulation.generator.picking import Item
from registry.simulation.generator.reference import SchoolRef
from registry.simulation.generator.timeline import august_day, batch_at

REGULAR, ACCOUNTANT = "INSCHRIJVING", "ACCOUNTANTSMUTATIE"
REFUSED_SOORT = "INSCHRIJVINGEN"  # not a value of the enumeration: refused whole
Entry = Pupil | Item


@dataclass(eq=False)
class Batch:
    at: datetime
    school: SchoolRef
    soort: str
    entries: Sequence[Entry]
    role: str = "normal"  # "refused" (copy with a bad soort) | "redelivery"
    schooljaar: str = SCHOOLJAAR
    batchnummer: int = 0
    file: str = ""
    original: Batch | None = field(default=None, repr=False)

    @property
    def day(self) -> date:
        return self.at.date()


def chunks(entries: Sequence[Entry], limit: int = MAX_RECORDS) -> list[Sequence[Entry]]:
    return [entries[i : i + limit] for i in range(0, len(entries), limit)]


def august_batches(schools: list[SchoolRef], pupils: list[Pupil]) -> list[Batch]:
    by_school: dict[int, list[Entry]] = {s.index: [] for s in schools}
    for p in pupils:
        if p.start == FIRST_DAY:
            by_school[p.site.school].append(p)
    return [
        Batch(batch_at(august_day(s.index), s.index, 1 + i), s, REGULAR, part)
        for s in schools
        for i, part in enumerate(chunks(by_school[s.index]))
    ]


def item_batches(schools: list[SchoolRef], items: list[Item]) -> list[Batch]:
    groups: dict[tuple[int, date, str, str], list[Entry]] = {}
    for item in items:
        soort = ACCOUNTANT if item.tag == "accountant" else REGULAR
        key = (item.school, item.day, item.schooljaar, soort)
        groups.setdefault(key, []).append(item)
    batches = []
    for (school, day, schooljaar, soort), entries in sorted(groups.items()):
        offset = 21 if soort == ACCOUNTANT else 1 + 10 * (schooljaar != SCHOOLJAAR)
        for i, part in enumerate(chunks(entries)):
            at = batch_at(day, school, offset + i)
            batches.append(
                Batch(at, schools[school], soort, part, schooljaar=schooljaar)
            )
    return batches


def number(batches: list[Batch]) -> None:
    """batchnummer 1, 2, 3… per school and school year in time order (a copy
    shares its original's)."""
    counters: dict[tuple[int, str], int] = {}
    for batch in sorted(batches, key=lambda b: b.at):
        if batch.original is None:
            key = (batch.school.index, batch.schooljaar)
            counters[key] = counters.get(key, 0) + 1
            batch.batchnummer = counters[key]
    for batch in batches:
        if batch.original is not None:
            batch.batchnummer = batch.original.batchnummer


def in_outage(at: datetime) -> bool:
    return any(o.covers(at) for o in OUTAGES)


def _candidate(batches: list[Batch], avoid: Batch | None = None) -> Batch:
    """The first regular batch from September on, outside outages."""
    ordered = sorted(batches, key=lambda b: b.at)
    for batch in ordered:
        late_enough = batch.at.month >= 9 or batch.at.year > 2026
        clean = (
            batch.soort == REGULAR
            and batch.schooljaar == SCHOOLJAAR
            and not in_outage(batch.at)
        )
        if (
            late_enough
            and clean
            and batch is not avoid
            and batch.school is not (avoid.school if avoid else None)
        ):
            return batch
    return next(b for b in ordered if b is not avoid and not in_outage(b.at))


def plant_refusal_and_redelivery(batches: list[Batch]) -> list[Batch]:
    target = _candidate(batches)
    slot = target.at - timedelta(seconds=1)  # the school's +0 second
    refused = Batch(slot, target.school, REFUSED_SOORT, target.entries, "refused")
    refused.schooljaar = target.schooljaar
    refused.original = target
    again = _candidate(batches, avoid=target)
    later = again.at + timedelta(days=1, seconds=44)  # next day, +45 of the slot
    redelivery = Batch(later, again.school, again.soort, again.entries, "redelivery")
    redelivery.schooljaar = again.schooljaar
    redelivery.original = again
    return [refused, redelivery]


def plan(
    schools: list[SchoolRef], pupils: list[Pupil], items: list[Item]
) -> list[Batch]:
    batches = august_batches(schools, pupils) + item_batches(schools, items)
    batches += plant_refusal_and_redelivery(batches)
    number(batches)
    batches.sort(key=lambda b: b.at)
    width = max(4, len(str(len(batches))))
    for i, batch in enumerate(batches, start=1):
        batch.file = f"batches/{i:0{width}d}.json"
    return batches
