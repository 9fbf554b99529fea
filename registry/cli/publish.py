"""`registry publish relay|replay|redrive`: the outbox to the agencies over Kafka."""

from __future__ import annotations

import logging
import signal
import time
from typing import Annotated, Any

import typer

from registry.cli.common import emit, kafka_bootstrap, refuse, runtime
from registry.publishing.security import client_security

log = logging.getLogger(__name__)
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
    poll: Annotated[
        float,
        typer.Option(
            help="seconds at most between rounds: a round starts as soon as new "
            "events or messages are notified, and after this long without one"
        ),
    ] = 1.0,
    recipients: Annotated[
        str | None,
        typer.Option(
            help="relay only these recipients (a LIKE pattern, e.g. 'gm%'): one "
            "relay per group shards publication; its position is kept apart"
        ),
    ] = None,
) -> None:
    """Catch the extract projections up and produce the outbox to Kafka."""
    import psycopg
    from kafka.errors import KafkaError

    from registry.infrastructure.wakeup import Wakeup

    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    with runtime() as rt:
        publication = _publication(rt, once, stop, recipients)
        if publication is None:
            return
        try:
            if once:
                try:
                    sent = publication.round()
                except (KafkaError, psycopg.Error) as e:
                    refuse(f"the round failed: {type(e).__name__}")
            else:
                wakeup = Wakeup(rt.database_url, publication.channels())
                try:
                    sent = publication.run(lambda: stop["now"], wakeup, poll)
                finally:
                    wakeup.close()
        finally:
            publication.close()
        emit({"sent": sent, "redacted_skipped": publication.relay.skipped})


def _publication(
    rt: Any, once: bool, stop: dict[str, bool], recipients: str | None
) -> Any:
    """The relay's one producer, waited for while the broker is down at start
    (backing off as a failed round does); None when stopped meanwhile."""
    from kafka.errors import KafkaError

    from registry.publishing.round import backoff

    failures = 0
    while not stop["now"]:
        try:
            name = "relay" if recipients is None else f"relay-{recipients}"
            return rt.publication(
                kafka_bootstrap(rt.settings), name=name, recipients=recipients
            )
        except KafkaError as e:
            if once:
                refuse(f"the broker is unavailable ({type(e).__name__})", code=3)
            failures += 1
            wait = backoff(1.0, failures)
            log.warning(
                "broker unavailable (%s), trying again in %.0f s",
                type(e).__name__,
                wait,
            )
            time.sleep(wait)
    return None


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
        security = client_security(rt.settings)
        security["max_request_size"] = rt.settings.kafka_max_message_bytes
        kafka = producer(kafka_bootstrap(rt.settings), **security)
        try:
            relay = Relay(
                rt.database_url, kafka, TopicSchemas(), name=f"replay-{recipient}"
            )
            resent = relay.republish(recipient, from_position)
            emit(
                {
                    "recipient": recipient,
                    "resent": resent,
                    # messages about forgotten people: redacted, never resent
                    "redacted_skipped": relay.skipped,
                }
            )
        finally:
            kafka.close()


@publish_app.command("redrive")
def publish_redrive(
    recipient: Annotated[
        str | None,
        typer.Option(help="cbs, inspectie, svb or gmNNNN (a LIKE pattern: gm%)"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option(help="say what would be sent; send and change nothing")
    ] = False,
) -> None:
    """Send the refused messages (outbox_refused) again after a fix: each is
    checked against its topic's schema again; those that pass go out with their
    original ids, the others stay refused with the reason."""
    from registry.publishing.contract import TopicSchemas
    from registry.publishing.redrive import redrive
    from registry.publishing.relay import producer

    with runtime() as rt:
        if dry_run:
            done = redrive(rt.database_url, TopicSchemas(), None, recipient)
        else:
            security = client_security(rt.settings)
            security["max_request_size"] = rt.settings.kafka_max_message_bytes
            kafka = producer(kafka_bootstrap(rt.settings), **security)
            try:
                done = redrive(rt.database_url, TopicSchemas(), kafka, recipient)
            finally:
                kafka.close()
        emit({"recipient": recipient, "dry_run": dry_run, **done.view()})


@publish_app.command("topics")
def publish_topics() -> None:
    """Create the contract's missing topics (dead-letter topics included) on the
    configured cluster, with the REGISTRY_KAFKA_TOPIC_* settings; existing
    topics are left as they are. Run once per cluster by a principal with
    CreateTopics rights; the relay and the agencies need none."""
    from registry.config import Settings
    from registry.publishing.admin import TopicSpec, ensure_contract_topics

    settings = Settings()
    spec = TopicSpec.of(settings)
    made = ensure_contract_topics(
        kafka_bootstrap(settings), spec, client_security(settings)
    )
    emit({"topics_created": made, "configs": spec.configs()} | _shape(spec))


def _shape(spec: Any) -> dict[str, int]:
    return {
        "partitions": spec.partitions,
        "replication_factor": spec.replication_factor,
    }
