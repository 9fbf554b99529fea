"""The audit of reads, for operators only: who was shown personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from registry.api.deps import OPERATOR, RuntimeDep
from registry.api.documents import AuditRead
from registry.api.openapi import SIGNED_IN, answer, document_list, problems
from registry.api.reading import Limit

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get(
    "/audit/reads",
    dependencies=[OPERATOR],
    response_model=document_list(AuditRead),
    responses={
        **answer("The reads, oldest first"),
        **problems(
            *SIGNED_IN,
            422,
            notes={
                403: "Operators only",
                422: "since without a UTC offset, or a limit outside 1-10,000",
                503: "The database is down",
            },
        ),
    },
)
def audit_reads(
    runtime: RuntimeDep,
    since: Annotated[datetime | None, Query(description="from (with offset)")] = None,
    user: Annotated[str | None, Query(description="login name")] = None,
    brin: str | None = None,
    limit: Limit = 1000,
) -> list[dict[str, Any]]:
    """Recorded reads of personal data, oldest first (operators)."""
    if since is not None and since.tzinfo is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "since needs a UTC offset"
        )
    return runtime.reads.reads(since=since, login=user, brin=brin, limit=limit)
