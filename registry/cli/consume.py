"""`registry consume RECIPIENT`: the reference consumer of one agency."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from registry.cli.common import emit, kafka_bootstrap, runtime
from registry.config import Settings
from registry.publishing.security import client_security


def register(app: typer.Typer) -> None:
    app.command("consume")(consume)


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
        consumer = AgencyConsumer(
            rt.database_url,
            kafka_bootstrap(settings),
            recipient,
            security=client_security(settings),
        )
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
