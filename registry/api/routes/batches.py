"""Deliveries over the API: POST a batch (or a trial delivery), GET its feedback.
A school may deliver for its own BRIN; ACCOUNTANTSMUTATIE needs the accountant."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status

from registry.access.policy import Role
from registry.access.users import Principal
from registry.api.deps import PrincipalDep, ReadLog, ReadLogDep, RuntimeDep
from registry.domain.foto import student_number
from registry.intake.feedback import FeedbackDocument
from registry.intake.wire import BatchKey

router = APIRouter(prefix="/v1/batches", tags=["deliveries"])
DELIVERERS = {Role.SCHOOL: "INSCHRIJVING", Role.ACCOUNTANT: "ACCOUNTANTSMUTATIE"}


def _may_deliver(principal: Principal, brin: Any, soort: Any) -> None:
    if principal.role is Role.OPERATOR:
        return
    if principal.role not in DELIVERERS or brin != principal.brin:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"user {principal.login} may deliver for its own BRIN only",
        )
    if DELIVERERS[principal.role] != soort:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"role {principal.role.value} may not deliver soort {soort}",
        )


# The routes return a typed FeedbackDocument; the response model stays a plain
# object (pydantic takes only typing_extensions' TypedDict on Python 3.11, and
# would then also reorder the keys of a stored document).
FEEDBACK = dict[str, Any]


@router.post(
    "",
    response_model=FEEDBACK,
    responses={
        422: {"description": "batch refused as a whole"},
        409: {"description": "batch key delivered with other content"},
    },
)
async def submit(
    request: Request,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    audit: ReadLogDep,
    dry_run: Annotated[
        bool, Query(description="trial delivery: record nothing")
    ] = False,
) -> FeedbackDocument:
    """Deliver a bron-vo-batch/1 batch; returns its feedback (bron-vo-terugkoppeling/1)."""
    raw = await request.body()
    try:
        head = json.loads(raw)
    except ValueError:
        head = {}
    if isinstance(head, dict):
        _may_deliver(principal, head.get("brin"), head.get("soort"))
    result = runtime.record_now(
        lambda at: runtime.intake.submit(raw, at, dry_run=dry_run, by=principal)
    )
    if not dry_run:  # intake audits a trial itself, the command line's too
        _audit_feedback(audit, result.feedback)
    return result.feedback


def _audit_feedback(audit: ReadLog, feedback: FeedbackDocument) -> None:
    audit(
        [student_number(m["leerling"]) for m in feedback["meldingen"]],
        brin=feedback["brin"],
    )


@router.get(
    "/{brin}/{aanleverpunt}/{schooljaar}/{batchnummer}/feedback",
    response_model=FEEDBACK,
)
def feedback(
    brin: str,
    aanleverpunt: int,
    schooljaar: str,
    batchnummer: int,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    audit: ReadLogDep,
) -> FeedbackDocument:
    """The current feedback of a delivered batch (own BRIN only)."""
    if principal.role is not Role.OPERATOR and (
        principal.role not in DELIVERERS or principal.brin != brin
    ):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"user {principal.login} may read its own BRIN only",
        )
    key = BatchKey(brin, aanleverpunt, schooljaar, batchnummer)
    stored = runtime.intake.store.batch(key)
    if stored is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such batch")
    if principal.role in DELIVERERS and DELIVERERS[principal.role] != stored.soort:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"role {principal.role.value} may not read soort {stored.soort}",
        )
    _audit_feedback(audit, stored.feedback)
    return stored.feedback
