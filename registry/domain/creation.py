"""Creating an aggregate from its created event, without the library's generic
work per call.

`Aggregate._create` builds the created event and lets the event's `mutate()`
make the aggregate, which resolves the class from its topic and filters the
event's fields twice by the signatures of the init methods: more than the rest
of the work when intake registers tens of thousands of students and periods in
one delivery. `created` takes the same steps for an aggregate whose id is
given and whose `@event` decorated `__init__` takes exactly the event's own
fields. tests/unit/test_aggregates.py holds it to `_create` for each class
that uses it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

A = TypeVar("A", bound=Aggregate)


def created(
    cls: type[A],
    event_class: type[Aggregate.Created],
    aggregate_id: UUID,
    at: datetime,
    **fields: Any,
) -> A:
    version = cls.INITIAL_VERSION
    event = event_class(
        originator_id=aggregate_id,
        originator_version=version,
        timestamp=at,
        originator_topic=_topic(cls),
        **fields,
    )
    aggregate = cls.__new__(cls)
    aggregate.__base_init__(aggregate_id, version, at)
    aggregate.__init__(**fields)  # type: ignore[misc]
    event.apply(aggregate)
    aggregate.pending_events.append(event)
    return aggregate


def _topic(cls: type) -> str:
    # What eventsourcing.utils.get_topic answers (a layer the domain does not
    # import): the class's module and qualified name.
    return f"{cls.__module__}:{cls.__qualname__}"
