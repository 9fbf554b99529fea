"""Intake from real batches: a test per signal code intake produces, refusals of
whole batches, idempotent re-delivery, trial delivery, waiting on the register."""

from __future__ import annotations

import json
from typing import Any

import pytest

from registry.access.policy import Role
from registry.access.users import Principal
from registry.bootstrap import Runtime
from registry.intake.population import PersonIn
from registry.intake.reference_files import parse_exclusions
from registry.intake.service import AssuranceBatchesDiffer, DeliveryRefused
from registry.intake.wire import BatchRefused
from registry.projections.engine.reading import reading
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import (
    ANNA,
    HANS,
    OLD,
    PIET,
    TWIN,
    batch,
    extended,
    period,
    prepare,
    rec,
    student,
    verdicts,
)

AUG = utc(2026, 8, 20)
SCHOOL = Principal("school01oe", Role.SCHOOL, "01OE", None)


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    prepare(runtime)
    return runtime


def deliver(
    rt: Runtime, raw: str, at=AUG, **kw: Any
) -> dict[int, tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
    return verdicts(rt.intake.submit(raw, at, **kw).feedback)


def one(
    rt: Runtime, record: dict[str, Any], at=AUG, **kw: Any
) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    number = kw.pop("number", 1)
    return deliver(rt, batch(record, number=number, **kw), at)[record["meldingnummer"]]


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("elementcode", "023"),
        ("leerjaar", "028"),
        ("ingangsdatum", "097"),
    ],
)
def test_missing_period_fields(rt: Runtime, field: str, code: str) -> None:
    assert one(rt, rec(1, student(ANNA), inschrijving=period(**{field: None}))) == (
        "A",
        [code],
    )


def test_elementcode_unknown_x123_and_leerjaar_x122(rt: Runtime) -> None:
    got = deliver(
        rt,
        batch(
            rec(1, student(ANNA), inschrijving=period(elementcode="9999")),
            rec(2, student(ANNA), inschrijving=period(leerjaar=5)),
        ),
    )
    assert got == {1: ("A", ["X123"]), 2: ("A", ["X122"])}


def test_dates_x124(rt: Runtime) -> None:
    got = deliver(
        rt,
        batch(
            rec(1, student(ANNA), inschrijving=period(einddatum="2026-07-01")),
            rec(2, student(ANNA), "U", inschrijving=period(einddatum=None)),
        ),
    )
    # The U's period does not exist either (record 1 was rejected): 055 does not
    # depend on the missing einddatum, so it is reported too.
    assert got == {1: ("A", ["X124"]), 2: ("A", ["X124", "055"])}


@pytest.mark.parametrize("vestiging", ["07", ""])
def test_unknown_or_empty_vestiging_x120(rt: Runtime, vestiging: str) -> None:
    # "" was found by fuzzing: it used to pass the static check and crash later.
    assert one(rt, rec(1, student(ANNA), inschrijving=period(vestiging=vestiging))) == (
        "A",
        ["X120"],
    )


@pytest.mark.parametrize(
    ("leerling", "code"),
    [
        ({"bsn": "800000482"}, "742"),
        ({"bsn": None, "onderwijsnummer": "100511516"}, "X102"),
        ({"onderwijsnummer": "100511515"}, "X103"),
        ({"bsn": None}, "X103"),
        ({"landcode": "9089"}, "790"),
        ({"postcode": "9711SS"}, "X110"),
    ],
)
def test_number_and_address_faults(
    rt: Runtime, leerling: dict[str, Any], code: str
) -> None:
    assert one(rt, rec(1, student(ANNA, **leerling))) == ("A", [code])


def test_incomplete_extended_set_x104(rt: Runtime) -> None:
    s = student(TWIN, bsn=None, uitgebreid=extended(TWIN, straatnaam=None))
    status, codes = one(rt, rec(1, s))
    assert (status, codes) == ("A", ["X104"])


