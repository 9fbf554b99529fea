"""Funding verdicts of a snapshot (contract.md, the funding verdict): X130 ranks
only the periods that are otherwise fundable, so a student whose latest
enrolment is unlicensed or excluded stays funded where the fundable one is."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest

from registry.bootstrap import Runtime
from registry.domain.school import Licence, SchoolRegistration, VestigingRegistration
from registry.projections.engine.reading import reading
from registry.projections.queries import entries
from registry.projections.queries.peiling import snapshot
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import (
    ANNA,
    PIET,
    TWIN,
    batch,
    period,
    prepare,
    rec,
    student,
)

COUNT = utc(2026, 10, 1).date()
DELIVERED = utc(2026, 9, 10)
KNOWN = utc(2027, 7, 1)  # after the school year's every event


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    prepare(runtime)  # 01OE and 02AB are licensed for 0300 and 0090 only
    return runtime


def verdicts(rt: Runtime, brin: str, at: datetime = KNOWN) -> dict[str, list[str]]:
    """The school's reasons by ingangsdatum as known at `at`; the JSON answer
    says the same."""
    rt.catch_up()
    with reading(rt.database_url, "timeline") as r:
        doc = snapshot(r.cursor, brin, SJ, COUNT, at)
        sent = entries.page(r.cursor, brin, SJ, COUNT, at)
    assert json.loads(sent.entries) == doc["inschrijvingen"]
    return {e["ingangsdatum"]: e["redenen"] for e in doc["inschrijvingen"]}


def enrol(
    rt: Runtime, brin: str, number: int, at: datetime = DELIVERED, **p: Any
) -> None:
    fb = rt.intake.submit(
        batch(
            rec(1, student(ANNA), inschrijving=period(**p)), brin=brin, number=number
        ),
        at,
    ).feedback
    assert fb["goedgekeurd"] == 1, fb


def exclude_anna(rt: Runtime, brin: str, reden: str) -> None:
    """The school's year up to its assurance report, which excludes Anna."""
    reg = rt.registry
    reg.declare_complete(brin, SJ, utc(2026, 10, 10))
    rt.fotos.issue("voorlopig", brin, SJ, utc(2026, 11, 15))  # type: ignore[arg-type]
    reg.stop_mutations(brin, SJ, utc(2027, 3, 1))
    rt.fotos.issue("actueel", brin, SJ, utc(2027, 3, 1, 12))  # type: ignore[arg-type]
    excluded = [{"leerling": {"bsn": ANNA["bsn"]}, "reden": reden}]
    reg.report_assurance(brin, SJ, [], excluded, utc(2027, 6, 20))  # type: ignore[arg-type]


def test_an_unlicensed_later_enrolment_does_not_unfund_the_licensed_one(
    rt: Runtime,
) -> None:
    enrol(rt, "01OE", 1)
    enrol(rt, "02AB", 1, ingangsdatum="2026-09-01", elementcode="0100")  # unlicensed
    assert verdicts(rt, "01OE") == {"2026-08-01": []}
    assert verdicts(rt, "02AB") == {"2026-09-01": ["X121"]}


def test_an_excluded_later_enrolment_does_not_unfund_the_other(rt: Runtime) -> None:
    enrol(rt, "01OE", 1)
    enrol(rt, "02AB", 1, ingangsdatum="2026-09-01")
    assert verdicts(rt, "01OE") == {"2026-08-01": ["X130"]}  # 02AB's is later
    exclude_anna(rt, "02AB", "verzuim")
    assert verdicts(rt, "02AB") == {"2026-09-01": ["X160"]}
    assert verdicts(rt, "01OE") == {"2026-08-01": []}


