"""Per-person data keys (crypto-shredding): one AES key a student, in the table
`person_keys`, beside the event store and made by the same create statements.

A key is made the first time a person's sealed event is saved and inserted by
the recorder in the transaction of that event, after the insert lock: no event
without its key, no key without its event. Forgetting sets the key NULL, in the
transaction of the forgetting event. Keys are cached per recorder (one
database) in an LRU with a time to live, so another process's forgetting is
seen here within `ttl` seconds.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg import Cursor
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier

PERSON_KEYS_TABLE = "person_keys"
KEY_BITS = 256
FORGOTTEN = None  # what a lookup gives for a person whose key is deleted


class PersonForgotten(Exception):
    """Personal data of a forgotten person (or one without a key) cannot be
    stored: there is no key to seal them under."""


def create_statements(schema: str) -> list[Composed]:
    return [
        SQL(
            "CREATE TABLE IF NOT EXISTS {}.{} ("
            "student_id uuid PRIMARY KEY, key bytea, "
            "created_at timestamptz NOT NULL, forgotten_at timestamptz, "
            "CHECK ((key IS NULL) = (forgotten_at IS NOT NULL)))"
        ).format(Identifier(schema), Identifier(PERSON_KEYS_TABLE))
    ]


@dataclass
class Saving:
    """What the events of one save were sealed with: the keys made for it and
    every person whose sealed event it stores."""

    new: dict[UUID, bytes] = field(default_factory=dict)
    sealed: set[UUID] = field(default_factory=set)
    numbers: dict[str, UUID] = field(default_factory=dict)  # of new students
    ciphers: dict[UUID, AESGCM] = field(default_factory=dict)  # of the new keys


class _ThisThread(threading.local):
    # A save maps and inserts its events on one thread, so a save's keys are
    # never seen by another thread's save.
    saving: Saving | None = None


class KeyCache:
    """Ciphers by student id, least recently used out first, each for `ttl` s."""

    def __init__(self, size: int, ttl: float) -> None:
        self.size, self.ttl = size, ttl
        self._items: OrderedDict[UUID, tuple[float, AESGCM | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, sid: UUID) -> tuple[bool, AESGCM | None]:
        """(found, cipher); a found None is a forgotten person."""
        with self._lock:
            item = self._items.get(sid)
            if item is None or item[0] < time.monotonic():
                return False, None
            self._items.move_to_end(sid)
            return True, item[1]

    def missing(self, sids: Iterable[UUID]) -> list[UUID]:
        """Those of `sids` not cached (or expired), under one lock: a page of a
        rebuild asks for thousands at once."""
        items = self._items
        with self._lock:
            now = time.monotonic()
            out = []
            for sid in sids:
                item = items.get(sid)
                if item is None or item[0] < now:
                    out.append(sid)
                else:
                    items.move_to_end(sid)
            return out

    def put(self, sid: UUID, cipher: AESGCM | None) -> None:
        self.put_many({sid: cipher})

    def put_many(self, ciphers: Mapping[UUID, AESGCM | None]) -> None:
        items = self._items
        with self._lock:
            until = time.monotonic() + self.ttl
            for sid, cipher in ciphers.items():
                if sid in items:  # a new one goes to the end by itself
                    items.move_to_end(sid)
                items[sid] = (until, cipher)
            while len(items) > self.size:
                items.popitem(last=False)


class KeyLookup(Protocol):
    def lookup(self, sid: UUID) -> tuple[bool, AESGCM | None]: ...


@dataclass(frozen=True)
class PageKeys:
    """Some people's keys as read at once (PersonKeys.read); the answers of
    PersonKeys.lookup for them."""

    found: dict[UUID, AESGCM | None]

    def lookup(self, sid: UUID) -> tuple[bool, AESGCM | None]:
        found = self.found
        return (True, found[sid]) if sid in found else (False, None)


class PersonKeys:
    def __init__(
        self, datastore: Any, schema: str, size: int = 100_000, ttl: float = 60.0
    ) -> None:
        self.datastore = datastore
        self.cache = KeyCache(size, ttl)
        self._thread = _ThisThread()
        table = SQL("{}.{}").format(Identifier(schema), Identifier(PERSON_KEYS_TABLE))
        self._select = SQL(
            "SELECT student_id, key FROM {} WHERE student_id = ANY(%b::uuid[])"
        ).format(table)
        self._insert = SQL(
            "INSERT INTO {} (student_id, key, created_at) "
            "SELECT id, key, %s FROM unnest(%b::uuid[], %b::bytea[]) AS n(id, key)"
        ).format(table)
        self._without_key = SQL(
            "SELECT s.id FROM unnest(%b::uuid[]) AS s(id) "
            "LEFT JOIN {} k ON k.student_id = s.id WHERE k.key IS NULL"
        ).format(table)
        # A person with no key (only plaintext events from before sealing) gets a
        # tombstone, so nothing personal is sealed for them afterwards either.
        self.forget_statement = SQL(
            "INSERT INTO {} (student_id, key, created_at, forgotten_at) "
            "SELECT id, NULL, at, at FROM unnest(%s::uuid[], %s::timestamptz[]) "
            "AS f(id, at) ON CONFLICT (student_id) DO UPDATE "
            "SET key = NULL, forgotten_at = excluded.forgotten_at"
        ).format(table)

    # Reading
    def prefetch(self, ids: Iterable[UUID]) -> None:
        """The keys of many people into the cache with one query."""
        missing = self.cache.missing(set(ids))
        if missing:
            self._load(missing)

    def lookup(self, sid: UUID) -> tuple[bool, AESGCM | None]:
        """(has a key row, its cipher): a row without a cipher is a forgotten
        person; no row, a person with no sealed event (or a deleted row)."""
        found, cipher = self.cache.get(sid)
        if found:
            return found, cipher
        loaded = self._load([sid])
        return sid in loaded, loaded.get(sid)

    def _load(self, ids: Sequence[UUID]) -> dict[UUID, AESGCM | None]:
        found = self.read(ids).found
        self.cache.put_many(found)
        return found

    def read(self, ids: Sequence[UUID]) -> PageKeys:
        """The keys of many people, read now and not cached: for a bulk
        rebuild, which opens each person's events once (a cache would only
        churn)."""
        with (
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row) as curs,
        ):
            rows = curs.execute(self._select, (list(ids),)).fetchall()
        return PageKeys(
            {sid: AESGCM(bytes(key)) if key else FORGOTTEN for sid, key in rows}
        )

    # Writing
    def for_sealing(self, sid: UUID, first_event: bool) -> AESGCM:
        """The cipher to seal a person's event with: a new key for a first event
        or a person without one, kept for this thread's save to insert."""
        saving = self._current()
        saving.sealed.add(sid)
        made = saving.ciphers.get(sid)
        if made is not None:
            return made
        if not first_event:
            found, cipher = self.lookup(sid)
            if found and cipher is None:
                raise PersonForgotten(f"student {sid} was forgotten")
            if cipher is not None:
                return cipher
        key = saving.new[sid] = AESGCM.generate_key(bit_length=KEY_BITS)
        made = saving.ciphers[sid] = AESGCM(key)
        return made

    def registering(self, number: str, sid: UUID) -> None:
        """A student registered by this thread's save, for `student_numbers`."""
        self._current().numbers[number] = sid

    def _current(self) -> Saving:
        if self._thread.saving is None:
            self._thread.saving = Saving()
        return self._thread.saving

    @contextmanager
    def saving(self) -> Iterator[None]:
        """One save on this thread: nothing of an earlier failed one is kept."""
        self.take()
        try:
            yield
        finally:
            self.take()

    def take(self) -> Saving:
        """This thread's save so far, and a fresh one for the next."""
        saving = self._current()
        self._thread.saving = None
        return saving

    def write(
        self, curs: Cursor[Any], saving: Saving, at: datetime
    ) -> Callable[[], None]:
        """In the save's transaction, after the insert lock: insert the new
        keys and look for any sealed event's person that lacks a live key
        (forgotten meanwhile, or a key lost to a concurrent writer). The answer
        is read by the returned `confirm`, which refuses the save: in pipeline
        mode, once the statements before it have been sent."""
        new = saving.new
        if new:
            curs.execute(self._insert, (at, list(new), list(new.values())))
        # A key inserted just now is live: the insert would have failed on
        # another writer's row. Only the people with older keys are checked.
        sealed = saving.sealed.difference(new)
        if not sealed:
            return _nothing
        check = curs.connection.cursor()
        check.execute(self._without_key, (list(sealed),))

        def confirm() -> None:
            with check:
                lacking = [row["id"] for row in check.fetchall()]
            if lacking:
                raise PersonForgotten(
                    f"no live key for {len(lacking)} person(s), e.g. {lacking[0]}"
                )

        return confirm

    def committed(self, saving: Saving) -> None:
        self.cache.put_many(saving.ciphers)

    def forgotten(self, ids: Iterable[UUID]) -> None:
        """After a forgetting commits: this process stops decrypting at once."""
        for sid in ids:
            self.cache.put(sid, FORGOTTEN)


def _nothing() -> None:
    pass


def nonce() -> bytes:
    # 96 random bits: safe up to 2**32 messages a key (NIST SP 800-38D); a person
    # has a handful of events.
    return os.urandom(12)
