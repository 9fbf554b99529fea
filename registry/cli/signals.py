"""`registry signals list`: a school's current attention signals."""

from __future__ import annotations

from typing import Annotated

import typer

from registry.cli.common import (
    emit,
    parse_time,
    runtime,
    school_year_key,
    timeline_reading,
)
from registry.projections.queries import signals

signals_app = typer.Typer(help="Attention signals per school.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(signals_app, name="signals")


@signals_app.command("list")
def signals_list(
    brin: str,
    schooljaar: str,
    stand_per: Annotated[
        str | None, typer.Option(help="as known at; default now")
    ] = None,
) -> None:
    """The school's current attention signals (X121, X130, X131, X132, X150)."""
    brin, schooljaar = school_year_key(brin, schooljaar)
    with runtime() as rt:
        t = parse_time(stand_per, "--stand-per") or rt.now()
        with timeline_reading(rt) as r:
            emit(signals.current(r.cursor, brin, schooljaar, t))
