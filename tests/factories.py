"""Small builders of valid domain input for tests."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from registry.application.mutations import EnrolmentMutation
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


def mutation(
    mutatie: str,
    student: UUID,
    *,
    brin: str = "01OE",
    start: date = date(2026, 8, 1),
    t: PeriodTerms | None = None,
    einddatum: date | None = None,
    accountant: bool = False,
    src_brin: str | None = None,
) -> EnrolmentMutation:
    if mutatie in ("T", "A") and t is None:
        t = terms()
    return EnrolmentMutation(
        mutatie,
        student,
        brin,
        start,  # type: ignore[arg-type]
        source(src_brin or brin, accountant=accountant),
        t,
        einddatum,
    )


def valid_bsns(start: int = 200_000_000):  # type: ignore[no-untyped-def]
    """Valid BSNs in increasing order from `start` (weighted sum ≡ 0 mod 11)."""
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    n = start
    while True:
        digits = f"{n:09d}"
        if sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0:
            yield digits
        n += 1
