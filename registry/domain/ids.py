"""Deterministic identities: uuid5 of natural keys, so a repeated fact is detected.

These names are part of the stored data. Never change them.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from uuid import UUID, uuid5

NAMESPACE = UUID("6f1c2a3e-5b1d-4c51-9a0e-b40b0e5a7d01")
# A record asks for the same ids several times; hashing them once is enough.
_cached = lru_cache(maxsize=1 << 17)


@_cached
def school_id(brin: str) -> UUID:
    return uuid5(NAMESPACE, f"/schools/{brin}")


@_cached
def student_id(number: str) -> UUID:
    """One id per BSN or onderwijsnummer. A valid BSN has weighted sum 0 mod 11 and
    a valid onderwijsnummer 5 mod 11, so one number is never both."""
    return uuid5(NAMESPACE, f"/students/{number}")


@_cached
def enrolment_id(student: UUID, brin: str, ingangsdatum: date) -> UUID:
    return uuid5(NAMESPACE, f"/enrolments/{student}/{brin}/{ingangsdatum.isoformat()}")


@_cached
def school_year_id(brin: str, schooljaar: str) -> UUID:
    return uuid5(NAMESPACE, f"/school-years/{brin}/{schooljaar}")
