"""`registry serve`: the API over HTTP."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from registry.cli.common import refuse, runtime
from registry.config import Settings

MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"


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
    # Migrated here in development, checked in production, before any worker;
    # an embedded server is kept running for the workers. uvicorn's own logging
    # config would bypass the registry's (JSON, masked): log_config=None leaves
    # its loggers to the root handler.
    with runtime() as rt:
        if workers == 1:
            uvicorn.run(create_app(rt), host=host, port=port, log_config=None)
        else:
            metrics_dir(settings.state_dir)
            uvicorn.run(
                "registry.api.app:production_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_config=None,
            )


def metrics_dir(state_dir: Path) -> Path:
    """Where the workers keep their metrics, so that /metrics sums them
    (prometheus_client's multiprocess mode): PROMETHEUS_MULTIPROC_DIR, else
    STATE_DIR/metrics; emptied first, as a new run's counts start at zero."""
    path = Path(os.environ.get(MULTIPROC) or state_dir / "metrics").resolve()
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob("*.db"):
        old.unlink()
    os.environ[MULTIPROC] = str(path)  # the workers inherit it
    return path
