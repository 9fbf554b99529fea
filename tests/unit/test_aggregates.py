from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from registry.domain import errors, ids
from registry.domain.enrolment import Enrolment
from registry.domain.school import (
    Licence,
    School,
    SchoolRegistration,
    VestigingRegistration,
)
from registry.domain.student import ExtendedSet, KeyData, Student
from registry.domain.values import Bsn
from tests.conftest import utc
from tests.factories import school, source, terms

AT = utc(2026, 8, 1)


def test_registering_a_school_records_vestigingen_and_licences() -> None:
    s = School.register(school(extra_vestiging=True), AT)
    assert s.hoofdvestiging == "00"
    assert s.is_licensed("01", "0300", date(2026, 10, 1))
    assert not s.is_licensed("01", "0400", date(2026, 10, 1))
    names = [type(e).__name__ for e in s.collect_events()]
    assert names.count("VestigingOpened") == 2 and names.count("LicencesChanged") == 2


def test_revising_with_the_same_registration_records_nothing() -> None:
    s = School.register(school(), AT)
    s.collect_events()
    s.revise(school(), utc(2026, 9, 1))
    assert s.collect_events() == []


def test_a_vestiging_left_out_is_closed_and_then_refused() -> None:
    s = School.register(school(extra_vestiging=True), AT)
    s.revise(school(naam="Nieuwe naam"), utc(2026, 9, 1))
    assert s.naam == "Nieuwe naam"
    with pytest.raises(errors.SchoolUnknown, match="closed") as info:
        s.check_vestiging("01")
    assert info.value.code == "X120"


def test_licence_validity_dates() -> None:
    lic = Licence("0300", date(2026, 8, 1), date(2026, 12, 31))
    assert lic.valid_on(date(2026, 10, 1)) and not lic.valid_on(date(2027, 1, 1))
    with pytest.raises(errors.InvalidRegistration):
        Licence("0300", date(2026, 8, 1), date(2026, 1, 1)).check()


def test_a_school_needs_exactly_one_hoofdvestiging() -> None:
    v = VestigingRegistration("00", "A", False, "9711AB", "GM0014")
    with pytest.raises(errors.InvalidRegistration, match="hoofdvestiging"):
        SchoolRegistration("01OE", "X", "GM0014", (v,))


def test_a_licence_for_an_unknown_elementcode_is_refused() -> None:
    with pytest.raises(errors.UnknownElementcode):
        VestigingRegistration(
            "00", "A", True, "9711AB", "GM0014", (Licence("9999", date(2020, 8, 1)),)
        )


def student() -> Student:
    key = KeyData(date(2013, 5, 17), "V", postcode="9700LC")
    return Student.register(Bsn("800000481"), key, AT)


def test_a_w_change_needs_the_registered_old_values() -> None:
    s = student()
    with pytest.raises(errors.KeyDataMismatch) as info:
        s.change_key_data({"postcode": "1234AB"}, {"postcode": "9711AB"}, {}, AT)
    assert info.value.code == "X105"
    s.change_key_data({"postcode": "9700LC"}, {"landcode": "9089"}, {}, AT)
    assert s.key_data.landcode == "9089" and s.key_data.postcode is None


def test_key_data_needs_exactly_one_of_postcode_and_landcode() -> None:
    with pytest.raises(errors.InvalidLandcode) as info:
        KeyData(date(2013, 5, 17), "V", postcode="9700LC", landcode="9089")
    assert info.value.code == "790"


SID = uuid4()  # one student's id


def enrolment(**kw: object) -> Enrolment:
    return Enrolment.register(
        SID,
        "01OE",
        date(2026, 8, 1),
        terms(**kw),  # type: ignore[arg-type]
        source(),
        AT,
    )


def test_enrolment_t_a_u_v_semantics() -> None:
    e = enrolment()
    assert e.covers(date(2026, 10, 1))
    e.amend(terms(leerjaar=2), source(melding=2), AT)
    assert e.terms.leerjaar == 2
    e.end(date(2026, 9, 30), source(melding=3), AT)
    assert not e.covers(date(2026, 10, 1))
    e.delete(source(melding=4), AT)
    assert e.deleted
    for action in (
        lambda: e.amend(terms(), source(), AT),
        lambda: e.end(date(2026, 9, 1), source(), AT),
        lambda: e.delete(source(), AT),
    ):
        with pytest.raises(errors.EnrolmentUnknown) as info:
            action()
        assert info.value.code == "055"
    e.reregister(terms(), source(melding=5), AT)
    assert e.covers(date(2026, 10, 1))
    with pytest.raises(errors.EnrolmentExists) as exists:
        e.reregister(terms(), source(), AT)
    assert exists.value.code == "811"


def test_einddatum_before_ingangsdatum_is_x124() -> None:
    with pytest.raises(errors.InvalidPeriod) as info:
        enrolment(einddatum=date(2026, 7, 1))
    assert info.value.code == "X124"
    e = enrolment()
    with pytest.raises(errors.InvalidPeriod):
        e.end(date(2026, 7, 31), source(), AT)


def test_enrolment_ids_are_deterministic_per_student_brin_and_start() -> None:
    a, b = enrolment(), enrolment(leerjaar=2)
    assert a.id == b.id


def test_a_student_id_tells_nothing_of_the_number() -> None:
    """Random: the number table, not the id, keeps one student per number."""
    first, again = student(), student()
    assert first.id != again.id and first.id.version == 4
    assert first.id != ids.legacy_student_id(first.number)


def test_registering_makes_what_the_librarys_create_makes() -> None:
    """Student and Enrolment are created without Aggregate._create's generic
    work (registry/domain/creation.py): the same aggregate, the same event."""
    key = KeyData(date(2013, 5, 17), "V", "9711AB")
    extended: ExtendedSet = dict.fromkeys(ExtendedSet.__annotations__)
    extended["achternaam"] = "Jansen"
    sid = uuid4()
    made = Student.register(
        Bsn("800000481"), key, AT, extended=extended, student_id=sid
    )
    expected = Student._create(
        Student.Registered,
        id=sid,
        number="800000481",
        kind="bsn",
        issued=False,
        key=key.as_event(),
        extended=extended,
        timestamp=AT,
    )
    assert vars(made) == vars(expected)
    # In the same order too: the order of the stored event's keys.
    assert list(vars(made.pending_events[0]).items()) == list(
        vars(expected.pending_events[0]).items()
    )

    period = enrolment()
    library = Enrolment._create(
        Enrolment.Registered,
        student_id=period.student_id,
        brin="01OE",
        ingangsdatum=period.ingangsdatum,
        terms=terms().as_event(),
        source=source().as_event(),
        timestamp=AT,
    )
    assert vars(period) == vars(library)
    assert list(vars(period.pending_events[0]).items()) == list(
        vars(library.pending_events[0]).items()
    )
