"""The current signal list of a school, derived from the timeline (and intake's
waits), appearing and disappearing with their causes."""

from __future__ import annotations

import psycopg

from registry.bootstrap import Runtime
from registry.domain.signals import ListedSignal
from registry.projections.engine.runner import Projector
from registry.projections.queries.signals import counts, current
from registry.projections.timeline import Timeline
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import ANNA, OLD, PIET, batch, period, prepare, rec, student


def listed(rt: Runtime, brin: str, at) -> list[ListedSignal]:  # type: ignore[no-untyped-def]
    schema = Projector(rt.database_url).fresh(Timeline())
    with psycopg.connect(rt.database_url) as conn:
        conn.execute(f"SET search_path TO {schema}, public")
        return current(conn.cursor(), brin, SJ, at)


def signals(rt: Runtime, brin: str, at) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(s["code"], s["leerling"]) for s in listed(rt, brin, at)]


def national(rt: Runtime, at) -> dict[str, int]:  # type: ignore[no-untyped-def]
    schema = Projector(rt.database_url).fresh(Timeline())
    with psycopg.connect(rt.database_url) as conn:
        conn.execute(f"SET search_path TO {schema}, public")
        return counts(conn.cursor(), SJ, at)


def test_signals_follow_their_causes(runtime: Runtime) -> None:
    rt = runtime
    prepare(rt)
    rt.intake.submit(
        batch(
            rec(1, student(ANNA)),
            rec(2, student(OLD), inschrijving=period(elementcode="0090")),
            rec(3, student(PIET), inschrijving=period(elementcode="0011")),
        ),
        utc(2026, 8, 20),
    )
    rt.intake.submit(
        batch(
            rec(1, student(ANNA), inschrijving=period(ingangsdatum="2026-09-01")),
            brin="02AB",
        ),
        utc(2026, 9, 2),
    )
    # Piet's end date, delivered three weeks after it.
    rt.intake.submit(
        batch(
            rec(1, student(PIET), "U", inschrijving=period(einddatum="2026-10-10")),
            number=2,
        ),
        utc(2026, 11, 1),
    )
    t = utc(2026, 11, 2)
    assert signals(rt, "01OE", t) == [
        ("X121", PIET["bsn"]),
        ("X130", ANNA["bsn"]),
        ("X131", PIET["bsn"]),
        ("X150", OLD["bsn"]),
    ]
    assert signals(rt, "02AB", t) == [("X130", ANNA["bsn"])]
    # The country's counts are the schools' lists added up (X130 at both).
    assert national(rt, t) == {"X121": 1, "X130": 2, "X131": 1, "X150": 1}

    # The double enrolment is resolved: 02AB deletes its period.
    rt.intake.submit(
        batch(
            rec(1, student(ANNA), "V", inschrijving=period(ingangsdatum="2026-09-01")),
            brin="02AB",
            number=2,
        ),
        utc(2026, 11, 3),
    )
    assert ("X130", ANNA["bsn"]) not in signals(rt, "01OE", utc(2026, 11, 4))
    assert signals(rt, "02AB", utc(2026, 11, 4)) == []
    assert "X130" not in national(rt, utc(2026, 11, 4))
    # As known before the deletion, it was there.
    assert ("X130", ANNA["bsn"]) in signals(rt, "01OE", t)


def test_a_long_wait_on_the_register_is_x132(runtime: Runtime) -> None:
    rt = runtime
    prepare(rt)
    rt.population.set_available(False, utc(2026, 8, 19))
    fb = rt.intake.submit(batch(rec(1, student(ANNA))), utc(2026, 8, 20)).feedback
    assert fb["wachtend"] == 1
    assert signals(rt, "01OE", utc(2026, 9, 10)) == [("X132", ANNA["bsn"])]
    assert national(rt, utc(2026, 9, 10)) == {"X132": 1}  # still waiting
    rt.population.set_available(True, utc(2026, 9, 10))
    rt.intake.retry_waiting(utc(2026, 9, 10))
    assert signals(rt, "01OE", utc(2026, 9, 11)) == [("X132", ANNA["bsn"])]
    assert national(rt, utc(2026, 9, 11)) == {"X132": 1}  # waited, then judged


def test_x130_lists_a_student_once_per_school_with_every_other_period(
    runtime: Runtime,
) -> None:
    """Two periods at one school and a third at another, all valid on 1
    October: each school lists the student once, naming the periods that are
    not the listed one; the country counts one signal per school."""
    rt = runtime
    prepare(rt)
    rt.intake.submit(
        batch(
            rec(1, student(ANNA)),
            rec(2, student(ANNA), inschrijving=period(ingangsdatum="2026-08-15")),
        ),
        utc(2026, 8, 20),
    )
    rt.intake.submit(
        batch(
            rec(1, student(ANNA), inschrijving=period(ingangsdatum="2026-09-01")),
            brin="02AB",
        ),
        utc(2026, 9, 2),
    )
    t = utc(2026, 11, 2)
    here, there = listed(rt, "01OE", t), listed(rt, "02AB", t)
    assert [(s["code"], s["leerling"]) for s in here] == [("X130", ANNA["bsn"])]
    assert here[0]["tekst"] == (
        "01OE from 2026-08-01, 01OE from 2026-08-15, 02AB from 2026-09-01"
    )
    assert [(s["code"], s["tekst"]) for s in there] == [
        ("X130", "01OE from 2026-08-01, 01OE from 2026-08-15")
    ]
    assert national(rt, t) == {"X130": 2}
