"""Forgetting reaches intake (issue 15, item 7): a forgotten person's entries in
stored feedback are redacted, their waiting records stop, the onderwijsnummer
issued on their name goes, and delivering them again refuses that record only
(X107), not the batch."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from registry.bootstrap import Runtime
from registry.intake.wire import BatchKey
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import (
    ANNA,
    PIET,
    TWIN,
    batch,
    extended,
    period,
    prepare,
    rec,
    student,
    student_id,
    verdicts,
)
from tests.integration.test_forgetting import cli  # noqa: F401 (a fixture)

SAM = {**TWIN, "bsn": "200000007"}
WRONG_BIRTH = "2012-01-01"  # Anna's number with another birth date: 753


def submit(rt: Runtime, number: int, day: int, *records: Any) -> dict[str, Any]:
    raw = batch(*records, number=number)
    return dict(rt.intake.submit(raw, utc(2026, 8, day)).feedback)


def feedback(rt: Runtime, number: int) -> dict[str, Any]:
    found = rt.intake.feedback(BatchKey("01OE", 0, SJ, number))
    assert found is not None
    return dict(found)


def intake_text(rt: Runtime) -> str:
    """Everything intake's tables hold, as text."""
    with psycopg.connect(rt.database_url) as conn:
        return str(
            [
                conn.execute(f"SELECT * FROM {t}").fetchall()
                for t in ("intake_batches", "intake_waiting", "intake_issued")
            ]
        )


@pytest.fixture
def delivered(runtime: Runtime) -> tuple[Runtime, str]:
    """Anna accepted, Piet accepted, Anna refused (a wrong birth date), a twin
    given an onderwijsnummer; then, in an outage, Anna and Sam waiting. The
    onderwijsnummer issued is returned."""
    prepare(runtime)
    twin = student(TWIN, bsn=None, uitgebreid=extended(TWIN))
    first = submit(
        runtime,
        1,
        2,
        rec(1, student(ANNA)),
        rec(2, student(PIET)),
        rec(3, student(ANNA, geboortedatum=WRONG_BIRTH)),
        rec(4, twin),
    )
    assert verdicts(first) == {
        1: ("G", []),
        2: ("G", ["956"]),
        3: ("A", ["753"]),
        4: ("G", ["757"]),
    }
    issued = first["meldingen"][3]["leerling"]["onderwijsnummer"]
    runtime.population.set_available(False, utc(2026, 8, 3))
    later = period(ingangsdatum="2026-09-01", vestiging="01")
    second = submit(
        runtime,
        2,
        4,
        rec(1, student(ANNA, geboortedatum=WRONG_BIRTH), inschrijving=later),
        rec(2, student(SAM)),
    )
    assert verdicts(second) == {1: ("W", []), 2: ("W", [])}
    return runtime, issued


def test_forgetting_redacts_feedback_waiting_records_and_issued_names(
    delivered: tuple[Runtime, str],
) -> None:
    rt, issued = delivered
    assert ANNA["bsn"] in intake_text(rt) and issued in intake_text(rt)
    anna_id = student_id(rt, ANNA["bsn"])
    rt.registry.forget_many([anna_id, student_id(rt, issued)], utc(2026, 8, 5))
    redacted = rt.intake.redact_forgotten()
    assert redacted == {"feedback_entries": 4, "waiting": 1, "issued": 1}
    text = intake_text(rt)
    assert ANNA["bsn"] not in text and issued not in text
    assert WRONG_BIRTH not in text  # 753's text named the birth date delivered
    first = feedback(rt, 1)
    gone = {"bsn": "vergeten", "onderwijsnummer": None}
    by = {m["meldingnummer"]: m for m in first["meldingen"]}
    assert by[1]["leerling"] == by[3]["leerling"] == gone
    assert by[4]["leerling"] == {"bsn": None, "onderwijsnummer": "vergeten"}
    assert by[2]["leerling"]["bsn"] == PIET["bsn"]  # Piet is untouched
    assert by[3]["signalen"][0]["code"] == "753"  # the verdict stays
    assert verdicts(first) == {
        1: ("G", []),
        2: ("G", ["956"]),
        3: ("A", ["753"]),
        4: ("G", ["757"]),
    }
    # Anna's waiting record stops, refused as it would be now; Sam's waits on.
    second = feedback(rt, 2)
    assert verdicts(second) == {1: ("A", ["X107"]), 2: ("W", [])}
    assert (second["afgekeurd"], second["wachtend"]) == (1, 1)
    assert [w["who"] for w in rt.intake.store.waiting()] == [SAM["bsn"]]
    # Idempotent: a second sweep finds nothing to do and changes nothing.
    assert rt.intake.redact_forgotten() == {
        "feedback_entries": 0,
        "waiting": 0,
        "issued": 0,
    }
    assert intake_text(rt) == text
    rt.population.set_available(True, utc(2026, 8, 6))
    assert rt.intake.retry_waiting(utc(2026, 8, 6)) == {"G": 1}


