"""`registry generate`: synthetic school years to play and to demonstrate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from registry.cli.common import emit, refuse


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)


def generate(
    out: Annotated[Path, typer.Option("--out", help="directory to write into")],
    seed: Annotated[int, typer.Option(help="same seed, same files")] = 1,
    scale: Annotated[str, typer.Option(help="tiny, small or national")] = "small",
) -> None:
    """Write a synthetic school year: reference data, batches, schedule, expected
    outcome counts."""
    from registry.simulation.generator import generate as write_year

    if scale not in ("tiny", "small", "national"):
        refuse(f"--scale {scale!r} is not tiny, small or national")
    emit(write_year(seed, scale, out))
