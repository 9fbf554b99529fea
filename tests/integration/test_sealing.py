"""Personal data in the log are sealed under a key per person (docs/privacy.md):
the raw rows hold none in plaintext, every reader opens them, and a key exists
exactly when its person's events do."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import psycopg
import pytest

from registry.application.errors import ConcurrentChange, RecordedTimeWentBack
from registry.application.registry import Registry
from registry.bootstrap import Runtime
from registry.config import Settings
from registry.domain.student import ExtendedSet, KeyData, Student
from registry.domain.values import Bsn
from registry.infrastructure.event_store import EVENTS_TABLE, event_store_env
from registry.projections.engine.event_log import EventLog
from registry.projections.events import STUDENT_REGISTERED
from tests.conftest import utc
from tests.intake_helpers import ANNA, batch, prepare, rec, student, student_id

BSN = ANNA["bsn"]
PLAINTEXT = (b"800000481", b"2013-05-17", b"9711AB", b"Jansen", b"Dorpsstraat")
EXTENDED: ExtendedSet = {
    "achternaam": "Jansen",
    "voorvoegsel": None,
    "voornamen": "Anna Maria",
    "straatnaam": "Dorpsstraat",
    "huisnummer": 12,
    "huisnummertoevoeging": None,
    "plaatsnaam": "Groningen",
    "buitenlands_adres": None,
}


def raw_states(url: str, sid: UUID) -> list[bytes]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            f"SELECT state FROM {EVENTS_TABLE} WHERE originator_id = %s", (sid,)
        ).fetchall()
    return [bytes(r[0]) for r in rows]


def person_keys(url: str) -> dict[UUID, bytes | None]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT student_id, key FROM person_keys").fetchall()
    return {r[0]: (bytes(r[1]) if r[1] else None) for r in rows}


KEY = KeyData(date(2013, 5, 17), "V", postcode="9711AB")


ANNA_SID = uuid4()  # fixed, so a test can look for her stream before she is saved


def anna(at_day: int = 1) -> Student:
    return Student.register(
        Bsn(BSN), KEY, utc(2026, 8, at_day), extended=EXTENDED, student_id=ANNA_SID
    )


def fresh_registry(runtime: Runtime, settings: Settings) -> Registry:
    """No cache of any kind: everything from the log and the key table."""
    return Registry(env=event_store_env(runtime.database_url, settings))


def test_the_raw_rows_hold_no_personal_data_and_every_reader_opens_them(
    runtime: Runtime, settings: Settings
) -> None:
    prepare(runtime)
    runtime.intake.submit(batch(rec(1, student(ANNA))), utc(2026, 8, 2))
    sid = student_id(runtime, BSN)
    s = runtime.registry.student(BSN)
    assert s is not None
    s.record_extended_set(EXTENDED, utc(2026, 8, 3))
    s.change_key_data(
        {"postcode": "9711AB"},
        {"postcode": "9722EF"},
        {"brin": "01OE", "batchnummer": 2, "meldingnummer": 1},
        utc(2026, 8, 3),
    )
    runtime.registry.save_at(s, at=utc(2026, 8, 3))

    states = raw_states(runtime.database_url, sid)
    assert len(states) == 3
    for state in states:
        assert not [p for p in PLAINTEXT if p in state], state
        assert b"9722EF" not in state and b"_sealed_" in state
    with psycopg.connect(runtime.database_url) as conn:
        everything = b"".join(
            bytes(r[0]) for r in conn.execute(f"SELECT state FROM {EVENTS_TABLE}")
        )
    assert BSN.encode() not in everything and b"2013-05-17" not in everything

    other = fresh_registry(runtime, settings)
    try:
        again = other.student(BSN)
        assert again is not None
        assert (again.number, again.key_data) == (
            BSN,
            KeyData(date(2013, 5, 17), "V", postcode="9722EF"),
        )
        assert again.extended == EXTENDED
        log = EventLog(other.recorder)
        (fact,) = log.page(0, log.head(), 100, [STUDENT_REGISTERED])
        assert fact.data["number"] == BSN
        assert fact.data["key"]["geboortedatum"] == date(2013, 5, 17)
        assert "_sealed_" not in fact.data
    finally:
        other.close()


def test_a_rolled_back_save_leaves_no_key_and_a_retry_makes_one(
    runtime: Runtime,
) -> None:
    reg = runtime.registry
    piet = Student.register(Bsn("800000122"), KEY, utc(2026, 8, 5))
    reg.save_at(piet, at=utc(2026, 8, 5))
    with pytest.raises(RecordedTimeWentBack):
        reg.save_at(anna(), at=utc(2026, 8, 1))  # before the last recorded time
    keys = person_keys(runtime.database_url)
    assert ANNA_SID not in keys and len(keys) == 1
    assert raw_states(runtime.database_url, ANNA_SID) == []
    assert runtime.registry.student_ids([BSN]) == {}  # her number's row went too

    reg.save_at(anna(5), at=utc(2026, 8, 5))
    assert ANNA_SID in person_keys(runtime.database_url)
    again = reg.student(BSN)
    assert again is not None and again.extended == EXTENDED


def test_two_writers_registering_one_person_leave_one_key_that_opens_it(
    runtime: Runtime, settings: Settings
) -> None:
    other = fresh_registry(runtime, settings)
    try:
        runtime.registry.save_at(anna(), at=utc(2026, 8, 1))
        twin = Student.register(Bsn(BSN), KEY, utc(2026, 8, 1))  # another id
        with pytest.raises(ConcurrentChange):
            other.save_at(twin, at=utc(2026, 8, 1))  # the number is taken
        assert list(person_keys(runtime.database_url)) == [ANNA_SID]
        assert other.student_ids([BSN]) == {BSN: ANNA_SID}
        again = other.student(BSN)
        assert again is not None and again.number == BSN
    finally:
        other.close()


def test_unsealed_rows_written_before_sealing_still_read(
    runtime: Runtime, settings: Settings
) -> None:
    """Events stored before sealing (or by the bench's unsealed registry) hold
    the fields in plaintext: they pass through, and no key is made for them."""
    plain = Registry(
        env={
            **event_store_env(runtime.database_url, settings),
            "SEAL_PERSONAL_DATA": "n",
        }
    )
    try:
        plain.save_at(anna(), at=utc(2026, 8, 1))
    finally:
        plain.close()
    (state,) = raw_states(runtime.database_url, ANNA_SID)
    assert BSN.encode() in state and person_keys(runtime.database_url) == {}
    s = runtime.registry.student(BSN)
    assert s is not None and s.key_data.geboortedatum == date(2013, 5, 17)
    s.record_extended_set({**EXTENDED, "huisnummer": 14}, utc(2026, 8, 2))
    runtime.registry.save_at(s, at=utc(2026, 8, 2))  # its first sealed event
    assert person_keys(runtime.database_url)[s.id] is not None
    again = runtime.registry.student(BSN)
    assert again is not None and again.extended is not None
    assert again.extended["huisnummer"] == 14 and again.number == BSN
