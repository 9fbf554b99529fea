"""The agency kit's worked example, from the contract's rules: messages folded
into who is enrolled now, each applied once, in the transaction that stores it.
Each test runs the consumer on an empty database of its own (no registry in
it) and on topics of its own."""

from __future__ import annotations

from typing import Any

from tests.agency_helpers import Agency

PERIOD_ROW = (
    "SELECT brin, vestiging, leerjaar, ingangsdatum::text, einddatum::text "
    "FROM {s}.enrolments WHERE persoon = %s ORDER BY brin, ingangsdatum"
)
NOW = "SELECT persoon, brin FROM {s}.enrolled_now ORDER BY persoon, brin"
ANNA, PIET = "a" * 32, "b" * 32


def cbs(who: str, mutatie: str, **period: Any) -> dict[str, Any]:
    return {
        "pseudoniem": who,
        "mutatie": mutatie,
        "brin": "01OE",
        "vestiging": "00",
        "elementcode": "0300",
        "leerjaar": 1,
        "ingangsdatum": "2020-08-01",
        "einddatum": None,
        "geregistreerd_op": "2020-08-20T10:00:00+00:00",
    } | period


def gemeente(
    mutatie: str, bsn: str | None, onr: str | None, **period: Any
) -> dict[str, Any]:
    return {
        "bsn": bsn,
        "onderwijsnummer": onr,
        "geboortedatum": "2008-05-17",
        "mutatie": mutatie,
        "brin": "01OE",
        "vestiging": "00",
        "ingangsdatum": "2020-08-01",
        "einddatum": None,
    } | period


def test_t_registers_a_period_and_u_ends_it(
    database_url: str, kafka_bootstrap: str
) -> None:
    agency = Agency(database_url, kafka_bootstrap, "cbs", ("inschrijvingen",))
    agency.publish("inschrijvingen", cbs(ANNA, "T"), key=ANNA)
    assert agency.consume().stored == 1
    assert agency.rows(PERIOD_ROW, ANNA) == [("01OE", "00", 1, "2020-08-01", None)]
    assert agency.rows(NOW) == [(ANNA, "01OE")]

    agency.publish("inschrijvingen", cbs(ANNA, "U", einddatum="2021-07-31"), key=ANNA)
    agency.consume()
    assert agency.rows(PERIOD_ROW, ANNA) == [
        ("01OE", "00", 1, "2020-08-01", "2021-07-31")
    ]
    assert agency.rows(NOW) == []  # ended before today


def test_a_amends_the_period_and_v_deletes_one_entered_in_error(
    database_url: str, kafka_bootstrap: str
) -> None:
    agency = Agency(database_url, kafka_bootstrap, "inspectie", ("inschrijvingen",))

    def inspectie(mutatie: str, **period: Any) -> dict[str, Any]:
        body = cbs(ANNA, mutatie, **period)
        del body["geregistreerd_op"]
        return body | {"leeftijd": 12}

    agency.publish("inschrijvingen", inspectie("T"), key="01OE")
    agency.publish("inschrijvingen", inspectie("T", brin="02OE"), key="02OE")
    # An amendment moves the period to another vestiging and leerjaar: the
    # same period (person, brin, ingangsdatum), not a second one.
    agency.publish(
        "inschrijvingen", inspectie("A", vestiging="01", leerjaar=2), key="01OE"
    )
    agency.publish("inschrijvingen", inspectie("V", brin="02OE"), key="02OE")
    stats = agency.consume()
    assert (stats.stored, stats.parked) == (4, 0)
    assert agency.rows(PERIOD_ROW, ANNA) == [("01OE", "01", 2, "2020-08-01", None)]


def test_a_message_that_comes_again_is_not_applied_again(
    database_url: str, kafka_bootstrap: str
) -> None:
    """A republished or re-read T after the U that followed it does not
    re-open the period."""
    agency = Agency(database_url, kafka_bootstrap, "cbs", ("inschrijvingen",))
    first = agency.publish("inschrijvingen", cbs(ANNA, "T"), key=ANNA)
    ended = cbs(ANNA, "U", einddatum="2021-07-31")
    end = agency.publish("inschrijvingen", ended, key=ANNA)
    agency.publish(
        "inschrijvingen", cbs(ANNA, "T"), key=ANNA, ce_id=first
    )  # same batch
    stats = agency.consume()
    assert (stats.stored, stats.duplicates) == (2, 1)
    # Later, in another run: both again, in the other order.
    agency.publish("inschrijvingen", ended, key=ANNA, ce_id=end)
    agency.publish("inschrijvingen", cbs(ANNA, "T"), key=ANNA, ce_id=first)
    stats = agency.consume()
    assert (stats.stored, stats.duplicates) == (0, 2)
    assert agency.rows(PERIOD_ROW, ANNA) == [
        ("01OE", "00", 1, "2020-08-01", "2021-07-31")
    ]
    (count,) = agency.rows("SELECT count(*) FROM {s}.messages")
    assert count == (2,)