def test_limited_set_mismatch_753_and_landcode_753(rt: Runtime) -> None:
    got = deliver(
        rt,
        batch(rec(1, student(ANNA, geboortedatum="2013-05-18")), rec(2, student(HANS))),
    )
    assert got == {1: ("A", ["753"]), 2: ("A", ["753"])}


def test_postcode_differs_770_and_secret_956(rt: Runtime) -> None:
    got = deliver(
        rt, batch(rec(1, student(ANNA, postcode="9700LC")), rec(2, student(PIET)))
    )
    assert got == {1: ("G", ["770"]), 2: ("G", ["956"])}


def test_extended_set_755_found_and_757_issued(rt: Runtime) -> None:
    found = student(ANNA, bsn=None, uitgebreid=extended(ANNA))
    nobody = student(
        ANNA, bsn=None, geboortedatum="2012-01-01", uitgebreid=extended(ANNA)
    )
    twins = student(TWIN, bsn=None, uitgebreid=extended(TWIN))
    feedback = rt.intake.submit(
        batch(rec(1, found), rec(2, nobody), rec(3, twins)), AUG
    ).feedback
    assert verdicts(feedback) == {
        1: ("G", ["755"]),
        2: ("G", ["757"]),
        3: ("G", ["757"]),
    }
    leerlingen = [m["leerling"] for m in feedback["meldingen"]]
    assert leerlingen[0] == {"bsn": ANNA["bsn"], "onderwijsnummer": None}
    issued = {leerlingen[1]["onderwijsnummer"], leerlingen[2]["onderwijsnummer"]}
    assert len(issued) == 2 and all(n and n.startswith("10") for n in issued)
    # The same student delivered again is found among the registry's own numbers.
    again = rec(1, nobody, "U", inschrijving=period(einddatum="2027-07-31"))
    fb = rt.intake.submit(batch(again, number=2), AUG).feedback
    assert verdicts(fb) == {1: ("G", [])}
    assert (
        fb["meldingen"][0]["leerling"]["onderwijsnummer"]
        == leerlingen[1]["onderwijsnummer"]
    )


def test_border_student_with_extended_set_755(rt: Runtime) -> None:
    s = student(HANS, bsn=None, uitgebreid=extended(HANS))
    assert one(rt, rec(1, s)) == ("G", ["755"])


def test_onderwijsnummer_unknown_or_mismatch_752(rt: Runtime) -> None:
    nobody = student(
        ANNA, bsn=None, geboortedatum="2012-01-01", uitgebreid=extended(ANNA)
    )
    fb = rt.intake.submit(batch(rec(1, nobody)), AUG).feedback
    onr = fb["meldingen"][0]["leerling"]["onderwijsnummer"]
    got = deliver(
        rt,
        batch(
            rec(1, student(ANNA, bsn=None, onderwijsnummer="100511515")),
            rec(
                2,
                student(
                    ANNA, bsn=None, onderwijsnummer=onr, geboortedatum="2012-01-02"
                ),
            ),
            rec(
                3,
                student(
                    ANNA, bsn=None, onderwijsnummer=onr, geboortedatum="2012-01-01"
                ),
                "U",
                inschrijving=period(einddatum="2027-07-31"),
            ),
            number=2,
        ),
    )
    assert got == {1: ("A", ["752"]), 2: ("A", ["752"]), 3: ("G", [])}


def test_period_exists_811_and_unknown_055(rt: Runtime) -> None:
    got = deliver(
        rt,
        batch(
            rec(1, student(ANNA)),
            rec(2, student(ANNA)),
            rec(3, student(ANNA), "A", inschrijving=period(ingangsdatum="2026-09-01")),
            rec(4, student(ANNA), "V", inschrijving=period(ingangsdatum="2026-09-01")),
        ),
    )
    assert got == {
        1: ("G", []),
        2: ("A", ["811"]),
        3: ("A", ["055"]),
        4: ("A", ["055"]),
    }


