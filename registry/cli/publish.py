"""`registry kafka …`, `registry publish …` and `registry consume RECIPIENT`."""

from __future__ import annotations

import signal
import time
from typing import Annotated, Any

import typer

from registry.cli.common import emit, kafka_bootstrap, runtime
from registry.config import Settings
from registry.infrastructure.embedded_kafka import start_detached, stop_detached

kafka_app = typer.Typer(
    help="The embedded Kafka-compatible broker (Tansu).", no_args_is_help=True
)
publish_app = typer.Typer(
    help="Publication to the agencies over Kafka.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(kafka_app, name="kafka")
    app.add_typer(publish_app, name="publish")
    app.command("consume")(consume)


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


@publish_app.command("relay")
def publish_relay(
    once: Annotated[
        bool, typer.Option(help="relay what is in the outbox, then exit")
    ] = False,
    poll: Annotated[float, typer.Option(help="seconds between rounds")] = 1.0,
) -> None:
    """Catch the extract projections up and produce the outbox to Kafka."""
    from registry.bootstrap import projections
    from registry.projections.engine.multi import fresh_together
    from registry.projections.extracts.base import ExtractProjection
    from registry.publishing.contract import TopicSchemas
    from registry.publishing.relay import Relay, producer

    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    with runtime() as rt:
        address = kafka_bootstrap(rt.settings)
        extracts = [
            p for p in projections(rt.settings) if isinstance(p, ExtractProjection)
        ]
        schemas = TopicSchemas()
        sent = 0
        while not stop["now"]:
            fresh_together(rt.projector, extracts)
            kafka = producer(
                address
            )  # a new producer a round: a refusal is fatal to one
            try:
                sent += Relay(rt.database_url, kafka, schemas).run_once()
            finally:
                kafka.close()
            if once:
                break
            time.sleep(poll)
        emit({"sent": sent})


@publish_app.command("replay")
def publish_replay(
    recipient: Annotated[str, typer.Option(help="cbs, inspectie, svb or gmNNNN")],
    from_position: Annotated[
        int, typer.Option("--from", help="log position to start at")
    ] = 0,
) -> None:
    """Send a recipient's messages again with their original ids."""
    from registry.publishing.contract import TopicSchemas
    from registry.publishing.relay import Relay, producer

    with runtime() as rt:
        kafka = producer(kafka_bootstrap(rt.settings))
        try:
            relay = Relay(
                rt.database_url, kafka, TopicSchemas(), name=f"replay-{recipient}"
            )
            emit(
                {
                    "recipient": recipient,
                    "resent": relay.republish(recipient, from_position),
                }
            )
        finally:
            kafka.close()


def consume(
    recipient: Annotated[str, typer.Argument(help="cbs, inspectie, svb or gmNNNN")],
    idle_exit: Annotated[
        float | None, typer.Option(help="stop after this many idle seconds")
    ] = None,
) -> None:
    """Run the reference consumer of one recipient until SIGTERM (or idle)."""
    from consumers.agency import AgencyConsumer, Stats

    settings = Settings()
    with runtime() as rt:
        consumer = AgencyConsumer(rt.database_url, kafka_bootstrap(settings), recipient)
        consumer.install_signal_handlers()
        idle = {"since": time.monotonic(), "seen": -1}

        def until(stats: Stats) -> bool:
            seen = stats.stored + stats.duplicates + stats.parked
            if seen != idle["seen"] or not stats.assigned:  # idle once assigned
                idle.update(since=time.monotonic(), seen=seen)
            return (
                idle_exit is not None and time.monotonic() - idle["since"] > idle_exit
            )

        stats: Any = consumer.run(until=until)
        emit(stats.__dict__)
