"""Write-side rules of contract.md's signal table, each from a real mutation."""

from __future__ import annotations

from datetime import date

import pytest

from registry.bootstrap import Runtime
from registry.domain.errors import MutationRejected
from registry.domain.student import KeyData
from registry.domain.values import Bsn
from tests.conftest import utc
from tests.factories import SJ, mutation, school, terms

AUG = utc(2026, 8, 20)


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    runtime.registry.load_schools([school(), school("02AB")], utc(2026, 7, 1))
    return runtime


def student(rt: Runtime, at=AUG):  # type: ignore[no-untyped-def]
    key = KeyData(date(2013, 5, 17), "V", postcode="9700LC")
    return rt.registry.register_student(Bsn("800000481"), key, at).id


def codes(rt: Runtime, m, at=AUG) -> list[str]:  # type: ignore[no-untyped-def]
    before = rt.registry.recorder.max_notification_id()
    with pytest.raises(MutationRejected) as info:
        rt.registry.record_mutation(m, at)
    assert rt.registry.recorder.max_notification_id() == before, (
        "a rejection records nothing"
    )
    return info.value.codes


def test_t_then_t_again_is_811_and_a_on_nothing_is_055(rt: Runtime) -> None:
    sid = student(rt)
    rt.registry.record_mutation(mutation("T", sid), AUG)
    assert codes(rt, mutation("T", sid)) == ["811"]
    for mutatie in ("A", "U", "V"):
        m = mutation(mutatie, sid, start=date(2026, 9, 1), einddatum=date(2026, 9, 2))
        assert codes(rt, m) == ["055"]


def test_unknown_brin_other_brin_and_unknown_vestiging_are_x120(rt: Runtime) -> None:
    sid = student(rt)
    assert codes(rt, mutation("T", sid, brin="99ZZ")) == ["X120"]
    assert codes(rt, mutation("T", sid, brin="02AB", src_brin="01OE")) == ["X120"]
    assert codes(rt, mutation("T", sid, t=terms(vestiging="07"))) == ["X120"]


def test_elementcode_rules_x123_x122_and_no_x122_without_a_known_code(
    rt: Runtime,
) -> None:
    sid = student(rt)
    assert codes(rt, mutation("T", sid, t=terms("9999", 9))) == ["X123"]
    assert codes(rt, mutation("T", sid, t=terms("0300", 4))) == ["X122"]


def test_einddatum_before_ingangsdatum_is_x124_with_other_codes(rt: Runtime) -> None:
    sid = student(rt)
    m = mutation("T", sid, t=terms("0300", 4, einddatum=date(2026, 7, 1)))
    assert codes(rt, m) == ["X122", "X124"]


def test_after_the_stop_count_date_changes_need_an_accountant(rt: Runtime) -> None:
    sid = student(rt)
    rt.registry.record_mutation(mutation("T", sid), AUG)
    june = utc(2027, 6, 2)
    assert codes(rt, mutation("A", sid, t=terms(leerjaar=2)), june) == ["X140"]
    # A change that leaves 1 October alone is still a regular mutation.
    rt.registry.record_mutation(mutation("U", sid, einddatum=date(2027, 7, 31)), june)
    rt.registry.record_mutation(
        mutation(
            "A", sid, t=terms(leerjaar=2, einddatum=date(2027, 7, 31)), accountant=True
        ),
        june,
    )


def test_an_accountant_mutation_before_the_stop_is_x141(rt: Runtime) -> None:
    sid = student(rt)
    assert codes(rt, mutation("T", sid, accountant=True)) == ["X141"]


def test_after_the_assurance_report_count_date_changes_are_060(rt: Runtime) -> None:
    sid = student(rt)
    reg = rt.registry
    reg.record_mutation(mutation("T", sid), AUG)
    reg.declare_complete("01OE", SJ, utc(2026, 10, 10))
    reg.record_foto("voorlopig", "01OE", SJ, {"hash": "h1"}, utc(2026, 11, 15))
    reg.stop_mutations("01OE", SJ, utc(2027, 3, 1))
    reg.record_foto("actueel", "01OE", SJ, {"hash": "h2"}, utc(2027, 3, 1))
    reg.report_assurance("01OE", SJ, [3], [], utc(2027, 6, 15))
    m = mutation("A", sid, t=terms(leerjaar=2), accountant=True)
    assert codes(rt, m, utc(2027, 6, 16)) == ["060"]


def test_a_stop_on_request_holds_before_1_june(rt: Runtime) -> None:
    sid = student(rt)
    reg = rt.registry
    reg.declare_complete("01OE", SJ, utc(2026, 10, 10))
    reg.record_foto("voorlopig", "01OE", SJ, {"hash": "h1"}, utc(2026, 11, 15))
    reg.stop_mutations("01OE", SJ, utc(2027, 1, 10))
    assert codes(rt, mutation("T", sid), utc(2027, 1, 11)) == ["X140"]
    reg.record_mutation(mutation("T", sid, accountant=True), utc(2027, 1, 11))
