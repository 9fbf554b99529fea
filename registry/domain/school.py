"""School (BRIN): its vestigingen and the elementcodes each is licensed to teach."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TypedDict
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from registry.domain import elementcodes, ids
from registry.domain.errors import InvalidRegistration, SchoolUnknown
from registry.domain.values import Brin, Postcode, Vestiging


class LicenceFields(TypedDict):
    """A licence as the school's events carry it."""

    elementcode: str
    van: date
    tot: date | None


class VestigingDetails(TypedDict):
    """A vestiging as the school's events carry it (its number beside it)."""

    naam: str
    hoofdvestiging: bool
    postcode: str
    gemeente: str


@dataclass(frozen=True)
class Licence:
    elementcode: str
    van: date
    tot: date | None = None

    def as_event(self) -> LicenceFields:
        # In field order: the order of the keys in the stored event.
        return {"elementcode": self.elementcode, "van": self.van, "tot": self.tot}

    def check(self) -> None:
        # Not in __post_init__: replaying old events must not depend on today's table.
        elementcodes.lookup(self.elementcode)
        if self.tot is not None and self.tot < self.van:
            raise InvalidRegistration(
                f"licence for {self.elementcode}: tot {self.tot} before van {self.van}",
                field="licenties",
            )

    def valid_on(self, day: date) -> bool:
        return self.van <= day and (self.tot is None or day <= self.tot)


@dataclass(frozen=True)
class VestigingRegistration:
    vestiging: str
    naam: str
    hoofdvestiging: bool
    postcode: str
    gemeente: str
    licenties: tuple[Licence, ...] = ()

    def __post_init__(self) -> None:
        Vestiging(self.vestiging)
        Postcode(self.postcode)
        for licence in self.licenties:
            licence.check()

    def details(self) -> VestigingDetails:
        return {
            "naam": self.naam,
            "hoofdvestiging": self.hoofdvestiging,
            "postcode": self.postcode,
            "gemeente": self.gemeente,
        }


@dataclass(frozen=True)
class SchoolRegistration:
    """What a line of `registry schools load` says a school is."""

    brin: str
    naam: str
    gemeente: str
    vestigingen: tuple[VestigingRegistration, ...]

    def __post_init__(self) -> None:
        Brin(self.brin)
        numbers = [v.vestiging for v in self.vestigingen]
        if not numbers:
            raise InvalidRegistration(f"school {self.brin} has no vestiging")
        if len(set(numbers)) != len(numbers):
            raise InvalidRegistration(f"school {self.brin} lists a vestiging twice")
        if sum(v.hoofdvestiging for v in self.vestigingen) != 1:
            raise InvalidRegistration(
                f"school {self.brin} must have exactly one hoofdvestiging",
                field="hoofdvestiging",
            )


def _licences_state(licences: list[LicenceFields]) -> tuple[Licence, ...]:
    return tuple(Licence(**lic) for lic in licences)


class School(Aggregate):
    """A registered school. Vestigingen that leave the registration are closed."""

    class Registered(Aggregate.Created):
        brin: str
        naam: str
        gemeente: str

    class Renamed(Aggregate.Event):
        naam: str

    class MunicipalityChanged(Aggregate.Event):
        gemeente: str

    class VestigingOpened(Aggregate.Event):
        vestiging: str
        details: VestigingDetails

    class VestigingChanged(Aggregate.Event):
        vestiging: str
        details: VestigingDetails

    class VestigingClosed(Aggregate.Event):
        vestiging: str

    class LicencesChanged(Aggregate.Event):
        vestiging: str
        licences: list[LicenceFields]

    @event(Registered)
    def __init__(self, brin: str, naam: str, gemeente: str) -> None:
        self.brin = brin
        self.naam = naam
        self.gemeente = gemeente
        self.vestigingen: dict[str, VestigingDetails] = {}
        self.closed_vestigingen: set[str] = set()
        self.licences: dict[str, tuple[Licence, ...]] = {}

    @staticmethod
    def create_id(brin: str) -> UUID:
        return ids.school_id(brin)

    @classmethod
    def register(cls, registration: SchoolRegistration, at: datetime) -> School:
        school = cls._create(
            cls.Registered,
            brin=registration.brin,
            naam=registration.naam,
            gemeente=registration.gemeente,
            timestamp=at,
        )
        school.revise(registration, at)
        return school

    def revise(self, registration: SchoolRegistration, at: datetime) -> None:
        """Bring the school in line with a registration, recording only differences."""
        if registration.brin != self.brin:
            raise InvalidRegistration(
                f"registration of {registration.brin} is not {self.brin}"
            )
        if registration.naam != self.naam:
            self._rename(naam=registration.naam, timestamp=at)
        if registration.gemeente != self.gemeente:
            self._change_municipality(gemeente=registration.gemeente, timestamp=at)
        for v in registration.vestigingen:
            self._revise_vestiging(v, at)
        listed = {v.vestiging for v in registration.vestigingen}
        for number in sorted(set(self.vestigingen) - listed):
            self._close_vestiging(vestiging=number, timestamp=at)

    def _revise_vestiging(self, v: VestigingRegistration, at: datetime) -> None:
        if v.vestiging not in self.vestigingen:
            self._open_vestiging(
                vestiging=v.vestiging, details=v.details(), timestamp=at
            )
        elif self.vestigingen[v.vestiging] != v.details():
            self._change_vestiging(
                vestiging=v.vestiging, details=v.details(), timestamp=at
            )
        if self.licences.get(v.vestiging, ()) != v.licenties:
            rows = [lic.as_event() for lic in v.licenties]
            self._change_licences(vestiging=v.vestiging, licences=rows, timestamp=at)

    @event(Renamed)
    def _rename(self, naam: str, timestamp: datetime) -> None:
        self.naam = naam

    @event(MunicipalityChanged)
    def _change_municipality(self, gemeente: str, timestamp: datetime) -> None:
        self.gemeente = gemeente

    @event(VestigingOpened)
    def _open_vestiging(
        self, vestiging: str, details: VestigingDetails, timestamp: datetime
    ) -> None:
        self.vestigingen[vestiging] = details.copy()
        self.closed_vestigingen.discard(vestiging)

    @event(VestigingChanged)
    def _change_vestiging(
        self, vestiging: str, details: VestigingDetails, timestamp: datetime
    ) -> None:
        self.vestigingen[vestiging] = details.copy()

    @event(VestigingClosed)
    def _close_vestiging(self, vestiging: str, timestamp: datetime) -> None:
        del self.vestigingen[vestiging]
        self.licences.pop(vestiging, None)
        self.closed_vestigingen.add(vestiging)

    @event(LicencesChanged)
    def _change_licences(
        self, vestiging: str, licences: list[LicenceFields], timestamp: datetime
    ) -> None:
        self.licences[vestiging] = _licences_state(licences)

    def check_vestiging(self, vestiging: str) -> None:
        if vestiging not in self.vestigingen:
            state = "closed" if vestiging in self.closed_vestigingen else "unknown"
            raise SchoolUnknown(
                f"vestiging {vestiging!r} of brin {self.brin} is {state}",
                field="vestiging",
            )

    def is_licensed(self, vestiging: str, elementcode: str, on: date) -> bool:
        return any(
            lic.elementcode == elementcode and lic.valid_on(on)
            for lic in self.licences.get(vestiging, ())
        )

    @property
    def hoofdvestiging(self) -> str:
        return next(n for n, d in self.vestigingen.items() if d["hoofdvestiging"])
