"""What is sealed is decided per event class (docs/privacy.md): a new Student
event class must be listed as personal or not, or its data go out in plaintext."""

from __future__ import annotations

import dataclasses
import time
import uuid
from typing import cast

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.utils import get_topic

from registry.domain.student import Student
from registry.infrastructure.event_store import make_transcoder
from registry.infrastructure.person_keys import KeyCache, PageKeys, PersonKeys, nonce
from registry.infrastructure.sealing import PERSONAL, REGISTERED, SEALED, Sealed, Sealer
from tests.unit.test_golden_log import event_classes

# Student events that hold no personal data (an id, a reason code).
NOT_PERSONAL = {Student.LinkedTo, Student.Forgotten}


def test_every_student_event_class_is_decided() -> None:
    undecided = [
        cls.__qualname__
        for cls in event_classes(Student)
        if get_topic(cls) not in PERSONAL and cls not in NOT_PERSONAL
    ]
    assert not undecided, (
        f"add to PERSONAL in sealing.py or to NOT_PERSONAL: {undecided}"
    )


def test_each_personal_field_is_a_field_of_its_class() -> None:
    by_topic = {get_topic(cls): cls for cls in event_classes(Student)}
    for topic, fields in PERSONAL.items():
        declared = {f.name for f in dataclasses.fields(by_topic[topic])}
        assert set(fields) <= declared, topic


def test_the_key_cache_drops_the_least_recent_and_the_stale() -> None:
    cache = KeyCache(size=2, ttl=0.2)
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    cipher = AESGCM(AESGCM.generate_key(bit_length=256))
    cache.put(a, cipher)
    cache.put(b, None)  # a forgotten person is remembered as such
    assert cache.get(a) == (True, cipher)  # a is now the most recent
    cache.put(c, cipher)
    assert cache.get(b) == (False, None) and cache.get(a)[0]
    time.sleep(0.25)
    assert cache.get(a) == (False, None)


def test_the_key_cache_names_a_pages_missing_keys_and_keeps_the_asked() -> None:
    cache = KeyCache(size=3, ttl=0.2)
    a, b, c, d = (uuid.uuid4() for _ in range(4))
    cipher = AESGCM(AESGCM.generate_key(bit_length=256))
    cache.put_many({a: cipher, b: None, c: cipher})
    # b is cached (forgotten), so not missing; d never was.
    assert cache.missing([a, b, d]) == [d]
    # a and b were just asked for: c is now the least recent, and goes.
    cache.put(d, cipher)
    assert cache.missing([a, b, c, d]) == [c]
    cache.put(a, None)  # put again: replaced, and the most recent
    assert cache.get(a) == (True, None)
    time.sleep(0.25)
    assert cache.missing([a, b, d]) == [a, b, d]


def test_a_pages_keys_open_as_the_key_store_would() -> None:
    """A bulk page's own keys: a live key opens, a forgotten person's (key
    NULL) or a deleted row blanks, and a wrong key is refused, not blanked."""
    transcoder = make_transcoder()
    sealer = Sealer(cast(PersonKeys, None), transcoder)  # only the page's keys used
    live, forgotten, deleted = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    cipher = AESGCM(AESGCM.generate_key(bit_length=256))
    personal = {"number": "123456782", "key": {"geslacht": "M"}, "extended": None}

    def sealed(sid: uuid.UUID, key: AESGCM = cipher) -> dict[str, object]:
        iv = nonce()
        body = key.encrypt(iv, transcoder.encode(personal), sid.bytes)
        return {"kind": "bsn", SEALED: Sealed(iv + body)}

    page = PageKeys({live: cipher, forgotten: None})
    fields = PERSONAL[REGISTERED]
    opened = sealed(live)
    sealer.open(REGISTERED, live, opened, page)
    assert opened == {"kind": "bsn", **personal}
    for sid in (forgotten, deleted):
        blanked = sealed(sid)
        sealer.open(REGISTERED, sid, blanked, page)
        assert blanked == {"kind": "bsn"} | {f: b(sid) for f, b in fields.items()}
    other = AESGCM(AESGCM.generate_key(bit_length=256))
    with pytest.raises(ValueError, match="do not open"):
        sealer.open(REGISTERED, live, sealed(live, other), page)
