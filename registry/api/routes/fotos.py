"""Issued fotos of a school year and what changed between two of them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import Response

from registry.api import documents, examples
from registry.api.deps import SCHOOL_SIDE, ReadLogDep, RuntimeDep
from registry.api.openapi import SIGNED_IN, answer, document, problems
from registry.api.reading import (
    MAX_VERSIE,
    YEAR,
    Format,
    Versie,
    csv_response,
    live_timeline,
    year_calendar,
)
from registry.application.fotos import IssuedFoto, UnknownFoto
from registry.bootstrap import Runtime
from registry.domain.foto import FotoKind, student_number
from registry.projections.engine.reading import ProjectionNotReady
from registry.projections.queries.diff import KINDS, Side, diff

router = APIRouter(prefix="/v1", tags=["read side"])


def _foto(
    runtime: Runtime, brin: str, schooljaar: str, soort: str, versie: int | None
) -> IssuedFoto:
    try:
        kind = FotoKind.parse(soort)
    except ValueError as e:
        raise UnknownFoto(str(e)) from None  # an unknown soort has no foto either
    return runtime.fotos.stored(brin, schooljaar, kind, versie)


def _foto_side(runtime: Runtime, brin: str, schooljaar: str, which: str) -> Side:
    soort, _, versie = which.partition(":")
    number = int(versie) if versie.isdigit() else None
    if versie and (number is None or not 1 <= number <= MAX_VERSIE):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"{which!r}: a version is a number from 1 to {MAX_VERSIE}",
        )
    foto = _foto(runtime, brin, schooljaar, soort, number)
    return Side(f"{foto.soort}:{foto.versie}", foto.stand_per, foto.position)


# Declared before /fotos/{soort}, which would otherwise take "diff" for a soort.
@router.get(
    YEAR + "/fotos/diff",
    dependencies=[SCHOOL_SIDE],
    response_model=document(documents.FotoDiff),
    responses={
        **answer("The changes, each with its causes", timeline=True),
        **problems(
            *SIGNED_IN,
            404,
            422,
            notes={
                404: "No such foto: an unknown soort, or none issued (of that versie)",
                422: "schooljaar outside 1990-2100 or not `YYYY-YYYY+1`, or a "
                "versie that is not a number from 1 to 2147483647",
            },
        ),
    },
)
def foto_diff(
    brin: str,
    schooljaar: str,
    runtime: RuntimeDep,
    response: Response,
    audit: ReadLogDep,
    van: Annotated[str, Query(description="soort[:versie]")],
    naar: Annotated[str, Query(description="soort[:versie] or now")] = "now",
) -> dict[str, Any]:
    """Who entered, left or changed verdict between two fotos, with causes."""
    count_date = year_calendar(schooljaar).count_date
    with live_timeline(runtime, response) as r:
        now = Side("now", runtime.now(), r.position)
        sides = [
            now if which == "now" else _foto_side(runtime, brin, schooljaar, which)
            for which in (van, naar)
        ]
        behind = max(side.position for side in sides)
        if behind > r.position:  # a replica that has not replayed the foto yet
            raise ProjectionNotReady(
                f"the timeline is at log position {r.position}, not {behind}"
            )
        changes = diff(r.cursor, brin, schooljaar, count_date, *sides)
    audit([c["leerling"] for kind in KINDS for c in changes[kind]])
    return changes


@router.get(
    YEAR + "/fotos/{soort}",
    dependencies=[SCHOOL_SIDE],
    response_model=document(documents.IssuedFoto),
    responses={
        **answer(
            "The issued foto (`bron-vo-foto/1`) as stored, with its versie and "
            "hash; with `format=csv` its entries as CSV",
            examples.ISSUED_FOTO,
            csv=True,
        ),
        **problems(
            *SIGNED_IN,
            404,
            422,
            notes={
                404: "No such foto: an unknown soort, or none issued (of that versie)",
                422: "versie outside 1-2147483647, or format not json or csv",
            },
        ),
    },
)
def get_foto(
    brin: str,
    schooljaar: str,
    soort: str,
    runtime: RuntimeDep,
    audit: ReadLogDep,
    versie: Versie = None,
    format: Format = "json",
) -> Any:
    """An issued foto (latest version unless versie is given)."""
    foto = _foto(runtime, brin, schooljaar, soort, versie)
    audit([student_number(e["leerling"]) for e in foto.document["inschrijvingen"]])
    if format == "csv":
        return csv_response(
            foto.document["inschrijvingen"],
            f"{brin}-{schooljaar}-{soort}-{foto.versie}.csv",
        )
    return foto.document | {"versie": foto.versie, "hash": foto.content_hash}
