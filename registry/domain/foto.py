"""The snapshot document, `bron-vo-foto/1` (contract.md): who was enrolled on a
peildatum as known at a stand_per, each period with its funding verdict.

A foto (voorlopig, actueel, definitief) is such a document issued at a milestone,
content-hashed; a peiling is one asked for ad hoc."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from enum import StrEnum
from typing import Final, Literal, NotRequired, TypedDict

FORMAT = "bron-vo-foto/1"
PEILING: Final = "peiling"


class FotoKind(StrEnum):
    VOORLOPIG = "voorlopig"
    ACTUEEL = "actueel"
    DEFINITIEF = "definitief"

    @classmethod
    def parse(cls, value: str) -> FotoKind:
        try:
            return cls(value)
        except ValueError:
            known = ", ".join(k.value for k in cls)
            raise ValueError(f"soort {value!r} is not one of {known}") from None


Soort = Literal["peiling", "voorlopig", "actueel", "definitief"]
# Why a period is not funded, from the assurance report's exclusions.
EXCLUSION_CODES = {"indicatie": "X151", "verzuim": "X160"}


class LeerlingRef(TypedDict):
    """A document's `leerling`: the student by number. An issued foto's entry of
    a person forgotten since reads `{"bsn": null, "onderwijsnummer": null,
    "vergeten": true}` (foto_proof.py): the numbers stay as keys, so a reader
    that asks for them gets none rather than failing."""

    bsn: str | None
    onderwijsnummer: str | None
    vergeten: NotRequired[bool]


# What the read side shows as a forgotten person's number
# (infrastructure/sealing.py: forgotten_number).
FORGOTTEN_PREFIX: Final = "vergeten:"


def forgotten_leerling() -> LeerlingRef:
    return {"bsn": None, "onderwijsnummer": None, "vergeten": True}


def is_forgotten(who: LeerlingRef) -> bool:
    """Redacted in an issued foto, or read as forgotten when derived."""
    return bool(who.get("vergeten")) or student_number(who).startswith(FORGOTTEN_PREFIX)


class FotoEntry(TypedDict):
    leerling: LeerlingRef
    vestiging: str
    elementcode: str
    leerjaar: int
    ingangsdatum: str
    einddatum: str | None
    bekostigd: bool
    redenen: list[str]


class FotoDocument(TypedDict):
    format: str
    soort: Soort
    brin: str
    schooljaar: str
    peildatum: str
    stand_per: str
    controletotaal: int
    bekostigd: int
    inschrijvingen: list[FotoEntry]


class FotoRef(TypedDict):
    """What a school year's snapshot event records of the issued document."""

    versie: int
    hash: str
    positie: int
    stand_per: str
    peildatum: str
    controletotaal: int
    bekostigd: int


def leerling(number: str, kind: str, bsn: str | None = None) -> LeerlingRef:
    """A student as the documents show them: the BSN, the onderwijsnummer, or
    both for a person under an onderwijsnummer who has a BSN linked."""
    if kind == "bsn":
        return {"bsn": number, "onderwijsnummer": None}
    return {"bsn": bsn, "onderwijsnummer": number}


def student_number(who: LeerlingRef) -> str:
    """The BSN or onderwijsnummer of a document's `leerling`."""
    return who["bsn"] or who["onderwijsnummer"] or ""


def verdict(unlicensed: bool, double: bool, excluded: Iterable[str]) -> list[str]:
    """The reasons a period is not funded (none: funded), sorted."""
    out = ["X121"] if unlicensed else []
    if double:
        out.append("X130")
    out += [EXCLUSION_CODES[r] for r in excluded if r in EXCLUSION_CODES]
    return sorted(out)


def sort_key(entry: FotoEntry) -> tuple[str, str, str]:
    """contract.md: by student number, then vestiging, then ingangsdatum."""
    return student_number(entry["leerling"]), entry["vestiging"], entry["ingangsdatum"]


def document(
    soort: Soort,
    brin: str,
    schooljaar: str,
    peildatum: str,
    stand_per: str,
    entries: list[FotoEntry],
    *,
    ordered: bool = False,
) -> FotoDocument:
    """`ordered`: the entries are already in sort_key's order (as the
    timeline's query sorts them), so sorting them again is skipped."""
    if not ordered:
        entries = sorted(entries, key=sort_key)
    return {
        "format": FORMAT,
        "soort": soort,
        "brin": brin,
        "schooljaar": schooljaar,
        "peildatum": peildatum,
        "stand_per": stand_per,
        "controletotaal": len(entries),
        "bekostigd": sum(e["bekostigd"] for e in entries),
        "inschrijvingen": entries,
    }


# What json.dumps(value, sort_keys=True, separators=(",", ":"),
# ensure_ascii=False) builds anew on every call; a foto's hash encodes each of
# its thousands of entries twice.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: object) -> str:
    """Canonical JSON of any value: sorted keys, no spaces."""
    return _CANONICAL.encode(value)


def content_hash(doc: FotoDocument) -> str:
    """sha256 of the canonical JSON (UTF-8)."""
    return hashlib.sha256(canonical_json(doc).encode()).hexdigest()
