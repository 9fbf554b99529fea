"""Records waiting on the population register (contract.md, status W): judged as
of their delivery, in delivery order, a student's later records behind the
earlier ones; X132 still marks a wait of more than 14 days."""

from __future__ import annotations

from typing import Any

import pytest

from registry.bootstrap import Runtime
from registry.domain.foto import FotoKind
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import PIET, batch, period, prepare, rec, student, verdicts


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    prepare(runtime)
    return runtime


def feedback(rt: Runtime, number: int) -> dict[int, tuple[str, list[str]]]:
    return verdicts(rt.intake.feedback(("01OE", 0, SJ, number)) or {})


def deliver(rt: Runtime, number: int, at: Any, *records: dict[str, Any]) -> None:
    rt.intake.submit(batch(*records, number=number), at)


def test_a_record_delivered_before_the_stop_is_judged_as_then(rt: Runtime) -> None:
    reg = rt.registry
    reg.declare_complete("01OE", SJ, utc(2026, 10, 5))
    rt.fotos.issue(FotoKind.VOORLOPIG, "01OE", SJ, utc(2026, 11, 15))
    rt.population.set_available(False, utc(2027, 2, 27))
    deliver(rt, 1, utc(2027, 2, 27), rec(1, student(PIET)))
    assert feedback(rt, 1) == {1: ("W", [])}
    rt.fotos.stop("01OE", SJ, utc(2027, 3, 1), on_request=True)
    rt.population.set_available(True, utc(2027, 3, 2))
    assert rt.intake.retry_waiting(utc(2027, 3, 2)) == {"G": 1}
    assert feedback(rt, 1) == {1: ("G", ["956"])}  # not X140: delivered before
    # Recorded when it was resolved: after the actuele foto, so not in it.
    assert rt.fotos.stored("01OE", SJ, FotoKind.ACTUEEL).document["controletotaal"] == 0


def test_an_end_delivered_in_time_is_not_late_when_resolved_late(rt: Runtime) -> None:
    rt.population.set_available(False, utc(2026, 9, 1))
    ended = rec(1, student(PIET), inschrijving=period(einddatum="2026-08-31"))
    deliver(rt, 1, utc(2026, 9, 3), ended)
    rt.population.set_available(True, utc(2026, 9, 25))
    rt.intake.retry_waiting(utc(2026, 9, 25))
    assert feedback(rt, 1) == {1: ("G", ["956", "X132"])}  # no X131


def test_a_students_later_records_wait_behind_the_earlier_one(rt: Runtime) -> None:
    rt.population.set_available(False, utc(2026, 8, 20))
    deliver(rt, 1, utc(2026, 8, 20), rec(1, student(PIET)))
    amended = rec(1, student(PIET), "A", inschrijving=period(leerjaar=2))
    deliver(rt, 2, utc(2026, 8, 21), amended)
    assert feedback(rt, 2) == {1: ("W", [])}  # not 055: the T comes first
    rt.population.set_available(True, utc(2026, 8, 22))
    assert rt.intake.retry_waiting(utc(2026, 8, 22)) == {"G": 2}
    assert feedback(rt, 1) == {1: ("G", ["956"])}
    assert feedback(rt, 2) == {1: ("G", ["956"])}
    enrolment = rt.registry.enrolment(
        rt.registry.student(PIET["bsn"]).id,  # type: ignore[union-attr]
        "01OE",
        utc(2026, 8, 1).date(),
    )
    assert enrolment is not None and enrolment.terms.leerjaar == 2


def test_while_the_register_is_still_down_the_order_holds(rt: Runtime) -> None:
    rt.population.set_available(False, utc(2026, 8, 20))
    deliver(rt, 1, utc(2026, 8, 20), rec(1, student(PIET)))
    amended = rec(1, student(PIET), "A", inschrijving=period(leerjaar=2))
    deliver(rt, 2, utc(2026, 8, 21), amended)
    assert rt.intake.retry_waiting(utc(2026, 8, 22)) == {"W": 2}
    assert feedback(rt, 2) == {1: ("W", [])}


def test_a_known_students_record_waits_behind_their_waiting_one(rt: Runtime) -> None:
    """The registry confirms a known student from its own records while the
    register is down, but not ahead of an earlier record of theirs that waits."""
    deliver(rt, 1, utc(2026, 8, 20), rec(1, student(PIET)))
    rt.population.set_available(False, utc(2026, 9, 1))
    other = student(PIET, geboortedatum="2013-01-03")  # not what the registry holds
    deliver(
        rt,
        2,
        utc(2026, 9, 1),
        rec(1, other, inschrijving=period(ingangsdatum="2026-09-01")),
    )
    assert feedback(rt, 2) == {1: ("W", [])}
    ended = rec(1, student(PIET), "U", inschrijving=period(einddatum="2026-09-01"))
    deliver(rt, 3, utc(2026, 9, 2), ended)
    assert feedback(rt, 3) == {1: ("W", [])}  # known, but behind batch 2
    rt.population.set_available(True, utc(2026, 9, 3))
    rt.intake.retry_waiting(utc(2026, 9, 3))
    assert feedback(rt, 2) == {1: ("A", ["753"])}
    assert feedback(rt, 3) == {1: ("G", ["956"])}
