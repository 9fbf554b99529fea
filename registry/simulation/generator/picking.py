"""Choosing students for planted cases: each student is taken by at most one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from random import Random
from typing import TypedDict

from registry.simulation.generator.cohort import Pupil
from registry.simulation.generator.config import SCHOOLJAAR
from registry.simulation.generator.reference import SchoolRef, Site


@dataclass(slots=True)
class Item:
    """One record to deliver after August (the August enrolments are the pupils)."""

    day: date  # delivery day
    school: int  # the delivering school's index
    pupil: Pupil
    mutatie: str  # T U V A W
    site: Site | None = None
    code: str | None = None
    leerjaar: int | None = None
    start: date | None = None
    end: date | None = None
    tag: str = ""  # "double" (X130), "accountant", "long-wait", "stopped" (X140)
    new_postcode: str | None = None
    number: str = ""  # leerlingnummer at the delivering school
    schooljaar: str = SCHOOLJAAR  # the batch's label
    reden: str | None = None  # reden_einde of a U (contract.md)


class ItemFields(TypedDict, total=False):
    """An Item's optional fields, as the planters pass them along."""

    code: str | None
    leerjaar: int | None
    start: date | None
    end: date | None
    tag: str
    new_postcode: str | None
    number: str
    schooljaar: str
    reden: str | None


class Picker:
    """Plain, untaken students in one seeded random order."""

    def __init__(self, rng: Random, pupils: list[Pupil]) -> None:
        self.pupils = pupils
        self.order = list(range(len(pupils)))
        rng.shuffle(self.order)

    def take(self, count: int, accept: Callable[[Pupil], bool]) -> list[Pupil]:
        found: list[Pupil] = []
        if count <= 0:
            return found
        for i in self.order:
            p = self.pupils[i]
            if not p.busy and p.mode == "plain" and accept(p):
                p.busy = True
                found.append(p)
                if len(found) == count:
                    break
        return found


class Destinations:
    """Vestigingen of other schools that teach a stream."""

    def __init__(self, schools: list[SchoolRef]) -> None:
        self.by_stream: dict[str, list[Site]] = {}
        for school in schools:
            for site in school.sites:
                for stream in site.streams:
                    self.by_stream.setdefault(stream, []).append(site)

    def other(self, rng: Random, pupil: Pupil) -> Site | None:
        sites = [
            s
            for s in self.by_stream.get(pupil.stream, [])
            if s.school != pupil.site.school
        ]
        return sites[int(rng.random() * len(sites))] if sites else None

    def can_leave(self, pupil: Pupil) -> bool:
        return any(
            s.school != pupil.site.school for s in self.by_stream.get(pupil.stream, [])
        )
