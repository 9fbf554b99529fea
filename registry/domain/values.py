"""Value objects of the BRON-VO exchange, each checked on construction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache

from stdnum.exceptions import ValidationError
from stdnum.nl import bsn as _bsn
from stdnum.nl import onderwijsnummer as _onr

from registry.domain.errors import (
    InvalidBrin,
    InvalidBsn,
    InvalidGeslacht,
    InvalidLandcode,
    InvalidOnderwijsnummer,
    InvalidPostcode,
    InvalidSchooljaar,
)

_DIGITS = re.compile(r"[0-9]+")
_POSTCODE = re.compile(r"[1-9][0-9]{3}[A-Z]{2}")
_EXCLUDED_LETTERS = frozenset({"SA", "SD", "SS"})
_BRIN = re.compile(r"[0-9]{2}[A-Z0-9]{2}")
_VESTIGING = re.compile(r"[0-9]{2}")
_LANDCODE = re.compile(r"[0-9]{4}")
_SCHOOLJAAR = re.compile(r"([0-9]{4})-([0-9]{4})")
NETHERLANDS = "6030"


def mask(number: str) -> str:
    """Show a personal number in logs and errors without revealing it."""
    return "*" * max(len(number) - 3, 0) + number[-3:]


@dataclass(frozen=True, order=True)
class Bsn:
    """Burgerservicenummer: 9 digits passing the 11-proof."""

    value: str

    def __post_init__(self) -> None:
        checked = checked_bsn(self.value)
        if checked is not self.value:
            object.__setattr__(self, "value", checked)

    def __str__(self) -> str:
        return self.value


def checked_bsn(value: str) -> str:
    """`Bsn`'s check without the object (a register's million lines): the
    number as the register holds it, 8 digits left-padded with 0."""
    if not _DIGITS.fullmatch(value) or len(value) not in (8, 9):
        raise InvalidBsn(f"bsn {mask(value)!r} is not 8 or 9 digits", field="bsn")
    value = padded_bsn(value)
    if not _eleven_proof(value):
        raise InvalidBsn(f"bsn {mask(value)!r} fails the 11-proof", field="bsn")
    return value


def padded_bsn(text: str) -> str:
    """An 8-digit BSN as the register holds it: left-padded with 0 (one number,
    one spelling, wherever it is looked up)."""
    return "0" + text if len(text) == 8 and text.isdigit() else text


# The digits are checked before, so stdnum's checksum suffices (its validate()
# would clean the string again). Cached: one record builds the same number
# several times (record, student, enrolment).
@lru_cache(maxsize=1 << 16)
def _eleven_proof(digits: str) -> bool:
    return digits != "000000000" and _bsn.checksum(digits) == 0


@dataclass(frozen=True, order=True)
class Onderwijsnummer:
    """Number DUO issues to a student without BSN: '10…', weighted sum mod 11 = 5."""

    value: str

    def __post_init__(self) -> None:
        field = "onderwijsnummer"
        if not _DIGITS.fullmatch(self.value) or len(self.value) != 9:
            raise InvalidOnderwijsnummer(
                f"onderwijsnummer {mask(self.value)!r} is not 9 digits", field=field
            )
        try:
            _onr.validate(self.value)
        except ValidationError:
            raise InvalidOnderwijsnummer(
                f"onderwijsnummer {mask(self.value)!r} fails its check", field=field
            ) from None

    @classmethod
    def from_serial(cls, serial: int) -> Onderwijsnummer | None:
        """The number for a serial 0–999,999, or None when no check digit fits."""
        if not 0 <= serial <= 999_999:
            raise ValueError("serial out of range")
        body = f"10{serial:06d}"
        weighted = sum(int(d) * w for d, w in zip(body, range(9, 1, -1), strict=True))
        check = (weighted - 5) % 11
        if check == 10:
            return None
        return cls(body + str(check))

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Postcode:
    """Dutch postcode, stored without a space: 1234AB; SA, SD and SS are not used."""

    value: str

    def __post_init__(self) -> None:
        if not _POSTCODE.fullmatch(self.value):
            raise InvalidPostcode(
                f"postcode {self.value!r} is not 4 digits (not starting with 0) "
                "and 2 capital letters",
                field="postcode",
            )
        if self.value[4:] in _EXCLUDED_LETTERS:
            raise InvalidPostcode(
                f"postcode {self.value!r} uses letters {self.value[4:]}, which are "
                "never issued",
                field="postcode",
            )

    @property
    def pc4(self) -> str:
        return self.value[:4]

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Landcode:
    """Country code of the GBA table (4 digits); 6030 is expressed by a postcode."""

    value: str

    def __post_init__(self) -> None:
        if not _LANDCODE.fullmatch(self.value):
            raise InvalidLandcode(
                f"landcode {self.value!r} is not 4 digits", field="landcode"
            )
        if self.value == NETHERLANDS:
            raise InvalidLandcode(
                "landcode '6030' (Nederland) must be delivered as a postcode",
                field="landcode",
            )

    def __str__(self) -> str:
        return self.value


def check_address(postcode: str | None, landcode: str | None) -> None:
    """Exactly one of postcode and landcode (790), each well-formed (X110, 790)."""
    if (postcode is None) == (landcode is None):
        shown = "both" if postcode is not None else "neither"
        raise InvalidLandcode(
            f"{shown} of postcode and landcode given", field="postcode"
        )
    if postcode is not None:
        Postcode(postcode)
    if landcode is not None:
        Landcode(landcode)


@dataclass(frozen=True, order=True)
class Brin:
    """School number: 2 digits and 2 letters or digits, e.g. 01OE."""

    value: str

    def __post_init__(self) -> None:
        if not _BRIN.fullmatch(self.value):
            raise InvalidBrin(
                f"brin {self.value!r} is not 2 digits and 2 capitals or digits",
                field="brin",
            )

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, order=True)
class Vestiging:
    """Location number within a BRIN: 2 digits; 00 is usually the main site."""

    value: str

    def __post_init__(self) -> None:
        if not _VESTIGING.fullmatch(self.value):
            raise InvalidBrin(
                f"vestiging {self.value!r} is not 2 digits", field="vestiging"
            )

    def __str__(self) -> str:
        return self.value


class Geslacht(StrEnum):
    MAN = "M"
    VROUW = "V"

    @classmethod
    def parse(cls, value: str) -> Geslacht:
        try:
            return cls(value)
        except ValueError:
            raise InvalidGeslacht(
                f"geslacht {value!r} is not M or V", field="geslacht"
            ) from None


@dataclass(frozen=True, order=True)
class Schooljaar:
    """A school year 'YYYY-YYYY+1', running 1 August – 31 July."""

    value: str

    def __post_init__(self) -> None:
        match = _SCHOOLJAAR.fullmatch(self.value)
        if not match or int(match[2]) != int(match[1]) + 1:
            raise InvalidSchooljaar(
                f"schooljaar {self.value!r} is not 'YYYY-YYYY+1'", field="schooljaar"
            )

    @property
    def start_year(self) -> int:
        return int(self.value[:4])

    @classmethod
    def starting(cls, year: int) -> Schooljaar:
        return _starting(year)

    @classmethod
    def containing(cls, day: date) -> Schooljaar:
        return _starting(day.year if day.month >= 8 else day.year - 1)

    def __str__(self) -> str:
        return self.value


# The rules ask for the school years around every record's dates; a value object
# is immutable, so each year is parsed once.
@lru_cache(maxsize=256)
def _starting(year: int) -> Schooljaar:
    return Schooljaar(f"{year}-{year + 1}")
