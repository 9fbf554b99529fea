"""Deterministic identities: uuid5 of natural keys, so a repeated fact is detected.

These names are part of the stored data. Never change them. A student's id is
the exception: it is random (a uuid5 of a BSN would name the stream to anyone
who holds the number, even after the person is forgotten), and only the
registry's `student_numbers` table maps a number to it. Students registered
before that change keep their uuid5 ids (`legacy_student_id`).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from hashlib import sha1
from uuid import UUID, uuid4

NAMESPACE = UUID("6f1c2a3e-5b1d-4c51-9a0e-b40b0e5a7d01")
# A record asks for the same ids several times; hashing them once is enough.
_cached = lru_cache(maxsize=1 << 17)


def name_id(namespace: UUID, name: str) -> UUID:
    """uuid.uuid5(namespace, name), without its per-call import and checks:
    intake names a few ids a record."""
    digest = sha1(namespace.bytes + name.encode(), usedforsecurity=False).digest()
    return UUID(bytes=digest[:16], version=5)


@_cached
def school_id(brin: str) -> UUID:
    return name_id(NAMESPACE, f"/schools/{brin}")


def new_student_id() -> UUID:
    return uuid4()


@_cached
def legacy_student_id(number: str) -> UUID:
    """The id a student registered before random ids got: only to read what
    was stored then (an assurance report of version 1 named numbers)."""
    return name_id(NAMESPACE, f"/students/{number}")


@_cached
def enrolment_id(student: UUID, brin: str, ingangsdatum: date) -> UUID:
    return name_id(
        NAMESPACE, f"/enrolments/{student}/{brin}/{ingangsdatum.isoformat()}"
    )


@_cached
def school_year_id(brin: str, schooljaar: str) -> UUID:
    return name_id(NAMESPACE, f"/school-years/{brin}/{schooljaar}")
