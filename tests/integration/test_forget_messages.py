"""A forgotten person is forgotten by every recipient that holds their data
(issue 15, item 7): each gets a `vergeten` message naming the person as it knew
them, and no extract table keeps them."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from registry.bootstrap import Runtime, projections
from registry.intake.population import PersonIn
from registry.projections.extracts.base import ExtractProjection
from tests.conftest import utc
from tests.intake_helpers import (
    ANNA,
    JIP,
    School,
    later,
    period,
    prepared_with_jip,
    rec,
    student,
    student_id,
)


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    return prepared_with_jip(runtime)


def extracts(rt: Runtime) -> list[ExtractProjection]:
    return [p for p in projections(rt.settings) if isinstance(p, ExtractProjection)]


def outbox(rt: Runtime) -> list[dict[str, Any]]:
    for e in extracts(rt):
        rt.projector.fresh(e)
    with psycopg.connect(rt.database_url) as conn:
        rows = conn.execute(
            "SELECT recipient, kind, key, payload FROM outbox ORDER BY seq"
        ).fetchall()
    return [{"to": r, "kind": k, "key": key, **p} for r, k, key, p in rows]


def a_year_then_forgotten(rt: Runtime) -> None:
    a_year(rt)
    rt.registry.forget(student_id(rt, JIP["bsn"]), utc(2032, 2, 1))


def a_year(rt: Runtime) -> None:
    """Jip's year at 01OE, Anna's at 02AB; Jip moves to gm0363 and leaves."""
    school = School(rt, "01OE")
    school.deliver(utc(2026, 8, 20), rec(1, student(JIP)))
    later(rt, utc(2026, 9, 2))  # SVB is told on 1 September
    moved = PersonIn.model_validate({**JIP, "gemeente": "GM0363", "postcode": "1011AB"})
    rt.load_population([moved], utc(2026, 10, 1))
    school.deliver(
        utc(2027, 1, 5),
        rec(1, student(JIP), "U", inschrijving=period(einddatum="2027-01-04")),
    )
    outbox(rt)  # the extracts run as the year goes, long before the forgetting


def test_every_recipient_that_held_the_person_forgets_them(rt: Runtime) -> None:
    a_year(rt)
    known = outbox(rt)  # the messages about Jip are redacted once forgotten
    rt.registry.forget(student_id(rt, JIP["bsn"]), utc(2032, 2, 1))
    sent = outbox(rt)
    forgotten = [m for m in sent if m["kind"] == "vergeten"]
    assert sorted(m["to"] for m in forgotten) == [
        "cbs",
        "gm0014",
        "gm0363",
        "inspectie",
        "svb",
    ]
    by = {m["to"]: m for m in forgotten}
    # Each names the person as it knew them: a pseudonym, or the number.
    cbs_pseudonym = next(
        m["pseudoniem"]
        for m in known
        if m["to"] == "cbs" and m["kind"] == "inschrijvingen"
    )
    assert by["cbs"]["pseudoniem"] == cbs_pseudonym
    insp = next(
        m["pseudoniem"]
        for m in known
        if m["to"] == "inspectie" and m["kind"] == "inschrijvingen"
    )
    assert by["inspectie"]["pseudoniem"] == insp
    assert by["svb"]["bsn"] == by["gm0014"]["bsn"] == by["gm0363"]["bsn"] == JIP["bsn"]
    assert {m["datum"] for m in forgotten} == {"2032-02-01"}
    # Anna, delivered by the other school, is not forgotten.
    assert not any(m.get("bsn") == ANNA["bsn"] for m in forgotten)


def test_no_extract_table_keeps_the_person(rt: Runtime) -> None:
    a_year_then_forgotten(rt)
    outbox(rt)
    with psycopg.connect(rt.database_url) as conn:
        schemas = [
            s
            for (s,) in conn.execute(
                "SELECT schema_name FROM projection_tracking WHERE name LIKE 'extract_%%'"
            )
        ]
        for schema in schemas:
            for table in ("students", "told"):
                exists = conn.execute(
                    "SELECT to_regclass(%s)", (f'"{schema}".{table}',)
                ).fetchone()
                if exists is None or exists[0] is None:
                    continue
                text = str(conn.execute(f'SELECT * FROM "{schema}".{table}').fetchall())
                assert JIP["bsn"] not in text and "2010, 3, 1" not in text, (
                    schema,
                    table,
                )


def test_a_rebuild_after_forgetting_sends_nothing_again(rt: Runtime) -> None:
    a_year_then_forgotten(rt)
    before = outbox(rt)
    for e in extracts(rt):
        rt.projector.rebuild(e)
    assert outbox(rt) == before