def test_a_forgotten_person_delivered_again_starts_afresh(runtime: Runtime) -> None:
    """Nothing links the number to the forgotten stream any more: delivered
    again, the person is registered anew, with none of the old history."""
    prepare(runtime)
    submit(runtime, 1, 2, rec(1, student(ANNA)))
    old = student_id(runtime, ANNA["bsn"])
    runtime.registry.forget(old, utc(2026, 8, 3))
    assert runtime.registry.student_ids([ANNA["bsn"]]) == {}
    assert runtime.registry.student(ANNA["bsn"]) is None
    again = period(ingangsdatum="2026-09-01", vestiging="01")
    by_name = student(ANNA, bsn=None, uitgebreid=extended(ANNA))
    fed = submit(
        runtime,
        2,
        4,
        rec(1, student(ANNA), inschrijving=again),  # by her BSN
        rec(2, by_name, inschrijving=period(ingangsdatum="2026-10-01")),  # by name
        rec(3, student(PIET)),
    )
    assert [m["status"] for m in fed["meldingen"]] == ["G", "G", "G"], fed
    new = student_id(runtime, ANNA["bsn"])
    assert new != old
    periods = runtime.intake.store.periods_of([old, new])
    assert sorted(str(p.ingangsdatum) for p in periods if p.student_id == new) == [
        "2026-09-01",
        "2026-10-01",
    ]
    gone = runtime.registry.get_many([old])[old]
    assert getattr(gone, "forgotten", None) == "retention"


def test_an_alias_of_a_forgotten_person_is_refused_alone(runtime: Runtime) -> None:
    """A linked BSN whose person was forgotten (an operator forgot the person
    alone) still names the alias's stream: its records are refused (X107)."""
    prepare(runtime)
    fed = submit(runtime, 1, 2, rec(1, student(SAM, bsn=None, uitgebreid=extended(SAM))))
    issued = fed["meldingen"][0]["leerling"]["onderwijsnummer"]
    assert issued, fed
    # Her BSN delivered: the register's person has the name issued on.
    later = period(ingangsdatum="2026-09-01", vestiging="01")
    fed = submit(runtime, 2, 3, rec(1, student(SAM), inschrijving=later))
    assert verdicts(fed)[1][0] == "G", fed
    assert fed["meldingen"][0]["leerling"]["onderwijsnummer"] == issued, fed
    runtime.registry.forget(student_id(runtime, issued), utc(2026, 8, 4))
    fed = submit(
        runtime,
        3,
        5,
        rec(1, student(SAM), inschrijving=period(ingangsdatum="2026-10-01")),
        rec(2, student(PIET)),
    )
    assert verdicts(fed) == {1: ("A", ["X107"]), 2: ("G", ["956"])}
    assert "contact DUO" in fed["meldingen"][0]["signalen"][0]["tekst"]


def test_retention_run_redacts_intake_after_forgetting(
    runtime: Runtime,
    cli: Any,  # noqa: F811
) -> None:
    prepare(runtime)
    submit(
        runtime,
        1,
        2,
        rec(1, student(ANNA), inschrijving=period(einddatum="2027-06-30")),
        rec(2, student(PIET)),
    )
    run = cli("retention", "run", "--at", "2032-07-01T00:00:00+00:00")
    assert run.exit_code == 0, run.output
    out = json.loads(run.stdout)
    assert out["forgotten"] == 1
    assert out["intake_redacted"] == {"feedback_entries": 1, "waiting": 0, "issued": 0}
    assert ANNA["bsn"] not in intake_text(runtime)
    assert PIET["bsn"] in intake_text(runtime)
