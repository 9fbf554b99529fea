"""Deliveries over the API: POST a batch (or a trial delivery), GET its feedback.
A school may deliver for its own BRIN; ACCOUNTANTSMUTATIE needs the accountant."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool

from registry.access.policy import Role
from registry.access.users import Principal
from registry.api import examples
from registry.api.deps import PrincipalDep, ReadLog, ReadLogDep, RuntimeDep
from registry.api.documents import Feedback
from registry.api.metrics import instruments_of
from registry.api.openapi import BATCH_BODY, SIGNED_IN, answer, document, problems
from registry.domain.foto import student_number
from registry.intake.feedback import FeedbackDocument
from registry.intake.service import DeliveryRefused
from registry.intake.wire import BatchKey, BatchRefused

router = APIRouter(prefix="/v1/batches", tags=["deliveries"])
DELIVERERS = {Role.SCHOOL: "INSCHRIJVING", Role.ACCOUNTANT: "ACCOUNTANTSMUTATIE"}


def _may_deliver(principal: Principal, brin: Any, soort: Any) -> None:
    if principal.role is Role.OPERATOR:
        return
    if brin != principal.brin:
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
# would then also reorder the keys of a stored document), documented as the
# Feedback model.
FEEDBACK = document(Feedback)


@router.post(
    "",
    response_model=FEEDBACK,
    responses={
        **answer(
            "The batch's feedback (`bron-vo-terugkoppeling/1`), also for a batch "
            "delivered again with the same content; with `dry_run` the feedback "
            "it would get, nothing recorded",
            examples.FEEDBACK,
        ),
        **problems(
            *SIGNED_IN,
            409,
            413,
            415,
            422,
            notes={
                403: "The role may not deliver, or not this batch: a school "
                "delivers INSCHRIJVING for its own BRIN, an accountant "
                "ACCOUNTANTSMUTATIE for its own BRIN, an operator any",
                409: "The batch key was delivered before with other content "
                "(`batch-key-taken`), or another writer changed the same record "
                "first (`concurrent-change`); nothing was recorded",
                413: "The body exceeds REGISTRY_MAX_BODY_BYTES (32 MiB unless "
                "configured)",
                415: "A batch is `application/json`",
                422: "The batch is refused as a whole (`batch-refused`: "
                "`problems` lists every fault, nothing was recorded), or "
                "`dry_run` is not a boolean (`invalid-request`)",
            },
            cases={422: {"refused": examples.BATCH_REFUSED}},
        ),
    },
    openapi_extra=BATCH_BODY,
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
    if principal.role not in (*DELIVERERS, Role.OPERATOR):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"role {principal.role.value} may not deliver",
        )
    _json_only(request)
    raw = await _body(request, runtime.settings.max_body_bytes)
    try:
        head = json.loads(raw)
    except (ValueError, RecursionError):
        head = None  # intake refuses it as a whole, with the reason
    if isinstance(head, dict):
        _may_deliver(principal, head.get("brin"), head.get("soort"))
    counted = instruments_of(request)
    # Off the event loop: a large delivery must not stall other requests.
    try:
        result = await run_in_threadpool(
            runtime.record_now,
            lambda at: runtime.intake.submit(raw, at, dry_run=dry_run, by=principal),
        )
    except (BatchRefused, DeliveryRefused):
        if counted:
            counted.refused()
        raise
    if counted:
        counted.delivery(result.feedback, result.recorded, dry_run)
    if not dry_run:  # intake audits a trial itself, the command line's too
        _audit_feedback(audit, result.feedback)
    return result.feedback


def _json_only(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"a batch is application/json, not {media or 'untyped'}",
        )


async def _body(request: Request, limit: int) -> bytes:
    """The body, refused (413) as soon as it passes `limit` bytes: a declared
    length is believed, a streamed body is counted."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, f"the body exceeds {limit} bytes"
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE, f"the body exceeds {limit} bytes"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _audit_feedback(audit: ReadLog, feedback: FeedbackDocument) -> None:
    audit(
        [student_number(m["leerling"]) for m in feedback["meldingen"]],
        brin=feedback["brin"],
    )


@router.get(
    "/{brin}/{aanleverpunt}/{schooljaar}/{batchnummer}/feedback",
    response_model=FEEDBACK,
    responses={
        **answer(
            "The batch's current feedback (records waiting on the population "
            "register are resolved later)",
            examples.FEEDBACK,
        ),
        **problems(
            *SIGNED_IN,
            404,
            422,
            notes={
                403: "Not the user's own BRIN, or a soort its role does not deliver",
                404: "No such batch",
                422: "`aanleverpunt` or `batchnummer` is not an integer",
            },
        ),
    },
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
