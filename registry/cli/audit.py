"""`registry replay|explain`: how an answer came about, checked against the log;
`registry audit reads`: who was shown personal data."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from registry.cli.common import (
    emit,
    parse_time,
    progress,
    projection_named,
    refuse,
    runtime,
    school_year_key,
    stored_foto,
    timeline_reading,
)
from registry.domain.calendar import SchoolYearCalendar
from registry.projections import replay as audit_replay
from registry.projections.queries import audit

audit_app = typer.Typer(help="The audit of reads (operators).", no_args_is_help=True)
READ_COLUMNS = ("at", "login", "role", "route", "brin", "subject", "rows")


def register(app: typer.Typer) -> None:
    app.command("replay")(replay)
    app.command("explain")(explain)
    app.add_typer(audit_app, name="audit")


@audit_app.command("reads")
def reads(
    since: Annotated[str | None, typer.Option(help="from T (ISO 8601)")] = None,
    user: Annotated[str | None, typer.Option(help="login name")] = None,
    brin: Annotated[str | None, typer.Option(help="school")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 1000,
    table: Annotated[bool, typer.Option(help="a table instead of JSON")] = False,
) -> None:
    """Recorded reads of personal data (API responses, trial deliveries),
    oldest first."""
    start = parse_time(since, "--since")
    with runtime() as rt:
        rows = rt.reads.reads(since=start, login=user, brin=brin, limit=limit)
    if table:
        Console().print(_table(rows))
    else:
        emit(rows)


def _table(rows: list[dict[str, Any]]) -> Table:
    shown = Table(*READ_COLUMNS, title=f"reads of personal data: {len(rows)}")
    for row in rows:
        shown.add_row(*("" if row[c] is None else str(row[c]) for c in READ_COLUMNS))
    return shown


def replay(
    until: Annotated[
        str, typer.Option(help="rebuild the log as known at T (ISO 8601)")
    ],
    projection: Annotated[str, typer.Option(help="projection name")] = "timeline",
    foto: Annotated[
        str | None,
        typer.Option(
            help="compare with an issued foto: BRIN/SCHOOLJAAR/SOORT[:VERSIE]"
        ),
    ] = None,
    keep: Annotated[bool, typer.Option(help="keep the scratch schema")] = False,
) -> None:
    """Rebuild a projection from the log as known at T in a scratch schema and
    compare it with the live tables (as known at T) or with an issued foto.
    Exit 1 when they differ."""
    t = parse_time(until, "--until")
    assert t is not None
    with runtime() as rt:
        chosen = projection_named(rt, projection)
        issued = None
        if foto is not None:
            brin, schooljaar, which = ([*foto.split("/"), "", ""])[:3]
            brin, schooljaar = school_year_key(brin, schooljaar)
            issued = stored_foto(rt, brin, schooljaar, which)
        with progress(f"replay {projection}") as bar:
            task = bar.add_task(projection, total=None)
            report = audit_replay.replay(
                rt.projector,
                chosen,
                t,
                keep=keep,
                foto=issued,
                on_page=lambda pos, head: bar.update(task, completed=pos, total=head),
            )
        emit(report)
        if report.get("differences") or (issued and not report["foto"].get("equal")):
            raise typer.Exit(1)


def explain(
    brin: str,
    schooljaar: str,
    student: Annotated[str, typer.Argument(help="BSN or onderwijsnummer")],
    stand_per: Annotated[
        str | None, typer.Option(help="as known at; default now")
    ] = None,
) -> None:
    """The events that decided one student's verdict on the count date."""
    brin, schooljaar = school_year_key(brin, schooljaar)
    with runtime() as rt:
        t = parse_time(stand_per, "--stand-per") or rt.now()
        peildatum = SchoolYearCalendar.of(schooljaar).count_date
        with timeline_reading(rt) as r:
            try:
                emit(audit.explain(r.cursor, brin, schooljaar, student, peildatum, t))
            except LookupError as e:
                refuse(str(e), code=1)
