"""The population register's file (contract.md, reference data): one person a
line, checked whole before anything is loaded; every faulty line is named with
its field and rule, whichever reader parses the JSON."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from registry.intake.population import parse_persons
from registry.intake.reference_files import FileRefused

ANNA: dict[str, Any] = {
    "bsn": "800000481",
    "achternaam": "Jansen",
    "voorvoegsel": None,
    "voornamen": "Anna Maria",
    "geboortedatum": "2013-05-17",
    "geslacht": "V",
    "straatnaam": "Dorpsstraat",
    "huisnummer": 12,
    "huisnummertoevoeging": None,
    "postcode": "9711AB",
    "plaatsnaam": "Groningen",
    "gemeente": "GM0014",
    "landcode": None,
    "geheim": False,
}


def line(**changes: Any) -> str:
    return json.dumps({**ANNA, **changes})


def problems(*lines: str) -> list[str]:
    with pytest.raises(FileRefused) as refused:
        parse_persons(lines)
    return refused.value.problems


def test_the_contracts_example_is_read_as_written() -> None:
    (anna,) = parse_persons([line(), ""])
    assert (anna.bsn, anna.geboortedatum, anna.huisnummer, anna.geheim) == (
        "800000481",
        date(2013, 5, 17),
        12,
        False,
    )


def test_an_eight_digit_bsn_is_held_with_its_leading_zero() -> None:
    (person,) = parse_persons([line(bsn="12345672")])
    assert person.bsn == "012345672"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "line 2: not JSON ("),
        ('{"bsn": "800000481",', "line 2: not JSON ("),
        (line(geboortedatum="2013-02-30"), "line 2: geboortedatum: "),
        (line(huisnummer="twelve"), "line 2: huisnummer: "),
        (line(achternaam=None), "line 2: achternaam: "),
        (line(vingerafdruk="x"), "line 2: vingerafdruk: Extra inputs"),
        (line(bsn="800000482"), "line 2: bsn: bsn '******482' fails the 11-proof"),
        (line(bsn="000000000"), "line 2: bsn: bsn '******000' fails the 11-proof"),
        (line(bsn="12345678X"), "line 2: bsn: bsn '******78X' is not 8 or 9 digits"),
        (line(bsn="1234567890"), "line 2: bsn: bsn '*******890' is not 8 or 9"),
        (line(bsn=800000481), "line 2: bsn: Input should be a valid string"),
        (line(landcode="BEL"), "line 2: postcode: both of postcode and landcode"),
        ("[1, 2]", "line 2: : Input should be"),
    ],
)
def test_each_faulty_line_is_named_with_its_field_and_rule(
    text: str, expected: str
) -> None:
    found = problems(line(), text, line(bsn="012345672"))
    assert len(found) == 1 and found[0].startswith(expected), found


def test_every_faulty_line_is_listed_not_only_the_first() -> None:
    found = problems("{", line(), line(geslacht=None), "", line(bsn="1"))
    assert [p.split(":")[0] for p in found] == ["line 1", "line 3", "line 5"]
