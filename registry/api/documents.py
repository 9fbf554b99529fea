"""What the routes answer, as pydantic models for the OpenAPI document only.

The routes return the documents as dicts (stored feedback and fotos keep their
key order, and a snapshot of 11,000 entries is not validated field by field):
these models describe them, field by field, with the texts of contract.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from registry.api.schemas import absent

Soort = Literal["peiling", "voorlopig", "actueel", "definitief"]
Ernst = Literal["A", "S"]

_NUMBER = (
    "the student number: the BSN or else the onderwijsnummer; `vergeten:<id>` "
    "for a person whose data were removed"
)


class StudentRef(BaseModel):
    """A student by number (a document's `leerling`)."""

    bsn: str | None = Field(description="burgerservicenummer, 9 digits")
    onderwijsnummer: str | None = Field(
        description="onderwijsnummer, for a student without a BSN (with `bsn` as "
        "well for a person under an onderwijsnummer who has a BSN linked)"
    )
    vergeten: Literal[True] | SkipJsonSchema[None] = absent(
        "issued fotos only: the person's data were removed since; both numbers "
        "then read null"
    )


# Feedback, bron-vo-terugkoppeling/1


class FeedbackSignal(BaseModel):
    code: str = Field(
        description="three characters: a real BRON code, or an `X` code for the "
        "registry's own rules (contract.md, signal codes)"
    )
    ernst: Ernst = Field(description="`A` rejection, `S` attention")
    tekst: str = Field(description="names the field and the value at fault")


class FeedbackRecord(BaseModel):
    """A record's verdict."""

    meldingnummer: int = Field(description="the record's number in the batch")
    status: Literal["G", "A", "W"] = Field(
        description="`G` accepted, `A` rejected (nothing recorded for it), `W` "
        "waiting: the identity check is pending with the population register; it "
        "is resolved later and the feedback updated"
    )
    leerling: StudentRef = Field(
        description="as delivered, or with the number the registry found or "
        "issued; `vergeten` for the numbers of a person whose data were removed"
    )
    signalen: list[FeedbackSignal] = Field(description="zero or more")


class Feedback(BaseModel):
    """A batch's feedback (`bron-vo-terugkoppeling/1`)."""

    format: Literal["bron-vo-terugkoppeling/1"]
    brin: str = Field(description="the batch's BRIN")
    aanleverpunt: int = Field(description="the batch's aanleverpunt, 0-99")
    batchnummer: int = Field(description="the batch's number, 1-999")
    schooljaar: str = Field(description="the batch's school year, `YYYY-YYYY+1`")
    ontvangen: int = Field(description="records received")
    goedgekeurd: int = Field(description="records with status G")
    afgekeurd: int = Field(description="records with status A")
    wachtend: int = Field(description="records with status W")
    meldingen: list[FeedbackRecord] = Field(description="by meldingnummer")


# Snapshots and fotos, bron-vo-foto/1


class FotoEnrolment(BaseModel):
    """An enrolment period valid on the peildatum, with its funding verdict."""

    leerling: StudentRef
    vestiging: str = Field(description="two digits")
    elementcode: str = Field(description="four digits")
    leerjaar: int
    ingangsdatum: str = Field(description="start date, `YYYY-MM-DD`")
    einddatum: str | None = Field(description="end date, `YYYY-MM-DD`, or none")
    bekostigd: bool = Field(description="funded")
    redenen: list[str] = Field(
        description="why not funded, as signal codes: X121 unlicensed on the "
        "peildatum, X130 another enrolment of the student is funded, X151 "
        "missing LWOO/PRO indication, X160 unauthorised absence; empty if funded"
    )


class Foto(BaseModel):
    format: Literal["bron-vo-foto/1"]
    soort: Soort = Field(
        description="`peiling` (an ad-hoc query), `voorlopig`, `actueel`, `definitief`"
    )
    brin: str
    schooljaar: str = Field(description="`YYYY-YYYY+1`")
    peildatum: str = Field(
        description="valid time: the date asked about, `YYYY-MM-DD`; for a "
        "count-date snapshot 1 October of the school year"
    )
    stand_per: str = Field(
        description="recorded time: the registry's knowledge as it stood at that "
        "moment (ISO 8601, UTC)"
    )
    controletotaal: int = Field(
        description="every enrolment valid on the peildatum (the whole answer)"
    )
    bekostigd: int = Field(description="of those, the funded ones")
    inschrijvingen: list[FotoEnrolment] = Field(
        description="sorted by student number (the BSN or onderwijsnummer as a "
        "string), then vestiging, then ingangsdatum"
    )


class Snapshot(Foto):
    """Who was enrolled on the peildatum as known at stand_per (soort `peiling`),
    one page of it."""

    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null on the last page"
    )


class IssuedFoto(Foto):
    """A foto issued at a milestone of the school year, content-hashed."""

    versie: int = Field(description="1 for the first foto of this soort, then up")
    hash: str = Field(
        description="sha256 (hex) the foto was issued with, recorded in the "
        "school year's event"
    )