def test_on_a_tie_the_enrolment_recorded_first_is_funded(rt: Runtime) -> None:
    """contract.md: X130 funds the latest ingangsdatum, and on a tie the one
    recorded first, whichever school's number sorts first; as known before the
    second was recorded, the first has no rival."""
    enrol(rt, "02AB", 1, at=utc(2026, 9, 10))
    enrol(rt, "01OE", 1, at=utc(2026, 9, 12))  # the same ingangsdatum, 1 August
    assert verdicts(rt, "02AB") == {"2026-08-01": []}
    assert verdicts(rt, "01OE") == {"2026-08-01": ["X130"]}
    assert verdicts(rt, "02AB", at=utc(2026, 9, 11)) == {"2026-08-01": []}
    assert verdicts(rt, "01OE", at=utc(2026, 9, 11)) == {}


def test_an_exclusion_counts_from_when_it_was_reported(rt: Runtime) -> None:
    """The assurance report's exclusions are known from its recorded time: a
    snapshot as known the day before funds the period, the day after not."""
    enrol(rt, "02AB", 1)
    exclude_anna(rt, "02AB", "verzuim")  # reported on 20 June 2027
    assert verdicts(rt, "02AB", at=utc(2027, 6, 19)) == {"2026-08-01": []}
    assert verdicts(rt, "02AB", at=utc(2027, 6, 21)) == {"2026-08-01": ["X160"]}


def test_every_reason_of_a_period_is_listed_sorted_as_values_and_as_json(
    rt: Runtime,
) -> None:
    """An unlicensed period of an excluded student has two reasons: the
    document lists both, sorted, and the JSON answer says the same."""
    enrol(rt, "02AB", 1, elementcode="0100")  # unlicensed at 02AB
    exclude_anna(rt, "02AB", "indicatie")
    assert verdicts(rt, "02AB") == {"2026-08-01": ["X121", "X151"]}
    with reading(rt.database_url, "timeline") as r:
        doc = snapshot(r.cursor, "02AB", SJ, COUNT, utc(2027, 7, 1))
        sent = entries.page(r.cursor, "02AB", SJ, COUNT, utc(2027, 7, 1))
    assert json.loads(sent.entries) == doc["inschrijvingen"]
    assert (sent.controletotaal, sent.bekostigd) == (1, 0)
    assert (doc["controletotaal"], doc["bekostigd"]) == (1, 0)


