"""`registry schools load`: schools, vestigingen and licences (participation)."""

from __future__ import annotations

from pathlib import Path

import typer

from registry.cli.common import AtOption, emit, refuse, refuse_file, runtime
from registry.intake.reference_files import FileRefused, parse_schools

schools_app = typer.Typer(
    help="School registration (participation).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(schools_app, name="schools")


@schools_app.command("load")
def schools_load(file: Path, at: AtOption = None) -> None:
    """Register schools, vestigingen and licences from a JSON Lines file."""
    try:
        registrations = parse_schools(file.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError) as e:
        refuse(f"cannot read {file}: {e}")
    except FileRefused as e:
        refuse_file(file, e)
    with runtime() as rt:
        size = rt.settings.save_batch_size
        report = rt.record(
            lambda t: rt.registry.load_schools(registrations, t, size), at
        )
        emit(report.__dict__)
