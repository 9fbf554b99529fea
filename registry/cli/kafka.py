"""`registry kafka start|stop`: the embedded broker in REGISTRY_STATE_DIR."""

from __future__ import annotations

import typer

from registry.cli.common import emit
from registry.config import Settings
from registry.infrastructure.embedded_kafka import start_detached, stop_detached

kafka_app = typer.Typer(
    help="The embedded Kafka-compatible broker (Tansu).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(kafka_app, name="kafka")


@kafka_app.command("start")
def kafka_start() -> None:
    """Start the embedded broker (memory storage) with every topic's schema."""
    from registry.publishing.admin import (
        ensure_contract_topics,
        write_broker_schemas,
    )

    settings = Settings()
    schemas = write_broker_schemas(settings.state_dir / "topic-schemas")
    address = start_detached(settings.state_dir, schemas)
    made = ensure_contract_topics(address)
    emit({"bootstrap": address, "topics_created": made})


@kafka_app.command("stop")
def kafka_stop() -> None:
    """Stop the embedded broker (its topics are gone: memory storage)."""
    emit({"stopped": stop_detached(Settings().state_dir)})
