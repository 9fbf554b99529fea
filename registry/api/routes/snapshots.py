"""Snapshots: who was enrolled on a peildatum as known at a time (D, T)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
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
from registry.domain.foto import student_number
from registry.projections.queries.peiling import snapshot

router = APIRouter(prefix="/v1", tags=["read side"])


@router.get(
    YEAR + "/snapshot",
    dependencies=[SCHOOL_SIDE],
    response_model=document(Snapshot),
    responses={
        **answer(
            "A page of the snapshot (`bron-vo-foto/1`, soort `peiling`); with "
            "`format=csv` the whole list as CSV",
            examples.SNAPSHOT,
            csv=True,
            timeline=True,
        ),
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
) -> Any:
    """Who was enrolled on the peildatum as known at stand_per, with funding
    verdicts (bron-vo-foto/1, soort peiling). CSV gives the whole list."""
    d = peildatum_in(schooljaar, peildatum)
    t = pager.at or known_at(runtime, stand_per)  # a later page: the first's T
    with live_timeline(runtime, response) as r:
        doc: dict[str, Any] = dict(snapshot(r.cursor, brin, schooljaar, d, t))
    if format == "csv":
        audit([student_number(e["leerling"]) for e in doc["inschrijvingen"]])
        sheet = csv_response(doc["inschrijvingen"], f"{brin}-{schooljaar}-{d}.csv")
        sheet.headers[POSITION_HEADER] = response.headers[POSITION_HEADER]
        return sheet
    doc["inschrijvingen"], doc["next_cursor"] = pager.page(
        doc["inschrijvingen"], limit, t
    )
    audit([student_number(e["leerling"]) for e in doc["inschrijvingen"]])
    return doc
