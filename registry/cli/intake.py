"""`registry submit|feedback|retry-waiting` and `registry population …`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from registry.cli.common import AtOption, emit, refuse, refuse_file, runtime
from registry.domain.values import Brin, Schooljaar
from registry.intake.population import parse_persons
from registry.intake.reference_files import FileRefused
from registry.intake.wire import BatchRefused

population_app = typer.Typer(
    help="The synthetic population register (GBA/BRP).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.command("submit")(submit)
    app.command("feedback")(feedback)
    app.command("retry-waiting")(retry_waiting)
    app.command("generate")(generate)
    app.add_typer(population_app, name="population")
    app.add_typer(year_app, name="year")


def submit(
    file: Path,
    at: AtOption = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="trial delivery: the feedback it would get, recording nothing",
        ),
    ] = False,
) -> None:
    """Deliver a batch (bron-vo-batch/1) and print its feedback."""
    try:
        raw = file.read_bytes()
    except OSError as e:
        refuse(f"cannot read {file}: {e}")
    with runtime() as rt:
        try:
            result = rt.record(lambda t: rt.intake.submit(raw, t, dry_run=dry_run), at)
        except BatchRefused as e:
            for p in e.problems:
                typer.echo(
                    f"  {p['path']}: {p['rule']} (value: {p['value']!r})", err=True
                )
            refuse(
                f"{file}: batch refused as a whole, {len(e.problems)} problem(s); "
                "nothing was recorded"
            )
        emit(result.feedback)


def feedback(brin: str, aanleverpunt: int, schooljaar: str, batchnummer: int) -> None:
    """Print a batch's current feedback (exit 1 when the batch is unknown)."""
    key = (str(Brin(brin)), aanleverpunt, str(Schooljaar(schooljaar)), batchnummer)
    with runtime() as rt:
        found = rt.intake.feedback(key)
        if found is None:
            refuse(f"no batch {brin}/{aanleverpunt}/{schooljaar}/{batchnummer}", code=1)
        emit(found)


def retry_waiting(at: AtOption = None) -> None:
    """Judge again the records waiting on the population register."""
    with runtime() as rt:
        emit(rt.record(rt.intake.retry_waiting, at))


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
        emit(rt.population.load(persons, rt.at(at)))


@population_app.command("outage")
def population_outage(
    available: Annotated[bool, typer.Option("--available/--unavailable")],
    at: AtOption = None,
) -> None:
    """Mark the population register (un)available: records then wait (status W)."""
    with runtime() as rt:
        rt.population.set_available(available, rt.at(at))
        emit({"available": available})


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


year_app = typer.Typer(help="Generated school years.", no_args_is_help=True)


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
        if rt.registry.recorder.last_recorded_at() is not None:  # type: ignore[attr-defined]
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
