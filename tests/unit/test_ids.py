"""The deterministic ids are uuid5s of their names: stored streams are found by
them, so the faster way of computing them must name the same streams."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date
from uuid import UUID, uuid4, uuid5

from registry.application.mutations import EnrolmentMutation
from registry.domain import ids
from registry.domain.enrolment import Source


def test_name_id_is_uuid5() -> None:
    for name in ("/schools/01OE", "/enrolments/x/01OE/2026-08-01", "", "Müller ß €"):
        for namespace in (ids.NAMESPACE, UUID(int=0), uuid4()):
            assert ids.name_id(namespace, name) == uuid5(namespace, name)


def test_the_ids_name_what_they_named_before() -> None:
    student = UUID("0d5c7a52-3f0e-4b8e-9a55-4c1f6e2d9b10")
    assert ids.school_id("01OE") == uuid5(ids.NAMESPACE, "/schools/01OE")
    assert ids.enrolment_id(student, "01OE", date(2026, 8, 1)) == uuid5(
        ids.NAMESPACE, f"/enrolments/{student}/01OE/2026-08-01"
    )


def test_a_mutation_for_a_student_keeps_every_other_field() -> None:
    source = Source("01OE", 1, "2026-2027", 7, 3, accountant=True)
    values = {
        "mutatie": "A",
        "brin": "01OE",
        "ingangsdatum": date(2026, 8, 1),
        "source": source,
        "student_id": None,
        "vestiging": "01",
        "elementcode": "0300",
        "leerjaar": 2,
        "jaren_pro": 3,
        "einddatum": date(2027, 7, 31),
        "reden_einde": "overstap",
    }
    assert {f.name for f in fields(EnrolmentMutation)} == set(values)
    mutation = EnrolmentMutation(**values)
    student = uuid4()
    assert mutation.for_student(student) == replace(mutation, student_id=student)
