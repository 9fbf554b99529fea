"""One person, one history (contract.md): a student first registered under an
issued onderwijsnummer, later delivered with a BSN whose register data equal the
extended set the number was issued on, is the same person: 811, 055 and X130
see the periods under either number, funding counts the person once, and the
timeline, fotos and explain show one history."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from registry.bootstrap import Runtime
from registry.intake.population import PersonIn
from registry.projections.engine.multi import fresh_together
from registry.projections.engine.reading import reading
from registry.projections.extracts.base import ExtractProjection
from registry.projections.queries.audit import explain
from registry.projections.queries.peiling import snapshot
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import (
    batch,
    extended,
    period,
    prepare,
    rec,
    student,
    verdicts,
)

NEWCOMER = {
    "achternaam": "Nieuwkomer",
    "voornamen": "Noor",
    "geboortedatum": "2013-04-04",
    "geslacht": "V",
    "postcode": "9711AB",
}
BSN = "800000055"  # given to Noor by the municipality after she arrived


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    prepare(runtime)
    return runtime


def deliver(
    rt: Runtime, number: int, at: Any, *records: Any, brin: str = "01OE"
) -> Any:
    return rt.intake.submit(batch(*records, number=number, brin=brin), at).feedback


def with_a_number_then_a_bsn(rt: Runtime) -> str:
    """Noor arrives without a BSN (757), gets one later, and the school delivers it."""
    first = deliver(
        rt,
        1,
        utc(2026, 8, 20),
        rec(1, student(NEWCOMER, uitgebreid=extended(NEWCOMER))),
    )
    assert verdicts(first) == {1: ("G", ["757"])}
    onr = first["meldingen"][0]["leerling"]["onderwijsnummer"]
    person = PersonIn.model_validate({**NEWCOMER, "bsn": BSN})
    rt.population.load([person], utc(2026, 11, 1))
    return str(onr)


def test_the_bsn_finds_the_periods_under_the_onderwijsnummer(rt: Runtime) -> None:
    onr = with_a_number_then_a_bsn(rt)
    with_bsn = student({**NEWCOMER, "bsn": BSN})
    again = deliver(rt, 2, utc(2026, 11, 2), rec(1, with_bsn))
    assert verdicts(again) == {1: ("A", ["811"])}  # her period exists already
    # Rejected: only the number the record carried (issue 15), not her onderwijsnummer.
    assert again["meldingen"][0]["leerling"] == {"bsn": BSN, "onderwijsnummer": None}
    assert onr not in json.dumps(again)
    ended = rec(1, with_bsn, "U", inschrijving=period(einddatum="2026-11-01"))
    assert verdicts(deliver(rt, 3, utc(2026, 11, 2), ended)) == {1: ("G", [])}
    elsewhere = rec(1, with_bsn, inschrijving=period(ingangsdatum="2026-09-01"))
    got = deliver(rt, 1, utc(2026, 11, 3), elsewhere, brin="02AB")
    assert verdicts(got) == {1: ("G", ["X130"])}  # both schools on 1 October


def test_funding_counts_the_person_once_and_explain_shows_one_history(
    rt: Runtime,
) -> None:
    onr = with_a_number_then_a_bsn(rt)
    with_bsn = student({**NEWCOMER, "bsn": BSN})
    elsewhere = rec(1, with_bsn, inschrijving=period(ingangsdatum="2026-09-01"))
    assert verdicts(deliver(rt, 1, utc(2026, 11, 3), elsewhere, brin="02AB")) == {
        1: ("G", ["X130"])
    }
    rt.catch_up()
    at = utc(2026, 11, 4)
    with reading(rt.database_url, "timeline") as r:
        first = snapshot(r.cursor, "01OE", SJ, utc(2026, 10, 1).date(), at)
        second = snapshot(r.cursor, "02AB", SJ, utc(2026, 10, 1).date(), at)
        history = explain(r.cursor, "02AB", SJ, BSN, utc(2026, 10, 1).date(), at)
        by_number = explain(r.cursor, "02AB", SJ, onr, utc(2026, 10, 1).date(), at)
    noor = {"bsn": BSN, "onderwijsnummer": onr}
    assert [(e["leerling"], e["redenen"]) for e in first["inschrijvingen"]] == [
        (noor, ["X130"])
    ]
    assert [(e["leerling"], e["redenen"]) for e in second["inschrijvingen"]] == [
        (noor, [])
    ]
    assert len(history["versions"]) == 2 and history == by_number


def test_the_agencies_learn_one_person_not_two(rt: Runtime) -> None:
    onr = with_a_number_then_a_bsn(rt)
    with_bsn = student({**NEWCOMER, "bsn": BSN})
    elsewhere = rec(1, with_bsn, inschrijving=period(ingangsdatum="2026-09-01"))
    deliver(rt, 1, utc(2026, 11, 3), elsewhere, brin="02AB")
    extracts = [p for p in rt.projections if isinstance(p, ExtractProjection)]
    fresh_together(rt.projector, extracts)
    with psycopg.connect(rt.database_url) as conn:
        rows = conn.execute(
            "SELECT recipient, kind, key, payload FROM outbox ORDER BY seq"
        ).fetchall()
    cbs = {key for recipient, _, key, _ in rows if recipient == "cbs"}
    assert len(cbs) == 1  # one pseudonym for Noor, before and after her BSN
    gm = [
        (kind, payload)
        for recipient, kind, _, payload in rows
        if recipient.startswith("gm")
    ]
    assert (
        "koppelingen",
        {"onderwijsnummer": onr, "bsn": BSN, "geboortedatum": "2013-04-04"},
    ) in gm
    last = [p for kind, p in gm if kind == "inschrijvingen"][-1]
    assert (last["bsn"], last["onderwijsnummer"], last["brin"]) == (BSN, onr, "02AB")