def test_a_malformed_record_is_parked_and_the_fold_goes_on(
    database_url: str, kafka_bootstrap: str
) -> None:
    agency = Agency(database_url, kafka_bootstrap, "cbs", ("inschrijvingen",))
    agency.publish("inschrijvingen", cbs(ANNA, "T"), key=ANNA)
    agency.raw(
        "inschrijvingen",
        [(ANNA.encode(), b"{}", [("ce_id", b"not-a-uuid"), ("ce_type", b"\xff")])],
    )
    agency.publish("inschrijvingen", cbs(ANNA, "U", einddatum="2021-07-31"), key=ANNA)
    stats = agency.consume()
    assert (stats.stored, stats.parked) == (2, 1)
    assert agency.rows("SELECT reason FROM {s}.parked") == [
        ("header ce_type is not UTF-8",)
    ]
    assert agency.rows(PERIOD_ROW, ANNA)[0][-1] == "2021-07-31"


def test_vergeten_deletes_everything_held_of_the_person(
    database_url: str, kafka_bootstrap: str
) -> None:
    kinds = ("inschrijvingen", "fotos", "vergeten")
    agency = Agency(database_url, kafka_bootstrap, "cbs", kinds)
    agency.publish("inschrijvingen", cbs(ANNA, "T"), key=ANNA)
    agency.publish("inschrijvingen", cbs(ANNA, "T", brin="02OE"), key=ANNA)
    agency.publish("inschrijvingen", cbs(PIET, "T"), key=PIET)
    agency.publish("fotos", foto(ANNA, PIET), key="01OE")
    assert agency.consume().stored == 4
    agency.publish("vergeten", {"pseudoniem": ANNA, "datum": "2027-02-01"}, key=ANNA)
    assert agency.consume().stored == 1
    assert agency.rows(PERIOD_ROW, ANNA) == []
    assert agency.rows(NOW) == [(PIET, "01OE")]
    held = agency.rows("SELECT kind, payload::text FROM {s}.messages ORDER BY kind")
    assert [k for k, _ in held] == ["fotos", "inschrijvingen", "vergeten"]
    assert all(ANNA not in text for k, text in held if k != "vergeten")
    assert PIET in held[0][1]  # the foto keeps its other pupils

    # Topics are not ordered with each other: what comes about her later is
    # not kept, and not folded; a foto that names her comes without her.
    agency.publish("inschrijvingen", cbs(ANNA, "T", brin="03OE"), key=ANNA)
    agency.publish("fotos", foto(ANNA, PIET) | {"versie": 2}, key="01OE")
    stats = agency.consume()
    assert (stats.stored, stats.dropped) == (1, 1)
    assert agency.rows(PERIOD_ROW, ANNA) == []
    texts = agency.rows("SELECT payload::text FROM {s}.messages WHERE kind = 'fotos'")
    assert len(texts) == 2 and all(ANNA not in t for (t,) in texts)


def foto(*who: str) -> dict[str, Any]:
    return {
        "brin": "01OE",
        "schooljaar": "2026-2027",
        "soort": "voorlopig",
        "versie": 1,
        "peildatum": "2026-10-01",
        "controletotaal": len(who),
        "bekostigd": len(who),
        "inschrijvingen": [
            {
                "pseudoniem": p,
                "vestiging": "00",
                "elementcode": "0300",
                "leerjaar": 1,
                "bekostigd": True,
                "redenen": [],
            }
            for p in who
        ],
    }


