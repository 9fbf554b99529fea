"""`registry submit|feedback|retry-waiting`: batches delivered by the schools."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Annotated

import typer

from registry.cli.common import (
    AtOption,
    emit,
    refuse,
    runtime,
    school_year_key,
    terminal_user,
)
from registry.intake.wire import BatchKey, BatchRefused


def register(app: typer.Typer) -> None:
    app.command("submit")(submit)
    app.command("feedback")(feedback)
    app.command("retry-waiting")(retry_waiting)


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
            result = rt.record(
                lambda t: rt.intake.submit(raw, t, dry_run=dry_run, by=terminal_user()),
                at,
            )
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
    brin, schooljaar = school_year_key(brin, schooljaar)
    key = BatchKey(brin, aanleverpunt, schooljaar, batchnummer)
    with runtime() as rt:
        found = rt.intake.feedback(key)
        if found is None:
            refuse(f"no batch {brin}/{aanleverpunt}/{schooljaar}/{batchnummer}", code=1)
        emit(found)


def retry_waiting(
    at: AtOption = None,
    every: Annotated[
        float | None,
        typer.Option(help="keep retrying, every this many seconds, until SIGTERM"),
    ] = None,
) -> None:
    """Judge again the records waiting on the population register. With --every
    it keeps at it, waiting longer while nothing is resolved (the register is
    still down), up to 16 times the interval."""
    if every is not None and at is not None:
        refuse("--every runs on the system clock: leave out --at")
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    with runtime() as rt:
        interval = every
        while True:
            counts = rt.record(rt.intake.retry_waiting, at)
            emit(counts)
            if every is None or interval is None or stop["now"]:
                return
            interval = next_interval(interval, every, resolved(counts))
            time.sleep(interval)


def resolved(counts: dict[str, int]) -> bool:
    return bool(counts.get("G") or counts.get("A")) or not counts.get("W")


def next_interval(current: float, base: float, progressed: bool) -> float:
    """Back off while retries resolve nothing; start again at `base` once they do."""
    return base if progressed else min(current * 2, base * 16)
