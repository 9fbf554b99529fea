"""The event store on real PostgreSQL: round trip, conflicts, replay, bulk, clock."""

from __future__ import annotations

import threading
from datetime import date

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from registry.application.errors import ConcurrentChange, RecordedTimeWentBack
from registry.application.registry import Registry
from registry.bootstrap import Runtime
from registry.config import Settings
from registry.domain.school import School
from registry.domain.school_year import SchoolYear
from registry.domain.student import KeyData, Student
from registry.domain.values import Bsn, Onderwijsnummer
from registry.infrastructure.event_store import RegistryRecorder, event_store_env
from tests.conftest import utc
from tests.factories import SJ, school
from tests.intake_helpers import ANNA, batch, period, prepare, rec, student, student_id


def second_registry(runtime: Runtime, settings: Settings) -> Registry:
    return Registry(env=event_store_env(runtime.database_url, settings))


def test_round_trip_and_replay_yield_the_same_state(
    runtime: Runtime, settings: Settings
) -> None:
    reg = runtime.registry
    prepare(runtime)
    runtime.intake.submit(batch(rec(1, student(ANNA))), utc(2026, 8, 2))
    amended = rec(1, student(ANNA), "A", inschrijving=period(leerjaar=2))
    runtime.intake.submit(batch(amended, number=2), utc(2026, 8, 3))
    reg.declare_complete("01OE", SJ, utc(2026, 10, 1))
    sid = student_id(runtime, ANNA["bsn"])

    other = second_registry(runtime, settings)  # no cache: everything from the log
    try:
        for aggregate_id in (
            School.create_id("01OE"),
            sid,
            SchoolYear.create_id("01OE", SJ),
        ):
            assert other.repository.get(aggregate_id) == reg.repository.get(
                aggregate_id
            )
        enrolment = other.enrolment(sid, "01OE", date(2026, 8, 1))
        assert enrolment is not None and enrolment.terms.leerjaar == 2
        assert enrolment.modified_on == utc(2026, 8, 3)
    finally:
        other.close()


def test_two_writers_on_one_aggregate_one_wins_one_gets_a_conflict(
    runtime: Runtime, settings: Settings
) -> None:
    reg = runtime.registry
    reg.load_schools([school()], utc(2026, 7, 1))
    reg.declare_complete("01OE", SJ, utc(2026, 10, 1))
    other = second_registry(runtime, settings)
    try:
        a = reg.school_year("01OE", SJ)
        b = other.school_year("01OE", SJ)
        assert a is not None and b is not None
        a.record_provisional_snapshot({"hash": "a"}, utc(2026, 11, 15))
        b.record_provisional_snapshot({"hash": "b"}, utc(2026, 11, 15))
        reg.save_at(a, at=utc(2026, 11, 15))
        with pytest.raises(ConcurrentChange):
            other.save_at(b, at=utc(2026, 11, 15))
        stored = other.school_year("01OE", SJ)
        assert stored is not None and stored.fotos["voorlopig"] == [{"hash": "a"}]
    finally:
        other.close()


def test_recorded_time_never_goes_back_and_a_refusal_records_nothing(
    runtime: Runtime,
) -> None:
    reg = runtime.registry
    reg.load_schools([school()], utc(2026, 8, 1))
    head = reg.recorder.max_notification_id()
    with pytest.raises(RecordedTimeWentBack, match="before the last recorded time"):
        reg.declare_complete("01OE", SJ, utc(2026, 7, 31))
    assert reg.recorder.max_notification_id() == head
    assert reg.school_year("01OE", SJ) is None
    reg.declare_complete("01OE", SJ, utc(2026, 8, 1))  # the same instant is fine


def test_a_batched_save_of_10000_aggregates(runtime: Runtime) -> None:
    at = utc(2026, 8, 1)
    key = KeyData(date(2013, 5, 17), "M", postcode="9711AB")
    numbers = [n for s in range(11_500) if (n := Onderwijsnummer.from_serial(s))][
        :10_000
    ]
    students = (Student.register(n, key, at, issued=True) for n in numbers)
    saved = runtime.registry.save_in_batches(students, at, batch_size=1000)
    assert saved == 10_000
    assert runtime.registry.recorder.max_notification_id() == 10_000
    again = runtime.registry.student(str(numbers[-1]))
    assert again is not None and again.issued


