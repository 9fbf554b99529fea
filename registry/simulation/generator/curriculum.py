"""Plausible elementcodes per stream and leerjaar, from the elementcode table, and
birth dates fitting a leerjaar."""

from __future__ import annotations

from datetime import date, timedelta
from random import Random

from registry.domain import elementcodes
from registry.simulation.generator.reference import Site

YEARS = {
    "PRO": (1, 2, 3, 4, 5),
    "BRUG": (1, 2),
    "VBO": (1, 2, 3, 4),
    "MAVO": (1, 2, 3, 4),
    "HAVO": (1, 2, 3, 4, 5),
    "VWO": (1, 2, 3, 4, 5, 6),
}
FINAL_YEAR = {"PRO": 5, "VBO": 4, "MAVO": 4, "HAVO": 5, "VWO": 6}
_VBO_LOWER = ("0023", "0031", "0032", "0033", "1908", "1915")
_VBO_LOWER_LWOO = ("0041", "0043", "0045", "1393", "1397")
_BRUG = ("0011", "0012", "0013", "0016", "0022", "0023", "0024")
LWOO_SHARE = 0.12
OFFERED = 6  # vmbo profile codes a vestiging teaches per leerjaar
Pool = tuple[tuple[str, ...], tuple[str, ...]]


def _vbo_upper(lwoo: bool) -> tuple[str, ...]:
    wanted = {"lwoo"} if lwoo else {"vmbo_bb", "vmbo_kb", "vmbo_gl"}
    return tuple(
        code
        for code, e in sorted(elementcodes.table().items())
        if e.category in wanted and {3, 4} <= e.leerjaren and code[0] in "2356"
    )


def _range(first: str, last: str) -> tuple[str, ...]:
    return tuple(f"{n:04d}" for n in range(int(first), int(last) + 1))


def _pools() -> dict[tuple[str, int], Pool]:
    """(stream, leerjaar) → (regular codes, LWOO codes or ())."""
    pools: dict[tuple[str, int], Pool] = {}
    for year in YEARS["PRO"]:
        pools["PRO", year] = (("0090",), ())
    for year in (1, 2):
        pools["BRUG", year] = (_BRUG, ())
        pools["VBO", year] = (_VBO_LOWER, _VBO_LOWER_LWOO)
    for year in (3, 4):
        pools["VBO", year] = (_vbo_upper(False), _vbo_upper(True))
    for year in YEARS["MAVO"]:
        pools["MAVO", year] = (("0400",), ("2210",))
    for year in (1, 2, 3):
        pools["HAVO", year] = (("0300",), ())
        pools["VWO", year] = (("0100", "0100", "0200"), ())
    for year in (4, 5):
        pools["HAVO", year] = (_range("0370", "0379"), ())
    for year in (4, 5, 6):
        pools["VWO", year] = (_range("0170", "0179") + _range("0270", "0279"), ())
    return pools


class Curriculum:
    """Codes per (stream, leerjaar); a vestiging teaches a sample of a long list
    (the vmbo profiles), the same sample for all its students."""

    def __init__(self, rng: Random) -> None:
        self.rng = rng
        self.pools = _pools()
        self.offers: dict[tuple[str, str, str, int], Pool] = {}
        table = elementcodes.table()
        for (_, year), (regular, lwoo) in self.pools.items():
            for code in regular + lwoo:
                assert year in table[code].leerjaren, (code, year)

    def offer(self, site: Site, stream: str, leerjaar: int) -> Pool:
        key = (site.brin, site.vestiging, stream, leerjaar)
        if key not in self.offers:
            regular, lwoo = self.pools[stream, leerjaar]
            if len(regular) > OFFERED:
                regular = tuple(sorted(self.rng.sample(regular, OFFERED)))
            if len(lwoo) > OFFERED // 2:
                lwoo = tuple(sorted(self.rng.sample(lwoo, OFFERED // 2)))
            self.offers[key] = (regular, lwoo)
        return self.offers[key]

    def code(self, site: Site, stream: str, leerjaar: int) -> str:
        regular, lwoo = self.offer(site, stream, leerjaar)
        r = self.rng.random
        pool = lwoo if lwoo and r() < LWOO_SHARE else regular
        return pool[int(r() * len(pool))]

    def candidates(self, stream: str, leerjaar: int) -> tuple[str, ...]:
        regular, lwoo = self.pools[stream, leerjaar]
        return tuple(dict.fromkeys(regular + lwoo))


def allows(code: str, leerjaar: int) -> bool:
    return leerjaar in elementcodes.table()[code].leerjaren


def category(code: str) -> str:
    return elementcodes.table()[code].category


def birth_date(rng: Random, leerjaar: int, repeater: bool = False) -> date:
    """Born so that the student is 11 + leerjaar on 1 August 2026 (a repeater a
    year older): in year 1 aged 12, turning 13 during the year."""
    first = date(2014 - leerjaar - repeater, 8, 2)
    return first + timedelta(days=int(rng.random() * 365))


def jaren_pro(code: str, leerjaar: int) -> int | None:
    return leerjaar if code == "0090" else None
