"""`registry declare-complete|mutation-stop|assurance|school-year`: a school's
school year, stage by stage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from registry.application.fotos import IssuedFoto
from registry.bootstrap import Runtime
from registry.cli.common import (
    AtOption,
    emit,
    refuse,
    refuse_file,
    runtime,
    school_year_key,
)
from registry.domain.school_year import Exclusion, SchoolYear
from registry.intake.reference_files import FileRefused, parse_exclusions


def register(app: typer.Typer) -> None:
    app.command("declare-complete")(declare_complete)
    app.command("mutation-stop")(mutation_stop)
    app.command("assurance")(assurance)
    app.command("school-year")(school_year)


def year_view(year: SchoolYear) -> dict[str, Any]:
    return {
        "brin": year.brin,
        "schooljaar": year.schooljaar,
        "stage": year.stage.value,
        "declared_on": year.declared_on,
        "stopped_on": year.stopped_on,
        "version": year.version,
    }


def _year_command(
    action: Callable[[Runtime, str, str, Any], SchoolYear],
    brin: str,
    schooljaar: str,
    at: str | None,
) -> None:
    brin, schooljaar = school_year_key(brin, schooljaar)
    with runtime() as rt:
        emit(year_view(rt.record(lambda t: action(rt, brin, schooljaar, t), at)))


def declare_complete(brin: str, schooljaar: str, at: AtOption = None) -> None:
    """Record the completeness declaration (volledigheidsverklaring)."""
    _year_command(
        lambda rt, b, s, t: rt.registry.declare_complete(b, s, t), brin, schooljaar, at
    )


def mutation_stop(brin: str, schooljaar: str, at: AtOption = None) -> None:
    """Stop mutations on request, with the actuele foto and the signal list the
    stop produces; refused before the school's voorlopige foto exists."""
    brin, schooljaar = school_year_key(brin, schooljaar)
    with runtime() as rt:
        rt.catch_up()
        foto = rt.record(
            lambda t: rt.fotos.stop(brin, schooljaar, t, on_request=True), at
        )
        year = rt.registry.school_year(brin, schooljaar)
        assert year is not None  # just stopped
        emit(year_view(year) | {"foto": foto_view(foto), "signalen": foto.signalen})


def foto_view(foto: IssuedFoto) -> dict[str, Any]:
    d = foto.document
    return {
        "soort": foto.soort,
        "versie": foto.versie,
        "hash": foto.content_hash,
        "controletotaal": d["controletotaal"],
        "bekostigd": d["bekostigd"],
    }


def assurance(
    brin: str,
    schooljaar: str,
    batches: Annotated[
        str, typer.Option(help="accountant batchnummers, N,N (may be empty)")
    ] = "",
    exclusions: Annotated[
        Path | None, typer.Option(help="JSON Lines: students not to fund")
    ] = None,
    at: AtOption = None,
) -> None:
    """Record the assurance report (accountant's statement) with its exclusions."""
    brin, schooljaar = school_year_key(brin, schooljaar)
    try:
        numbers = [int(n) for n in batches.split(",") if n.strip()]
    except ValueError:
        refuse(f"--batches {batches!r} is not a list of numbers N,N")
    rows: list[Exclusion] = []
    if exclusions is not None:
        try:
            rows = parse_exclusions(exclusions.read_text(encoding="utf-8").splitlines())
        except OSError as e:
            refuse(f"cannot read {exclusions}: {e}")
        except FileRefused as e:
            refuse_file(exclusions, e)
    with runtime() as rt:
        year = rt.record(
            lambda t: rt.intake.report_assurance(brin, schooljaar, numbers, rows, t),
            at,
        )
        emit(
            {
                "brin": brin,
                "schooljaar": schooljaar,
                "stage": year.stage.value,
                "batches": numbers,
                "exclusions": len(rows),
            }
        )


def school_year(brin: str, schooljaar: str) -> None:
    """Print the stage of a school's registration for a school year (exit 1: none)."""
    brin, schooljaar = school_year_key(brin, schooljaar)
    with runtime() as rt:
        year = rt.registry.school_year(brin, schooljaar)
        if year is None:
            refuse(f"no registration for {brin} {schooljaar}", code=1)
        assert year is not None
        emit(year_view(year))
