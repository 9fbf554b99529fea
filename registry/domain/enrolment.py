"""Enrolment period: one student at one BRIN from an ingangsdatum (T/A/U/V)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TypedDict
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from registry.domain import ids
from registry.domain.creation import created
from registry.domain.errors import EnrolmentExists, EnrolmentUnknown, InvalidPeriod


class TermsFields(TypedDict):
    """A period's terms as its events carry them."""

    vestiging: str
    elementcode: str
    leerjaar: int
    jaren_pro: int | None
    einddatum: date | None


class SourceFields(TypedDict):
    """A fact's source as the enrolment events carry it."""

    brin: str
    aanleverpunt: int
    schooljaar: str
    batchnummer: int
    meldingnummer: int
    accountant: bool


@dataclass(frozen=True)
class PeriodTerms:
    """What an `A` may change about a period; the start date is its identity."""

    vestiging: str
    elementcode: str
    leerjaar: int
    jaren_pro: int | None = None
    einddatum: date | None = None

    def check_against(self, ingangsdatum: date) -> None:
        if self.einddatum is not None and self.einddatum < ingangsdatum:
            raise InvalidPeriod(
                f"einddatum {self.einddatum} is before ingangsdatum {ingangsdatum}",
                field="einddatum",
            )

    def as_event(self) -> TermsFields:
        # In field order: the order of the keys in the stored event.
        return {
            "vestiging": self.vestiging,
            "elementcode": self.elementcode,
            "leerjaar": self.leerjaar,
            "jaren_pro": self.jaren_pro,
            "einddatum": self.einddatum,
        }


@dataclass(frozen=True)
class Source:
    """Where a fact came from: the event key (brin, aanleverpunt, batch, melding)."""

    brin: str
    aanleverpunt: int
    schooljaar: str
    batchnummer: int
    meldingnummer: int
    accountant: bool = False

    def as_event(self) -> SourceFields:
        # In field order: the order of the keys in the stored event.
        return {
            "brin": self.brin,
            "aanleverpunt": self.aanleverpunt,
            "schooljaar": self.schooljaar,
            "batchnummer": self.batchnummer,
            "meldingnummer": self.meldingnummer,
            "accountant": self.accountant,
        }


REDENEN_EINDE = frozenset({"diploma", "overstap", "buitenland", "overig"})


def _reason(reden_einde: str | None, einddatum: date | None) -> str | None:
    """Why a period ended (contract.md): kept only beside an end, one of the
    contract's values."""
    if reden_einde is not None and reden_einde not in REDENEN_EINDE:
        raise InvalidPeriod(
            f"reden_einde {reden_einde!r} is not one of {sorted(REDENEN_EINDE)}",
            field="inschrijving.reden_einde",
        )
    return reden_einde if einddatum is not None else None


def covers(ingangsdatum: date, einddatum: date | None, day: date) -> bool:
    return ingangsdatum <= day and (einddatum is None or day <= einddatum)


class Enrolment(Aggregate):
    """A period; `V` deletes it (kept as a fact), a later `T` registers it again."""

    class Registered(Aggregate.Created):
        student_id: UUID
        brin: str
        ingangsdatum: date
        terms: TermsFields
        source: SourceFields

    class Amended(Aggregate.Event):
        terms: TermsFields
        source: SourceFields
        reden_einde: str | None = None  # why it ended, when the A sets an end

    class Ended(Aggregate.Event):
        einddatum: date
        source: SourceFields
        reden_einde: str | None = None  # diploma, overstap, buitenland, overig

    class Deleted(Aggregate.Event):
        source: SourceFields

    class Reregistered(Aggregate.Event):
        terms: TermsFields
        source: SourceFields

    @event(Registered)
    def __init__(
        self,
        student_id: UUID,
        brin: str,
        ingangsdatum: date,
        terms: TermsFields,
        source: SourceFields,
    ) -> None:
        self.student_id = student_id
        self.brin = brin
        self.ingangsdatum = ingangsdatum
        self.terms = PeriodTerms(**terms)
        self.deleted = False
        self.reden_einde: str | None = None

    @staticmethod
    def create_id(student_id: UUID, brin: str, ingangsdatum: date) -> UUID:
        return ids.enrolment_id(student_id, brin, ingangsdatum)

    @classmethod
    def register(
        cls,
        student_id: UUID,
        brin: str,
        ingangsdatum: date,
        terms: PeriodTerms,
        source: Source,
        at: datetime,
    ) -> Enrolment:
        terms.check_against(ingangsdatum)
        return created(
            cls,
            cls.Registered,
            cls.create_id(student_id, brin, ingangsdatum),
            at,
            student_id=student_id,
            brin=brin,
            ingangsdatum=ingangsdatum,
            terms=terms.as_event(),
            source=source.as_event(),
        )

    @property
    def einddatum(self) -> date | None:
        return self.terms.einddatum

    def covers(self, day: date) -> bool:
        return not self.deleted and covers(self.ingangsdatum, self.einddatum, day)

    def reregister(self, terms: PeriodTerms, source: Source, at: datetime) -> None:
        if not self.deleted:
            raise EnrolmentExists(
                f"a period from {self.ingangsdatum} at {self.brin} already exists",
                field="inschrijving.ingangsdatum",
            )
        terms.check_against(self.ingangsdatum)
        self._reregister(terms=terms.as_event(), source=source.as_event(), timestamp=at)

    def amend(
        self,
        terms: PeriodTerms,
        source: Source,
        at: datetime,
        reden_einde: str | None = None,
    ) -> None:
        self._check_exists()
        terms.check_against(self.ingangsdatum)
        self._amend(
            terms=terms.as_event(),
            source=source.as_event(),
            timestamp=at,
            reden_einde=_reason(reden_einde, terms.einddatum),
        )

    def end(
        self,
        einddatum: date,
        source: Source,
        at: datetime,
        reden_einde: str | None = None,
    ) -> None:
        self._check_exists()
        replace(self.terms, einddatum=einddatum).check_against(self.ingangsdatum)
        self._end(
            einddatum=einddatum,
            source=source.as_event(),
            timestamp=at,
            reden_einde=_reason(reden_einde, einddatum),
        )

    def delete(self, source: Source, at: datetime) -> None:
        self._check_exists()
        self._delete(source=source.as_event(), timestamp=at)

    def _check_exists(self) -> None:
        if self.deleted:
            raise EnrolmentUnknown(
                f"no period from {self.ingangsdatum} at {self.brin} for this student",
                field="inschrijving.ingangsdatum",
            )

    @event(Reregistered)
    def _reregister(
        self, terms: TermsFields, source: SourceFields, timestamp: datetime
    ) -> None:
        self.terms = PeriodTerms(**terms)
        self.deleted = False
        self.reden_einde = None

    @event(Amended)
    def _amend(
        self,
        terms: TermsFields,
        source: SourceFields,
        timestamp: datetime,
        reden_einde: str | None = None,
    ) -> None:
        self.terms = PeriodTerms(**terms)
        self.reden_einde = reden_einde

    @event(Ended)
    def _end(
        self,
        einddatum: date,
        source: SourceFields,
        timestamp: datetime,
        reden_einde: str | None = None,
    ) -> None:
        self.terms = replace(self.terms, einddatum=einddatum)
        self.reden_einde = reden_einde

    @event(Deleted)
    def _delete(self, source: SourceFields, timestamp: datetime) -> None:
        self.deleted = True
