"""`registry year play`: a generated school year played and checked."""

from __future__ import annotations

from pathlib import Path

import typer

from registry.cli.common import emit, refuse, runtime

year_app = typer.Typer(help="Generated school years.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(year_app, name="year")


@year_app.command("play")
def year_play(directory: Path) -> None:
    """Play a generated year's schedule (REGISTRY_CLOCK=simulated) and compare the
    outcome with its expected.json; exit 1 on any difference."""
    import json

    from rich.progress import Progress

    from registry.simulation.year import play, schedule_length

    if not (directory / "schedule.jsonl").exists():
        refuse(f"{directory} holds no schedule.jsonl (see `registry generate`)")
    with runtime() as rt:
        if rt.settings.clock != "simulated":
            refuse(
                "a generated year carries its own times: set REGISTRY_CLOCK=simulated"
            )
        if rt.registry.last_recorded_at() is not None:
            refuse(
                "the database already holds a history; play a generated year on an "
                "empty one (REGISTRY_DATABASE_URL or a fresh REGISTRY_STATE_DIR)"
            )
        with Progress(transient=True) as bar:
            task = bar.add_task("school year", total=schedule_length(directory))
            report = play(rt, directory, on_op=lambda op: bar.advance(task))
        outcome = report.outcome(rt)
    expected = json.loads((directory / "expected.json").read_text())
    differing = sorted(k for k in outcome if expected.get(k) != outcome[k])
    emit(
        {
            "outcome": outcome,
            "mismatches": report.mismatches,
            "differs_from_expected": differing,
        }
    )
    if differing or report.mismatches:
        raise typer.Exit(1)