def test_key_change_w_and_x105(rt: Runtime) -> None:
    deliver(rt, batch(rec(1, student(ANNA))))
    wrong = {"oud": {"postcode": "1234AB"}, "nieuw": {"postcode": "9712CD"}}
    right = {"oud": {"postcode": "9711AB"}, "nieuw": {"postcode": "9712CD"}}
    got = deliver(
        rt,
        batch(
            rec(1, student(ANNA), "A", "W", None, wrong),
            rec(2, student(ANNA), "A", "W", None, right),
            number=2,
        ),
    )
    assert got == {1: ("A", ["X105"]), 2: ("G", [])}
    s = rt.registry.student(ANNA["bsn"])
    assert s is not None and s.key["postcode"] == "9712CD"


@pytest.mark.parametrize(
    ("new", "codes"),
    [
        ({"geboortedatum": "2010-02-30"}, ["X106"]),  # a date that does not exist
        ({"geboortedatum": "2010-02-03T00:00:00"}, ["X106"]),
        ({"geboortedatum": 20100203}, ["X106"]),
        ({"geslacht": "X"}, ["X106"]),
        ({"postcode": "0123AB"}, ["X106"]),
        ({"postcode": "9711 AB"}, ["X106"]),
        ({"landcode": "6030"}, ["X106"]),  # the Netherlands is a postcode
        ({"postcode": None}, ["790"]),  # neither postcode nor landcode left
    ],
)
def test_a_malformed_new_value_in_a_w_is_x106_and_changes_nothing(
    rt: Runtime, new: dict[str, Any], codes: list[str]
) -> None:
    deliver(rt, batch(rec(1, student(ANNA))))
    change = {"oud": {}, "nieuw": new}
    got = deliver(rt, batch(rec(1, student(ANNA), "A", "W", None, change), number=2))
    assert got == {1: ("A", codes)}
    s = rt.registry.student(ANNA["bsn"])
    assert s is not None and s.key["geboortedatum"].isoformat() == "2013-05-17"
    assert s.key["postcode"] == "9711AB" and s.key["geslacht"] == "V"


def test_a_w_reports_a_wrong_old_value_and_a_malformed_new_one(rt: Runtime) -> None:
    deliver(rt, batch(rec(1, student(ANNA))))
    change = {"oud": {"geslacht": "M"}, "nieuw": {"geboortedatum": "2013-13-01"}}
    got = deliver(rt, batch(rec(1, student(ANNA), "A", "W", None, change), number=2))
    assert got == {1: ("A", ["X105", "X106"])}
    fine = {
        "oud": {"geboortedatum": "2013-05-17"},
        "nieuw": {"geboortedatum": "2013-05-18"},
    }
    got = deliver(rt, batch(rec(1, student(ANNA), "A", "W", None, fine), number=3))
    assert got == {1: ("G", [])}
    rt.catch_up()  # the timeline applies the change
    with reading(rt.database_url, "timeline") as r:
        born = r.cursor.execute(
            "SELECT geboortedatum FROM students WHERE number = %s", (ANNA["bsn"],)
        ).fetchone()
    assert born is not None and born[0].isoformat() == "2013-05-18"


def test_unlicensed_x121_overlap_x130_late_end_x131_and_pro_age_x150(
    rt: Runtime,
) -> None:
    deliver(rt, batch(rec(1, student(ANNA))))
    other = deliver(
        rt,
        batch(
            rec(
                1,
                student(ANNA),
                inschrijving=period(ingangsdatum="2026-09-15", elementcode="0100"),
            ),
            brin="02AB",
        ),
    )
    assert other == {1: ("G", ["X121", "X130"])}
    late = rec(1, student(ANNA), "U", inschrijving=period(einddatum="2026-09-14"))
    assert one(rt, late, at=utc(2026, 9, 30), number=2) == ("G", ["X131"])
    pro = rec(
        1,
        student({**OLD, "bsn": "200000020"}),
        inschrijving=period(elementcode="0090", leerjaar=5),
    )
    assert one(rt, pro, at=utc(2026, 9, 30), number=3) == ("G", ["X150"])


