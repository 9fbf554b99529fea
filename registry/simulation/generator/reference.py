"""The real reference tables shipped in `registry/domain/data/`: schools and their
vestigingen, PC4 → municipality, municipality names."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from registry.simulation.generator.config import Scale


def _rows(name: str) -> list[dict[str, str]]:
    raw = resources.files("registry.domain").joinpath(f"data/{name}")
    return list(csv.DictReader(io.StringIO(raw.read_text(encoding="utf-8"))))


@dataclass(frozen=True, eq=False)
class Site:
    """One vestiging and the streams its onderwijsstructuur offers."""

    brin: str
    vestiging: str
    naam: str
    gemeente: str
    streams: tuple[str, ...]
    school: int  # index of its school in the selection


@dataclass(frozen=True, eq=False)
class SchoolRef:
    index: int
    brin: str
    sites: tuple[Site, ...]

    @property
    def hoofdvestiging(self) -> Site:
        """Vestiging 00 when present, otherwise the lowest number."""
        return min(self.sites, key=lambda s: (s.vestiging != "00", s.vestiging))


def _streams(structure: str) -> tuple[str, ...]:
    return tuple("BRUG" if t == "BRUGJAAR" else t for t in structure.split("/"))


@cache
def all_rows() -> tuple[tuple[str, str, str, str, str], ...]:
    """(brin, vestiging, naam, gemeente, onderwijsstructuur), in BRIN order."""
    rows = [
        (
            r["brin"],
            r["vestigingsnummer"],
            r["name"],
            r["municipality_code"],
            r["onderwijsstructuur"],
        )
        for r in _rows("schools.csv")
    ]
    return tuple(sorted(rows, key=lambda r: (r[0], r[1])))


def select(scale: Scale) -> list[SchoolRef]:
    """The first `scale.brins` BRIN in BRIN order (all for `national`)."""
    by_brin: dict[str, list[tuple[str, str, str, str, str]]] = {}
    for row in all_rows():
        by_brin.setdefault(row[0], []).append(row)
    brins = sorted(by_brin)[: scale.brins]
    return [
        SchoolRef(
            i,
            brin,
            tuple(Site(b, v, n, g, _streams(s), i) for b, v, n, g, s in by_brin[brin]),
        )
        for i, brin in enumerate(brins)
    ]


def offering_counts() -> dict[str, int]:
    """How many vestigingen nationally offer each stream."""
    counts: dict[str, int] = {}
    for *_, structure in all_rows():
        for stream in _streams(structure):
            counts[stream] = counts.get(stream, 0) + 1
    return counts


@cache
def pc4_by_municipality() -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for r in _rows("pc4_municipality.csv"):
        found.setdefault(r["municipality_code"], []).append(r["pc4"])
    return {k: tuple(sorted(v)) for k, v in sorted(found.items())}


@cache
def municipality_names() -> dict[str, str]:
    return {r["code"]: r["name"] for r in _rows("municipalities.csv")}
