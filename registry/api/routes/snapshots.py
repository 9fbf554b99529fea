"""Snapshots: who was enrolled on a peildatum as known at a time (D, T)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, status
from fastapi.responses import Response

from registry.api import examples
from registry.api.cursors import PagerDep
from registry.api.deps import SCHOOL_SIDE, ReadLogDep, RuntimeDep
from registry.api.documents import Snapshot
from registry.api.openapi import SIGNED_IN, answer, document, problems
from registry.api.reading import (
    POSITION_HEADER,
    YEAR,
    Format,
    Limit,
    Peildatum,
    StandPer,
    csv_response,
    known_at,
    live_timeline,
    peildatum_in,
)
from registry.domain.foto import FORMAT, PEILING, student_number
from registry.projections.queries import answers, entries
from registry.projections.queries.peiling import snapshot

router = APIRouter(prefix="/v1", tags=["read side"])
IfNoneMatch = Annotated[
    str | None, Header(description="the ETag of a final answer held: 304 if unchanged")
]
# A final answer may be kept by the reader, never by a shared cache, and is
# checked again each time: forgetting a person changes it.
CACHE_CONTROL = "private, no-cache"
ANSWER = answer(
    "A page of the snapshot (`bron-vo-foto/1`, soort `peiling`); with "
    "`format=csv` the whole list as CSV",
    examples.SNAPSHOT,
    csv=True,
    timeline=True,
)
ANSWER[200]["headers"] = {
    **ANSWER[200]["headers"],
    "ETag": {
        "description": "Only on a final answer (stand_per before the last event "
        "the timeline applied): names it for If-None-Match",
        "schema": {"type": "string"},
    },
}


@router.get(
    YEAR + "/snapshot",
    dependencies=[SCHOOL_SIDE],
    response_model=document(Snapshot),
    responses={
        **ANSWER,
        304: {"description": "Unchanged: If-None-Match named this final answer"},
        **problems(
            *SIGNED_IN,
            422,
            notes={
                422: "A query value is invalid: schooljaar outside 1990-2100 or "
                "not `YYYY-YYYY+1`, a peildatum outside the school year, a "
                "stand_per without UTC offset, a limit outside 1-10,000, a "
                "cursor of another question"
            },
        ),
    },
)
def get_snapshot(
    brin: str,
    schooljaar: str,
    runtime: RuntimeDep,
    response: Response,
    audit: ReadLogDep,
    pager: PagerDep,
    peildatum: Peildatum = None,
    stand_per: StandPer = None,
    limit: Limit = 1000,
    format: Format = "json",
    if_none_match: IfNoneMatch = None,
) -> Any:
    """Who was enrolled on the peildatum as known at stand_per, with funding
    verdicts (bron-vo-foto/1, soort peiling). CSV gives the whole list. An
    answer at a stand_per before the last event the timeline applied is final:
    it carries a strong ETag, and If-None-Match with it gives 304."""
    d = peildatum_in(schooljaar, peildatum)
    t = pager.at or known_at(runtime, stand_per)  # a later page: the first's T
    question = (pager.question, pager.start, limit, t.isoformat())
    with live_timeline(runtime, response) as r:
        stamp = answers.stamp(r.cursor)
        tag = answers.etag(stamp, entries.CODE, question) if stamp.final(t) else None
        if tag and answers.matches(if_none_match, tag):
            return _unchanged(tag, response)  # nothing shown: nothing audited
        if format == "csv":
            doc = answers.remembered(
                stamp,
                t,
                question,
                lambda: snapshot(r.cursor, brin, schooljaar, d, t),
                lambda doc: 200 * doc["controletotaal"],
            )
        else:
            page = answers.remembered(
                stamp,
                t,
                question,
                lambda: entries.page(
                    r.cursor, brin, schooljaar, d, t, pager.start, limit
                ),
                lambda page: len(page.entries),
            )
    if format == "csv":
        audit([student_number(e["leerling"]) for e in doc["inschrijvingen"]])
        sent = csv_response(doc["inschrijvingen"], f"{brin}-{schooljaar}-{d}.csv")
    else:
        audit(page.numbers)
        sent = _document(
            page, brin, schooljaar, d, t, pager.following(limit, page.controletotaal, t)
        )
    sent.headers[POSITION_HEADER] = response.headers[POSITION_HEADER]
    if tag:
        sent.headers.update({"ETag": tag, "Cache-Control": CACHE_CONTROL})
    return sent


def _document(
    page: entries.Page,
    brin: str,
    schooljaar: str,
    d: date,
    t: datetime,
    next_cursor: str | None,
) -> Response:
    """The page as the document, its entries as the database wrote them."""
    head = {
        "format": FORMAT,
        "soort": PEILING,
        "brin": brin,
        "schooljaar": schooljaar,
        "peildatum": d.isoformat(),
        "stand_per": t.astimezone(UTC).isoformat(),
        "controletotaal": page.controletotaal,
        "bekostigd": page.bekostigd,
    }
    body = (
        json.dumps(head, ensure_ascii=False)[:-1]
        + ',"inschrijvingen":'
        + page.entries
        + ',"next_cursor":'
        + json.dumps(next_cursor)
        + "}"
    )
    return Response(body, media_type="application/json")


def _unchanged(tag: str, response: Response) -> Response:
    headers = {"ETag": tag, "Cache-Control": CACHE_CONTROL}
    headers[POSITION_HEADER] = response.headers[POSITION_HEADER]
    return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
