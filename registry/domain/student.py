"""Student: identified by BSN or onderwijsnummer, with the key data schools deliver."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypedDict
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from registry.domain import ids
from registry.domain.creation import created
from registry.domain.errors import (
    DomainError,
    InvalidKeyValue,
    InvalidRegistration,
    KeyDataMismatch,
    ValueObjectError,
)
from registry.domain.values import (
    Bsn,
    Geslacht,
    Landcode,
    Onderwijsnummer,
    Postcode,
    check_address,
    mask,
)

# What a W record may change (contract.md).
KEY_FIELDS = frozenset({"geboortedatum", "geslacht", "postcode", "landcode"})


class KeyDataFields(TypedDict):
    """The limited set as the student's events carry it."""

    geboortedatum: date
    geslacht: str
    postcode: str | None
    landcode: str | None


class ExtendedSet(TypedDict):
    """The extended set (contract.md `leerling.uitgebreid`) as delivered."""

    achternaam: str | None
    voorvoegsel: str | None
    voornamen: str | None
    straatnaam: str | None
    huisnummer: int | None
    huisnummertoevoeging: str | None
    plaatsnaam: str | None
    buitenlands_adres: list[str] | None


class ChangeSource(TypedDict):
    """The W record a change of key data came from."""

    brin: str
    batchnummer: int
    meldingnummer: int


@dataclass(frozen=True)
class KeyData:
    """The limited set beside the number: birth date, sex, and postcode or landcode."""

    geboortedatum: date
    geslacht: str
    postcode: str | None = None
    landcode: str | None = None

    def __post_init__(self) -> None:
        # Events carry only valid key data: a replay must never meet a date
        # that does not exist or a sex other than M/V.
        if not isinstance(self.geboortedatum, date) or isinstance(
            self.geboortedatum, datetime
        ):
            raise InvalidKeyValue(
                f"geboortedatum {self.geboortedatum!r} is not a date",
                field="geboortedatum",
            )
        Geslacht.parse(self.geslacht)
        check_address(self.postcode, self.landcode)

    def as_event(self) -> KeyDataFields:
        # In field order: the order of the keys in the stored event.
        return {
            "geboortedatum": self.geboortedatum,
            "geslacht": self.geslacht,
            "postcode": self.postcode,
            "landcode": self.landcode,
        }

    def replace(self, changes: Mapping[str, Any]) -> KeyData:
        """The key data with a W's new values, each checked: a malformed one is
        refused with X106 (contract.md)."""
        changes = {f: _new_value(f, v) for f, v in changes.items()}
        merged = {**self.__dict__, **changes}
        if "postcode" in changes and changes["postcode"] is not None:
            merged["landcode"] = None
        if "landcode" in changes and changes["landcode"] is not None:
            merged["postcode"] = None
        return KeyData(**merged)


def _new_value(field: str, value: Any) -> Any:
    """A W's new value as the key data hold it, or InvalidKeyValue (X106)."""
    try:
        if field == "geboortedatum":
            if isinstance(value, datetime) or not isinstance(value, str | date):
                raise ValueError
            return value if isinstance(value, date) else _iso_date(value)
        if field == "geslacht":
            return str(Geslacht.parse(value if isinstance(value, str) else ""))
        if value is not None and not isinstance(value, str):
            raise ValueError
        if field == "postcode" and value is not None:
            Postcode(value)
        if field == "landcode" and value is not None:
            Landcode(value)
    except (ValueError, ValueObjectError):
        raise InvalidKeyValue(
            f"wijziging.nieuw.{field}: {value!r} is not a valid {field}", field=field
        ) from None
    return value


def _iso_date(text: str) -> date:
    """Exactly YYYY-MM-DD of a real date."""
    if len(text) != 10:
        raise ValueError(text)
    return date.fromisoformat(text)


def _old_value(value: Any) -> Any:
    """A W's old value as registered values compare with it (a date as a date)."""
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


