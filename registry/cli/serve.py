"""`registry serve`: the API over HTTP."""

from __future__ import annotations

import typer

from registry.cli.common import runtime


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the API (loopback by default)."""
    import uvicorn

    from registry.api.app import create_app

    with runtime() as rt:
        uvicorn.run(create_app(rt), host=host, port=port)
