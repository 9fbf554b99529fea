"""The VO elementcode table (school year 2015–2016), shipped as package data."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from registry.domain.errors import LeerjaarNotAllowed, UnknownElementcode


@dataclass(frozen=True)
class Elementcode:
    code: str
    description: str
    leerjaren: frozenset[int]
    category: str

    def check_leerjaar(self, leerjaar: int) -> None:
        if leerjaar not in self.leerjaren:
            allowed = ", ".join(str(j) for j in sorted(self.leerjaren))
            raise LeerjaarNotAllowed(
                f"leerjaar {leerjaar} is not allowed for elementcode {self.code} "
                f"(allowed: {allowed})",
                field="leerjaar",
            )


def _parse_leerjaren(text: str) -> frozenset[int]:
    years: set[int] = set()
    for part in text.split(";"):
        low, _, high = part.partition("-")
        years.update(range(int(low), int(high or low) + 1))
    return frozenset(years)


@cache
def table() -> dict[str, Elementcode]:
    raw = resources.files("registry.domain").joinpath("data/elementcodes.csv")
    rows = csv.DictReader(io.StringIO(raw.read_text(encoding="utf-8")))
    return {
        row["elementcode"]: Elementcode(
            code=row["elementcode"],
            description=row["description"],
            leerjaren=_parse_leerjaren(row["leerjaren"]),
            category=row["category"],
        )
        for row in rows
    }


def lookup(code: str) -> Elementcode:
    try:
        return table()[code]
    except KeyError:
        raise UnknownElementcode(
            f"elementcode {code!r} is not in the elementcode table",
            field="elementcode",
        ) from None
