"""Random record contents through the whole intake on real PostgreSQL: every
batch ends in a clean refusal that records nothing, or in feedback for every
record whose accepted records are exactly what was recorded."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.application.errors import NotFound
from registry.bootstrap import Runtime
from registry.intake.wire import BatchRefused
from tests.conftest import utc
from tests.intake_helpers import ANNA, HANS, PIET, TWIN, extended, prepare
from tests.unit.test_intake_fuzz import inschrijving, leerling

people = st.sampled_from([ANNA, PIET, HANS, TWIN])


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    person = draw(people)
    base = {
        "bsn": person.get("bsn"),
        "geboortedatum": person["geboortedatum"],
        "geslacht": person["geslacht"],
        "postcode": person.get("postcode"),
        "landcode": person.get("landcode"),
    }
    if draw(st.booleans()):
        base["uitgebreid"] = extended(person)
    noise = draw(leerling) if draw(st.integers(0, 3)) == 0 else {}
    period = {
        "vestiging": "00",
        "ingangsdatum": "2026-08-01",
        "elementcode": "0300",
        "leerjaar": 1,
    } | draw(inschrijving)
    return {
        "soort": "I",
        "mutatie": draw(st.sampled_from("TAUV")),
        "leerling": base | noise,
        "inschrijving": period,
    }


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(records(), min_size=1, max_size=6))
def test_random_records_end_in_feedback_or_refusal(
    runtime: Runtime, recs: list[dict[str, Any]]
) -> None:
    try:
        runtime.registry.school("01OE")
    except NotFound:  # the fixture's database is shared by every example
        prepare(runtime)
    number = next(_numbers) % 999 + 1
    body = {
        "format": "bron-vo-batch/1",
        "brin": "01OE",
        "aanleverpunt": 0,
        "batchnummer": number,
        "schooljaar": "2026-2027",
        "soort": "INSCHRIJVING",
        "verantwoordelijke": "INSTELLING",
        "meldingen": [{"meldingnummer": i, **r} for i, r in enumerate(recs, 1)],
    }
    at = utc(2026, 8, 20) + timedelta(minutes=number)
    head = runtime.registry.recorder.max_notification_id() or 0
    try:
        fb = runtime.intake.submit(json.dumps(body), at).feedback
    except BatchRefused:
        assert (runtime.registry.recorder.max_notification_id() or 0) == head
        return
    assert (
        fb["ontvangen"]
        == len(recs)
        == fb["goedgekeurd"] + fb["afgekeurd"] + fb["wachtend"]
    )
    events = (runtime.registry.recorder.max_notification_id() or 0) - head
    assert (events > 0) == (fb["goedgekeurd"] > 0)
    assert runtime.intake.feedback(("01OE", 0, "2026-2027", number)) == fb


_numbers = itertools.count(1)
