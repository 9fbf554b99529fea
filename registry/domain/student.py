"""Student: identified by BSN or onderwijsnummer, with the key data schools deliver."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from registry.domain import ids
from registry.domain.errors import KeyDataMismatch
from registry.domain.values import Bsn, Geslacht, Onderwijsnummer, check_address

# What a W record may change (contract.md).
KEY_FIELDS = frozenset({"geboortedatum", "geslacht", "postcode", "landcode"})


@dataclass(frozen=True)
class KeyData:
    """The limited set beside the number: birth date, sex, and postcode or landcode."""

    geboortedatum: date
    geslacht: str
    postcode: str | None = None
    landcode: str | None = None

    def __post_init__(self) -> None:
        Geslacht.parse(self.geslacht)
        check_address(self.postcode, self.landcode)

    def as_event(self) -> dict[str, Any]:
        return dict(self.__dict__)  # flat fields: no deep copy needed

    def replace(self, changes: dict[str, Any]) -> KeyData:
        merged = self.__dict__ | changes
        if "postcode" in changes and changes["postcode"] is not None:
            merged["landcode"] = None
        if "landcode" in changes and changes["landcode"] is not None:
            merged["postcode"] = None
        return KeyData(**merged)


class Student(Aggregate):
    """A student known to the register. `issued` marks a number the register issued."""

    class Registered(Aggregate.Created):
        number: str
        kind: str
        issued: bool
        key: dict[str, Any]
        extended: dict[str, Any] | None

    class KeyDataChanged(Aggregate.Event):
        old: dict[str, Any]
        new: dict[str, Any]
        source: dict[str, Any]

    class ExtendedSetRecorded(Aggregate.Event):
        extended: dict[str, Any]

    @event(Registered)
    def __init__(
        self,
        number: str,
        kind: str,
        issued: bool,
        key: dict[str, Any],
        extended: dict[str, Any] | None,
    ) -> None:
        self.number = number
        self.kind = kind
        self.issued = issued
        self.key = dict(key)
        self.extended = dict(extended) if extended else None

    @staticmethod
    def create_id(number: str) -> UUID:
        return ids.student_id(number)

    @classmethod
    def register(
        cls,
        number: Bsn | Onderwijsnummer,
        key: KeyData,
        at: datetime,
        *,
        issued: bool = False,
        extended: dict[str, Any] | None = None,
    ) -> Student:
        kind = "bsn" if isinstance(number, Bsn) else "onderwijsnummer"
        return cls._create(
            cls.Registered,
            number=str(number),
            kind=kind,
            issued=issued,
            key=key.as_event(),
            extended=extended,
            timestamp=at,
        )

    @property
    def key_data(self) -> KeyData:
        return KeyData(**self.key)

    def change_key_data(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        source: dict[str, Any],
        at: datetime,
    ) -> None:
        """A `W` record: the old values must be the registered ones."""
        current = self.key_data.as_event()
        unknown = sorted((set(old) | set(new)) - KEY_FIELDS)
        if unknown:
            raise KeyDataMismatch(
                f"cannot change {', '.join(unknown)}", field="wijziging"
            )
        differing = sorted(f for f, v in old.items() if current.get(f) != v)
        if differing:
            raise KeyDataMismatch(
                "old value of "
                + ", ".join(differing)
                + " differs from the registered one",
                field="wijziging.oud",
            )
        changed = self.key_data.replace(new).as_event()
        self._change_key_data(old=current, new=changed, source=source, timestamp=at)

    @event(KeyDataChanged)
    def _change_key_data(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        source: dict[str, Any],
        timestamp: datetime,
    ) -> None:
        self.key = dict(new)

    def record_extended_set(self, extended: dict[str, Any], at: datetime) -> None:
        if extended != self.extended:
            self._record_extended_set(extended=extended, timestamp=at)

    @event(ExtendedSetRecorded)
    def _record_extended_set(
        self, extended: dict[str, Any], timestamp: datetime
    ) -> None:
        self.extended = dict(extended)
