"""`registry consume RECIPIENT`: the agencies' reference consumer (consumers/),
run from the registry's command line. A thin wrapper: it does not open the
registry, it only fills in what the agency's settings (AGENCY_*) leave unset
from the registry's, so a development machine's consumer finds the registry's
own database and broker (the embedded ones included). An agency runs
`registry-agency RECIPIENT` (or `python -m consumers`) on AGENCY_* alone."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import SecretStr

from registry.cli.common import emit, kafka_bootstrap, refuse
from registry.config import Settings

# The agency settings a registry setting of the same name stands in for.
SHARED = (
    "kafka_security_protocol",
    "kafka_sasl_mechanism",
    "kafka_sasl_username",
    "kafka_sasl_password",
    "kafka_ssl_cafile",
)


def register(app: typer.Typer) -> None:
    app.command("consume")(consume)


def consume(
    recipient: Annotated[str, typer.Argument(help="cbs, inspectie, svb or gmNNNN")],
    idle_exit: Annotated[
        float | None, typer.Option(help="stop after this many idle seconds")
    ] = None,
) -> None:
    """Run the reference consumer of one recipient until SIGTERM (or idle)."""
    from consumers.agency import AgencyConsumer
    from consumers.cli import run
    from consumers.settings import AgencySettings

    agency = AgencySettings()
    registry = Settings()
    given = agency.model_fields_set
    filled = {k: getattr(registry, k) for k in SHARED if k not in given}
    if "database_url" not in given:
        filled["database_url"] = registry.database_url or _embedded(registry)
    if "kafka_bootstrap" not in given:
        filled["kafka_bootstrap"] = kafka_bootstrap(registry)
    try:
        consumer = AgencyConsumer.from_settings(
            agency.model_copy(update=filled), recipient
        )
    except ValueError as e:
        refuse(str(e))
    emit(run(consumer, idle_exit))


def _embedded(settings: Settings) -> SecretStr:
    """The embedded PostgreSQL in the state directory (started if need be): the
    server only, none of the registry's tables."""
    from registry.infrastructure.embedded_postgres import EmbeddedPostgres

    settings.refuse_in_production("the embedded PostgreSQL: set AGENCY_DATABASE_URL")
    return SecretStr(EmbeddedPostgres(settings.state_dir).start())
