"""The year's operations besides the deliveries: reference loads, register
outages and retries, each school's own steps (declaration, stop on request,
assurance) and the calendar's milestones. Each school acts at its own second
within fixed hours: declarations and assurance reports at 18:00, stops at 19:00
(+ 5 s × school), so no two operations share an instant; the milestones run at
20:00 for every school at once.

- declare-complete: most schools on a working day 1–14 October; a few late
  (16 October – 20 November); a few never (neither a voorlopige foto);
- milestones (`registry milestones run`) on 15 Nov, 29 Nov, 13 Dec and 4 Jan
  (the voorlopige foto of each school on the first after its declaration), on
  1 June (the default stop, with its actuele foto, for every school not
  stopped on request) and on 21 July (the definitieve fotos);
- mutation stop on request: some schools that declared on time, 1–12 March;
  the stop issues their actuele foto itself;
- assurance: 21–29 June, after the school's accountant batches, listing them
  (possibly none) and the exclusions file when the school has exclusions.
"""

from __future__ import annotations

from datetime import date, datetime
from random import Random
from typing import Any

from registry.simulation.generator.config import (
    LATE_DECLARATIONS,
    LOAD_POPULATION,
    LOAD_SCHOOLS,
    NEVER_DECLARED,
    OUTAGES,
    SCHOOLJAAR,
    STOPS_ON_REQUEST,
    share,
)
from registry.simulation.generator.reference import SchoolRef
from registry.simulation.generator.timeline import random_day, stamp

PROVISIONAL = (
    date(2026, 11, 15),
    date(2026, 11, 29),
    date(2026, 12, 13),
    date(2027, 1, 4),
)
Op = tuple[datetime, dict[str, Any]]


def _working_day(rng: Random, first: date, last: date) -> date:
    while True:
        day = random_day(rng, first, last)
        if day.weekday() < 5:
            return day


MILESTONES = (*PROVISIONAL, date(2027, 6, 1), date(2027, 7, 21))


def fixed_ops() -> list[Op]:
    ops: list[Op] = [
        (LOAD_SCHOOLS, {"op": "schools-load", "file": "schools.jsonl"}),
        (LOAD_POPULATION, {"op": "population-load", "file": "population.jsonl"}),
    ]
    ops += [(stamp(day, 20, 0), {"op": "milestones"}) for day in MILESTONES]
    for outage in OUTAGES:
        ops += [
            (outage.down, {"op": "population-outage", "available": False}),
            (outage.up, {"op": "population-outage", "available": True}),
            (outage.retry, {"op": "retry-waiting"}),
        ]
    return ops


class Cycle:
    def __init__(self, rng: Random, schools: list[SchoolRef]) -> None:
        self.rng = rng
        self.schools = schools
        order = [s.index for s in schools]
        rng.shuffle(order)
        n = len(schools)
        never, late = share(n, NEVER_DECLARED), share(n, LATE_DECLARATIONS)
        self.never = set(order[:never])
        self.late = set(order[never : never + late])
        on_time = order[never + late :]
        self.on_request = set(on_time[: share(len(on_time), STOPS_ON_REQUEST)])
        self.ops: list[Op] = []

    def _op(self, at: datetime, op: str, school: SchoolRef, **kw: Any) -> None:
        body = {"op": op, "brin": school.brin, "schooljaar": SCHOOLJAAR} | kw
        self.ops.append((at, body))

    def declarations(self, school: SchoolRef) -> None:
        i = school.index
        if i in self.never:
            return
        if i in self.late:
            day = _working_day(self.rng, date(2026, 10, 16), date(2026, 11, 20))
        else:
            day = _working_day(self.rng, date(2026, 10, 1), date(2026, 10, 14))
        self._op(stamp(day, 18, 5 * i), "declare-complete", school)

    def stop(self, school: SchoolRef) -> None:
        i = school.index
        if i in self.on_request:
            day = _working_day(self.rng, date(2027, 3, 1), date(2027, 3, 12))
            self._op(stamp(day, 19, 5 * i), "mutation-stop", school)

    def assurance(
        self, school: SchoolRef, batches: list[int], exclusions: str | None
    ) -> None:
        i = school.index
        day = _working_day(self.rng, date(2027, 6, 21), date(2027, 6, 29))
        extra: dict[str, Any] = {"batches": batches}
        if exclusions:
            extra["exclusions"] = exclusions
        self._op(stamp(day, 18, 5 * i), "assurance", school, **extra)


def school_ops(
    rng: Random,
    schools: list[SchoolRef],
    accountant_batches: dict[int, list[int]],
    exclusion_files: dict[int, str],
) -> tuple[list[Op], Cycle]:
    cycle = Cycle(rng, schools)
    for school in schools:
        cycle.declarations(school)
        cycle.stop(school)
        cycle.assurance(
            school,
            sorted(accountant_batches.get(school.index, [])),
            exclusion_files.get(school.index),
        )
    return cycle.ops, cycle
