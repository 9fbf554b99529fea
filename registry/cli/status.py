"""`registry status`: where the daemons are, for an operator or a check script:
the projections' positions and lag, what waits for each relay, the refused and
the parked messages, and when the last batch came in."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from registry.cli.common import emit, runtime
from registry.config import Settings


def register(app: typer.Typer) -> None:
    app.command("status")(status)


def status(
    broker: Annotated[
        bool,
        typer.Option(help="ask the broker for the parked (dead-letter) messages"),
    ] = True,
) -> None:
    """The daemons' state as JSON; exits 0 whatever it finds (a broker that
    does not answer is said so)."""
    from registry.publishing import backlog

    with runtime() as rt:
        url = rt.database_url
        last = rt.intake.store.last_received()
        out: dict[str, Any] = {
            "projections": [s.__dict__ | {"lag": s.lag} for s in rt.projector.status()],
            "relays": [_relay(r) for r in backlog.relays(url)],
            "outbox_head": backlog.outbox_head(url),
            "refused": backlog.refused_by_recipient(url),
            "last_batch_received": last.isoformat() if last else None,
        }
        out |= (
            _parked(rt.settings) if broker else {"parked": None, "broker": "not asked"}
        )
    emit(out)


def _relay(r: Any) -> dict[str, Any]:
    return {
        "name": r.name,
        "recipients": r.recipients,
        "position": r.position,
        "updated_at": r.updated_at,
        "lag": r.lag,
        "capped": r.capped,  # at least `lag` wait: counting stopped there
        "waiting": r.waiting,
    }


def _parked(settings: Settings) -> dict[str, Any]:
    from kafka.errors import KafkaError

    from registry.infrastructure.embedded_kafka import running
    from registry.publishing.backlog import parked
    from registry.publishing.security import client_security

    bootstrap = settings.kafka_bootstrap or (
        None if settings.production else running(settings.state_dir)
    )
    if bootstrap is None:
        return {"parked": None, "broker": "not configured"}
    try:
        counts = parked(bootstrap, client_security(settings))
    except KafkaError as e:
        return {"parked": None, "broker": f"unavailable ({type(e).__name__})"}
    return {"parked": counts, "broker": "ok"}
