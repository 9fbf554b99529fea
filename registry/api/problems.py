"""Every refusal as an RFC 9457 problem: one table from exception to HTTP status,
a stable `type` per reason, and the command line's exit code.

The API answers `application/problem+json` with `type`, `title`, `status`,
`detail` and `instance`, and for some problems an extension (`reason` for the
login refusals, `problems` for a batch refused as a whole, `errors` for a
request that does not fit its schema). The command line prints one line and
exits with the entry's code: 1 not found, 2 refused, 3 unavailable.

The first entry whose class the exception is an instance of answers it, so
subclasses come before their bases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError
from psycopg_pool import PoolTimeout

from registry.access.policy import (
    AccessError,
    InvalidCredentials,
    LoginThrottled,
    PasswordChangeRequired,
    PasswordExpired,
    WeakPassword,
)
from registry.access.reads import ReadNotAudited
from registry.application.errors import (
    ConcurrentChange,
    NotFound,
    PersonIsForgotten,
    RecordedTimeWentBack,
)
from registry.application.fotos import UnknownFoto
from registry.config import NotConfigured, ProductionRefused
from registry.domain.errors import DomainError, InvalidSchooljaar
from registry.domain.funding import FundingError
from registry.infrastructure.migrations.errors import MigrationError
from registry.intake.service import DeliveryRefused
from registry.intake.wire import BatchRefused
from registry.projections.engine.reading import ProjectionNotReady

TYPE_BASE = "urn:bron-vo-registry:problem:"
RETRY_SECONDS = 5  # what Retry-After says for a dependency that is down
NOT_FOUND, REFUSED, UNAVAILABLE = 1, 2, 3  # exit codes (contract.md: 0 ok)
INTERNAL_EXIT = 70  # sysexits' EX_SOFTWARE: a failure nobody foresaw


class BrokerUnavailable(Exception):
    """The Kafka broker cannot be reached."""


@dataclass(frozen=True)
class Problem:
    exc: type[Exception]
    status: int
    slug: str
    title: str
    exit_code: int = REFUSED
    # Extension members from the exception, and response headers.
    extension: Callable[[Any], dict[str, Any]] = field(default=lambda _: {})
    headers: Callable[[Any], dict[str, str]] = field(default=lambda _: {})

    @property
    def type(self) -> str:
        return TYPE_BASE + self.slug


def _reason(exc: AccessError) -> dict[str, Any]:
    return {"reason": exc.reason}


def _retry(_: Any) -> dict[str, str]:
    return {"Retry-After": str(RETRY_SECONDS)}


DATABASE_DOWN = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    PoolTimeout,
    OperationalError,
    InterfaceError,
)

PROBLEMS: tuple[Problem, ...] = (
    Problem(ProductionRefused, 503, "not-configured", "Not configured for production"),
    Problem(NotConfigured, 503, "not-configured", "Not configured"),
    # A database without every migration, or with an applied one changed.
    Problem(MigrationError, 503, "not-configured", "Not configured"),
    Problem(
        InvalidCredentials,
        401,
        "invalid-credentials",
        "Not logged in",
        extension=_reason,
    ),
    Problem(
        LoginThrottled,
        429,
        "too-many-attempts",
        "Too many failed attempts",
        extension=_reason,
        headers=lambda e: {"Retry-After": str(e.retry_after)},
    ),
    Problem(
        PasswordChangeRequired,
        403,
        "password-change-required",
        "Replace the password first",
        extension=_reason,
    ),
    Problem(
        PasswordExpired,
        403,
        "password-expired",
        "The password has expired",
        extension=_reason,
    ),
    Problem(
        WeakPassword,
        422,
        "weak-password",
        "The new password is refused",
        extension=_reason,
    ),
    Problem(AccessError, 403, "access-refused", "Access refused", extension=_reason),
    Problem(
        BatchRefused,
        422,
        "batch-refused",
        "The batch is refused as a whole; nothing was recorded",
        extension=lambda e: {"problems": e.problems},
    ),
    Problem(
        DeliveryRefused,
        409,
        "batch-key-taken",
        "The batch key was delivered with other content",
    ),
    Problem(
        ConcurrentChange,
        409,
        "concurrent-change",
        "Another writer changed the same record first",
    ),
    Problem(
        RecordedTimeWentBack,
        409,
        "recorded-time-went-back",
        "The recorded time is before the last one",
    ),
    Problem(
        PersonIsForgotten, 409, "person-forgotten", "The person's data were removed"
    ),
    Problem(InvalidSchooljaar, 422, "invalid-schooljaar", "Not a school year"),
    Problem(DomainError, 409, "rule-broken", "A rule of the register refuses this"),
    Problem(UnknownFoto, 404, "no-such-foto", "No such foto", NOT_FOUND),
    Problem(
        FundingError, 404, "no-funding-statement", "No funding statement yet", NOT_FOUND
    ),
    Problem(NotFound, 404, "not-found", "Not registered", NOT_FOUND),
    Problem(
        ProjectionNotReady,
        503,
        "projection-not-ready",
        "Not ready to answer yet",
        UNAVAILABLE,
        headers=_retry,
    ),
    Problem(
        ReadNotAudited,
        503,
        "read-not-audited",
        "The read could not be audited",
        UNAVAILABLE,
        headers=_retry,
    ),
    Problem(
        BrokerUnavailable,
        503,
        "broker-unavailable",
        "The broker is unavailable",
        UNAVAILABLE,
        headers=_retry,
    ),
    *(
        Problem(
            exc,
            503,
            "database-unavailable",
            "The database is unavailable",
            UNAVAILABLE,
            headers=_retry,
        )
        for exc in DATABASE_DOWN
    ),
)

# Refusals made at the HTTP edge itself, by status.
EDGE: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Not logged in"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "The request body is too large"),
    415: ("unsupported-media-type", "Send application/json"),
    422: ("invalid-request", "The request does not fit its schema"),
    429: ("too-many-requests", "Too many requests"),
    503: ("unavailable", "Unavailable"),
}
INTERNAL = ("internal-error", "The registry failed to answer; it is logged")


def detail(problem: Problem, exc: Exception) -> str:
    """What an answer or a command says of `exc`: never a driver's text, which
    may quote a value."""
    if isinstance(exc, DATABASE_DOWN):
        return "try again shortly"
    return str(exc) or problem.title


def problem_for(exc: BaseException) -> Problem | None:
    return next((p for p in PROBLEMS if isinstance(exc, p.exc)), None)


def edge(status: int) -> tuple[str, str]:
    return EDGE.get(status, (f"http-{status}", "Refused"))


def body(
    slug: str, title: str, status: int, detail: str, instance: str, **extension: Any
) -> dict[str, Any]:
    return {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **extension,
    }