def test_repeating_a_fact_is_detected_not_duplicated(runtime: Runtime) -> None:
    reg = runtime.registry
    key = KeyData(date(2013, 5, 17), "V", postcode="9700LC")
    first = Student.register(Bsn("800000481"), key, utc(2026, 8, 1))
    reg.save_at(first, at=utc(2026, 8, 1))
    duplicate = Student.register(Bsn("800000481"), key, utc(2026, 8, 2))
    assert duplicate.id != first.id  # random ids: the number's row detects it
    with pytest.raises(ConcurrentChange):
        reg.save_at(duplicate, at=utc(2026, 8, 2))
    assert reg.student_ids(["800000481"]) == {"800000481": first.id}
    assert reg.get_many([duplicate.id]) == {}  # nothing of it was recorded


def test_the_whole_conninfo_reaches_the_event_store(
    runtime: Runtime, settings: Settings
) -> None:
    """The library builds its pool from five parameters; the rest of the URL
    (sslmode, sslrootcert, application_name, …) must not be dropped."""
    url = make_conninfo(
        runtime.database_url, application_name="registry-conninfo", sslmode="disable"
    )
    other = Registry(env=event_store_env(url, settings))
    try:
        with other.recorder.datastore.get_connection() as conn:  # type: ignore[attr-defined]
            row = conn.execute("SHOW application_name").fetchone()
        assert row is not None and row["application_name"] == "registry-conninfo"
    finally:
        other.close()


def test_the_schools_are_every_school_registered_up_to_now(
    runtime: Runtime, settings: Settings
) -> None:
    """brins() reads on from where its last call read to: a school registered
    after a call, among many other events, and one registered by another
    process, are both in the next answer."""
    reg = runtime.registry
    assert reg.brins() == []
    reg.load_schools([school("02AB"), school("01OE")], utc(2026, 7, 1))
    assert reg.brins(page=1) == ["01OE", "02AB"]
    prepare(runtime)  # more events of other kinds
    other = second_registry(runtime, settings)
    try:
        other.load_schools([school("00AA")], utc(2026, 8, 2))
        reg.load_schools([school("03CD"), school("04EF")], utc(2026, 8, 3))
        assert reg.brins(page=1) == ["00AA", "01OE", "02AB", "03CD", "04EF"]
        assert reg.brins() == other.brins() == reg.brins(page=1)
    finally:
        other.close()


def test_a_save_does_not_wait_for_a_vacuum_of_the_log(runtime: Runtime) -> None:
    """VACUUM and ANALYZE (autovacuum too) hold SHARE UPDATE EXCLUSIVE on the
    log. A save must go on beside them: with the library's EXCLUSIVE table lock
    every save waited for the autovacuum to be cancelled, and the log was never
    analysed while writers ran."""
    with psycopg.connect(runtime.database_url) as vacuum:
        vacuum.execute("LOCK TABLE registry_events IN SHARE UPDATE EXCLUSIVE MODE")
        runtime.registry.load_schools([school()], utc(2026, 7, 1))  # lock_timeout 5 s
        vacuum.rollback()
    assert runtime.registry.brins() == ["01OE"]


def test_writers_of_the_log_take_turns(runtime: Runtime) -> None:
    """A save waits while another writer holds the insert lock, so the later
    commit always gets the later notification ids."""
    recorder = runtime.registry.recorder
    assert isinstance(recorder, RegistryRecorder)
    finished = threading.Event()

    def save() -> None:
        runtime.registry.load_schools([school()], utc(2026, 7, 1))
        finished.set()

    with psycopg.connect(runtime.database_url) as writer:
        for statement in recorder.lock_table_statements:
            writer.execute(statement)
        saving = threading.Thread(target=save)
        saving.start()
        assert not finished.wait(1.0)  # held back by the other writer
        writer.commit()
    assert finished.wait(10.0)
    saving.join()
    assert runtime.registry.brins() == ["01OE"]
