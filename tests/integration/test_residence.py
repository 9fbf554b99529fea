"""Municipality of residence from the population register, as known at the
event (issue 15): the register beats a stale postcode, a move hands the student
over, and a PC4 area two municipalities share is decided by the register only."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from registry.bootstrap import Runtime
from registry.intake.population import PersonIn
from registry.projections.extracts.municipalities import Municipalities
from registry.publishing.contract import topic as topic_name
from tests.conftest import utc
from tests.intake_helpers import (
    JIP,
    School,
    extended,
    forget_deliveries,
    period,
    prepare,
    rec,
    student,
)


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    forget_deliveries()
    prepare(runtime)
    return runtime


def municipal(rt: Runtime) -> list[dict[str, Any]]:
    rt.projector.fresh(Municipalities(b"k", topic_name))
    with psycopg.connect(rt.database_url) as conn:
        rows = conn.execute(
            "SELECT recipient, kind, payload FROM outbox ORDER BY seq"
        ).fetchall()
    return [{"gm": r, "kind": k, **p} for r, k, p in rows]


def register(rt: Runtime, at: Any, **person: Any) -> None:
    rt.load_population([PersonIn.model_validate({**JIP, **person})], at)


def test_the_register_beats_a_stale_postcode(rt: Runtime) -> None:
    register(rt, utc(2026, 7, 2), gemeente="GM0363")  # the school has 9711AB
    School(rt, "01OE").deliver(utc(2026, 8, 20), rec(1, student(JIP)))
    assert [(m["gm"], m["kind"]) for m in municipal(rt)] == [
        ("gm0363", "inschrijvingen")
    ]


def test_a_move_hands_the_student_over(rt: Runtime) -> None:
    register(rt, utc(2026, 7, 2))
    school = School(rt, "01OE")
    school.deliver(utc(2026, 8, 20), rec(1, student(JIP)))
    register(rt, utc(2026, 10, 1), gemeente="GM0363", postcode="1011AB")
    school.deliver(
        utc(2026, 11, 2),
        rec(1, student(JIP), "U", inschrijving=period(einddatum="2026-10-31")),
    )
    sent = municipal(rt)
    assert [(m["gm"], m["kind"]) for m in sent] == [
        ("gm0014", "inschrijvingen"),
        ("gm0014", "verhuizingen"),
        ("gm0363", "verhuizingen"),
        ("gm0363", "inschrijvingen"),  # the end goes to where Jip lives now
    ]
    left, settled = sent[1], sent[2]
    # The old municipality learns only that Jip left: no birth date, no schools.
    assert (
        left["richting"],
        left["bsn"],
        left["geboortedatum"],
        left["inschrijvingen"],
    ) == (
        "vertrokken",
        JIP["bsn"],
        None,
        [],
    )
    assert settled["richting"] == "gevestigd"
    assert settled["geboortedatum"] == JIP["geboortedatum"]
    assert [(e["brin"], e["einddatum"]) for e in settled["inschrijvingen"]] == [
        ("01OE", None)
    ]


def test_the_same_register_twice_records_nothing_again(rt: Runtime) -> None:
    register(rt, utc(2026, 7, 2))
    School(rt, "01OE").deliver(utc(2026, 8, 20), rec(1, student(JIP)))
    counts = rt.load_population([PersonIn.model_validate(JIP)], utc(2026, 9, 1))
    assert counts["residences"] == 0
    assert [m["kind"] for m in municipal(rt)] == ["inschrijvingen"]


def test_a_shared_pc4_area_is_decided_by_the_register_only(rt: Runtime) -> None:
    """1096 lies in Amsterdam (gm0363) and Ouder-Amstel (gm0437)."""
    register(rt, utc(2026, 7, 2), postcode="1096AB", gemeente="GM0437")
    nobody = {
        "achternaam": "Onbekend",
        "voornamen": "Sam",
        "geboortedatum": "2012-04-04",
        "geslacht": "V",
    }
    unknown = student(nobody, bsn=None, postcode="1096AC", uitgebreid=extended(nobody))
    School(rt, "01OE").deliver(
        utc(2026, 8, 20), rec(1, student(JIP, postcode="1096AB")), rec(2, unknown)
    )
    # Jip by the register; the student without a BSN goes to no municipality
    # rather than to one that may not be entitled.
    assert [(m["gm"], m["bsn"]) for m in municipal(rt)] == [("gm0437", JIP["bsn"])]


def test_a_rebuild_routes_the_same(rt: Runtime) -> None:
    register(rt, utc(2026, 7, 2))
    School(rt, "01OE").deliver(utc(2026, 8, 20), rec(1, student(JIP)))
    register(rt, utc(2026, 10, 1), gemeente="GM0363", postcode="1011AB")
    before = municipal(rt)
    rt.projector.rebuild(Municipalities(b"k", topic_name))
    assert municipal(rt) == before and len(before) == 3
