"""Reading the notification log in pages, decoded to plain facts.

Pages come from the library's `select_notifications`, decoded by the same
transcoder the application writes with. A fact keeps the event's state as a
dict, not an event object (several times cheaper to fold into tables), but it
is upcast the library's way first, and its topic must resolve to a class of
today's code: a renamed class fails loudly instead of being skipped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import ApplicationRecorder, JSONTranscoder, Notification
from eventsourcing.utils import get_topic, resolve_topic
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from registry.config import Settings
from registry.infrastructure.event_store import make_transcoder, open_recorder
from registry.infrastructure.person_keys import KeyLookup
from registry.infrastructure.sealing import (
    PERSONAL,
    SEALED,
    SealedAsBase64,
    Sealer,
    as_uuid,
    upcast,
)


@dataclass(frozen=True, slots=True)
class Fact:
    """One stored event: its log position, aggregate, topic and decoded state."""

    position: int
    originator_id: UUID
    version: int
    topic: str
    data: dict[str, Any]

    @property
    def recorded_at(self) -> datetime:
        at: datetime = self.data["timestamp"]
        return at

    @property
    def kind(self) -> str:
        """The event class name, e.g. 'Enrolment.Registered'."""
        return self.topic.rpartition(":")[2]


def topics(*classes: type) -> tuple[str, ...]:
    """The stored topics of event classes."""
    return tuple(get_topic(cls) for cls in classes)


@cache
def _transcoder() -> JSONTranscoder:
    return make_transcoder()


def decode(
    topic: str,
    state: bytes,
    opened_by: tuple[Sealer, UUID] | None = None,
    keys: KeyLookup | None = None,
) -> dict[str, Any]:
    """An event's state as today's class reads it: decoded, its personal fields
    opened (with a sealer and the event's originator; the key looked up in
    `keys` if given), then upcast through the class's `upcast_vX_vY` methods as
    the library's mapper does."""
    cls = resolve_topic(topic)
    data: dict[str, Any] = _transcoder().decode(state)
    if opened_by is not None:
        sealer, originator_id = opened_by
        sealer.open(topic, originator_id, data, keys)
    upcast(cls, data)
    return data


