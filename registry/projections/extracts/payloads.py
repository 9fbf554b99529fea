"""The payload of each topic the extracts publish, one TypedDict per JSON Schema
of the published contract (registry/publishing/schemas/, named after the schema
in each docstring). The schemas are what agencies rely on; these types let mypy
hold the extracts to them, and tests/unit/test_payload_types.py holds these
types to the schemas."""

from __future__ import annotations

from typing import Literal, TypedDict

Mutatie = Literal["T", "A", "U", "V"]
FotoSoort = Literal["voorlopig", "actueel", "definitief"]


class CbsInschrijving(TypedDict):
    """cbs.inschrijvingen.v1"""

    pseudoniem: str
    mutatie: Mutatie
    brin: str
    vestiging: str | None
    elementcode: str | None
    leerjaar: int | None
    ingangsdatum: str
    einddatum: str | None
    geregistreerd_op: str


class CbsFotoInschrijving(TypedDict):
    """cbs.fotos.v1, an item of `inschrijvingen`"""

    pseudoniem: str
    vestiging: str | None
    elementcode: str | None
    leerjaar: int | None
    bekostigd: bool
    redenen: list[str]


class CbsFoto(TypedDict):
    """cbs.fotos.v1"""

    brin: str
    schooljaar: str
    soort: FotoSoort
    versie: int
    peildatum: str
    controletotaal: int
    bekostigd: int
    inschrijvingen: list[CbsFotoInschrijving]


class InspectieInschrijving(TypedDict):
    """inspectie.inschrijvingen.v1"""

    pseudoniem: str
    mutatie: Mutatie
    brin: str
    vestiging: str | None
    elementcode: str | None
    leerjaar: int | None
    leeftijd: int | None
    ingangsdatum: str
    einddatum: str | None


class InspectieFotoInschrijving(TypedDict):
    """inspectie.fotos.v1, an item of `inschrijvingen`"""

    pseudoniem: str
    vestiging: str | None
    elementcode: str | None
    leerjaar: int | None
    leeftijd: int | None
    bekostigd: bool
    redenen: list[str]


class InspectieFoto(TypedDict):
    """inspectie.fotos.v1"""

    brin: str
    schooljaar: str
    soort: FotoSoort
    versie: int
    peildatum: str
    controletotaal: int
    bekostigd: int
    bekostigd_per_vestiging: dict[str, int]
    inschrijvingen: list[InspectieFotoInschrijving]


class GemeenteInschrijving(TypedDict):
    """gemeente.inschrijvingen.v1 (every municipality's topic)"""

    bsn: str | None
    onderwijsnummer: str | None
    geboortedatum: str | None
    mutatie: Literal["T", "U", "V"]
    brin: str
    vestiging: str | None
    ingangsdatum: str
    einddatum: str | None


class GemeenteVsv(TypedDict):
    """gemeente.vsv.v2: a potential early school leaver (`signaal`), or the
    withdrawal of one (`ingetrokken`, with the signal's `melding_id`)"""

    status: Literal["signaal", "ingetrokken"]
    melding_id: str
    bsn: str | None
    onderwijsnummer: str | None
    geboortedatum: str | None
    laatste_brin: str
    einddatum: str
    peildatum: str
    reden_einde: str | None
    reden_intrekking: Literal["ingeschreven", "gecorrigeerd"] | None
    ingeschreven_brin: str | None


class GemeenteVerhuisInschrijving(TypedDict):
    brin: str
    vestiging: str | None
    ingangsdatum: str
    einddatum: str | None


class GemeenteVerhuizing(TypedDict):
    """gemeente.verhuizingen.v1: a student left the municipality (`vertrokken`,
    no further data) or settled in it (`gevestigd`, with current enrolments)"""

    richting: Literal["vertrokken", "gevestigd"]
    bsn: str | None
    onderwijsnummer: str | None
    geboortedatum: str | None
    datum: str
    inschrijvingen: list[GemeenteVerhuisInschrijving]


class GemeenteKoppeling(TypedDict):
    """gemeente.koppelingen.v1: a resident known by an onderwijsnummer has a BSN
    now; messages about them carry both numbers from then on"""

    onderwijsnummer: str
    bsn: str
    geboortedatum: str | None


class SvbKinderbijslag(TypedDict):
    """svb.kinderbijslag.v2: whether a 16- or 17-year-old is enrolled in full-time
    education on the month's peildatum: the first month they are in view
    (`eerste`), when it flips (`wijziging`), or a correction of the last one sent
    (`correctie`: a deleted period, a re-opened one)"""

    bsn: str
    peildatum: str
    ingeschreven: bool
    soort: Literal["eerste", "wijziging", "correctie"]
    leeftijd: int  # 16 or 17 (the schema's enum)


class Vergeten(TypedDict):
    """cbs.vergeten.v1, inspectie.vergeten.v1: the registry forgot the person
    behind this pseudonym (retention); delete what you hold of them"""

    pseudoniem: str
    datum: str


class GemeenteVergeten(TypedDict):
    """gemeente.vergeten.v1: the registry forgot this resident"""

    bsn: str | None
    onderwijsnummer: str | None
    datum: str


class SvbVergeten(TypedDict):
    """svb.vergeten.v1: the registry forgot this person"""

    bsn: str
    datum: str


Payload = (
    CbsInschrijving
    | CbsFoto
    | InspectieInschrijving
    | InspectieFoto
    | GemeenteInschrijving
    | GemeenteVsv
    | GemeenteVerhuizing
    | GemeenteKoppeling
    | SvbKinderbijslag
    | Vergeten
    | GemeenteVergeten
    | SvbVergeten
)
