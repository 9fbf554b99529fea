"""How the API answers the exceptions of the layers below: one table, one handler
per entry. A subclass with an entry of its own is answered by that entry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse, Response

from registry.access.policy import (
    AccessError,
    InvalidCredentials,
    LoginThrottled,
    WeakPassword,
)
from registry.access.reads import ReadNotAudited
from registry.application.errors import ConcurrentChange
from registry.application.fotos import UnknownFoto
from registry.domain.errors import InvalidSchooljaar
from registry.domain.funding import FundingError
from registry.intake.service import DeliveryRefused
from registry.intake.wire import BatchRefused
from registry.projections.engine.reading import ProjectionNotReady

E = TypeVar("E", bound=Exception)
Body = dict[str, Any]


def detail(exc: Exception) -> Body:
    return {"detail": str(exc)}


def refused(exc: AccessError) -> Body:
    return {"detail": str(exc), "reason": exc.reason}


def batch_refused(exc: BatchRefused) -> Body:
    # Nested as it was when this was an HTTPException with a dict as detail.
    return {
        "detail": {
            "detail": "batch refused as a whole; nothing was recorded",
            "problems": exc.problems,
        }
    }


@dataclass(frozen=True)
class Answer(Generic[E]):
    """The status and body that answer `exc` and its subclasses."""

    exc: type[E]
    status_code: int
    body: Callable[[E], Body] = detail
    headers: Callable[[E], dict[str, str]] | None = None

    async def handle(self, _: Request, exc: Exception) -> Response:
        e = cast(E, exc)
        headers = self.headers(e) if self.headers else None
        return JSONResponse(self.body(e), status_code=self.status_code, headers=headers)


def retry_after(exc: LoginThrottled) -> dict[str, str]:
    return {"Retry-After": str(exc.retry_after)}


ERRORS: tuple[Answer[Any], ...] = (
    Answer(InvalidCredentials, status.HTTP_401_UNAUTHORIZED, refused),
    Answer(LoginThrottled, status.HTTP_429_TOO_MANY_REQUESTS, refused, retry_after),
    Answer(WeakPassword, status.HTTP_422_UNPROCESSABLE_CONTENT, refused),
    Answer(AccessError, status.HTTP_403_FORBIDDEN, refused),
    Answer(BatchRefused, status.HTTP_422_UNPROCESSABLE_CONTENT, batch_refused),
    Answer(DeliveryRefused, status.HTTP_409_CONFLICT),
    Answer(ConcurrentChange, status.HTTP_409_CONFLICT),
    Answer(InvalidSchooljaar, status.HTTP_422_UNPROCESSABLE_CONTENT),
    Answer(UnknownFoto, status.HTTP_404_NOT_FOUND),
    Answer(FundingError, status.HTTP_404_NOT_FOUND),
    Answer(ProjectionNotReady, status.HTTP_503_SERVICE_UNAVAILABLE),
    Answer(ReadNotAudited, status.HTTP_503_SERVICE_UNAVAILABLE),
)


def install_error_handlers(app: FastAPI) -> None:
    """Give `app` a handler for every entry of ERRORS."""
    for answer in ERRORS:
        app.add_exception_handler(answer.exc, answer.handle)
