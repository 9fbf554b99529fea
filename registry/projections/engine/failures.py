"""An event a projection cannot apply must not stop the read side for good, nor
be retried forever: the projection stops just before it, says where and why,
and the other projections go on. The reason names the event class and the
error's class, SQLSTATE and the table or constraint, never its message (which
may quote personal data).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import Cursor

from registry.infrastructure.redact import error_text
from registry.projections.engine.event_log import Fact
from registry.projections.engine.projection import Projection

log = logging.getLogger(__name__)
# A lost connection or a cancelled statement: the page is tried again later.
TRANSIENT = (psycopg.OperationalError, psycopg.InterfaceError)


@dataclass(frozen=True)
class Failure:
    position: int  # of the event that could not be applied
    reason: str


def reason(error: BaseException, fact: Fact) -> str:
    return f"{error_text(error)} applying {fact.kind}"


def apply_or_isolate(
    curs: Cursor[Any], projection: Projection, facts: list[Fact]
) -> Failure | None:
    """Apply the page; if it fails, apply its events one by one up to the first
    that fails and return that one (the events before it stay applied)."""
    if _applied(curs, projection, facts) is None:
        return None
    for fact in facts:
        error = _applied(curs, projection, [fact])
        if error is not None:
            return Failure(fact.position, reason(error, fact))
    return None  # each applied alone: the page as a whole is applied now


def _applied(
    curs: Cursor[Any], projection: Projection, facts: list[Fact]
) -> Exception | None:
    """Apply in a savepoint; the error that undid it, if any (not a transient
    one: that is raised, and the page is tried again later)."""
    try:
        with curs.connection.transaction():
            projection.apply_page(curs, facts)
    except TRANSIENT:
        raise
    except Exception as e:
        return e
    return None


def record(curs: Cursor[Any], schema: str, failure: Failure) -> None:
    curs.execute(
        "UPDATE public.projection_tracking SET position = %s, failed_at = %s, "
        "failure = %s, updated_at = now() WHERE schema_name = %s",
        (failure.position - 1, failure.position, failure.reason, schema),
    )
    log.error(
        "projection %s stopped before log position %d: %s; fix and resume "
        "(`registry projections resume`) or build a new version",
        schema,
        failure.position,
        failure.reason,
    )
