"""The wire format `bron-vo-batch/1` (contract.md): pydantic models with the Dutch
names as aliases and English names inside.

Only faults no signal code covers refuse a batch here: not JSON, a wrong format,
an unknown enumeration value, a value of the wrong type, a missing or duplicate
meldingnummer, batch fields out of range. Missing or malformed record fields that
have a signal code are left for the content checks, so they reject one record.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterator
from datetime import date
from typing import Any, Literal, NamedTuple

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from registry.domain.student import ExtendedSet
from registry.domain.values import mask, padded_bsn

FORMAT = "bron-vo-batch/1"
_SCHOOLJAAR = re.compile(r"([0-9]{4})-([0-9]{4})")
_BRIN = re.compile(r"[0-9]{2}[A-Z0-9]{2}")


class BatchKey(NamedTuple):
    """A batch's identity (contract.md): re-delivered under it, it is the same batch."""

    brin: str
    aanleverpunt: int
    schooljaar: str
    batchnummer: int


SHOWN_PROBLEMS = 100


class BatchRefused(Exception):
    """The batch is refused as a whole; `problems` lists every fault found."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        summary = "; ".join(f"{p['path']}: {p['rule']}" for p in problems[:10])
        super().__init__(f"batch refused, {len(problems)} problem(s): {summary}")
        # The first hundred, and how many more: a hostile body can hold
        # millions, and the answer must stay small.
        self.problems = problems[:SHOWN_PROBLEMS]
        if len(problems) > SHOWN_PROBLEMS:
            more = len(problems) - SHOWN_PROBLEMS
            self.problems.append(
                {"path": "(batch)", "rule": f"and {more} more problems", "value": None}
            )


class _Wire(BaseModel):
    # Unknown fields are ignored so school packages may send more than we read;
    # absent and null mean the same (every optional field defaults to None).
    # Field names are the contract's Dutch names, used as they are inside.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Uitgebreid(_Wire):
    """The extended set: a student without a number, or one the register missed."""

    achternaam: str | None = None
    voorvoegsel: str | None = None
    voornamen: str | None = None
    straatnaam: str | None = None
    huisnummer: int | None = None
    huisnummertoevoeging: str | None = None
    plaatsnaam: str | None = None
    buitenlands_adres: list[str] | None = None

    def as_event(self) -> ExtendedSet:
        """As a student's events record it: every field, in this order."""
        lines = self.buitenlands_adres
        return {
            "achternaam": self.achternaam,
            "voorvoegsel": self.voorvoegsel,
            "voornamen": self.voornamen,
            "straatnaam": self.straatnaam,
            "huisnummer": self.huisnummer,
            "huisnummertoevoeging": self.huisnummertoevoeging,
            "plaatsnaam": self.plaatsnaam,
            "buitenlands_adres": None if lines is None else list(lines),
        }


class Leerling(_Wire):
    bsn: str | None = None
    onderwijsnummer: str | None = None
    leerlingnummer: str | None = None
    geboortedatum: date | None = None
    geslacht: Literal["M", "V"] | None = None
    postcode: str | None = None
    landcode: str | None = None
    uitgebreid: Uitgebreid | None = None

    @field_validator("bsn")
    @classmethod
    def _padded(cls, value: str | None) -> str | None:
        return None if value is None else padded_bsn(value)


class Inschrijving(_Wire):
    vestiging: str | None = None
    ingangsdatum: date | None = None
    einddatum: date | None = None
    elementcode: str | None = None
    leerjaar: int | None = None
    jaren_pro: int | None = None
    reden_einde: Literal["diploma", "overstap", "buitenland", "overig"] | None = None


class Wijziging(_Wire):
    oud: dict[str, Any]
    nieuw: dict[str, Any]


class Melding(_Wire):
    meldingnummer: int = Field(ge=1, le=2**31 - 1)  # PostgreSQL int
    soort: Literal["I", "W"]
    mutatie: Literal["T", "A", "U", "V"]
    leerling: Leerling
    inschrijving: Inschrijving | None = None
    wijziging: Wijziging | None = None


class Pakket(_Wire):
    naam: str
    versie: str


class Aanlevering(_Wire):
    format: Literal["bron-vo-batch/1"]
    brin: str
    aanleverpunt: int = Field(ge=0, le=99)
    batchnummer: int = Field(ge=1, le=999)
    schooljaar: str
    soort: Literal["INSCHRIJVING", "ACCOUNTANTSMUTATIE"]
    verantwoordelijke: Literal["INSTELLING", "ACCOUNTANT"]
    pakket: Pakket | None = None
    meldingen: list[Melding] = Field(min_length=1, max_length=100_000)

    @field_validator("brin")
    @classmethod
    def _brin(cls, value: str) -> str:
        if not _BRIN.fullmatch(value):
            raise ValueError("brin must be 2 digits and 2 capitals or digits")
        return value

    @field_validator("schooljaar")
    @classmethod
    def _schooljaar(cls, value: str) -> str:
        match = _SCHOOLJAAR.fullmatch(value)
        if not match or int(match[2]) != int(match[1]) + 1:
            raise ValueError("schooljaar must be YYYY-YYYY+1")
        return value

    @property
    def key(self) -> BatchKey:
        return BatchKey(self.brin, self.aanleverpunt, self.schooljaar, self.batchnummer)

    @property
    def accountant(self) -> bool:
        return self.soort == "ACCOUNTANTSMUTATIE"


