"""Forgetting reaches intake (issue 15, item 7): delivering a forgotten person
again refuses that record only (X107), not the batch."""

from __future__ import annotations

from typing import Any

from registry.bootstrap import Runtime
from registry.domain import ids
from registry.intake.wire import BatchKey
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import (
    ANNA,
    PIET,
    batch,
    extended,
    period,
    prepare,
    rec,
    student,
    verdicts,
)

ANNA_ID = ids.student_id(ANNA["bsn"])


def submit(rt: Runtime, number: int, day: int, *records: Any) -> dict[str, Any]:
    raw = batch(*records, number=number)
    return dict(rt.intake.submit(raw, utc(2026, 8, day)).feedback)


def feedback(rt: Runtime, number: int) -> dict[str, Any]:
    found = rt.intake.feedback(BatchKey("01OE", 0, SJ, number))
    assert found is not None
    return dict(found)


def test_a_forgotten_person_delivered_again_is_refused_alone(runtime: Runtime) -> None:
    prepare(runtime)
    submit(runtime, 1, 2, rec(1, student(ANNA)))
    runtime.registry.forget(ANNA_ID, utc(2026, 8, 3))
    again = period(ingangsdatum="2026-09-01", vestiging="01")
    by_name = student(ANNA, bsn=None, uitgebreid=extended(ANNA))
    fed = submit(
        runtime,
        2,
        4,
        rec(1, student(ANNA), inschrijving=again),  # by her BSN
        rec(2, by_name, inschrijving=again),  # found by name in the register
        rec(3, student(PIET)),
        rec(4, student(ANNA), "U", inschrijving=period(einddatum="2026-08-31")),
    )
    assert verdicts(fed) == {
        1: ("A", ["X107"]),
        2: ("A", ["X107"]),
        3: ("G", ["956"]),
        4: ("A", ["X107"]),
    }
    # The refusal names no number the school did not send.
    assert fed["meldingen"][1]["leerling"] == {"bsn": None, "onderwijsnummer": None}
    assert "contact DUO" in fed["meldingen"][0]["signalen"][0]["tekst"]
    assert runtime.registry.student(PIET["bsn"]) is not None