def test_a_snapshot_is_the_same_read_in_chunks_or_at_once(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entries come in chunks where libpq can send them so: across chunk
    boundaries, and where it cannot, the document is the same, and the
    connection answers the next question."""
    sam = {**TWIN, "bsn": "200000007"}
    unlicensed = period(elementcode="0100")
    records = [
        rec(1, student(ANNA)),
        rec(2, student(PIET), inschrijving=unlicensed),
        rec(3, student(sam)),
    ]
    fb = rt.intake.submit(batch(*records), utc(2026, 9, 10)).feedback
    assert fb["goedgekeurd"] == 3, fb
    rt.catch_up()
    # psycopg's binary wheel bundles a libpq that sends chunks (17 or later).
    assert entries.capabilities.has_stream_chunked()
    monkeypatch.setattr(entries, "_CHUNK", 2)
    at = utc(2027, 7, 1)
    with reading(rt.database_url, "timeline") as r:
        chunked = snapshot(r.cursor, "01OE", SJ, COUNT, at)
        sent = entries.page(r.cursor, "01OE", SJ, COUNT, at)
        monkeypatch.setattr(entries.capabilities, "has_stream_chunked", lambda: False)
        at_once = snapshot(r.cursor, "01OE", SJ, COUNT, at)
    assert chunked == at_once
    assert json.loads(sent.entries) == chunked["inschrijvingen"]
    assert (chunked["controletotaal"], chunked["bekostigd"]) == (3, 2)
    assert [e["redenen"] for e in chunked["inschrijvingen"]].count(["X121"]) == 1


def test_entries_refuse_dates_in_any_form_but_iso(rt: Runtime) -> None:
    """Dates are written by the session's DateStyle: another would put
    '01/08/2026' in a document, so the query refuses to run."""
    enrol(rt, "01OE", 1)
    rt.catch_up()
    with reading(rt.database_url, "timeline") as r:
        r.cursor.execute("SET LOCAL DateStyle = 'SQL, DMY'")
        with pytest.raises(ValueError, match="DateStyle ISO"):
            snapshot(r.cursor, "01OE", SJ, COUNT, utc(2027, 7, 1))
        with pytest.raises(ValueError, match="DateStyle ISO"):
            entries.page(r.cursor, "01OE", SJ, COUNT, utc(2027, 7, 1))


def test_a_foto_position_ranks_a_version_replaced_at_the_same_instant(
    rt: Runtime,
) -> None:
    """Between two events of one instant, a foto's position knows a version
    whose recorded range is empty: it still competes for funding there."""
    at = utc(2026, 9, 10)
    rt.intake.submit(batch(rec(1, student(ANNA)), brin="01OE"), at)
    later = period(ingangsdatum="2026-09-01")
    rt.intake.submit(batch(rec(1, student(ANNA), inschrijving=later), brin="02AB"), at)
    between = rt.registry.recorder.max_notification_id()
    corrected = period(ingangsdatum="2026-09-01", leerjaar=2)
    amend = rec(1, student(ANNA), "A", inschrijving=corrected)
    rt.intake.submit(batch(amend, brin="02AB", number=2), at)
    rt.catch_up()
    with reading(rt.database_url, "timeline") as r:
        doc = snapshot(r.cursor, "01OE", SJ, COUNT, at, position=between)
    assert [e["redenen"] for e in doc["inschrijvingen"]] == [["X130"]]


def test_a_licence_counts_only_at_its_own_school_and_vestiging(rt: Runtime) -> None:
    """X121 looks a period's licence up by school, vestiging and elementcode
    together, for the school's own periods and for a rival's elsewhere, at a
    time and at a foto's log position alike."""

    def licences(*codes: str) -> tuple[Licence, ...]:
        return tuple(Licence(c, date(2020, 8, 1)) for c in codes)

    def school(brin: str, *vestigingen: tuple[str, tuple[Licence, ...]]) -> Any:
        return SchoolRegistration(
            brin,
            brin,
            "GM0014",
            tuple(
                VestigingRegistration(v, v, v == "00", "9711AB", "GM0014", lic)
                for v, lic in vestigingen
            ),
        )

    rt.registry.load_schools(
        [
            school("03CD", ("00", licences("0300", "0090")), ("01", licences("0300"))),
            school("04EF", ("00", licences("0300", "0100"))),
        ],
        utc(2026, 7, 2),
    )
    # 0090 is licensed at the other vestiging, 0100 at the other school.
    piet = period(vestiging="01", elementcode="0090")
    twin = period(ingangsdatum="2026-08-15", elementcode="0100")
    anna = period(ingangsdatum="2026-08-20")
    records = [rec(1, student(PIET), inschrijving=piet)]
    records += [rec(2, student({**TWIN, "bsn": "200000007"}), inschrijving=twin)]
    records += [rec(3, student(ANNA), inschrijving=anna)]
    fb = rt.intake.submit(batch(*records, brin="03CD"), utc(2026, 9, 10)).feedback
    assert fb["goedgekeurd"] == 3, fb
    # Anna's later period at 04EF is licensed there, so it is the one funded.
    enrol(rt, "04EF", 1, ingangsdatum="2026-09-01", elementcode="0100")
    here = {"2026-08-01": ["X121"], "2026-08-15": ["X121"], "2026-08-20": ["X130"]}
    assert verdicts(rt, "03CD") == here
    assert verdicts(rt, "04EF") == {"2026-09-01": []}
    position = rt.registry.recorder.max_notification_id()
    with reading(rt.database_url, "timeline") as r:
        doc = snapshot(r.cursor, "03CD", SJ, COUNT, utc(2026, 9, 10), position=position)
    assert {e["ingangsdatum"]: e["redenen"] for e in doc["inschrijvingen"]} == here
