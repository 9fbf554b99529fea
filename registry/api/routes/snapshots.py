"""Snapshots: who was enrolled on a peildatum as known at a time (D, T)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from registry.api.deps import SCHOOL_SIDE, ReadLogDep, RuntimeDep
from registry.api.reading import (
    POSITION_HEADER,
    YEAR,
    Cursor,
    Format,
    Limit,
    Peildatum,
    StandPer,
    csv_response,
    known_at,
    live_timeline,
    paged,
    year_calendar,
)
from registry.domain.foto import student_number
from registry.projections.queries.peiling import snapshot

router = APIRouter(prefix="/v1", tags=["read side"])


@router.get(YEAR + "/snapshot", dependencies=[SCHOOL_SIDE])
def get_snapshot(
    brin: str,
    schooljaar: str,
    runtime: RuntimeDep,
    response: Response,
    audit: ReadLogDep,
    peildatum: Peildatum = None,
    stand_per: StandPer = None,
    cursor: Cursor = None,
    limit: Limit = 1000,
    format: Format = "json",
) -> Any:
    """Who was enrolled on the peildatum as known at stand_per, with funding
    verdicts (bron-vo-foto/1, soort peiling). CSV gives the whole list."""
    d = peildatum or year_calendar(schooljaar).count_date
    with live_timeline(runtime, response) as r:
        doc: dict[str, Any] = dict(
            snapshot(r.cursor, brin, schooljaar, d, known_at(runtime, stand_per))
        )
    if format == "csv":
        audit([student_number(e["leerling"]) for e in doc["inschrijvingen"]])
        sheet = csv_response(doc["inschrijvingen"], f"{brin}-{schooljaar}-{d}.csv")
        sheet.headers[POSITION_HEADER] = response.headers[POSITION_HEADER]
        return sheet
    doc["inschrijvingen"], doc["next_cursor"] = paged(
        doc["inschrijvingen"], cursor, limit
    )
    audit([student_number(e["leerling"]) for e in doc["inschrijvingen"]])
    return doc