def test_x150_in_one_batch_goes_by_each_students_own_birth_date(rt: Runtime) -> None:
    """A batch's new periods share verdicts (intake judges equal inputs once):
    students born either side of the 18-before-1-August line, in one batch with
    the same praktijkonderwijs period, the younger ones first, each get their
    own answer (contract.md X150), the day before and the day itself included."""
    born = {
        "300000121": "2009-02-10",  # 17 on 1 August 2026
        "300000133": "2008-08-01",  # turns 18 on the first day: not before it
        "300000145": "2008-07-31",  # turned 18 the day before
    }
    people = [{**OLD, "bsn": b, "geboortedatum": d} for b, d in born.items()]
    rt.population.load([PersonIn.model_validate(p) for p in people], utc(2026, 7, 1))
    pro = period(elementcode="0090", leerjaar=5)
    records = [rec(n, student(p), inschrijving=pro) for n, p in enumerate(people, 1)]
    old = rec(4, student({**OLD, "bsn": "200000020"}), inschrijving=pro)
    assert deliver(rt, batch(*records, old)) == {
        1: ("G", []),
        2: ("G", []),
        3: ("G", ["X150"]),
        4: ("G", ["X150"]),
    }


def test_stop_x140_accountant_x141_and_assured_060(rt: Runtime) -> None:
    deliver(rt, batch(rec(1, student(ANNA))))
    change = rec(1, student(ANNA), "A", inschrijving=period(leerjaar=2))
    acc = {"soort": "ACCOUNTANTSMUTATIE"}
    assert one(rt, change, number=2, **acc) == ("A", ["X141"])
    reg = rt.registry
    reg.declare_complete("01OE", SJ, utc(2026, 10, 10))
    reg.record_foto("voorlopig", "01OE", SJ, {"hash": "v"}, utc(2026, 11, 15))
    reg.stop_mutations("01OE", SJ, utc(2027, 2, 1))
    assert one(rt, change, at=utc(2027, 2, 2), number=3) == ("A", ["X140"])
    assert one(rt, change, at=utc(2027, 2, 2), number=4, **acc) == ("G", [])
    reg.record_foto("actueel", "01OE", SJ, {"hash": "a"}, utc(2027, 2, 3))
    reg.report_assurance("01OE", SJ, [4], [], utc(2027, 6, 15))
    again = rec(1, student(ANNA), "A", inschrijving=period(leerjaar=3))
    assert one(rt, again, at=utc(2027, 6, 16), number=5, **acc) == ("A", ["060"])


