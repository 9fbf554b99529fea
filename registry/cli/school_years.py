"""`registry assurance`: a school's school year, stage by stage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from registry.cli.common import (
    AtOption,
    emit,
    refuse,
    refuse_file,
    runtime,
    school_year_key,
)
from registry.intake.reference_files import FileRefused, parse_exclusions


def register(app: typer.Typer) -> None:
    app.command("assurance")(assurance)


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
    rows: list[dict[str, Any]] = []
    if exclusions is not None:
        try:
            rows = parse_exclusions(exclusions.read_text(encoding="utf-8").splitlines())
        except OSError as e:
            refuse(f"cannot read {exclusions}: {e}")
        except FileRefused as e:
            refuse_file(exclusions, e)
    with runtime() as rt:
        year = rt.record(
            lambda t: rt.registry.report_assurance(brin, schooljaar, numbers, rows, t),
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
