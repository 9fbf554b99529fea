"""Point-in-time questions over the API: snapshots as of (D, T), enrolments valid
on D as known at T, fotos and their diffs, signals. Lists are paged with an
opaque cursor (the sort key of the last item), so a page never shifts when
later facts arrive: the question itself fixes D and T."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import Response

from registry.access.policy import Role
from registry.api.deps import RuntimeDep, authorise
from registry.application.fotos import IssuedFoto, UnknownFoto
from registry.bootstrap import Runtime
from registry.domain.calendar import SchoolYearCalendar
from registry.domain.foto import FotoKind
from registry.domain.values import Schooljaar
from registry.projections.engine.reading import Reading, reading
from registry.projections.queries import signals as signal_list
from registry.projections.queries.diff import Side, diff
from registry.projections.queries.peiling import periods, snapshot
from registry.projections.timeline import Timeline

router = APIRouter(prefix="/v1", tags=["read side"])
SCHOOL_SIDE = Depends(authorise(Role.SCHOOL, Role.ACCOUNTANT, Role.OPERATOR))
OPERATOR = Depends(authorise(Role.OPERATOR))
YEAR = "/schools/{brin}/years/{schooljaar}"
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
Cursor = Annotated[
    str | None, Query(description="from the previous page's next_cursor")
]
Limit = Annotated[int, Query(ge=1, le=10_000)]
Format = Annotated[str, Query(pattern="^(json|csv)$")]


POSITION_HEADER = "X-Log-Position"


@contextmanager
def _timeline(runtime: Runtime, response: Response) -> Iterator[Reading]:
    """The live timeline, never caught up here; the answer says which log
    position it is given at."""
    with reading(runtime.database_url, Timeline.name) as r:
        response.headers[POSITION_HEADER] = str(r.position)
        yield r


def _year(schooljaar: str) -> SchoolYearCalendar:
    """The calendar of a valid schooljaar; raises InvalidSchooljaar."""
    return SchoolYearCalendar.of(Schooljaar(schooljaar))


def _as_of(runtime: Runtime, t: datetime | None) -> datetime:
    if t is not None and t.tzinfo is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "stand_per needs a UTC offset"
        )
    return t or runtime.now()


def _sort_key(e: dict[str, Any]) -> list[str]:
    return [
        e["leerling"]["bsn"] or e["leerling"]["onderwijsnummer"],
        e["vestiging"],
        e["ingangsdatum"],
    ]


def _page(
    items: list[dict[str, Any]], cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    if cursor:
        try:
            after = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        except ValueError:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid cursor"
            ) from None
        items = [e for e in items if _sort_key(e) > after]
    page = items[:limit]
    more = len(items) > limit
    token = (
        base64.urlsafe_b64encode(json.dumps(_sort_key(page[-1])).encode()).decode()
        if more
        else None
    )
    return page, token


def _csv(entries: list[dict[str, Any]], filename: str) -> Response:
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


@router.get(YEAR + "/snapshot", dependencies=[SCHOOL_SIDE])
def get_snapshot(
    brin: str,
    schooljaar: str,
    runtime: RuntimeDep,
    response: Response,
    peildatum: Peildatum = None,
    stand_per: StandPer = None,
    cursor: Cursor = None,
    limit: Limit = 1000,
    format: Format = "json",
) -> Any:
    """Who was enrolled on the peildatum as known at stand_per, with funding
    verdicts (bron-vo-foto/1, soort peiling). CSV gives the whole list."""
    d = peildatum or _year(schooljaar).count_date
    with _timeline(runtime, response) as r:
        doc: dict[str, Any] = dict(
            snapshot(r.cursor, brin, schooljaar, d, _as_of(runtime, stand_per))
        )
    if format == "csv":
        csv_response = _csv(doc["inschrijvingen"], f"{brin}-{schooljaar}-{d}.csv")
        csv_response.headers[POSITION_HEADER] = response.headers[POSITION_HEADER]
        return csv_response
    doc["inschrijvingen"], doc["next_cursor"] = _page(
        doc["inschrijvingen"], cursor, limit
    )
    return doc


@router.get("/enrolments", dependencies=[OPERATOR])
def national_enrolments(
    runtime: RuntimeDep,
    response: Response,
    schooljaar: str,
    valid_on: date,
    as_of: StandPer = None,
    cursor: Cursor = None,
    limit: Limit = 1000,
) -> dict[str, Any]:
    """Every enrolment in the country valid on a date as known at a time (operators)."""
    _year(schooljaar)
    with _timeline(runtime, response) as r:
        rows = periods(r.cursor, None, schooljaar, valid_on, _as_of(runtime, as_of))
    items = sorted(
        (
            {
                "brin": r["brin"],
                "leerling": {
                    "bsn": r["number"] if r["kind"] == "bsn" else None,
                    "onderwijsnummer": None if r["kind"] == "bsn" else r["number"],
                },
                "vestiging": r["vestiging"],
                "elementcode": r["elementcode"],
                "ingangsdatum": r["ingangsdatum"].isoformat(),
            }
            for r in rows
        ),
        key=lambda e: [*_sort_key(e), e["brin"]],
    )
    page, token = _page(items, cursor, limit)
    return {
        "valid_on": valid_on.isoformat(),
        "total": len(items),
        "enrolments": page,
        "next_cursor": token,
    }


def _foto(
    runtime: Runtime, brin: str, schooljaar: str, soort: str, versie: int | None
) -> IssuedFoto:
    try:
        kind = FotoKind.parse(soort)
    except ValueError as e:
        raise UnknownFoto(str(e)) from None  # an unknown soort has no foto either
    return runtime.fotos.stored(brin, schooljaar, kind, versie)


@router.get(YEAR + "/fotos/diff", dependencies=[SCHOOL_SIDE])
def foto_diff(
    brin: str,
    schooljaar: str,
    runtime: RuntimeDep,
    response: Response,
    van: Annotated[str, Query(description="soort[:versie]")],
    naar: Annotated[str, Query(description="soort[:versie] or now")] = "now",
) -> dict[str, Any]:
    """Who entered, left or changed verdict between two fotos, with causes."""
    count_date = _year(schooljaar).count_date
    with _timeline(runtime, response) as r:
        now = Side("now", runtime.now(), r.position)
        sides = [
            now if which == "now" else _foto_side(runtime, brin, schooljaar, which)
            for which in (van, naar)
        ]
        return diff(r.cursor, brin, schooljaar, count_date, *sides)


def _foto_side(runtime: Runtime, brin: str, schooljaar: str, which: str) -> Side:
    soort, _, versie = which.partition(":")
    foto = _foto(
        runtime, brin, schooljaar, soort, int(versie) if versie.isdigit() else None
    )
    return Side(f"{foto.soort}:{foto.versie}", foto.stand_per, foto.position)


@router.get(YEAR + "/fotos/{soort}", dependencies=[SCHOOL_SIDE])
def get_foto(
    brin: str,
    schooljaar: str,
    soort: str,
    runtime: RuntimeDep,
    versie: int | None = None,
    format: Format = "json",
) -> Any:
    """An issued foto (latest version unless versie is given)."""
    foto = _foto(runtime, brin, schooljaar, soort, versie)
    if format == "csv":
        return _csv(
            foto.document["inschrijvingen"],
            f"{brin}-{schooljaar}-{soort}-{foto.versie}.csv",
        )
    return foto.document | {"versie": foto.versie, "hash": foto.content_hash}


@router.get(YEAR + "/signals", dependencies=[SCHOOL_SIDE])
def get_signals(
    brin: str,
    schooljaar: str,
    runtime: RuntimeDep,
    response: Response,
    stand_per: StandPer = None,
) -> list[dict[str, str]]:
    """The school's attention signals as known at stand_per."""
    _year(schooljaar)
    at = _as_of(runtime, stand_per)
    with _timeline(runtime, response) as r:
        return signal_list.current(r.cursor, brin, schooljaar, at)


@router.get(YEAR + "/funding", dependencies=[SCHOOL_SIDE])
def get_funding(
    brin: str, schooljaar: str, runtime: RuntimeDep, response: Response
) -> dict[str, Any]:
    """Funding from the definitief (else, provisionally, the voorlopig) foto,
    each line count × rate (2022 amounts)."""
    from registry.projections.queries.funding import statement

    _year(schooljaar)
    with _timeline(runtime, response) as r:
        return statement(r.cursor, brin, schooljaar)


@router.get("/projections", dependencies=[OPERATOR])
def projection_status(runtime: RuntimeDep) -> list[dict[str, Any]]:
    """Position, head and lag of every projection (operators)."""
    return [s.__dict__ | {"lag": s.lag} for s in runtime.projector.status()]
