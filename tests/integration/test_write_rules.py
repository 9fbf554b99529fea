"""The write-side rules of contract.md's signal table, through the path every
delivery takes (a batch submitted to intake), with hand-written cases: each rule
alone, rules that apply together, rules that must stay silent because their
input already failed, and hostile orderings and other schools' data."""

from __future__ import annotations

from typing import Any

import pytest

from registry.bootstrap import Runtime
from registry.domain.foto import FotoKind
from tests.conftest import utc
from tests.factories import SJ, school
from tests.intake_helpers import ANNA, PIET, batch, period, prepare, rec, student

AUG = utc(2026, 8, 20)
ACCOUNTANT = {"soort": "ACCOUNTANTSMUTATIE"}


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    prepare(runtime)
    return runtime


class Deliveries:
    """Numbers the batches of a test and checks that a batch whose records are
    all rejected records no event."""

    def __init__(self, rt: Runtime) -> None:
        self.rt, self.number = rt, 0

    def __call__(
        self, *records: dict[str, Any], at=AUG, brin: str = "01OE", **fields: Any
    ) -> dict[int, tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
        self.number += 1
        head = self.rt.registry.recorder.max_notification_id()
        raw = batch(*records, number=self.number, brin=brin, **fields)
        feedback = self.rt.intake.submit(raw, at).feedback
        got = {
            m["meldingnummer"]: (m["status"], [s["code"] for s in m["signalen"]])
            for m in feedback["meldingen"]
        }
        if all(status == "A" for status, _ in got.values()):
            assert self.rt.registry.recorder.max_notification_id() == head, (
                "a rejected record records nothing"
            )
        return got


@pytest.fixture
def deliver(rt: Runtime) -> Deliveries:
    return Deliveries(rt)


def anna(n: int = 1, mutatie: str = "T", **changes: Any) -> dict[str, Any]:
    return rec(n, student(ANNA), mutatie, inschrijving=period(**changes))


def test_t_on_an_existing_period_is_811_and_a_u_v_on_none_are_055(
    deliver: Deliveries,
) -> None:
    assert deliver(anna()) == {1: ("G", [])}
    assert deliver(anna()) == {1: ("A", ["811"])}
    other_start = {"ingangsdatum": "2026-09-01", "einddatum": "2026-09-02"}
    for mutatie in ("A", "U", "V"):
        assert deliver(anna(1, mutatie, **other_start)) == {1: ("A", ["055"])}


def test_another_schools_period_is_not_this_schools(deliver: Deliveries) -> None:
    """A period is (student, BRIN, ingangsdatum): 02AB cannot end or delete the
    period 01OE registered, and may register its own from the same date."""
    assert deliver(anna()) == {1: ("G", [])}
    ended = anna(1, "U", einddatum="2026-09-30")
    assert deliver(ended, brin="02AB") == {1: ("A", ["055"])}
    assert deliver(anna(1, "V"), brin="02AB") == {1: ("A", ["055"])}
    assert deliver(anna(), brin="02AB") == {1: ("G", ["X130"])}


def test_records_are_judged_in_meldingnummer_order_not_file_order(
    deliver: Deliveries,
) -> None:
    amend = anna(1, "A", leerjaar=2)
    add = anna(2)
    assert deliver(amend, add) == {1: ("A", ["055"]), 2: ("G", [])}
    assert deliver(anna(2, "V"), anna(1)) == {1: ("A", ["811"]), 2: ("G", [])}


def test_unknown_closed_and_other_vestigingen_are_x120(
    rt: Runtime, deliver: Deliveries
) -> None:
    assert deliver(anna(vestiging="07")) == {1: ("A", ["X120"])}
    assert deliver(anna(vestiging="")) == {1: ("A", ["X120"])}
    # A vestiging delivering on its own may deliver only its own periods.
    assert deliver(anna(vestiging="00"), aanleverpunt=1) == {1: ("A", ["X120"])}
    assert deliver(anna(vestiging="01"), aanleverpunt=1) == {1: ("G", [])}
    rt.registry.load_schools([school("01OE")], utc(2026, 8, 21))  # 01 closes
    later = anna(1, "T", vestiging="01", ingangsdatum="2026-09-01")
    assert deliver(later, at=utc(2026, 8, 22)) == {1: ("A", ["X120"])}


def test_elementcode_and_leerjaar_x123_x122(deliver: Deliveries) -> None:
    assert deliver(anna(elementcode="9999")) == {1: ("A", ["X123"])}
    assert deliver(anna(elementcode="0300", leerjaar=4)) == {1: ("A", ["X122"])}
    # No X122 for a leerjaar whose elementcode is unknown or missing.
    assert deliver(anna(elementcode="9999", leerjaar=9)) == {1: ("A", ["X123"])}
    assert deliver(anna(elementcode=None, leerjaar=9)) == {1: ("A", ["023"])}


def test_independent_rules_are_all_reported(deliver: Deliveries) -> None:
    bad = anna(leerjaar=4, einddatum="2026-07-01")
    assert deliver(bad) == {1: ("A", ["X122", "X124"])}
    assert deliver(anna()) == {1: ("G", [])}
    # The period exists and the new values are wrong: both are reported.
    assert deliver(anna(leerjaar=4)) == {1: ("A", ["X122", "811"])}
    assert deliver(anna(1, "A", vestiging="07")) == {1: ("A", ["X120"])}


def test_an_end_before_the_start_is_x124_whatever_the_mutation(
    deliver: Deliveries,
) -> None:
    assert deliver(anna()) == {1: ("G", [])}
    before = {"einddatum": "2026-07-31"}
    assert deliver(anna(1, "U", **before)) == {1: ("A", ["X124"])}
    assert deliver(anna(1, "A", **before)) == {1: ("A", ["X124"])}
    assert deliver(anna(1, "U", einddatum=None)) == {1: ("A", ["X124"])}


def test_after_the_default_stop_count_date_changes_need_an_accountant(
    deliver: Deliveries,
) -> None:
    assert deliver(anna()) == {1: ("G", [])}
    june = utc(2027, 6, 2)
    assert deliver(anna(1, "A", leerjaar=2), at=june) == {1: ("A", ["X140"])}
    assert deliver(anna(1, "V"), at=june) == {1: ("A", ["X140"])}
    # An end within the year after 1 October leaves the count date alone.
    year_end = anna(1, "U", einddatum="2027-07-31")
    assert deliver(year_end, at=june) == {1: ("G", [])}
    # A new period after the count date does not touch it either (Piet's data
    # are secret in the register: 956).
    later = rec(1, student(PIET), inschrijving=period(ingangsdatum="2027-06-01"))
    assert deliver(later, at=june) == {1: ("G", ["956"])}
    amend = anna(1, "A", leerjaar=2, einddatum="2027-07-31")
    assert deliver(amend, at=june, **ACCOUNTANT) == {1: ("G", [])}


def test_an_accountant_mutation_before_the_stop_is_x141(
    deliver: Deliveries,
) -> None:
    assert deliver(anna(), **ACCOUNTANT) == {1: ("A", ["X141"])}
    change = rec(
        1,
        student(ANNA),
        "A",
        soort="W",
        wijziging={"oud": {"postcode": "9711AB"}, "nieuw": {"postcode": "9712CD"}},
    )
    assert deliver(change, **ACCOUNTANT) == {1: ("A", ["X141"])}
    # Also when the record fails other rules first.
    assert deliver(anna(elementcode=None), **ACCOUNTANT) == {1: ("A", ["023", "X141"])}


def test_a_stop_on_request_holds_before_1_june(
    rt: Runtime, deliver: Deliveries
) -> None:
    reg = rt.registry
    reg.declare_complete("01OE", SJ, utc(2026, 10, 10))
    rt.fotos.issue(FotoKind.VOORLOPIG, "01OE", SJ, utc(2026, 11, 15))
    reg.stop_mutations("01OE", SJ, utc(2027, 1, 10))
    jan = utc(2027, 1, 11)
    assert deliver(anna(), at=jan) == {1: ("A", ["X140"])}
    assert deliver(anna(), at=jan, **ACCOUNTANT) == {1: ("G", [])}
    # The other school has not stopped.
    assert deliver(anna(), at=jan, brin="02AB") == {1: ("G", ["X130"])}


def test_after_the_assurance_report_count_date_changes_are_060(
    rt: Runtime, deliver: Deliveries
) -> None:
    assert deliver(anna()) == {1: ("G", [])}
    reg = rt.registry
    reg.declare_complete("01OE", SJ, utc(2026, 10, 10))
    rt.fotos.issue(FotoKind.VOORLOPIG, "01OE", SJ, utc(2026, 11, 15))
    reg.stop_mutations("01OE", SJ, utc(2027, 3, 1))
    rt.fotos.issue(FotoKind.ACTUEEL, "01OE", SJ, utc(2027, 3, 1, 12))
    reg.report_assurance("01OE", SJ, [3], [], utc(2027, 6, 15))
    after = utc(2027, 6, 16)
    change = anna(1, "A", leerjaar=2)
    assert deliver(change, at=after, **ACCOUNTANT) == {1: ("A", ["060"])}
    assert deliver(change, at=after) == {1: ("A", ["060", "X140"])}
    year_end = anna(1, "U", einddatum="2027-07-31")
    assert deliver(year_end, at=after, **ACCOUNTANT) == {1: ("G", [])}


def test_the_periods_school_year_judges_not_the_batch_label(
    rt: Runtime, deliver: Deliveries
) -> None:
    """A change of the count date of 2026-2027 after its stop is refused in a
    batch labelled 2027-2028 too, and after its assurance report likewise."""
    assert deliver(anna(einddatum="2027-07-31")) == {1: ("G", [])}
    reg = rt.registry
    reg.declare_complete("01OE", SJ, utc(2026, 10, 10))
    rt.fotos.issue(FotoKind.VOORLOPIG, "01OE", SJ, utc(2026, 11, 15))
    reg.stop_mutations("01OE", SJ, utc(2027, 3, 1))
    rt.fotos.issue(FotoKind.ACTUEEL, "01OE", SJ, utc(2027, 3, 1, 12))
    next_year = {"schooljaar": "2027-2028"}
    deleted = anna(1, "V", einddatum="2027-07-31")
    assert deliver(deleted, at=utc(2027, 3, 2), **next_year) == {1: ("A", ["X140"])}
    reg.report_assurance("01OE", SJ, [], [], utc(2027, 6, 15))
    amended = anna(1, "A", leerjaar=2, einddatum="2027-07-31")
    after = utc(2027, 6, 16)
    assert deliver(amended, at=after, **next_year) == {1: ("A", ["060", "X140"])}


def test_x130_looks_at_the_periods_count_date_not_the_batch_label(
    deliver: Deliveries,
) -> None:
    """A second enrolment over 1 October 2026 only, delivered late in a batch
    labelled 2027-2028, still creates the overlap of 2026-2027."""
    assert deliver(anna()) == {1: ("G", [])}  # 01OE from 1 August 2026, open
    autumn = anna(ingangsdatum="2026-09-01", einddatum="2026-12-31")
    late = {"at": utc(2027, 5, 20), "schooljaar": "2027-2028", "brin": "02AB"}
    assert deliver(autumn, **late) == {1: ("G", ["X130", "X131"])}


def test_a_period_over_two_count_dates_is_judged_by_both_years(
    deliver: Deliveries,
) -> None:
    assert deliver(anna()) == {1: ("G", [])}  # from 1 August 2026, no end
    october = utc(2027, 10, 5)
    got = deliver(anna(1, "A", leerjaar=2), at=october, schooljaar="2027-2028")
    assert got == {1: ("A", ["X140"])}  # 1 October 2026 is counted and stopped
    # Ending it at the end of 2026-2027 leaves that count date alone.
    ended = anna(1, "U", einddatum="2027-07-31")
    assert deliver(ended, at=october, schooljaar="2027-2028") == {1: ("G", ["X131"])}
