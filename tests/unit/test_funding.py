"""The funding statement of a foto: hand-computed amounts, Decimal exactness,
clear errors, and the properties that the total is the sum of its lines and
that an unfunded period never changes it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.domain.elementcodes import table
from registry.domain.errors import UnknownElementcode
from registry.domain.funding import (
    FundingError,
    Post,
    funding_for_year,
    funding_statement,
    line,
    post_for,
)

VESTIGINGEN = [("00", True), ("01", False), ("02", False)]


def period(
    student: int,
    elementcode: str,
    leerjaar: int,
    vestiging: str = "00",
    redenen: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "leerling": {"bsn": None, "onderwijsnummer": f"1{student:08d}"},
        "vestiging": vestiging,
        "elementcode": elementcode,
        "leerjaar": leerjaar,
        "ingangsdatum": "2026-08-01",
        "einddatum": None,
        "bekostigd": not redenen,
        "redenen": list(redenen),
    }


def foto(periods: list[dict[str, Any]], soort: str = "definitief") -> dict[str, Any]:
    return {
        "format": "bron-vo-foto/1",
        "soort": soort,
        "brin": "01OE",
        "schooljaar": "2026-2027",
        "peildatum": "2026-10-01",
        "stand_per": "2027-07-21T00:00:00+00:00",
        "controletotaal": len(periods),
        "bekostigd": sum(p["bekostigd"] for p in periods),
        "inschrijvingen": periods,
    }


SMALL = [
    period(1, "0300", 1),  # havo leerjaar 1: onderbouw, A
    period(2, "0100", 2),  # vwo leerjaar 2: onderbouw, A
    period(3, "0371", 4),  # havo bovenbouw, A
    period(4, "0170", 5, "01"),  # vwo bovenbouw, A
    period(5, "2711", 3, "01"),  # vmbo gl, A
    period(6, "0400", 4, "01"),  # mavo/tl, A
    period(7, "2911", 3, "02"),  # vmbo bb, B
    period(8, "2811", 4, "02"),  # vmbo kb, B
    period(9, "0090", 1, "02"),  # praktijkonderwijs leerjaar 1: still B
    period(10, "2511", 3),  # LWOO Basisbg: B
    period(11, "2311", 4),  # LWOO Gemengde: A
    period(12, "3011", 3),  # leerwerktraject: B
    period(13, "4031", 5),  # HAVO naar VAVO: A
    period(14, "4036", 5),  # HAVO naar VAVO teruggekeerd gezakt: half A
    period(15, "0800", 5),  # IB diploma programme: A
    period(16, "0300", 1, "01", ("X121",)),
    period(3, "0300", 3, "01", ("X130",)),  # the same student, not funded
    period(17, "2911", 3, "02", ("X121", "X151")),
]


def test_a_small_foto_by_hand() -> None:
    statement = funding_statement(foto(SMALL), VESTIGINGEN)
    assert statement["regels"] == [
        _r("hoofdvestiging", 1, "227160.97", "227160.97"),
        _r("nevenvestiging", 2, "113580.48", "227160.96"),
        _r("leerling onderbouw", 2, "7766.86", "15533.72"),
        _r("leerling vwo", 1, "7766.86", "7766.86"),
        _r("leerling havo", 1, "7766.86", "7766.86"),
        _r("leerling ib/ess", 1, "7766.86", "7766.86"),
        _r("leerling vmbo gl/tl bovenbouw", 3, "7766.86", "23300.58"),
        _r("leerling vavo", 1, "7766.86", "7766.86"),
        _r("leerling vavo na gezakt examen (50%)", 1, "3883.43", "3883.43"),
        _r("leerling vmbo bb/kb bovenbouw", 4, "9137.49", "36549.96"),
        _r("leerling praktijkonderwijs", 1, "9137.49", "9137.49"),
    ]
    # 454321.93 vestigingen + 9 × 7766.86 + 3883.43 + 5 × 9137.49
    assert statement["totaal"] == "573794.55"
    assert statement["perioden"] == {
        "bekostigd": 15,
        "niet_bekostigd": 3,
        "niet_bekostigd_per_reden": {"X121": 2, "X130": 1, "X151": 1},
    }
    assert (statement["brin"], statement["soort"]) == ("01OE", "definitief")


def _r(post: str, aantal: int, tarief: str, bedrag: str) -> dict[str, Any]:
    return {"post": post, "aantal": aantal, "tarief": tarief, "bedrag": bedrag}


def test_amounts_are_exact_decimals() -> None:
    assert 3 * 7766.86 != 23300.58  # what float arithmetic would get wrong
    assert line(post_for("0371", 4), 3)["bedrag"] == "23300.58"
    assert line(post_for("0090", 3), 7)["bedrag"] == "63962.43"


def test_each_line_rounds_half_up() -> None:
    assert line(Post("x", Decimal("0.125")), 1)["bedrag"] == "0.13"
    assert line(Post("x", Decimal("0.125")), 3)["bedrag"] == "0.38"  # 0.375


@pytest.mark.parametrize(
    ("code", "leerjaar", "tarief"),
    [
        ("0090", 1, "9137.49"),  # pro is B in every leerjaar
        ("0031", 2, "7766.86"),  # onderbouw on the way to basisberoeps
        ("2911", 3, "9137.49"),
        ("4311", 5, "9137.49"),  # vmbo bb, extended programme
        ("2210", 3, "7766.86"),  # LWOO MAVO/Theor
        ("2411", 4, "9137.49"),  # LWOO Kaderbg
        ("3322", 3, "9137.49"),  # LWOO Kaderbg (typo "ICT-toute")
        ("4211", 5, "9137.49"),  # LWOO Basisbg.
        ("4411", 3, "9137.49"),  # "LWO0 BBG"
        ("4612", 3, "7766.86"),  # LWOO TLG
        ("2323", 3, "7766.86"),  # LWOO Gemengde ... BB-ISP: BB-ISP is no track
        ("6075", 4, "7766.86"),  # LWOO GL
        ("7055", 4, "9137.49"),  # LWOO BB LWT
        ("3414", 3, "9137.49"),  # leerwerktraject
        ("4016", 6, "3883.43"),  # VWO-ATH naar VAVO teruggekeerd gezakt
        ("4050", 3, "7766.86"),  # LWOO VMBO-TL naar VAVO
        ("0700", 4, "7766.86"),  # IB middle years
    ],
)
def test_rate_of_the_less_obvious_codes(code: str, leerjaar: int, tarief: str) -> None:
    assert line(post_for(code, leerjaar), 1)["tarief"] == tarief


def test_every_code_at_every_allowed_leerjaar_has_a_post() -> None:
    for code in table().values():
        for leerjaar in code.leerjaren:
            post_for(code.code, leerjaar)


def test_an_unknown_elementcode_of_a_funded_period_names_the_period() -> None:
    bad = foto([*SMALL, period(20, "9999", 1)])
    with pytest.raises(FundingError, match="9999") as info:
        funding_statement(bad, VESTIGINGEN)
    assert "leerling 100000020" in str(info.value)
    assert isinstance(info.value.__cause__, UnknownElementcode)


def test_an_unknown_elementcode_of_an_unfunded_period_is_only_counted() -> None:
    statement = funding_statement(
        foto([period(1, "9999", 1, redenen=("X121",))]), VESTIGINGEN
    )
    assert statement["perioden"]["niet_bekostigd"] == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (period(1, "0300", 2, "01"), "a student counts once"),
        (period(20, "0300", 1, "07"), "vestiging 07 is not among"),
    ],
)
def test_inconsistent_periods_are_refused(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(FundingError, match=message):
        funding_statement(foto([*SMALL, extra]), VESTIGINGEN)


def test_totals_that_disagree_with_the_periods_are_refused() -> None:
    document = foto(SMALL)
    document["bekostigd"] += 1
    with pytest.raises(FundingError, match="funded"):
        funding_statement(document, VESTIGINGEN)


def test_the_year_prefers_the_definitief_foto() -> None:
    voorlopig = foto(SMALL[:1], "voorlopig")
    definitief = foto(SMALL[:2], "definitief")
    both = funding_for_year(
        {"voorlopig": voorlopig, "definitief": definitief}, VESTIGINGEN
    )
    assert both["grondslag"] == "definitief"
    assert both["regels"][2]["aantal"] == 2
    only = funding_for_year({"voorlopig": voorlopig, "definitief": None}, VESTIGINGEN)
    assert only["grondslag"] == "voorlopig (provisional)"
    assert only["regels"][2]["aantal"] == 1


def test_the_year_without_a_voorlopig_or_definitief_foto_is_refused() -> None:
    with pytest.raises(FundingError, match="no definitief or voorlopig"):
        funding_for_year({"actueel": foto(SMALL, "actueel")}, VESTIGINGEN)
    with pytest.raises(FundingError, match="soort"):
        funding_for_year({"definitief": foto(SMALL, "voorlopig")}, VESTIGINGEN)


CODES = sorted(table())
code_and_leerjaar = st.sampled_from(CODES).flatmap(
    lambda c: st.tuples(st.just(c), st.sampled_from(sorted(table()[c].leerjaren)))
)
reasons = st.lists(st.sampled_from(["X121", "X130", "X151", "X160"]), max_size=2)
periods = st.lists(
    st.tuples(code_and_leerjaar, st.sampled_from(["00", "01", "02"]), reasons),
    max_size=25,
)


def build(drawn: list[tuple[tuple[str, int], str, list[str]]]) -> dict[str, Any]:
    return foto(
        [
            period(n, code, leerjaar, vestiging, tuple(sorted(set(why))))
            for n, ((code, leerjaar), vestiging, why) in enumerate(drawn)
        ]
    )


@given(periods)
def test_the_total_is_the_sum_of_the_lines(
    drawn: list[tuple[tuple[str, int], str, list[str]]],
) -> None:
    statement = funding_statement(build(drawn), VESTIGINGEN)
    for r in statement["regels"]:
        assert Decimal(r["bedrag"]) == r["aantal"] * Decimal(r["tarief"])
    total = sum(Decimal(r["bedrag"]) for r in statement["regels"])
    assert Decimal(statement["totaal"]) == total
    students = sum(r["aantal"] for r in statement["regels"][2:])
    assert students == statement["perioden"]["bekostigd"]


@given(
    periods,
    st.one_of(code_and_leerjaar, st.just(("9999", 1))),
    st.lists(st.sampled_from(["X121", "X130", "X151", "X160"]), min_size=1),
)
def test_an_unfunded_period_never_changes_the_total(
    drawn: list[tuple[tuple[str, int], str, list[str]]],
    extra: tuple[str, int],
    why: list[str],
) -> None:
    document = build(drawn)
    before = funding_statement(document, VESTIGINGEN)
    unfunded = period(0, *extra, "01", tuple(sorted(set(why))))
    document = foto([*document["inschrijvingen"], unfunded])
    after = funding_statement(document, VESTIGINGEN)
    assert after["totaal"] == before["totaal"]
    assert after["regels"] == before["regels"]
    assert (
        after["perioden"]["niet_bekostigd"] == before["perioden"]["niet_bekostigd"] + 1
    )
