"""`registry publish relay|replay`: the outbox to the agencies over Kafka."""

from __future__ import annotations

import signal
import time
from typing import Annotated

import typer

from registry.cli.common import emit, kafka_bootstrap, runtime

publish_app = typer.Typer(
    help="Publication to the agencies over Kafka.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(publish_app, name="publish")


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
