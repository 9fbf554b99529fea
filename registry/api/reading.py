"""What the read-side routes share: the live timeline an answer is read from
(and the log position it is given at), the school year and the time a question
names, and CSV. Lists are paged with signed cursors (`cursors.py`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import HTTPException, Query, status
from fastapi.responses import Response

from registry.bootstrap import Runtime
from registry.domain.calendar import SchoolYearCalendar
from registry.domain.foto import FotoEntry, student_number
from registry.domain.values import Schooljaar
from registry.projections.engine.reading import Reading, reading
from registry.projections.timeline import Timeline

YEAR = "/schools/{brin}/years/{schooljaar}"
POSITION_HEADER = "X-Log-Position"
CSV_COLUMNS = (
    "bsn",
    "onderwijsnummer",
    "vestiging",
    "elementcode",
    "leerjaar",
    "ingangsdatum",
    "einddatum",
    "bekostigd",
    "redenen",
)
Peildatum = Annotated[date | None, Query(description="valid date; default 1 October")]
StandPer = Annotated[datetime | None, Query(description="as known at; default now")]
Limit = Annotated[int, Query(ge=1, le=10_000)]
Format = Annotated[str, Query(pattern="^(json|csv)$")]


@contextmanager
def live_timeline(runtime: Runtime, response: Response) -> Iterator[Reading]:
    """The live timeline, never caught up here; the answer says which log
    position it is given at."""
    with reading(runtime.database_url, Timeline.name) as r:
        response.headers[POSITION_HEADER] = str(r.position)
        yield r


def year_calendar(schooljaar: str) -> SchoolYearCalendar:
    """The calendar of a valid schooljaar; raises InvalidSchooljaar."""
    return SchoolYearCalendar.of(Schooljaar(schooljaar))


def known_at(runtime: Runtime, t: datetime | None) -> datetime:
    if t is not None and t.tzinfo is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "stand_per needs a UTC offset"
        )
    return t or runtime.now()


def sort_key(e: dict[str, Any]) -> list[str]:
    return [
        student_number(e["leerling"]),
        e["vestiging"],
        e["ingangsdatum"],
    ]


def csv_response(entries: Sequence[FotoEntry], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        writer.writerow(
            [
                e["leerling"]["bsn"] or "",
                e["leerling"]["onderwijsnummer"] or "",
                e["vestiging"],
                e["elementcode"],
                e["leerjaar"],
                e["ingangsdatum"],
                e["einddatum"] or "",
                "ja" if e["bekostigd"] else "nee",
                " ".join(e["redenen"]),
            ]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
