"""What every `registry` command shares: JSON out, refusals on stderr (exit 2)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer

from registry.access.policy import AccessError
from registry.application.errors import ApplicationError
from registry.bootstrap import Runtime, bootstrap
from registry.config import Settings
from registry.domain.errors import DomainError
from registry.domain.values import Brin, Schooljaar
from registry.infrastructure.clock import ClockError
from registry.intake.reference_files import FileRefused
from registry.intake.service import DeliveryRefused
from registry.intake.wire import BatchRefused

AtOption = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="Recorded time (ISO 8601 with offset); needs REGISTRY_CLOCK=simulated",
    ),
]
REFUSALS = (
    DomainError,
    ApplicationError,
    ClockError,
    AccessError,
    FileRefused,
    BatchRefused,
    DeliveryRefused,
)


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
