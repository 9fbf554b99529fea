"""Small builders of valid domain input for tests."""

from __future__ import annotations

from datetime import date

from registry.domain.enrolment import PeriodTerms, Source
from registry.domain.school import Licence, SchoolRegistration, VestigingRegistration

SJ = "2026-2027"


def school(
    brin: str = "01OE",
    *,
    naam: str = "Voorbeeld College",
    licences: tuple[str, ...] = ("0300", "0100"),
    extra_vestiging: bool = False,
) -> SchoolRegistration:
    lic = tuple(Licence(code, date(2020, 8, 1)) for code in licences)
    vestigingen = [
        VestigingRegistration("00", "Hoofdlocatie", True, "9711AB", "GM0014", lic)
    ]
    if extra_vestiging:
        vestigingen.append(
            VestigingRegistration("01", "Dependance", False, "9712CD", "GM0014", lic)
        )
    return SchoolRegistration(brin, naam, "GM0014", tuple(vestigingen))


def source(
    brin: str = "01OE", melding: int = 1, *, accountant: bool = False, batch: int = 1
) -> Source:
    return Source(brin, 0, SJ, batch, melding, accountant)


def terms(
    elementcode: str = "0300",
    leerjaar: int = 1,
    *,
    vestiging: str = "00",
    einddatum: date | None = None,
) -> PeriodTerms:
    return PeriodTerms(vestiging, elementcode, leerjaar, None, einddatum)


def valid_bsns(start: int = 200_000_000):  # type: ignore[no-untyped-def]
    """Valid BSNs in increasing order from `start` (weighted sum ≡ 0 mod 11)."""
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    n = start
    while True:
        digits = f"{n:09d}"
        if sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0:
            yield digits
        n += 1