def _parsed(data: bytes) -> Any:
    """JSON as the library's decoder parses it, without its object hook:
    orjson, or for what it refuses (NaN, integers past 64 bits) json."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


class _StoredForm(JSONTranscoder):
    """Sealed personal fields opened to their stored form (no object hook)."""

    def decode(self, data: bytes) -> Any:
        return _parsed(data)


@cache
def _needs_upcast(topic: str) -> bool:
    return getattr(resolve_topic(topic), "class_version", 1) != 1


def stored_text(value: Any) -> Any:
    """A value of a bulk page's fact as text for COPY: a stored
    {_type_, _data_} object as its written data, a decoded date, time or UUID
    as the same text; anything else as it is."""
    kind = type(value)
    if kind is dict:
        return value["_data_"]
    if kind is str or value is None or kind is int or kind is bool:
        return value
    if isinstance(value, UUID):
        return value.hex
    return value.isoformat()


class EventLog:
    """The registry's notification log as projections read it."""

    def __init__(self, recorder: ApplicationRecorder, owner: Any = None) -> None:
        self.recorder = recorder
        self._owner = owner  # a factory this log opened and must close
        # The same sealer (and key cache) as the application's on this recorder.
        self._sealer = getattr(recorder, "sealer", None)
        self._stored_sealer = (
            Sealer(self._sealer.keys, _StoredForm())
            if isinstance(self._sealer, Sealer)
            else None
        )

    @classmethod
    def open(cls, url: str, settings: Settings | None = None) -> EventLog:
        """A reader with a recorder of its own (no connection until first used)."""
        # Default settings without reading the environment: only entry points do.
        recorder, factory = open_recorder(url, settings or Settings.model_construct())
        return cls(recorder, factory)

    def close(self) -> None:
        if self._owner is not None:
            self._owner.close()

    @property
    def channel(self) -> str:
        """What the recorder NOTIFYs in every transaction that appends events
        (the library's channel, named after the events table)."""
        recorder: Any = self.recorder
        return str(recorder.channel_name)

    def head(self) -> int:
        """The last committed position. Inserts hold an exclusive lock until
        commit, so every position at or below the head is final."""
        return self.recorder.max_notification_id() or 0

    def page(
        self, after: int, upto: int, limit: int, topics: Sequence[str] = ()
    ) -> list[Fact]:
        """Facts with after < position <= upto, in log order, at most `limit`."""
        notifications = self.recorder.select_notifications(
            start=after,
            limit=limit,
            stop=upto,
            topics=list(topics),
            inclusive_of_start=False,
        )
        return [self._fact(n) for n in self._prefetched(notifications)]

    def table(self) -> Identifier:
        """The stored events' table, for a projection that reads it in SQL."""
        recorder: Any = self.recorder
        return Identifier(
            recorder.datastore.schema or "public", recorder.events_table_name
        )

    def bulk_page(
        self, after: int, upto: int, limit: int, topics: Sequence[str] = ()
    ) -> list[Fact]:
        """Facts as `page` gives them, but for a bulk rebuild: the state is
        parsed without the transcoder's object hook, so a value of a
        registered type (a UUID, date, time) stays the stored
        {_type_, _data_} object, whose text a COPY wants anyway (read it with
        `stored_text`). Personal fields are opened the same way. An event of
        a class with upcasts is decoded as `page` does (its values typed)."""
        recorder: Any = self.recorder
        query = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {} WHERE notification_id > %s AND notification_id <= %s"
            "{} ORDER BY notification_id LIMIT %s"
        ).format(self.table(), SQL(" AND topic = ANY(%s)") if topics else SQL(""))
        params = (after, upto, list(topics), limit) if topics else (after, upto, limit)
        with recorder.datastore.get_connection() as conn:
            rows = conn.cursor(row_factory=tuple_row).execute(query, params).fetchall()
        personal = [r[1] for r in rows if r[3] in PERSONAL]
        keys = None
        if personal and self._stored_sealer is not None:
            keys = self._stored_sealer.keys.read(personal)
        return [self._stored_form(keys, *r) for r in rows]

    def _stored_form(
        self,
        keys: KeyLookup | None,
        position: int,
        oid: UUID,
        version: int,
        topic: str,
        state: bytes,
    ) -> Fact:
        data: dict[str, Any] = _parsed(state)
        if _needs_upcast(topic) or "class_version" in data:
            return self._fact(
                Notification(
                    id=position,
                    originator_id=oid,
                    originator_version=version,
                    topic=topic,
                    state=state,
                ),
                keys,
            )
        if topic in PERSONAL and self._stored_sealer is not None:
            sealed = data.get(SEALED)
            if type(sealed) is dict and sealed.get("_type_") == SealedAsBase64.name:
                data[SEALED] = SealedAsBase64().decode(sealed["_data_"])
            self._stored_sealer.open(topic, oid, data, keys)
        return Fact(position, oid, version, topic, data)

    def _prefetched(
        self, notifications: Sequence[Notification]
    ) -> Sequence[Notification]:
        """The page's people's keys in one query, not one query a person."""
        if self._sealer is not None:
            self._sealer.keys.prefetch(
                as_uuid(n.originator_id) for n in notifications if n.topic in PERSONAL
            )
        return notifications

    def _fact(self, n: Notification, keys: KeyLookup | None = None) -> Fact:
        originator_id = as_uuid(n.originator_id)
        opened_by = None
        if isinstance(self._sealer, Sealer) and n.topic in PERSONAL:
            opened_by = (self._sealer, originator_id)
        return Fact(
            n.id,
            originator_id,
            n.originator_version,
            n.topic,
            decode(n.topic, n.state, opened_by, keys),
        )

    def position_at(self, at: datetime) -> int:
        """The last position recorded at or before `at`. Recorded time never
        decreases along the log, so a binary search finds it in ~log2(n) reads."""
        head = self.head()
        low, high = 0, head  # invariant: time(low) <= at (0: before the log)
        while low < high:
            mid = (low + high + 1) // 2
            found = self.page(mid - 1, head, 1)
            if not found or found[0].recorded_at > at:
                high = mid - 1
            else:
                low = max(mid, found[0].position)
        return low
