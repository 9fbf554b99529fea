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
MAX_VERSIE = 2**31 - 1  # PostgreSQL's int
Versie = Annotated[int | None, Query(ge=1, le=MAX_VERSIE)]
Format = Annotated[str, Query(pattern="^(json|csv)$")]


@contextmanager
def live_timeline(runtime: Runtime, response: Response) -> Iterator[Reading]:
    """The live timeline, never caught up here, on the read database (a
    replica, when one is set); the answer says which log position it is
    given at."""
    with reading(runtime.read_url, Timeline.name) as r:
        response.headers[POSITION_HEADER] = str(r.position)
        yield r


# The years a question may be about: the register began after 1990 (the oldest
# periods intake accepts) and no answer lies beyond 2100.
FIRST_YEAR, LAST_YEAR = 1990, 2100


def _unprocessable(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


def year_calendar(schooljaar: str) -> SchoolYearCalendar:
    """The calendar of a valid schooljaar within the register's years; raises
    InvalidSchooljaar for one not of the form."""
    year = Schooljaar(schooljaar)
    if not FIRST_YEAR <= year.start_year < LAST_YEAR:
        raise _unprocessable(
            f"schooljaar {schooljaar} is outside {FIRST_YEAR}-{FIRST_YEAR + 1} "
            f"to {LAST_YEAR - 1}-{LAST_YEAR}"
        )
    return SchoolYearCalendar.of(year)


def peildatum_in(schooljaar: str, d: date | None) -> date:
    """The peildatum asked for (default the count date), which must lie in the
    school year the path names."""
    calendar = year_calendar(schooljaar)
    if d is None:
        return calendar.count_date
    if not calendar.first_day <= d <= calendar.last_day:
        raise _unprocessable(
            f"peildatum {d} is not in schooljaar {schooljaar} "
            f"({calendar.first_day} to {calendar.last_day})"
        )
    return d


def within_years(name: str, d: date) -> date:
    if not FIRST_YEAR <= d.year <= LAST_YEAR:
        raise _unprocessable(f"{name} {d} is outside {FIRST_YEAR} to {LAST_YEAR}")
    return d


def known_at(runtime: Runtime, t: datetime | None) -> datetime:
    if t is None:
        return runtime.now()
    if t.tzinfo is None:
        raise _unprocessable("stand_per needs a UTC offset")
    within_years("stand_per", t.date())
    return t


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