class Student(Aggregate):
    """A student known to the register. `issued` marks a number the register issued."""

    class Registered(Aggregate.Created):
        number: str
        kind: str
        issued: bool
        key: KeyDataFields
        extended: ExtendedSet | None

    class KeyDataChanged(Aggregate.Event):
        old: KeyDataFields
        new: KeyDataFields
        source: ChangeSource

    class ExtendedSetRecorded(Aggregate.Event):
        extended: ExtendedSet

    class BsnLinked(Aggregate.Event):
        """A person registered under an issued onderwijsnummer has a BSN now."""

        bsn: str

    class ResidenceRecorded(Aggregate.Event):
        """The population register names this municipality (lower-case GM code)
        as the person's residence, or none (moved abroad, or not registered)."""

        gemeente: str | None

    class LinkedTo(Aggregate.Event):
        """This number belongs to the person registered as `person_id`: its
        periods, signals and funding are that person's."""

        person_id: UUID

    class Forgotten(Aggregate.Event):
        """The person's personal data were erased (their key deleted, see
        docs/privacy.md): their events still say what happened, not to whom.
        Holds no personal data, only why (e.g. "retention")."""

        reason: str

    @event(Registered)
    def __init__(
        self,
        number: str,
        kind: str,
        issued: bool,
        key: KeyDataFields,
        extended: ExtendedSet | None,
    ) -> None:
        self.number = number
        self.kind = kind
        self.issued = issued
        self.key = key.copy()
        self.extended = extended.copy() if extended else None
        self.linked_bsn: str | None = None  # the BSN of an onderwijsnummer's person
        self.person_id: UUID | None = None  # of a number that is another's alias
        self.gemeente: str | None = None  # residence per the population register
        self.forgotten: str | None = None  # the reason, once forgotten

    @staticmethod
    def create_id(number: str) -> UUID:
        """Random: nothing outside the registry's number table links a number
        to its stream (registry.domain.ids)."""
        return ids.new_student_id()

    @classmethod
    def register(
        cls,
        number: Bsn | Onderwijsnummer,
        key: KeyData,
        at: datetime,
        *,
        issued: bool = False,
        extended: ExtendedSet | None = None,
        student_id: UUID | None = None,
    ) -> Student:
        """`student_id`: only to reproduce a stream stored before (random ids)."""
        kind = "bsn" if isinstance(number, Bsn) else "onderwijsnummer"
        text = str(number)
        return created(
            cls,
            cls.Registered,
            student_id or cls.create_id(text),
            at,
            number=text,
            kind=kind,
            issued=issued,
            key=key.as_event(),
            extended=extended,
        )

    @property
    def key_data(self) -> KeyData:
        return KeyData(**self.key)

    def key_change_errors(
        self, old: Mapping[str, Any], new: Mapping[str, Any]
    ) -> list[DomainError]:
        """Every fault of a `W` record (old and new as delivered): fields other
        than the key data (X105), old values that are not the registered ones
        (X105), a new value that is malformed or leaves the key invalid (X106,
        790)."""
        unknown = sorted((set(old) | set(new)) - KEY_FIELDS)
        if unknown:
            return [
                KeyDataMismatch(
                    f"cannot change {', '.join(unknown)}", field="wijziging"
                )
            ]
        current = self.key_data.as_event()
        errors: list[DomainError] = []
        differing = sorted(f for f, v in old.items() if current.get(f) != _old_value(v))
        if differing:
            errors.append(
                KeyDataMismatch(
                    "old value of "
                    + ", ".join(differing)
                    + " differs from the registered one",
                    field="wijziging.oud",
                )
            )
        try:
            self.key_data.replace(new)
        except DomainError as e:
            errors.append(e)
        return errors

    def change_key_data(
        self,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        source: ChangeSource,
        at: datetime,
    ) -> None:
        """A `W` record: the old values must be the registered ones, the new
        ones valid (see key_change_errors; the first fault is raised)."""
        errors = self.key_change_errors(old, new)
        if errors:
            raise errors[0]
        current = self.key_data.as_event()
        changed = self.key_data.replace(new).as_event()
        self._change_key_data(old=current, new=changed, source=source, timestamp=at)

    @event(KeyDataChanged)
    def _change_key_data(
        self,
        old: KeyDataFields,
        new: KeyDataFields,
        source: ChangeSource,
        timestamp: datetime,
    ) -> None:
        self.key = new.copy()

    @property
    def bsn(self) -> str | None:
        """The person's BSN: its own number, or the one linked to it."""
        return self.number if self.kind == "bsn" else self.linked_bsn

    def link_bsn(self, bsn: Bsn, at: datetime) -> None:
        """One person, one history (contract.md): an onderwijsnummer's person
        delivered with a BSN keeps its periods, under both numbers."""
        if self.kind != "onderwijsnummer" or self.person_id is not None:
            raise InvalidRegistration(
                f"only a person under an onderwijsnummer gets a BSN linked, not "
                f"{mask(self.number)}"
            )
        if self.linked_bsn not in (None, str(bsn)):
            raise InvalidRegistration(
                f"onderwijsnummer {mask(self.number)} is linked to another BSN"
            )
        if self.linked_bsn is None:
            self._link_bsn(bsn=str(bsn), timestamp=at)

    @event(BsnLinked)
    def _link_bsn(self, bsn: str, timestamp: datetime) -> None:
        self.linked_bsn = bsn

    def link_to(self, person: Student, at: datetime) -> None:
        """This newly registered BSN is `person`'s, who had an onderwijsnummer."""
        if self.person_id not in (None, person.id) or person.id == self.id:
            raise InvalidRegistration(f"bsn {mask(self.number)} is another person's")
        if self.person_id is None:
            self._link_to(person_id=person.id, timestamp=at)

    @event(LinkedTo)
    def _link_to(self, person_id: UUID, timestamp: datetime) -> None:
        self.person_id = person_id

    def record_extended_set(self, extended: ExtendedSet, at: datetime) -> None:
        if extended != self.extended:
            self._record_extended_set(extended=extended, timestamp=at)

    @event(ExtendedSetRecorded)
    def _record_extended_set(self, extended: ExtendedSet, timestamp: datetime) -> None:
        self.extended = extended.copy()

    def record_residence(self, gemeente: str | None, at: datetime) -> None:
        """The register's municipality of residence, when it differs from the one
        recorded (routing to municipalities follows it, not the postcode)."""
        gemeente = gemeente.lower() if gemeente else None
        if gemeente != self.gemeente:
            self._record_residence(gemeente=gemeente, timestamp=at)

    @event(ResidenceRecorded)
    def _record_residence(self, gemeente: str | None, timestamp: datetime) -> None:
        self.gemeente = gemeente

    def forget(self, reason: str, at: datetime) -> None:
        """Record that the person is forgotten (once): the caller deletes their
        key in the same transaction."""
        if self.forgotten is None:
            self._forget(reason=reason, timestamp=at)

    @event(Forgotten)
    def _forget(self, reason: str, timestamp: datetime) -> None:
        self.forgotten = reason