def test_waiting_on_the_register_then_x132(rt: Runtime) -> None:
    rt.population.set_available(False, AUG)
    first = rt.intake.submit(batch(rec(1, student(ANNA)), rec(2, student(PIET))), AUG)
    assert first.feedback["wachtend"] == 2
    rt.population.set_available(True, utc(2026, 9, 1))
    assert rt.intake.retry_waiting(utc(2026, 9, 1)) == {"G": 2}
    got = verdicts(rt.intake.feedback(("01OE", 0, SJ, 1)) or {})
    assert got == {1: ("G", []), 2: ("G", ["956"])}
    rt.population.set_available(False, utc(2026, 9, 2))
    rt.intake.submit(
        batch(rec(1, student(HANS, bsn=None, uitgebreid=extended(HANS))), number=2),
        utc(2026, 9, 2),
    )
    rt.population.set_available(True, utc(2026, 9, 20))
    rt.intake.retry_waiting(utc(2026, 9, 20))
    assert verdicts(rt.intake.feedback(("01OE", 0, SJ, 2)) or {}) == {
        1: ("G", ["755", "X132"])
    }


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        batch(rec(1, student(ANNA)), format="bron-vo-batch/2"),
        batch(rec(1, student(ANNA), mutatie="X")),
        batch(rec(1, student(ANNA)), rec(1, student(PIET))),
        batch(rec(1, student(ANNA, geslacht="X"))),
        batch(rec(1, student(ANNA)), brin="99ZZ"),
        batch(
            rec(1, student(ANNA)),
            soort="ACCOUNTANTSMUTATIE",
            verantwoordelijke="INSTELLING",
        ),
        batch(rec(1, student(ANNA)), batchnummer=1000),
        batch(),
        # Types are exact (contract.md): no numbers as text, no floats for
        # integers, no date-times or impossible dates for dates.
        batch(rec(1, student(ANNA), inschrijving=period(leerjaar="1"))),
        batch(rec(1, student(ANNA), inschrijving=period(leerjaar=1.0))),
        batch(
            rec(
                1,
                student(ANNA),
                inschrijving=period(ingangsdatum="2026-08-01T00:00:00"),
            )
        ),
        batch(rec(1, student(ANNA), inschrijving=period(ingangsdatum="2026-02-30"))),
        batch(rec(1, student(ANNA, geboortedatum="2013-05-17T00:00:00Z"))),
        batch(rec(1, student(ANNA)), aanleverpunt="0"),
        # Dates that would enter the log for good must be plausible.
        batch(rec(1, student(ANNA), inschrijving=period(ingangsdatum="9999-12-31"))),
        batch(rec(1, student(ANNA), inschrijving=period(ingangsdatum="1990-07-31"))),
        batch(rec(1, student(ANNA), inschrijving=period(einddatum="2028-08-01"))),
        batch(rec(1, student(ANNA, geboortedatum="2026-08-21"))),
        batch(rec(1, student(ANNA, geboortedatum="1926-08-19"))),
    ],
)
def test_whole_batch_refusals_record_nothing(rt: Runtime, raw: str) -> None:
    head = rt.registry.recorder.max_notification_id()
    with pytest.raises(BatchRefused) as info:
        rt.intake.submit(raw, AUG)
    assert info.value.problems and all("path" in p for p in info.value.problems)
    assert rt.registry.recorder.max_notification_id() == head
    assert rt.intake.feedback(("01OE", 0, SJ, 1)) is None


def test_redelivery_returns_the_stored_feedback_and_different_content_is_refused(
    rt: Runtime,
) -> None:
    raw = batch(rec(1, student(ANNA)), rec(2, student(PIET)))
    first = rt.intake.submit(raw, AUG)
    head = rt.registry.recorder.max_notification_id()
    again = rt.intake.submit(raw, utc(2026, 8, 21))
    assert again.feedback == first.feedback and not again.recorded
    assert rt.registry.recorder.max_notification_id() == head
    with pytest.raises(DeliveryRefused):
        rt.intake.submit(batch(rec(1, student(ANNA))), utc(2026, 8, 21))


def test_a_trial_delivery_records_nothing_and_predicts_the_verdicts(
    rt: Runtime,
) -> None:
    raw = batch(
        rec(1, student(ANNA)),
        rec(2, student(ANNA, geboortedatum="2013-05-18")),
        rec(3, student(TWIN, bsn=None, uitgebreid=extended(TWIN))),
    )
    head = rt.registry.recorder.max_notification_id()
    trial = rt.intake.submit(raw, AUG, dry_run=True, by=SCHOOL)
    assert not trial.recorded and rt.registry.recorder.max_notification_id() == head
    assert rt.intake.feedback(("01OE", 0, SJ, 1)) is None
    real = rt.intake.submit(raw, AUG)
    assert verdicts(trial.feedback) == verdicts(real.feedback)
    assert trial.feedback["meldingen"][2]["leerling"]["onderwijsnummer"] is None


