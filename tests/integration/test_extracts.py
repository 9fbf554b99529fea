"""Extract projections: what each recipient receives, under which identity, and
that a rebuild publishes nothing again."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from registry.bootstrap import Runtime
from registry.intake.population import PersonIn
from registry.projections.engine.multi import catch_up_together
from registry.projections.extracts.base import ExtractProjection, pseudonym
from registry.projections.extracts.cbs import Cbs
from registry.projections.extracts.inspectorate import Inspectorate
from registry.projections.extracts.municipalities import Municipalities
from registry.projections.extracts.svb import Svb
from registry.publishing.contract import topic as topic_name
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import ANNA, batch, period, prepare, rec, student

TEEN = {
    "bsn": "300000108",
    "achternaam": "de Vries",
    "voornamen": "Jip",
    "geboortedatum": "2010-03-01",
    "geslacht": "M",
    "postcode": "9711AB",
}
KEYS = {"cbs": b"k-cbs", "inspectie": b"k-insp", "gemeenten": b"", "svb": b""}


def extracts() -> list[ExtractProjection]:
    return [
        Cbs(KEYS["cbs"], topic_name),
        Inspectorate(KEYS["inspectie"], topic_name),
        Municipalities(b"", topic_name),
        Svb(b"", topic_name),
    ]


def outbox(rt: Runtime) -> list[dict[str, Any]]:
    with psycopg.connect(rt.database_url) as conn:
        rows = conn.execute(
            "SELECT message_id, recipient, topic, key, kind, payload, source_position "
            "FROM outbox ORDER BY seq"
        ).fetchall()
    names = ("id", "recipient", "topic", "key", "kind", "payload", "position")
    return [dict(zip(names, r, strict=True)) for r in rows]


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    prepare(runtime)
    runtime.population.load([PersonIn.model_validate(TEEN)], utc(2026, 7, 2))
    return runtime


def run(rt: Runtime) -> None:
    for e in extracts():
        rt.projector.fresh(e)


def _enrol_both_and_end_teen(rt: Runtime) -> None:
    rt.intake.submit(
        batch(rec(1, student(ANNA)), rec(2, student(TEEN))), utc(2026, 8, 20)
    )
    rt.intake.submit(
        batch(
            rec(1, student(TEEN), "U", inschrijving=period(einddatum="2026-09-30")),
            number=2,
        ),
        utc(2026, 10, 2),
    )


def test_each_recipient_gets_its_own_minimum(rt: Runtime) -> None:
    _enrol_both_and_end_teen(rt)
    rt.intake.submit(
        batch(rec(1, student(ANNA), "A", inschrijving=period(leerjaar=2)), number=3),
        utc(2026, 11, 5),
    )
    run(rt)
    messages = outbox(rt)
    by = {
        r: [m for m in messages if m["recipient"] == r]
        for r in ("cbs", "inspectie", "gm0014", "svb")
    }

    cbs = by["cbs"]
    assert [m["payload"]["mutatie"] for m in cbs] == ["T", "T", "U", "A"]
    assert {m["topic"] for m in cbs} == {"bron.vo.cbs.inschrijvingen.v1"}
    assert cbs[0]["payload"]["pseudoniem"] == pseudonym(KEYS["cbs"], ANNA["bsn"])
    insp = by["inspectie"]
    assert insp[0]["payload"]["pseudoniem"] == pseudonym(KEYS["inspectie"], ANNA["bsn"])
    assert insp[0]["payload"]["pseudoniem"] != cbs[0]["payload"]["pseudoniem"]
    assert (
        insp[1]["payload"]["leeftijd"] == 16
        and "geboortedatum" not in insp[1]["payload"]
    )
    for m in cbs + insp:  # no BSN or birth date leaves for CBS or the Inspectorate
        text = json.dumps(m["payload"])
        assert (
            ANNA["bsn"] not in text
            and TEEN["bsn"] not in text
            and "2010-03-01" not in text
        )

    gm = by["gm0014"]
    assert {m["topic"] for m in gm} == {
        "bron.vo.gm0014.inschrijvingen.v1",
        "bron.vo.gm0014.vsv.v2",
    }
    leavers = [m for m in gm if m["kind"] == "vsv"]
    # Jip left on 30 September with no new school: signalled once 4 weeks passed.
    assert [
        (m["payload"]["bsn"], m["payload"]["status"], m["payload"]["einddatum"])
        for m in leavers
    ] == [(TEEN["bsn"], "signaal", "2026-09-30")]
    # SVB: enrolled on 1 September; the end delivered on 2 October flips the
    # status of 1 October. Nothing of the school or the mutations.
    assert [
        (p["bsn"], p["peildatum"], p["ingeschreven"], p["soort"])
        for p in (m["payload"] for m in by["svb"])
    ] == [
        (TEEN["bsn"], "2026-09-01", True, "eerste"),
        (TEEN["bsn"], "2026-10-01", False, "wijziging"),
    ]


def _enrol_and_end_teen(rt: Runtime) -> None:
    rt.intake.submit(batch(rec(1, student(TEEN))), utc(2026, 8, 20))
    rt.intake.submit(
        batch(
            rec(1, student(TEEN), "U", inschrijving=period(einddatum="2026-09-30")),
            number=2,
        ),
        utc(2026, 10, 2),
    )


def test_a_new_school_within_four_weeks_is_no_leaver(rt: Runtime) -> None:
    _enrol_and_end_teen(rt)
    rt.intake.submit(
        batch(
            rec(1, student(TEEN), inschrijving=period(ingangsdatum="2026-10-15")),
            brin="02AB",
        ),
        utc(2026, 10, 16),
    )
    rt.intake.submit(batch(rec(1, student(ANNA)), number=3), utc(2026, 12, 1))
    run(rt)
    assert [m for m in outbox(rt) if m["kind"] == "vsv"] == []


def test_a_rebuild_publishes_nothing_again(rt: Runtime) -> None:
    rt.intake.submit(
        batch(rec(1, student(ANNA)), rec(2, student(TEEN))), utc(2026, 8, 20)
    )
    run(rt)
    before = outbox(rt)
    for e in extracts():
        rt.projector.rebuild(e)
    assert outbox(rt) == before
    assert {s.name for s in rt.projector.status() if s.live} >= {
        e.name for e in extracts()
    }


def test_fotos_reach_cbs_and_the_inspectorate_per_school(rt: Runtime) -> None:
    rt.intake.submit(
        batch(rec(1, student(ANNA)), rec(2, student(TEEN))), utc(2026, 8, 20)
    )
    rt.registry.declare_complete("01OE", SJ, utc(2026, 10, 3))
    rt.fotos.issue("voorlopig", "01OE", SJ, utc(2026, 11, 15))
    run(rt)
    fotos = [m for m in outbox(rt) if m["kind"] == "fotos"]
    assert [
        (m["recipient"], m["key"], m["payload"]["controletotaal"]) for m in fotos
    ] == [
        ("cbs", "01OE", 2),
        ("inspectie", "01OE", 2),
    ]
    ages = sorted(e["leeftijd"] for e in fotos[1]["payload"]["inschrijvingen"])
    assert ages == [13, 16]


def _year_of_mutations(rt: Runtime) -> None:
    _enrol_both_and_end_teen(rt)
    rt.registry.declare_complete("01OE", SJ, utc(2026, 10, 3))
    rt.fotos.issue("voorlopig", "01OE", SJ, utc(2026, 11, 15))
    rt.intake.submit(
        batch(rec(1, student(ANNA), "A", inschrijving=period(leerjaar=2)), number=3),
        utc(2026, 12, 5),
    )


def _forget_extracts(rt: Runtime) -> None:
    with psycopg.connect(rt.database_url, autocommit=True) as conn:
        for (schema,) in conn.execute(
            "SELECT schema_name FROM projection_tracking WHERE name LIKE 'extract_%'"
        ).fetchall():
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.execute("DELETE FROM projection_tracking WHERE name LIKE 'extract_%'")
        conn.execute("DELETE FROM outbox")


def test_one_pass_for_all_extracts_publishes_what_separate_passes_do(
    rt: Runtime,
) -> None:
    _year_of_mutations(rt)
    run(rt)
    separate = sorted(outbox(rt), key=lambda m: str(m["id"]))
    _forget_extracts(rt)
    # One extract ahead of the others, and pages smaller than the log, so the
    # shared pass must hand each projection only what it has not seen.
    first, *_ = extracts()
    schema = rt.projector.ensure(first)
    with pytest.raises(_Stop):
        rt.projector.catch_up(first, schema, page_size=2, on_page=_one_page())
    (ahead,) = [s.position for s in rt.projector.status() if s.schema == schema]
    assert ahead > 0
    seen: dict[str, list[int]] = {}
    pairs = [(_spy(e, seen), rt.projector.target(e)) for e in extracts()]
    assert catch_up_together(rt.projector, pairs, page_size=3) > 0
    assert seen[first.name][0] > ahead  # nothing applied twice
    assert all(p == sorted(set(p)) for p in seen.values())
    together = sorted(outbox(rt), key=lambda m: str(m["id"]))
    strip = [{k: v for k, v in m.items() if k != "position"} for m in separate]
    assert [{k: v for k, v in m.items() if k != "position"} for m in together] == strip
    assert len({m["recipient"] for m in together}) == 4
    assert catch_up_together(rt.projector, pairs) == 0


def _spy(extract: ExtractProjection, seen: dict[str, list[int]]) -> ExtractProjection:
    """The extract, noting the positions it is given."""
    apply_page = extract.apply_page

    def noting(curs: Any, facts: list[Any]) -> None:
        seen.setdefault(extract.name, []).extend(f.position for f in facts)
        apply_page(curs, facts)

    extract.apply_page = noting  # type: ignore[method-assign]
    return extract


class _Stop(Exception):
    pass


def _one_page() -> Any:
    pages = iter([None])

    def on_page(position: int, head: int) -> None:
        if next(pages, _Stop) is _Stop:
            raise _Stop

    return on_page


@pytest.mark.parametrize("transient", [True, False])
def test_a_failed_page_loses_no_leaver(rt: Runtime, transient: bool) -> None:
    """The pending leavers stay in memory between pages; a page that fails after
    taking a leaver off them must not leave the next page without it, whether
    the page is tried again later (a lost connection) or at once, event by event
    (an error the runner isolates)."""
    _enrol_and_end_teen(rt)
    rt.intake.submit(batch(rec(1, student(ANNA)), number=3), utc(2026, 12, 1))
    gm = Municipalities(b"", topic_name)
    pairs = [(gm, rt.projector.target(gm))]
    leaver = gm._leaver
    error = (
        psycopg.OperationalError("connection lost mid-page")
        if transient
        else RuntimeError("a bug that bites once")
    )
    failures = iter([error])

    def failing_once(*args: Any) -> Any:
        error = next(failures, None)
        if error is not None:
            raise error
        return leaver(*args)

    gm._leaver = failing_once  # type: ignore[method-assign]
    if transient:
        with pytest.raises(psycopg.OperationalError):
            catch_up_together(rt.projector, pairs, page_size=1)
    catch_up_together(rt.projector, pairs, page_size=1)
    leavers = [m for m in outbox(rt) if m["kind"] == "vsv"]
    assert [m["payload"]["bsn"] for m in leavers] == [TEEN["bsn"]]
    catch_up_together(rt.projector, pairs, page_size=1)
    assert len([m for m in outbox(rt) if m["kind"] == "vsv"]) == 1
