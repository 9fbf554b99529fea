"""`registry serve`: the API over HTTP."""

from __future__ import annotations

import typer

from registry.cli.common import refuse, runtime
from registry.config import Settings


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve the API (loopback by default), on the system clock; with
    --workers N, N processes behind one port (the app factory)."""
    import uvicorn

    from registry.api.app import create_app

    settings = Settings()
    if settings.clock == "simulated":
        # The simulated clock stands still between recorded facts: codes and
        # sessions would never expire, and throttling waits would never pass.
        refuse(
            "serve runs on the system clock; REGISTRY_CLOCK=simulated is for "
            "the demo and tests"
        )
    # uvicorn's own logging config would bypass the registry's (JSON, masked):
    # log_config=None leaves its loggers to the root handler.
    with runtime() as rt:  # tables made, an embedded server kept running
        if workers == 1:
            uvicorn.run(create_app(rt), host=host, port=port, log_config=None)
        else:
            uvicorn.run(
                "registry.api.app:production_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_config=None,
            )