def _problem(loc: tuple[Any, ...], rule: str, value: Any) -> dict[str, Any]:
    path = ".".join(str(p) for p in loc) or "(batch)"
    shown = (
        value if isinstance(value, str | int | float | bool) or value is None else "…"
    )
    if isinstance(shown, float) and not math.isfinite(shown):
        shown = str(shown)  # NaN and infinities are not JSON: the answer must be
    if isinstance(shown, str) and len(shown) > 100:
        shown = shown[:100] + "…"
    if path.endswith(("bsn", "onderwijsnummer")) and shown is not None:
        shown = mask(str(shown))
    return {"path": path, "rule": rule, "value": shown}


def parse_batch(raw: bytes | str, on: date | None = None) -> tuple[Aanlevering, str]:
    """Parse and check a batch delivered on day `on`; returns it with its content
    hash, or refuses it. Types are exact: JSON numbers for numbers, `YYYY-MM-DD`
    strings of real dates for dates (contract.md)."""
    floats = _FloatsSeen()
    try:
        data = json.loads(raw, parse_constant=_not_json, parse_float=floats)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BatchRefused([_problem((), f"not JSON: {e}", None)]) from None
    except RecursionError:
        raise BatchRefused([_problem((), "nested too deeply", None)]) from None
    if not isinstance(data, dict):
        raise BatchRefused([_problem((), "a batch is a JSON object", None)])
    if "\\u0000" in (raw if isinstance(raw, str) else raw.decode("utf-8", "replace")):
        nul = list(_nul_paths(data, ()))
        if nul:  # PostgreSQL text cannot hold it, and no field needs it
            raise BatchRefused([_problem(p, "a NUL character", None) for p in nul])
    try:
        batch = Aanlevering.model_validate_json(raw, strict=True)
    except ValidationError as e:
        raise BatchRefused(
            [_problem(err["loc"], err["msg"], err.get("input")) for err in e.errors()]
        ) from None
    problems = _cross_checks(batch) + _date_ranges(batch, on)
    if problems:
        raise BatchRefused(problems)
    canonical = canonical_json(raw, data, floats=floats.seen)
    return batch, hashlib.sha256(canonical).hexdigest()


class _FloatsSeen:
    """json.loads's parse_float: notes that the document holds a float."""

    def __init__(self) -> None:
        self.seen = False

    def __call__(self, text: str) -> float:
        self.seen = True
        return float(text)


def canonical_json(raw: bytes | str, data: Any, *, floats: bool) -> bytes:
    """What a batch's content hash is taken of, as it always was:
    json.dumps(data, sort_keys=True, separators=(",", ":")), encoded. orjson
    writes the same bytes, much faster, for a document without floats (they
    are written differently) whose text is ASCII without \\u escapes or DEL
    (which the standard library writes escaped); any other document, or one
    orjson refuses (an integer past 64 bits), the standard library writes."""
    plain = (
        raw.isascii() and b"\\u" not in raw and b"\x7f" not in raw
        if isinstance(raw, bytes)
        else raw.isascii() and "\\u" not in raw and "\x7f" not in raw
    )
    if plain and not floats:
        try:
            return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            pass
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def _not_json(constant: str) -> Any:
    raise json.JSONDecodeError(f"{constant} is not a JSON value", constant, 0)


def _nul_paths(value: Any, path: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, str):
        if "\x00" in value:
            yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _nul_paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _nul_paths(v, (*path, i))


EARLIEST = date(1990, 8, 1)
OLDEST_YEARS = 100


def _date_ranges(batch: Aanlevering, on: date | None) -> list[dict[str, Any]]:
    """Dates that would enter the log for good must be plausible: periods between
    1 August 1990 and the end of the school year after the batch's; a birth date
    not after the delivery nor more than 100 years before it."""
    latest = date(int(batch.schooljaar[:4]) + 2, 7, 31)
    problems = []
    for i, r in enumerate(batch.meldingen):
        p = r.inschrijving
        for name in ("ingangsdatum", "einddatum"):
            day = getattr(p, name) if p is not None else None
            if day is not None and not EARLIEST <= day <= latest:
                problems.append(
                    _problem(
                        ("meldingen", i, "inschrijving", name),
                        f"a date between {EARLIEST} and {latest}",
                        day.isoformat(),
                    )
                )
        born = r.leerling.geboortedatum
        if born is not None and on is not None and not _years_before(on) <= born <= on:
            problems.append(
                _problem(
                    ("meldingen", i, "leerling", "geboortedatum"),
                    f"a birth date not after {on} nor more than {OLDEST_YEARS} "
                    "years before it",
                    born.isoformat(),
                )
            )
    return problems


def _years_before(on: date, years: int = OLDEST_YEARS) -> date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February, in a year that has none
        return date(on.year - years, 3, 1)


def _cross_checks(batch: Aanlevering) -> list[dict[str, Any]]:
    problems = []
    if batch.accountant and batch.verantwoordelijke != "ACCOUNTANT":
        problems.append(
            _problem(
                ("verantwoordelijke",),
                "ACCOUNTANTSMUTATIE requires ACCOUNTANT",
                batch.verantwoordelijke,
            )
        )
    seen: set[int] = set()
    for i, record in enumerate(batch.meldingen):
        if record.meldingnummer in seen:
            problems.append(
                _problem(
                    ("meldingen", i, "meldingnummer"),
                    "duplicate meldingnummer",
                    record.meldingnummer,
                )
            )
        seen.add(record.meldingnummer)
    return problems
