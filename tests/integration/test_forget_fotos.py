"""Forgetting reaches what the log's sealing does not (docs/privacy.md): the
assurance report names students by id, not by number, and an excluded person
forgotten later still counts as excluded."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from registry.bootstrap import Runtime
from registry.domain import ids
from registry.domain.school_year import SchoolYear
from registry.infrastructure.event_store import EVENTS_TABLE
from registry.projections.engine.reading import reading
from registry.projections.queries.funding import statement
from registry.projections.timeline import Timeline
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import ANNA, PIET, batch, prepare, rec, student

PIET_ID = ids.student_id(PIET["bsn"])


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    """Anna and Piet enrolled; the voorlopige and actuele fotos issued."""
    prepare(runtime)
    fb = runtime.intake.submit(
        batch(rec(1, student(ANNA)), rec(2, student(PIET))), utc(2026, 8, 20)
    ).feedback
    assert fb["goedgekeurd"] == 2, fb
    runtime.registry.declare_complete("01OE", SJ, utc(2026, 10, 3))
    runtime.fotos.issue("voorlopig", "01OE", SJ, utc(2026, 11, 15))
    runtime.registry.stop_mutations("01OE", SJ, utc(2027, 3, 1))
    runtime.fotos.issue("actueel", "01OE", SJ, utc(2027, 3, 1, 20))
    return runtime


def year_states(rt: Runtime) -> list[str]:
    with psycopg.connect(rt.database_url) as conn:
        rows = conn.execute(
            f"SELECT state FROM {EVENTS_TABLE} WHERE originator_id = %s",
            (SchoolYear.create_id("01OE", SJ),),
        ).fetchall()
    return [bytes(r[0]).decode() for r in rows]


def funding(rt: Runtime) -> dict[str, Any]:
    rt.catch_up()
    with reading(rt.database_url, Timeline.name) as r:
        return statement(r.cursor, "01OE", SJ)


def rebuild_timeline(rt: Runtime) -> None:
    (timeline,) = [p for p in rt.projections if p.name == Timeline.name]
    rt.projector.rebuild(timeline)


def test_an_assurance_report_holds_no_number(rt: Runtime) -> None:
    excluded = [{"leerling": {"bsn": PIET["bsn"]}, "reden": "indicatie"}]
    rt.registry.report_assurance("01OE", SJ, [], excluded, utc(2027, 6, 25))  # type: ignore[list-item]
    states = year_states(rt)
    assert any(str(PIET_ID.hex) in s for s in states)  # named by id …
    assert not [s for s in states if PIET["bsn"] in s]  # … and by no number
    definitief = rt.fotos.issue("definitief", "01OE", SJ, utc(2027, 7, 21))
    assert definitief.document["bekostigd"] == 1
    before = funding(rt)
    assert before["perioden"]["niet_bekostigd_per_reden"] == {"X151": 1}

    assert rt.registry.forget(PIET_ID, utc(2032, 8, 1))
    rebuild_timeline(rt)
    # The exclusion still decides Piet's verdict: it names the id, not the
    # number that is now unreadable; re-derived, the foto counts the same.
    assert funding(rt) == before
    again = rt.fotos.rederive(rt.fotos.stored("01OE", SJ, "definitief"))
    assert (again["controletotaal"], again["bekostigd"]) == (2, 1)
    with reading(rt.database_url, Timeline.name) as r:
        (number,) = r.cursor.execute(
            "SELECT s.number FROM exclusions x JOIN students s USING (student_id)"
        ).fetchone() or (None,)
    assert number == f"vergeten:{PIET_ID}"

