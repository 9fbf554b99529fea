"""The `registry` command: the operator's and the tests' way in (contract.md).

Every command prints JSON on stdout; a refusal prints a clear message on stderr
and exits 2. Each module of this package registers one command group, or the
top-level commands of one theme, on the root app made here.
"""

from __future__ import annotations

import os
import sys

import typer
from pydantic import ValidationError

from registry.api import problems
from registry.cli import (
    audit,
    consume,
    db,
    deliveries,
    foto,
    kafka,
    milestones,
    population,
    projections,
    publish,
    retention,
    school_years,
    schools,
    serve,
    signals,
    simulation,
    snapshots,
    status,
    users,
    year,
)
from registry.config import Settings, settings_errors

app = typer.Typer(
    help="Enrolment registry for Dutch secondary schools (after BRON VO).",
    no_args_is_help=True,
)


@app.callback()
def _logging(ctx: typer.Context) -> None:
    # Before any command runs: every command and daemon logs alike (the
    # settings' level and format, personal data masked; docs/operations.md),
    # and names its connections to the server after itself.
    from pydantic import ValidationError

    from registry.config import Settings
    from registry.infrastructure.logs import configure_logging
    from registry.infrastructure.pools import name_connections

    name_connections(f"registry {ctx.invoked_subcommand or ''}".strip())

    try:
        settings = Settings()
    except ValidationError as e:
        # Where and what is wrong, never the value (it may be a secret).
        typer.echo(f"registry: not configured: {settings_errors(e)}", err=True)
        raise typer.Exit(2) from None
    configure_logging(settings)


# `--help` lists the top-level commands in this order, then the groups in theirs.
deliveries.register(app)
school_years.register(app)
snapshots.register(app)
audit.register(app)
consume.register(app)
status.register(app)
serve.register(app)
simulation.register(app)
schools.register(app)
users.register(app)
db.register(app)
population.register(app)
year.register(app)
foto.register(app)
milestones.register(app)
projections.register(app)
signals.register(app)
kafka.register(app)
publish.register(app)
retention.register(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # one line and the table's exit code, no traceback
        sys.exit(_refusal(e))


def _refusal(exc: Exception) -> int:
    """What a command that failed says on stderr, and its exit code: the API's
    problem table decides both (1 not found, 2 refused, 3 unavailable, 70 an
    unforeseen failure)."""
    if isinstance(exc, ValidationError) and exc.title == Settings.__name__:
        typer.echo(f"registry: not configured: {settings_errors(exc)}", err=True)
        return problems.REFUSED
    problem = problems.problem_for(exc)
    if problem is None:
        # Unforeseen: the class only, as the API logs it (a text may quote a
        # value); REGISTRY_DEBUG=1 shows the traceback.
        if os.environ.get("REGISTRY_DEBUG") == "1":
            raise exc
        typer.echo(f"registry: failed: {type(exc).__name__}", err=True)
        return problems.INTERNAL_EXIT
    typer.echo(
        f"registry: {problem.title.lower()}: {problems.detail(problem, exc)}",
        err=True,
    )
    return problem.exit_code


if __name__ == "__main__":
    main()
