"""A school's registration for one school year, from open to closed (BronStatus)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal, TypedDict
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from registry.domain import ids
from registry.domain.calendar import SchoolYearCalendar, local_day
from registry.domain.errors import IllegalTransition
from registry.domain.foto import FotoKind, FotoRef


class Stage(StrEnum):
    OPEN = "open"
    COMPLETENESS_DECLARED = "completeness_declared"
    PROVISIONAL_SNAPSHOT = "provisional_snapshot"
    MUTATION_STOPPED = "mutation_stopped"
    CURRENT_SNAPSHOT = "current_snapshot"
    ASSURANCE_REPORTED = "assurance_reported"
    FINAL_SNAPSHOT = "final_snapshot"
    CLOSED = "closed"


class ExcludedStudent(TypedDict, total=False):
    """The student an exclusion names: by exactly one of the two numbers."""

    bsn: str
    onderwijsnummer: str


Reden = Literal["verzuim", "indicatie"]


class Exclusion(TypedDict):
    """A student the assurance report says not to fund, and why, as delivered."""

    leerling: ExcludedStudent
    reden: Reden


class RecordedExclusion(TypedDict):
    """An exclusion as the event records it: the student by id, not by number.
    The event names several people, so it cannot be sealed under one person's
    key (docs/privacy.md); the id holds no number."""

    student_id: UUID
    reden: Reden


def excluded_number(who: ExcludedStudent) -> str:
    return who.get("bsn") or who.get("onderwijsnummer") or ""


def legacy_recorded(exclusion: Exclusion) -> RecordedExclusion:
    """A version-1 exclusion by the id its number had then (every student was
    named by a uuid5 of their number until ids became random)."""
    number = excluded_number(exclusion["leerling"])
    return {"student_id": ids.legacy_student_id(number), "reden": exclusion["reden"]}


_ORDER = list(Stage)
BEFORE_STOP = (Stage.OPEN, Stage.COMPLETENESS_DECLARED, Stage.PROVISIONAL_SNAPSHOT)


class SchoolYear(Aggregate):
    """The lifecycle of one BRIN's registration in one school year."""

    class Opened(Aggregate.Created):
        brin: str
        schooljaar: str

    class CompletenessDeclared(Aggregate.Event):
        declared_on: date
        late: bool

    class ProvisionalSnapshotIssued(Aggregate.Event):
        foto: FotoRef

    class MutationsStopped(Aggregate.Event):
        stopped_on: date
        on_request: bool

    class CurrentSnapshotIssued(Aggregate.Event):
        foto: FotoRef

    class AssuranceReported(Aggregate.Event):
        reported_on: date
        batches: list[int]
        exclusions: list[RecordedExclusion]
        # 2: each exclusion names the student by id; v1 stored the BSN or
        # onderwijsnummer in plaintext (`leerling`).
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["exclusions"] = [legacy_recorded(e) for e in state["exclusions"]]

    class FinalSnapshotIssued(Aggregate.Event):
        foto: FotoRef

    class Closed(Aggregate.Event):
        pass

    @event(Opened)
    def __init__(self, brin: str, schooljaar: str) -> None:
        self.brin = brin
        self.schooljaar = schooljaar
        self.stage = Stage.OPEN
        self.declared_on: date | None = None
        self.stopped_on: date | None = None
        self.fotos: dict[str, list[FotoRef]] = {}
        self.assurance_batches: list[int] = []
        self.exclusions: list[RecordedExclusion] = []

    @staticmethod
    def create_id(brin: str, schooljaar: str) -> UUID:
        return ids.school_year_id(brin, schooljaar)

    @classmethod
    def open(cls, brin: str, schooljaar: str, at: datetime) -> SchoolYear:
        SchoolYearCalendar.of(schooljaar)
        return cls._create(cls.Opened, brin=brin, schooljaar=schooljaar, timestamp=at)

    @property
    def calendar(self) -> SchoolYearCalendar:
        return SchoolYearCalendar.of(self.schooljaar)

    def _require(self, action: str, *stages: Stage) -> None:
        if self.stage not in stages:
            allowed = " or ".join(s.value for s in stages)
            raise IllegalTransition(
                f"{action} for {self.brin} {self.schooljaar} needs stage {allowed}; "
                f"it is {self.stage.value}"
            )

    # Completeness declaration (volledigheidsverklaring)
    def declare_complete(self, at: datetime) -> None:
        self._require("completeness declaration", Stage.OPEN)
        if self.mutation_stop_in_effect(local_day(at)):
            raise IllegalTransition(
                f"completeness declaration for {self.brin} {self.schooljaar} "
                f"after the mutation stop of {self.calendar.default_mutation_stop}"
            )
        late = local_day(at) > self.calendar.completeness_deadline
        self._declare(declared_on=local_day(at), late=late, timestamp=at)

    @event(CompletenessDeclared)
    def _declare(self, declared_on: date, late: bool, timestamp: datetime) -> None:
        self.declared_on = declared_on
        self.stage = Stage.COMPLETENESS_DECLARED

    # Snapshots: each kind may be issued again as a new version in its own stage.
    def record_snapshot(self, kind: FotoKind, foto: FotoRef, at: datetime) -> None:
        record = {
            FotoKind.VOORLOPIG: self.record_provisional_snapshot,
            FotoKind.ACTUEEL: self.record_current_snapshot,
            FotoKind.DEFINITIEF: self.record_final_snapshot,
        }[kind]
        record(foto, at)

    def record_provisional_snapshot(self, foto: FotoRef, at: datetime) -> None:
        self._require(
            "voorlopige foto", Stage.COMPLETENESS_DECLARED, Stage.PROVISIONAL_SNAPSHOT
        )
        if local_day(at) < self.calendar.count_date:
            raise IllegalTransition(
                f"a voorlopige foto of {self.brin} {self.schooljaar} counts "
                f"{self.calendar.count_date}: not before it"
            )
        self._provisional(foto=foto, timestamp=at)

    @event(ProvisionalSnapshotIssued)
    def _provisional(self, foto: FotoRef, timestamp: datetime) -> None:
        self.fotos.setdefault("voorlopig", []).append(foto.copy())
        self.stage = Stage.PROVISIONAL_SNAPSHOT

    def stop_mutations(self, at: datetime, *, on_request: bool) -> None:
        """On request once the voorlopige foto exists; otherwise from 1 June."""
        if on_request:
            self._require("mutation stop on request", Stage.PROVISIONAL_SNAPSHOT)
        else:
            self._require("mutation stop", *BEFORE_STOP)
            if local_day(at) < self.calendar.default_mutation_stop:
                raise IllegalTransition(
                    f"the default mutation stop for {self.schooljaar} falls on "
                    f"{self.calendar.default_mutation_stop}, not {local_day(at)}"
                )
        self._stop(stopped_on=local_day(at), on_request=on_request, timestamp=at)

    @event(MutationsStopped)
    def _stop(self, stopped_on: date, on_request: bool, timestamp: datetime) -> None:
        self.stopped_on = stopped_on
        self.stage = Stage.MUTATION_STOPPED

    def record_current_snapshot(self, foto: FotoRef, at: datetime) -> None:
        self._require("actuele foto", Stage.MUTATION_STOPPED, Stage.CURRENT_SNAPSHOT)
        self._current(foto=foto, timestamp=at)

    @event(CurrentSnapshotIssued)
    def _current(self, foto: FotoRef, timestamp: datetime) -> None:
        self.fotos.setdefault("actueel", []).append(foto.copy())
        self.stage = Stage.CURRENT_SNAPSHOT

    def report_assurance(
        self, batches: list[int], exclusions: list[RecordedExclusion], at: datetime
    ) -> None:
        """`exclusions` name the stream of each number delivered (for a number
        linked to a person under another number, the read side matches it
        through the person's linked BSN)."""
        self._require("assurance report", Stage.CURRENT_SNAPSHOT)
        self._assure(
            reported_on=local_day(at),
            batches=sorted(set(batches)),
            exclusions=[e.copy() for e in exclusions],
            timestamp=at,
        )

    @event(AssuranceReported)
    def _assure(
        self,
        reported_on: date,
        batches: list[int],
        exclusions: list[RecordedExclusion],
        timestamp: datetime,
    ) -> None:
        self.assurance_batches = list(batches)
        self.exclusions = [e.copy() for e in exclusions]
        self.stage = Stage.ASSURANCE_REPORTED

    def record_final_snapshot(self, foto: FotoRef, at: datetime) -> None:
        self._require(
            "definitieve foto", Stage.ASSURANCE_REPORTED, Stage.FINAL_SNAPSHOT
        )
        self._final(foto=foto, timestamp=at)

    @event(FinalSnapshotIssued)
    def _final(self, foto: FotoRef, timestamp: datetime) -> None:
        self.fotos.setdefault("definitief", []).append(foto.copy())
        self.stage = Stage.FINAL_SNAPSHOT

    def close(self, at: datetime) -> None:
        self._require("closing", Stage.FINAL_SNAPSHOT)
        self._close(timestamp=at)

    @event(Closed)
    def _close(self, timestamp: datetime) -> None:
        self.stage = Stage.CLOSED

    # Questions the write side asks
    def reached(self, stage: Stage) -> bool:
        return _ORDER.index(self.stage) >= _ORDER.index(stage)

    def mutation_stop_in_effect(self, on: date) -> bool:
        """Stopped on request, or 1 June has come (the stop needs no event to hold)."""
        return self.reached(Stage.MUTATION_STOPPED) or (
            on >= self.calendar.default_mutation_stop
        )

    @property
    def assured(self) -> bool:
        return self.reached(Stage.ASSURANCE_REPORTED)
