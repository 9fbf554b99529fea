"""`registry db start|stop`: the embedded PostgreSQL in REGISTRY_STATE_DIR;
`registry db migrate|status`: the tables' migrations, as the schema's owner."""

from __future__ import annotations

from typing import Annotated

import typer

from registry.cli.common import emit, refuse
from registry.config import Settings

db_app = typer.Typer(
    help="The database: its migrations, and the embedded PostgreSQL in "
    "REGISTRY_STATE_DIR.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")


@db_app.command("start")
def db_start() -> None:
    """Start the embedded server and leave it running for later commands."""
    from registry.infrastructure.embedded_postgres import EmbeddedPostgres

    emit({"url": EmbeddedPostgres(Settings().state_dir, keep_running=True).start()})


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded server."""
    from registry.infrastructure.embedded_postgres import EmbeddedPostgres

    EmbeddedPostgres(Settings().state_dir).stop()
    emit({"stopped": True})


def owner_url(settings: Settings) -> str:
    """REGISTRY_MIGRATE_DATABASE_URL (the schema owner's), else
    REGISTRY_DATABASE_URL, else the embedded server (not in production)."""
    for url in (settings.migrate_database_url, settings.database_url):
        if url is not None:
            return url.get_secret_value()
    settings.refuse_in_production(
        "the embedded PostgreSQL: set REGISTRY_MIGRATE_DATABASE_URL "
        "or REGISTRY_DATABASE_URL"
    )
    from registry.infrastructure.embedded_postgres import EmbeddedPostgres

    return EmbeddedPostgres(settings.state_dir).start()


@db_app.command("migrate")
def db_migrate(
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Say what would be applied; change nothing"),
    ] = False,
    grant_to: Annotated[
        str | None,
        typer.Option(
            "--grant-to",
            metavar="ROLE",
            help="Then grant the services' ROLE what it needs (rows, sequences, "
            "CREATE on the database for the projections' schemas)",
        ),
    ] = None,
) -> None:
    """Apply the pending migrations in order, each once, as the role that owns
    the schema (REGISTRY_MIGRATE_DATABASE_URL, else REGISTRY_DATABASE_URL)."""
    from registry.bootstrap import migrate_database
    from registry.infrastructure.migrations import MigrationError

    settings = Settings()
    url = owner_url(settings)
    try:
        labels = migrate_database(settings, url, grant_to=grant_to, dry_run=dry_run)
    except MigrationError as e:
        refuse(str(e))
    if dry_run:
        emit({"would_apply": labels, "would_grant_to": grant_to})
    else:
        emit({"applied": labels, "granted_to": grant_to})


@db_app.command("status")
def db_status() -> None:
    """The migrations applied (when, by whom) and those pending; changes nothing."""
    import psycopg

    from registry.infrastructure.migrations import state

    with psycopg.connect(owner_url(Settings())) as conn:
        current = state(conn)
    emit(
        {
            "applied": [
                {
                    "migration": a.label,
                    "applied_at": a.applied_at.isoformat(),
                    "applied_by": a.applied_by,
                }
                for a in current.applied
            ],
            "pending": [m.label for m in current.pending],
            "changed": [m.label for m in current.changed],
            "unknown": [a.label for a in current.unknown],
        }
    )
