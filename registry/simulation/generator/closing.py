"""What is planted once every code is known: unlicensed elementcodes, the
licences, the leavers at the end of the year and the assurance exclusions."""

from __future__ import annotations

from datetime import date
from random import Random

from registry.simulation.generator.cohort import Pupil
from registry.simulation.generator.config import FIRST_DAY, LAST_DAY
from registry.simulation.generator.curriculum import FINAL_YEAR, Curriculum, category
from registry.simulation.generator.picking import Item, Picker
from registry.simulation.generator.reference import Site
from registry.simulation.generator.timeline import delivery_day, random_day

SiteKey = tuple[str, str]


def key(site: Site) -> SiteKey:
    return site.brin, site.vestiging


def used_codes(pupils: list[Pupil], items: list[Item]) -> dict[SiteKey, set[str]]:
    used: dict[SiteKey, set[str]] = {}
    for p in pupils:
        used.setdefault(key(p.site), set()).add(p.code)
    for item in items:
        if item.mutatie in ("T", "A") and item.site and item.code:
            used.setdefault(key(item.site), set()).add(item.code)
    return used


class Closing:
    def __init__(self, rng: Random, picker: Picker, curriculum: Curriculum) -> None:
        self.rng = rng
        self.picker = picker
        self.curriculum = curriculum
        self.unlicensed: set[tuple[SiteKey, str]] = set()

    def _unused(self, p: Pupil, used: dict[SiteKey, set[str]]) -> list[str]:
        taken = used.get(key(p.site), set())
        return [
            c
            for c in self.curriculum.candidates(p.stream, p.leerjaar)
            if c not in taken and (key(p.site), c) not in self.unlicensed
        ]

    def plant_unlicensed(self, count: int, used: dict[SiteKey, set[str]]) -> int:
        """August enrolments with a code the vestiging has no licence for (X121):
        a code of the student's stream and year nobody else there uses."""

        def fits(p: Pupil) -> bool:
            return (
                p.start == FIRST_DAY
                and p.code != "0090"
                and bool(self._unused(p, used))
            )

        planted = 0
        for p in self.picker.take(count, fits):
            options = self._unused(p, used)
            if not options:  # another planted student here took the last one
                p.busy = False
                continue
            p.code = options[int(self.rng.random() * len(options))]
            self.unlicensed.add((key(p.site), p.code))
            planted += 1
        return planted

    def licences(
        self, pupils: list[Pupil], items: list[Item]
    ) -> dict[SiteKey, list[str]]:
        """Every code a vestiging's students use, except the planted ones."""
        return {
            site: sorted(c for c in codes if (site, c) not in self.unlicensed)
            for site, codes in used_codes(pupils, items).items()
        }

    def year_end(self, pupils: list[Pupil]) -> list[Item]:
        """Students in their final year leave with a diploma on 31 July, delivered
        in July."""
        items = []
        for p in pupils:
            final = FINAL_YEAR.get(p.stream) == p.leerjaar
            if final and not p.busy and p.mode == "plain" and p.start == FIRST_DAY:
                ready = random_day(self.rng, date(2027, 7, 5), date(2027, 7, 12))
                day = delivery_day(ready, p.site.school)
                items.append(
                    Item(
                        day,
                        p.site.school,
                        p,
                        "U",
                        p.site,
                        code=p.code,
                        leerjaar=p.leerjaar,
                        start=p.start,
                        end=LAST_DAY,
                        reden="diploma",  # a final-year student graduates
                    )
                )
        return items

    def exclusions(self, count: int) -> list[tuple[Pupil, str]]:
        """Students enrolled on 1 October whom the accountant reports: without an
        LWOO/PRO indication ("indicatie", for lwoo/pro codes) or absent ("verzuim")."""
        taken = self.picker.take(count, lambda p: p.start == FIRST_DAY)
        return [
            (p, "indicatie" if category(p.code) in ("lwoo", "pro") else "verzuim")
            for p in taken
        ]
