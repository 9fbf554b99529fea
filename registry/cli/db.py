"""`registry db start|stop`: the embedded PostgreSQL in REGISTRY_STATE_DIR."""

from __future__ import annotations

import typer

from registry.cli.common import emit
from registry.config import Settings

db_app = typer.Typer(
    help="The embedded PostgreSQL in REGISTRY_STATE_DIR.", no_args_is_help=True
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
