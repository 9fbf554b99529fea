"""What every `registry` command shares: JSON out, refusals on stderr (exit 2);
and the helpers more than one command module needs."""

from __future__ import annotations

import getpass
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, NoReturn

import typer
from rich.progress import BarColumn, Progress, TextColumn

from registry.access.policy import AccessError, Role
from registry.access.users import Principal
from registry.application.errors import ApplicationError
from registry.application.fotos import IssuedFoto, UnknownFoto
from registry.bootstrap import Runtime, bootstrap, projection, projections
from registry.config import Settings
from registry.domain.errors import DomainError
from registry.domain.foto import FotoKind
from registry.domain.values import Brin, Schooljaar
from registry.infrastructure.clock import ClockError, parse_at
from registry.infrastructure.embedded_kafka import running
from registry.intake.reference_files import FileRefused
from registry.intake.service import DeliveryRefused
from registry.intake.wire import BatchRefused
from registry.projections.engine.reading import Reading, reading
from registry.projections.engine.runner import ProjectionStopped
from registry.projections.timeline import Timeline

AtOption = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="Recorded time (ISO 8601 with offset); needs REGISTRY_CLOCK=simulated",
    ),
]
# How long a query command waits for a read replica to replay the catch-up.
REPLICA_WAIT_SECONDS = 10
REFUSALS = (
    DomainError,
    ApplicationError,
    ClockError,
    AccessError,
    FileRefused,
    BatchRefused,
    DeliveryRefused,
    ProjectionStopped,
)


def terminal_user() -> Principal:
    """Who acts at the command line: an operator with access to the database,
    named by the account running the command (for the audit)."""
    return Principal(f"cli:{getpass.getuser()}", Role.OPERATOR, None, None)


def emit(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=str))


def refuse(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"registry: refused: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def runtime() -> Iterator[Runtime]:
    try:
        with bootstrap(Settings()) as rt:
            yield rt
    except REFUSALS as e:
        refuse(str(e))


def school_year_key(brin: str, schooljaar: str) -> tuple[str, str]:
    """BRIN and school year checked as the domain checks them, or a refusal."""
    try:
        return str(Brin(brin)), str(Schooljaar(schooljaar))
    except DomainError as e:
        refuse(str(e))


def refuse_file(file: Any, error: FileRefused) -> NoReturn:
    for problem in error.problems:
        typer.echo(f"  {problem}", err=True)
    refuse(f"{file}: {len(error.problems)} problem(s); nothing was recorded")


def parse_time(text: str | None, name: str) -> datetime | None:
    """An ISO 8601 time option, or a refusal naming the option."""
    try:
        return parse_at(text)
    except (ValueError, ClockError) as e:  # parse_at names the option --at
        refuse(f"{name}: {str(e).removeprefix('--at ')}")


def progress(label: str) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        transient=True,
    )


@contextmanager
def timeline_reading(rt: Runtime, *, writes: bool = False) -> Iterator[Reading]:
    """The timeline caught up first: no projector may be running beside the
    command line, and an operator expects the answer to include what was just
    delivered. A query reads it on the read database once that has replayed
    the catch-up; a command that `writes` on what it reads, on the main one."""
    rt.catch_up()
    if writes or rt.read_url == rt.database_url:
        with reading(rt.database_url, Timeline.name) as r:
            yield r
        return
    wanted = rt.projector.live_position(Timeline.name)
    deadline = time.monotonic() + REPLICA_WAIT_SECONDS
    while True:
        with reading(rt.read_url, Timeline.name) as r:
            if r.position >= wanted:
                yield r
                return
        if time.monotonic() > deadline:
            refuse(
                f"the read database's timeline is at log position {r.position}, "
                f"not yet {wanted}, after {REPLICA_WAIT_SECONDS} s: is the "
                "replica streaming? (REGISTRY_READ_DATABASE_URL)",
                code=3,
            )
        time.sleep(0.1)


def foto_kind(soort: str) -> FotoKind:
    try:
        return FotoKind.parse(soort)
    except ValueError as e:
        refuse(str(e))


def stored_foto(rt: Runtime, brin: str, schooljaar: str, which: str) -> IssuedFoto:
    """The issued foto SOORT[:VERSIE] (the latest version by default), or exit 1."""
    soort, _, versie = which.partition(":")
    kind = foto_kind(soort)
    try:
        return rt.fotos.stored(brin, schooljaar, kind, int(versie) if versie else None)
    except (UnknownFoto, ValueError) as e:
        refuse(str(e), code=1)


def projection_named(rt: Runtime, name: str) -> Any:
    try:
        return projection(rt.settings, name)
    except KeyError:
        known = ", ".join(p.name for p in projections(rt.settings))
        refuse(f"no projection {name!r}; known: {known}")


def kafka_bootstrap(settings: Settings) -> str:
    """REGISTRY_KAFKA_BOOTSTRAP, else the broker `registry kafka start` left running."""
    if settings.kafka_bootstrap:
        return settings.kafka_bootstrap
    settings.refuse_in_production("the embedded broker: set REGISTRY_KAFKA_BOOTSTRAP")
    found = running(settings.state_dir)
    if found is None:
        refuse("no Kafka: set REGISTRY_KAFKA_BOOTSTRAP or run `registry kafka start`")
    return found
