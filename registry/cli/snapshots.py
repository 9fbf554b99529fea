"""`registry snapshot|funding`: who is enrolled and funded, at any time."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from registry.cli.common import (
    emit,
    parse_time,
    refuse,
    runtime,
    school_year_key,
    timeline_reading,
)
from registry.domain.calendar import SchoolYearCalendar
from registry.projections.queries.peiling import snapshot as make_snapshot


def register(app: typer.Typer) -> None:
    app.command("snapshot")(snapshot)
    app.command("funding")(funding)


def snapshot(
    brin: str,
    schooljaar: str,
    peildatum: Annotated[
        str | None, typer.Option(help="valid date; default 1 October")
    ] = None,
    stand_per: Annotated[
        str | None, typer.Option(help="as known at (ISO 8601); default now")
    ] = None,
) -> None:
    """Who was enrolled on PEILDATUM as known at STAND_PER, with funding verdicts."""
    brin, schooljaar = school_year_key(brin, schooljaar)
    try:
        d = (
            date.fromisoformat(peildatum)
            if peildatum
            else SchoolYearCalendar.of(schooljaar).count_date
        )
    except ValueError:
        refuse(f"--peildatum {peildatum!r} is not a date (YYYY-MM-DD)")
    with runtime() as rt:
        t = parse_time(stand_per, "--stand-per") or rt.now()
        with timeline_reading(rt) as r:
            emit(make_snapshot(r.cursor, brin, schooljaar, d, t))


def funding(brin: str, schooljaar: str) -> None:
    """The school's funding statement from its definitief (else voorlopig) foto,
    every amount as count × rate."""
    from registry.domain.funding import FundingError
    from registry.projections.queries.funding import statement

    brin, schooljaar = school_year_key(brin, schooljaar)
    with runtime() as rt, timeline_reading(rt) as r:
        try:
            emit(statement(r.cursor, brin, schooljaar))
        except FundingError as e:
            refuse(str(e), code=1)
