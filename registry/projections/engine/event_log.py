"""Reading the notification log in pages, decoded to plain facts.

Pages come from the library's `select_notifications`, decoded by the same
transcoder the application writes with. A fact keeps the event's state as a
dict, not an event object (several times cheaper to fold into tables), but it
is upcast the library's way first, and its topic must resolve to a class of
today's code: a renamed class fails loudly instead of being skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, JSONTranscoder, Notification
from eventsourcing.utils import get_topic, resolve_topic

from registry.config import Settings
from registry.infrastructure.event_store import make_transcoder, open_recorder
from registry.infrastructure.sealing import PERSONAL, Sealer, upcast


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


def _uuid(value: UUID | str) -> UUID:
    """The registry's aggregates have UUIDs; the library's type allows strings."""
    return value if isinstance(value, UUID) else UUID(value)


def topics(*classes: type) -> tuple[str, ...]:
    """The stored topics of event classes."""
    return tuple(get_topic(cls) for cls in classes)


@cache
def _transcoder() -> JSONTranscoder:
    return make_transcoder()


def decode(
    topic: str, state: bytes, opened_by: tuple[Sealer, UUID] | None = None
) -> dict[str, Any]:
    """An event's state as today's class reads it: decoded, its personal fields
    opened (with a sealer and the event's originator), then upcast through the
    class's `upcast_vX_vY` methods as the library's mapper does."""
    cls = resolve_topic(topic)
    data: dict[str, Any] = _transcoder().decode(state)
    if opened_by is not None:
        sealer, originator_id = opened_by
        sealer.open(topic, originator_id, data)
    upcast(cls, data)
    return data


class EventLog:
    """The registry's notification log as projections read it."""

    def __init__(self, recorder: ApplicationRecorder, owner: Any = None) -> None:
        self.recorder = recorder
        self._owner = owner  # a factory this log opened and must close
        # The same sealer (and key cache) as the application's on this recorder.
        self._sealer = getattr(recorder, "sealer", None)

    @classmethod
    def open(cls, url: str, settings: Settings | None = None) -> EventLog:
        """A reader with a recorder of its own (no connection until first used)."""
        # Default settings without reading the environment: only entry points do.
        recorder, factory = open_recorder(url, settings or Settings.model_construct())
        return cls(recorder, factory)

    def close(self) -> None:
        if self._owner is not None:
            self._owner.close()

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

    def _prefetched(
        self, notifications: Sequence[Notification]
    ) -> Sequence[Notification]:
        """The page's people's keys in one query, not one query a person."""
        if self._sealer is not None:
            self._sealer.keys.prefetch(
                _uuid(n.originator_id) for n in notifications if n.topic in PERSONAL
            )
        return notifications

    def _fact(self, n: Notification) -> Fact:
        originator_id = _uuid(n.originator_id)
        opened_by = None
        if isinstance(self._sealer, Sealer) and n.topic in PERSONAL:
            opened_by = (self._sealer, originator_id)
        return Fact(
            n.id,
            originator_id,
            n.originator_version,
            n.topic,
            decode(n.topic, n.state, opened_by),
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