class ChangeState(BaseModel):
    """A period on one side of a diff."""

    vestiging: str
    elementcode: str
    leerjaar: int
    einddatum: str | None = Field(description="`YYYY-MM-DD` or none")
    bekostigd: bool
    redenen: list[str] = Field(description="why not funded, as signal codes")


class ChangeCause(BaseModel):
    positie: int = Field(description="the event's position in the log")
    event: str = Field(description="the event's class, e.g. `Enrolment.Ended`")


class FotoChange(BaseModel):
    leerling: str = Field(description=_NUMBER)
    ingangsdatum: str = Field(description="the period's start date, `YYYY-MM-DD`")
    voor: ChangeState | None = Field(description="at `van`; none if it entered")
    na: ChangeState | None = Field(description="at `naar`; none if it left")
    oorzaak: list[ChangeCause] = Field(
        description="the events between the two sides that touch the student's "
        "periods, the licence the verdict depends on or the student's exclusions"
    )


class FotoDiff(BaseModel):
    """What changed between two fotos, or a foto and now; each list by student
    number."""

    brin: str
    schooljaar: str
    van: str = Field(description="`soort:versie` or `now`")
    naar: str = Field(description="`soort:versie` or `now`")
    ingestroomd: list[FotoChange] = Field(description="periods that entered")
    uitgestroomd: list[FotoChange] = Field(description="periods that left")
    gewijzigd: list[FotoChange] = Field(description="periods whose verdict changed")
    gegevens_gewijzigd: list[FotoChange] = Field(
        description="periods whose data changed under the same verdict (e.g. an "
        "einddatum after the peildatum)"
    )


class ListedSignal(BaseModel):
    """A current attention signal of the school."""

    code: str = Field(description="X121, X130, X131, X132 or X150 (contract.md)")
    leerling: str = Field(description=_NUMBER)
    tekst: str = Field(description="what raised it")


class FundingLine(BaseModel):
    post: str = Field(description="e.g. `hoofdvestiging`, `leerling onderbouw`")
    aantal: int
    tarief: str = Field(description="euros, a decimal string with cents")
    bedrag: str = Field(description="aantal × tarief, rounded half up to cents")


class FundingPeriods(BaseModel):
    bekostigd: int = Field(description="funded periods")
    niet_bekostigd: int = Field(description="periods not funded")
    niet_bekostigd_per_reden: dict[str, int] = Field(
        description="per signal code (`(geen reden)` for none); a period with "
        "several reasons counts under each"
    )


class FundingStatement(BaseModel):
    """Funding (bekostiging) of a school year from its latest definitief foto,
    else (provisionally) its latest voorlopig one; 2022 amounts."""

    grondslag: Literal["definitief", "voorlopig (provisional)"]
    brin: str
    schooljaar: str
    soort: Literal["voorlopig", "definitief"] = Field(description="the foto's soort")
    peildatum: str | None = Field(description="the foto's peildatum")
    regels: list[FundingLine] = Field(description="every post, also with aantal 0")
    totaal: str = Field(description="the sum of the lines, euros")
    perioden: FundingPeriods


class Enrolment(BaseModel):
    brin: str
    leerling: StudentRef
    vestiging: str
    elementcode: str
    ingangsdatum: str = Field(description="`YYYY-MM-DD`")


class Enrolments(BaseModel):
    """One page of every enrolment in the country valid on a date."""

    valid_on: str = Field(description="`YYYY-MM-DD`")
    total: int = Field(description="enrolments in the whole answer")
    enrolments: list[Enrolment] = Field(
        description="by student number, vestiging, ingangsdatum, then BRIN"
    )
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null on the last page"
    )


class ProjectionStatus(BaseModel):
    name: str
    version: int
    schema_: str = Field(alias="schema", description="its PostgreSQL schema")
    position: int = Field(description="the last log position applied")
    head: int = Field(description="the log's head (or where a rebuild stops)")
    live: bool = Field(description="the schema readers use")
    updated_at: datetime
    upto: int | None = Field(description="a rebuild's last position, or none")
    failed_at: int | None = Field(description="the event it could not apply")
    failure: str | None = Field(description="why it stopped")
    lag: int = Field(description="head - position, at least 0")


class AuditRead(BaseModel):
    """A recorded read of personal data (no number, name or birth date)."""

    at: datetime
    login: str
    role: str
    route: str = Field(description="method and route, e.g. `GET /v1/enrolments`")
    brin: str | None
    subject: UUID | None = Field(
        description="the student's internal id when the answer showed one student"
    )
    rows: int = Field(description="rows of students shown")


DOCUMENTS: tuple[type[BaseModel], ...] = (
    Feedback,
    Snapshot,
    IssuedFoto,
    FotoDiff,
    ListedSignal,
    FundingStatement,
    Enrolments,
    ProjectionStatus,
    AuditRead,
)
