"""`registry milestones run`: the calendar of the yearly cycle, for every school."""

from __future__ import annotations

import signal
import time
from typing import Annotated, Any

import typer

from registry.application.milestones import MilestoneReport, run_milestones
from registry.cli.common import AtOption, emit, refuse, runtime

milestones_app = typer.Typer(
    help="The calendar: voorlopige fotos, the default stop, definitieve fotos.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(milestones_app, name="milestones")


def _view(report: MilestoneReport) -> dict[str, Any]:
    return {"done": dict(report.done), "refused": report.refused}


@milestones_app.command("run")
def milestones_run(
    at: AtOption = None,
    every: Annotated[
        float | None,
        typer.Option(help="run again every this many seconds until SIGTERM"),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="schools at a time (threads): a foto's Python overlaps "
            "another's queries",
        ),
    ] = 1,
) -> None:
    """Perform every milestone due by T (default now) for every school: the
    voorlopige foto (mid-November) after the completeness declaration, the
    default mutation stop on 1 June with its actuele foto, the definitieve foto
    (21 July) after the assurance report. Idempotent."""
    if every is not None and at is not None:
        refuse("--every runs on the system clock: leave out --at")
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    with runtime() as rt:
        while True:
            rt.catch_up()  # the fotos read the timeline as far as the log goes
            report = rt.record(
                lambda t: run_milestones(rt.registry, rt.fotos, t, workers), at
            )
            emit(_view(report))
            if every is None or stop["now"]:
                return
            time.sleep(every)