def test_feedback_is_json_and_masks_nothing_it_should_not(rt: Runtime) -> None:
    fb = rt.intake.submit(batch(rec(1, student(ANNA, bsn="800000482"))), AUG).feedback
    text = fb["meldingen"][0]["signalen"][0]["tekst"]
    assert "800000482" not in text and "482" in text
    assert json.loads(json.dumps(fb))["format"] == "bron-vo-terugkoppeling/1"


def test_the_last_plausible_dates_are_judged_not_refused(rt: Runtime) -> None:
    latest = period(einddatum="2028-07-31")
    assert one(rt, rec(1, student(ANNA), inschrijving=latest)) == ("G", [])
    # A period from 1990 is a plausible date, but it changes every count date
    # since, all of them long stopped.
    earliest = period(ingangsdatum="1990-08-01")
    got = one(rt, rec(1, student(PIET), inschrijving=earliest), number=2)
    assert got == ("A", ["X140"])


def test_a_student_the_registry_knows_does_not_wait_on_a_register_outage(
    rt: Runtime,
) -> None:
    assert one(rt, rec(1, student(ANNA))) == ("G", [])
    rt.population.set_available(False, utc(2026, 9, 1))
    later = rec(1, student(ANNA), inschrijving=period(ingangsdatum="2026-09-01"))
    assert one(rt, later, at=utc(2026, 9, 1), number=2) == ("G", ["X130"])
    # Its own records confirm the BSN only with the birth date it holds.
    other = rec(
        1,
        student(ANNA, geboortedatum="2013-05-18"),
        inschrijving=period(ingangsdatum="2026-09-02"),
    )
    assert one(rt, other, at=utc(2026, 9, 1), number=3) == ("W", [])
    # A student it does not know waits, as before.
    assert one(rt, rec(1, student(PIET)), at=utc(2026, 9, 1), number=4) == ("W", [])


def test_an_eight_digit_bsn_is_the_same_number_everywhere(rt: Runtime) -> None:
    """contract.md: a BSN of 8 digits is left-padded with 0, in the delivery,
    the population register and the assurance exclusions alike."""
    person = PersonIn.model_validate({**ANNA, "bsn": "10000008"})  # 010000008
    rt.population.load([person], utc(2026, 8, 1))
    eight = rec(1, student(ANNA, bsn="10000008"))
    assert one(rt, eight) == ("G", [])
    nine = rec(
        1,
        student(ANNA, bsn="010000008"),
        inschrijving=period(ingangsdatum="2026-09-01"),
    )
    assert one(rt, nine, number=2) == ("G", ["X130"])  # the same student
    assert rt.registry.student("010000008") is not None
    exclusions = parse_exclusions(
        ['{"leerling": {"bsn": "10000008"}, "reden": "verzuim"}']
    )
    assert exclusions[0]["leerling"] == {"bsn": "010000008"}


def test_the_assurance_report_states_the_accountant_batches_delivered(
    rt: Runtime,
) -> None:
    deliver(rt, batch(rec(1, student(ANNA))))
    reg = rt.registry
    reg.declare_complete("01OE", SJ, utc(2026, 10, 10))
    rt.fotos.issue("voorlopig", "01OE", SJ, utc(2026, 11, 15))  # type: ignore[arg-type]
    rt.fotos.stop("01OE", SJ, utc(2027, 3, 1), on_request=True)
    change = rec(1, student(ANNA), "A", inschrijving=period(leerjaar=2))
    acc = {"soort": "ACCOUNTANTSMUTATIE"}
    assert one(rt, change, at=utc(2027, 3, 2), number=7, **acc) == ("G", [])
    for wrong in ([], [7, 8], [8]):
        with pytest.raises(AssuranceBatchesDiffer):
            rt.intake.report_assurance("01OE", SJ, wrong, [], utc(2027, 6, 20))
    year = rt.intake.report_assurance("01OE", SJ, [7], [], utc(2027, 6, 20))
    assert year.assured and year.assurance_batches == [7]
