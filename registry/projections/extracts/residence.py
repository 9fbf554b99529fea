"""Where a student lives, for routing to municipalities: the population
register's municipality as the log recorded it, else the delivered postcode's
(students without a BSN are not in the register).

A PC4 area that lies in two municipalities decides nothing on its own: only
the register places its residents (a guess would send a BSN to a municipality
that is not entitled to it)."""

from __future__ import annotations

import csv
from collections import defaultdict
from functools import cache
from importlib import resources

from registry.projections.extracts.page_state import StudentRow


@cache
def municipality_of_pc4() -> dict[str, str | None]:
    """PC4 → municipality code (lower case); None for an area two share."""
    data = resources.files("registry.domain.data").joinpath("pc4_municipality.csv")
    codes: dict[str, set[str]] = defaultdict(set)
    with data.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            codes[r["pc4"]].add(r["municipality_code"].lower())
    return {pc4: next(iter(c)) if len(c) == 1 else None for pc4, c in codes.items()}


def municipality(postcode: str | None) -> str | None:
    return None if not postcode else municipality_of_pc4().get(postcode[:4])


def residence(student: StudentRow) -> str | None:
    """The municipality the student lives in as the log knows it now."""
    return student.gemeente or municipality(student.postcode)
