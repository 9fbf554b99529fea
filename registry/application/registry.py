"""The write side: use cases of the yearly cycle on the event-sourced aggregates.

Each use case does get → call the aggregate → save, with the recorded time `at`
passed in explicitly (the clock belongs to the caller), and translates
infrastructure errors at this edge.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    DatabaseError,
    IntegrityError,
    JSONTranscoder,
    Mapper,
    Recording,
    Transcoder,
)
from eventsourcing.utils import get_topic

from registry.application.errors import (
    ConcurrentChange,
    NotFound,
    PersonIsForgotten,
    RecordedTimeWentBack,
)
from registry.domain import ids
from registry.domain.enrolment import Enrolment
from registry.domain.foto import FotoKind, FotoRef
from registry.domain.school import School, SchoolRegistration
from registry.domain.school_year import (
    Exclusion,
    RecordedExclusion,
    SchoolYear,
    excluded_number,
)
from registry.domain.student import Student
from registry.domain.values import mask
from registry.infrastructure.event_store import (
    APPLICATION_NAME,
    CLOCK_WENT_BACK,
    RegistryRecorder,
    SideWrite,
    make_transcoder,
    register_transcodings,
)
from registry.infrastructure.person_keys import PersonForgotten
from registry.infrastructure.sealing import PERSONAL, SealingMapper, as_uuid

# Off only to measure what sealing costs (bench/encryption.py): never in use.
SEAL_PERSONAL_DATA = "SEAL_PERSONAL_DATA"

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class LoadReport:
    registered: int = 0
    changed: int = 0
    unchanged: int = 0
    events: int = 0


class Registry(Application[UUID]):
    """One application, one notification log: the ordered history of the register."""

    name = APPLICATION_NAME  # its events are in registry_events

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self._schools: set[str] = set()  # brins(): what the log held up to
        self._schools_read_to = 0
        self._schools_lock = threading.Lock()
        mapper, recorder = self.mapper, self.recorder
        assert isinstance(mapper, SealingMapper)
        # Personal data are sealed wherever the recorder keeps person keys (the
        # in-memory one of the golden-log test keeps none).
        if isinstance(recorder, RegistryRecorder):
            mapper.keys = recorder.keys
        if isinstance(recorder, RegistryRecorder) and self.env.get(
            SEAL_PERSONAL_DATA, "y"
        ).lower() not in ("n", "no", "0", "false"):
            mapper.sealer = recorder.sealer

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        register_transcodings(transcoder)

    def construct_transcoder(self) -> Transcoder:
        return make_transcoder()

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(
            transcoder=self.construct_transcoder(), mapper_class=SealingMapper
        )

    # Saving
    def save_at(
        self,
        *aggregates: Aggregate | None,
        at: datetime,
        side_writes: Sequence[SideWrite] = (),
    ) -> int | None:
        """Save with recorded time `at` and any side writes in one transaction;
        return the last notification id."""
        pending = [e for a in aggregates if a for e in a.pending_events]
        if any(e.timestamp != at for e in pending):
            raise ValueError("every event of one save carries the save's recorded time")
        try:
            if not pending:
                if side_writes:
                    self._recorder.write_without_events(at, side_writes)
                return None
            recordings = self._save_aggregates(
                [a for a in aggregates if a], recorded_at=at, side_writes=side_writes
            )
        except IntegrityError:
            raise ConcurrentChange(
                "another writer changed the same record first; nothing was recorded"
            ) from None
        except PersonForgotten as e:
            raise PersonIsForgotten(str(e)) from None
        except DatabaseError as e:
            if getattr(e.__cause__, "sqlstate", None) == CLOCK_WENT_BACK:
                raise RecordedTimeWentBack(str(e).splitlines()[0]) from None
            raise
        return recordings[-1].notification.id if recordings else None

    def _save_aggregates(
        self, aggregates: list[Aggregate], **kwargs: Any
    ) -> list[Recording[UUID]]:
        """Application.save() without its per-object runtime Protocol checks, which
        cost more than encoding the events in a delivery of many thousands."""
        processing = ProcessingEvent[UUID]()
        for aggregate in aggregates:
            processing.events.extend(aggregate.collect_events())
            processing.aggregates[aggregate.id] = aggregate
        processing.saved_kwargs.update(kwargs)
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        return recordings

    def save_in_batches(
        self, aggregates: Iterable[Aggregate], at: datetime, batch_size: int
    ) -> int:
        """Bulk use cases: one transaction per batch, not per aggregate."""
        batch: list[Aggregate] = []
        saved = 0
        for aggregate in aggregates:
            batch.append(aggregate)
            if len(batch) >= batch_size:
                self.save_at(*batch, at=at)
                saved += len(batch)
                batch = []
        if batch:
            self.save_at(*batch, at=at)
            saved += len(batch)
        return saved

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Every save maps (seals) and inserts on this thread, with this save's
        new person keys only."""
        if not isinstance(self.recorder, RegistryRecorder):
            return super()._record(processing_event)
        with self.recorder.keys.saving():
            return super()._record(processing_event)

    @property
    def _recorder(self) -> RegistryRecorder:
        assert isinstance(self.recorder, RegistryRecorder)
        return self.recorder

    def last_recorded_at(self) -> datetime | None:
        """The recorded time of the last save (None: nothing recorded yet)."""
        return self._recorder.last_recorded_at()

    def get_many(
        self, ids: Iterable[UUID], as_of: datetime | None = None
    ) -> dict[UUID, Aggregate]:
        """Many aggregates from one query (bulk intake), not one query each; with
        `as_of`, as they stood at that recorded time (read-only copies)."""
        aggregates: dict[UUID, Aggregate] = {}
        found = self._recorder.select_events_many(sorted(set(ids)))
        # The keys of the people among them in one query, not one a person;
        # none asked for when there are none (a school, its years).
        self._recorder.keys.prefetch(
            {as_uuid(s.originator_id) for s in found if s.topic in PERSONAL}
        )
        for stored in found:
            event = self.mapper.to_domain_event(stored)
            assert isinstance(event, Aggregate.Event)  # the registry stores no other
            if as_of is not None and event.timestamp > as_of:
                continue  # versions are in order: none after this one counts
            aggregate = event.mutate(aggregates.get(event.originator_id))
            assert aggregate is not None
            aggregates[event.originator_id] = aggregate
        return aggregates

    def _get(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        assert isinstance(aggregate, cls)
        return aggregate

    # Participation: schools, vestigingen, licences
    def load_schools(
        self,
        registrations: Sequence[SchoolRegistration],
        at: datetime,
        batch_size: int = 500,
    ) -> LoadReport:
        counts = {"registered": 0, "changed": 0, "unchanged": 0, "events": 0}
        touched: dict[str, School] = {}
        for reg in registrations:
            school = touched.get(reg.brin) or self._get(School, ids.school_id(reg.brin))
            if school is None:
                school = School.register(reg, at)
                counts["registered"] += 1
            else:
                before = len(school.pending_events)
                school.revise(reg, at)
                counts[
                    "changed" if len(school.pending_events) > before else "unchanged"
                ] += 1
            touched[reg.brin] = school
        counts["events"] = sum(len(s.pending_events) for s in touched.values())
        self.save_in_batches(touched.values(), at, batch_size)
        return LoadReport(**counts)

    def brins(self, page: int = 1000) -> list[str]:
        """Every registered school's BRIN, read from its registration events.

        Each call reads on from the head the last one saw: there is no index on
        topics, so reading the whole log for a few hundred events scanned
        millions of rows, for every milestone of the national demo. The head
        is a safe place to stop: events are committed in position order."""
        with self._schools_lock:
            head = self.recorder.max_notification_id() or 0
            after, topic = self._schools_read_to, get_topic(School.Registered)
            while after < head:
                notifications = self.recorder.select_notifications(
                    start=after,
                    limit=page,
                    stop=head,
                    topics=[topic],
                    inclusive_of_start=False,
                )
                for n in notifications:
                    registered = self.mapper.to_domain_event(n)
                    assert isinstance(registered, School.Registered)
                    self._schools.add(registered.brin)
                after = notifications[-1].id if len(notifications) == page else head
            self._schools_read_to = max(self._schools_read_to, head)
            return sorted(self._schools)

    def school(self, brin: str) -> School:
        school = self._get(School, ids.school_id(brin))
        if school is None:
            raise NotFound(f"school {brin} is not registered")
        return school

    # Registration lifecycle of a school year
    def school_year(self, brin: str, schooljaar: str) -> SchoolYear | None:
        return self._get(SchoolYear, ids.school_year_id(brin, schooljaar))

    def school_year_for_update(
        self, brin: str, schooljaar: str, at: datetime
    ) -> SchoolYear:
        """The school's registration in the year, opened (not yet saved) when it
        has none; NotFound for a school that is not registered."""
        self.school(brin)
        year = self.school_year(brin, schooljaar)
        return year or SchoolYear.open(brin, schooljaar, at)

    def declare_complete(self, brin: str, schooljaar: str, at: datetime) -> SchoolYear:
        year = self.school_year_for_update(brin, schooljaar, at)
        year.declare_complete(at)
        self.save_at(year, at=at)
        return year

    def stop_mutations(
        self, brin: str, schooljaar: str, at: datetime, *, on_request: bool = True
    ) -> SchoolYear:
        year = self.school_year_for_update(brin, schooljaar, at)
        year.stop_mutations(at, on_request=on_request)
        self.save_at(year, at=at)
        return year

    def record_foto(
        self,
        kind: FotoKind,
        brin: str,
        schooljaar: str,
        foto: FotoRef,
        at: datetime,
        side_writes: Sequence[SideWrite] = (),
    ) -> SchoolYear:
        year = self.school_year_for_update(brin, schooljaar, at)
        year.record_snapshot(kind, foto, at)
        self.save_at(year, at=at, side_writes=side_writes)
        return year

    def report_assurance(
        self,
        brin: str,
        schooljaar: str,
        batches: list[int],
        exclusions: list[Exclusion],
        at: datetime,
    ) -> SchoolYear:
        year = self.school_year_for_update(brin, schooljaar, at)
        year.report_assurance(batches, self._excluded(exclusions), at)
        self.save_at(year, at=at)
        return year

    def _excluded(self, exclusions: list[Exclusion]) -> list[RecordedExclusion]:
        """Each exclusion by the id of the student its number names; a number
        the registry does not hold cannot be excluded from anything."""
        numbers = [excluded_number(e["leerling"]) for e in exclusions]
        found = self.student_ids(numbers)
        unknown = [n for n in numbers if n not in found]
        if unknown:
            raise NotFound(
                f"the assurance report excludes {len(unknown)} student(s) the "
                f"registry does not hold, e.g. {mask(unknown[0])}"
            )
        return [
            {"student_id": found[n], "reden": e["reden"]}
            for n, e in zip(numbers, exclusions, strict=True)
        ]

    # Students
    def student_ids(self, numbers: Iterable[str]) -> dict[str, UUID]:
        """The id of each number's student (none for a number never registered
        or forgotten): only the registry's number table links them."""
        return self._recorder.numbers.ids_of(numbers)

    def student(self, number: str) -> Student | None:
        found = self.student_ids([number]).get(number)
        return None if found is None else self._get(Student, found)

    def forgotten_numbers(self) -> dict[str, UUID]:
        """Numbers of people forgotten whose entries in the issued fotos and
        intake's tables may still show (until `numbers_redacted`)."""
        return self._recorder.numbers.pending()

    def numbers_redacted(self, numbers: Iterable[str]) -> None:
        """Their entries are redacted everywhere: the last link goes."""
        self._recorder.numbers.redacted(numbers)

    def index_student_numbers(self, page: int = 1000) -> int:
        """Rows of `student_numbers` for students registered before it existed
        (their ids are uuid5s): from the log, skipping the forgotten; how many.
        Idempotent, and a no-op once the table holds anyone."""
        numbers = self._recorder.numbers
        if numbers.any():
            return 0
        indexed = 0
        registered = self._recorder.originators(get_topic(Student.Registered))
        for start in range(0, len(registered), page):
            found = self.get_many(registered[start : start + page])
            rows = {
                s.number: s.id
                for s in found.values()
                if isinstance(s, Student) and s.forgotten is None
            }
            numbers.index(rows)
            indexed += len(rows)
        return indexed

    def record_residences(
        self,
        residences: Sequence[tuple[str, str | None]],
        at: datetime,
        page: int = 1000,
    ) -> int:
        """The register's municipality for each (BSN, gemeente) whose person the
        registry knows; the person behind a linked BSN gets it. Idempotent (an
        unchanged residence records nothing), so a load run again after a crash
        completes what the crash left."""
        recorded = 0
        for start in range(0, len(residences), page):
            chunk = dict(residences[start : start + page])
            found = self.get_many(self.student_ids(chunk).values())
            people = self.get_many(
                s.person_id
                for s in found.values()
                if isinstance(s, Student) and s.person_id is not None
            )
            changed: dict[UUID, Aggregate] = {}
            for student in found.values():
                assert isinstance(student, Student)
                person = people.get(student.person_id) if student.person_id else student
                assert isinstance(person, Student)
                person.record_residence(chunk[student.number], at)
                if person.pending_events:
                    changed[person.id] = person
            if changed:
                self.save_at(*changed.values(), at=at)
                recorded += len(changed)
        return recorded

    # Enrolment mutations (T/A/U/V)
    def enrolment(
        self, student_id: UUID, brin: str, ingangsdatum: date
    ) -> Enrolment | None:
        return self._get(Enrolment, ids.enrolment_id(student_id, brin, ingangsdatum))

    # Forgetting (crypto-shredding: docs/privacy.md)
    def forget(self, student_id: UUID, at: datetime, reason: str = "retention") -> bool:
        """Forget one person: True if forgotten now, False if they already were."""
        return self.forget_many([student_id], at, reason) == 1

    def forget_many(
        self,
        student_ids: Iterable[UUID],
        at: datetime,
        reason: str = "retention",
        batch_size: int = 500,
    ) -> int:
        """Forget people (their key deleted, a Student.Forgotten recorded, in one
        transaction a batch); how many were not forgotten before."""
        ids = sorted(set(student_ids))
        return sum(
            self._forget_batch(ids[i : i + batch_size], at, reason)
            for i in range(0, len(ids), batch_size)
        )

    def _forget_batch(self, ids: list[UUID], at: datetime, reason: str) -> int:
        found = self.get_many(ids)
        unknown = [i for i in ids if not isinstance(found.get(i), Student)]
        if unknown:
            raise NotFound(f"no student {unknown[0]}")
        fresh = [
            s for s in found.values() if isinstance(s, Student) and not s.forgotten
        ]
        for student in fresh:
            student.forget(reason, at)
        keys, numbers = self._recorder.keys, self._recorder.numbers
        rows = [(s.id, at) for s in fresh]
        writes: list[SideWrite] = [
            (keys.forget_statement, rows),
            (numbers.forget_statement, [(s.id,) for s in fresh]),
        ]
        self.save_at(*fresh, at=at, side_writes=writes)
        keys.forgotten(s.id for s in fresh)
        return len(fresh)
