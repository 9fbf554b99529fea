"""Reading the notification log in pages, decoded to plain facts.

Projections read the stored JSON, not the domain event classes: decoding a dict
is several times cheaper than rebuilding event objects, and the stored topics and
field names are part of the stored data anyway (docs/foundation.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.sql import SQL, Identifier

EVENTS_TABLE = "registry_events"

_DECODERS: dict[str, Any] = {
    "uuid_hex": UUID,
    "datetime_iso": datetime.fromisoformat,
    "date_iso": date.fromisoformat,
}


def _hook(d: dict[str, Any]) -> Any:
    kind = d.get("_type_")
    if kind is None:
        return d
    return _DECODERS[kind](d["_data_"])


def decode(state: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(state, object_hook=_hook)
    return data


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


_MODULES = {
    "School": "registry.domain.school",
    "Student": "registry.domain.student",
    "Enrolment": "registry.domain.enrolment",
    "SchoolYear": "registry.domain.school_year",
}


def topic_of(kind: str) -> str:
    """'Enrolment.Registered' → the stored topic of that event class."""
    return f"{_MODULES[kind.partition('.')[0]]}:{kind}"


def head(curs: Cursor[Any]) -> int:
    """The last committed position. Inserts hold an exclusive lock until commit,
    so every position at or below the head is final: no gap fills in later."""
    curs.execute(
        SQL("SELECT coalesce(max(notification_id), 0) FROM {}").format(
            Identifier(EVENTS_TABLE)
        )
    )
    row = curs.fetchone()
    return int(row[0]) if row else 0


def position_at(curs: Cursor[Any], at: datetime) -> int:
    """The last position recorded at or before `at`. Recorded time never decreases
    along the log, so a binary search over positions finds it in ~log2(n) reads."""
    select = SQL(
        "SELECT notification_id, state FROM {} WHERE notification_id >= %s "
        "ORDER BY notification_id LIMIT 1"
    ).format(Identifier(EVENTS_TABLE))
    low, high = 0, head(curs)  # invariant: time(low) <= at (0 = before the log)
    while low < high:
        mid = (low + high + 1) // 2
        curs.execute(select, (mid,))
        row = curs.fetchone()
        if row is None or decode(row[1])["timestamp"] > at:
            high = mid - 1
        else:
            low = max(mid, int(row[0]))
    return low


def read_page(
    curs: Cursor[Any],
    after: int,
    upto: int,
    limit: int,
    topics: tuple[str, ...] = (),
) -> list[Fact]:
    """Facts with after < position <= upto, in log order, at most `limit`."""
    where = "notification_id > %s AND notification_id <= %s"
    params: list[Any] = [after, upto]
    if topics:
        where += " AND topic = ANY(%s)"
        params.append(list(topics))
    curs.execute(
        SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {} WHERE " + where + " ORDER BY notification_id LIMIT %s"
        ).format(Identifier(EVENTS_TABLE)),
        [*params, limit],
    )
    return [
        Fact(row[0], row[1], row[2], row[3], decode(row[4])) for row in curs.fetchall()
    ]
