"""`registry population load|outage`: the synthetic population register."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from registry.cli.common import AtOption, emit, refuse, refuse_file, runtime
from registry.intake.population import parse_persons
from registry.intake.reference_files import FileRefused

population_app = typer.Typer(
    help="The synthetic population register (GBA/BRP).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(population_app, name="population")


@population_app.command("load")
def population_load(file: Path, at: AtOption = None) -> None:
    """Load persons (JSON Lines); same line twice changes nothing, a changed line is
    recorded as a change."""
    try:
        persons = parse_persons(file.read_text(encoding="utf-8").splitlines())
    except OSError as e:
        refuse(f"cannot read {file}: {e}")
    except FileRefused as e:
        refuse_file(file, e)
    with runtime() as rt:
        emit(rt.load_population(persons, rt.at(at)))


@population_app.command("outage")
def population_outage(
    available: Annotated[bool, typer.Option("--available/--unavailable")],
    at: AtOption = None,
) -> None:
    """Mark the population register (un)available: records then wait (status W)."""
    with runtime() as rt:
        rt.population.set_available(available, rt.at(at))
        emit({"available": available})