def test_a_municipality_folds_numbers_links_and_moves(
    database_url: str, kafka_bootstrap: str
) -> None:
    kinds = ("inschrijvingen", "koppelingen", "verhuizingen", "vergeten")
    agency = Agency(database_url, kafka_bootstrap, "gemeente", kinds)
    onr, bsn = "101234567", "800000481"
    agency.publish("inschrijvingen", gemeente("T", None, onr), key=onr)
    link = {"onderwijsnummer": onr, "bsn": bsn, "geboortedatum": "2008-05-17"}
    agency.publish("koppelingen", link, key=onr)
    agency.consume()  # the link comes after the T: topics are apart
    # Linked: the same person (keyed by the onderwijsnummer), with the BSN.
    agency.publish(
        "inschrijvingen", gemeente("U", bsn, onr, einddatum="2021-07-31"), key=onr
    )
    agency.publish("inschrijvingen", gemeente("T", bsn, onr, brin="02OE"), key=onr)
    agency.consume()
    assert agency.rows(
        "SELECT persoon, bsn, brin, einddatum::text FROM {s}.enrolments ORDER BY brin"
    ) == [(onr, bsn, "01OE", "2021-07-31"), (onr, bsn, "02OE", None)]

    # She moves away: nothing more comes about her here, so nothing is held.
    gone = {"richting": "vertrokken", "bsn": bsn, "onderwijsnummer": onr}
    agency.publish(
        "verhuizingen",
        gone | {"geboortedatum": None, "datum": "2021-09-01", "inschrijvingen": []},
        key=onr,
    )
    # He moves in, with his current enrolments.
    other = "800000493"
    periods = [
        {
            "brin": "03OE",
            "vestiging": "00",
            "ingangsdatum": "2020-08-01",
            "einddatum": None,
        },
        {
            "brin": "04OE",
            "vestiging": None,
            "ingangsdatum": "2021-08-01",
            "einddatum": None,
        },
    ]
    came = {"richting": "gevestigd", "bsn": other, "onderwijsnummer": None}
    agency.publish(
        "verhuizingen",
        came
        | {
            "geboortedatum": "2009-01-02",
            "datum": "2021-09-01",
            "inschrijvingen": periods,
        },
        key=other,
    )
    agency.consume()
    assert agency.rows("SELECT persoon, brin FROM {s}.enrolments ORDER BY brin") == [
        (other, "03OE"),
        (other, "04OE"),
    ]
    forget = {"bsn": other, "onderwijsnummer": None, "datum": "2030-01-01"}
    agency.publish("vergeten", forget, key=other)
    agency.consume()
    assert agency.rows("SELECT count(*) FROM {s}.enrolments") == [(0,)]


def test_upserts_of_one_period_in_one_batch_fold_as_in_turn(
    database_url: str, kafka_bootstrap: str
) -> None:
    """A batch's run of upserts goes as one statement: messages about one
    period in it still end as they would one by one, and a number left out
    keeps the one given before."""
    agency = Agency(database_url, kafka_bootstrap, "gemeente", ("inschrijvingen",))
    onr, bsn = "101234567", "800000481"
    sent = [
        gemeente("T", None, onr),
        gemeente("T", bsn, onr, vestiging="01"),
        gemeente("T", None, onr, vestiging="02"),
        gemeente("T", None, onr, brin="02OE"),
        gemeente("U", None, onr, brin="02OE", einddatum="2021-07-31"),
    ]
    for body in sent:
        agency.publish("inschrijvingen", body, key=onr)
    stats = agency.consume()
    assert (stats.stored, stats.parked) == (5, 0)
    assert agency.rows(
        "SELECT persoon, bsn, brin, vestiging, ingangsdatum::text, einddatum::text "
        "FROM {s}.enrolments ORDER BY brin"
    ) == [
        (onr, bsn, "01OE", "02", "2020-08-01", None),
        (onr, None, "02OE", "00", "2020-08-01", "2021-07-31"),
    ]


def test_svb_holds_the_latest_status_per_person(
    database_url: str, kafka_bootstrap: str
) -> None:
    agency = Agency(database_url, kafka_bootstrap, "svb", ("kinderbijslag", "vergeten"))
    bsn = "800000481"

    def status(peildatum: str, ingeschreven: bool, soort: str) -> None:
        body = {"bsn": bsn, "peildatum": peildatum, "ingeschreven": ingeschreven}
        agency.publish(
            "kinderbijslag", body | {"soort": soort, "leeftijd": 16}, key=bsn
        )

    status("2026-09-01", True, "eerste")
    status("2026-10-01", False, "wijziging")
    status("2026-09-01", False, "correctie")  # of a month already past
    agency.consume()
    latest = "SELECT peildatum::text, ingeschreven, soort FROM {s}.kinderbijslag"
    assert agency.rows(latest) == [("2026-10-01", False, "wijziging")]
    status("2026-10-01", True, "correctie")
    agency.consume()
    assert agency.rows(latest) == [("2026-10-01", True, "correctie")]
    agency.publish("vergeten", {"bsn": bsn, "datum": "2030-01-01"}, key=bsn)
    agency.consume()
    assert agency.rows(latest) == []
