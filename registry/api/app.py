"""FastAPI app. Built from a Runtime by the composition root; nothing at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from registry.api import metrics
from registry.api.errors import install_error_handlers
from registry.api.openapi import RegistryAPI
from registry.api.routes import (
    audit,
    auth,
    batches,
    contract,
    enrolments,
    fotos,
    funding,
    health,
    projections,
    school_years,
    signals,
    snapshots,
)
from registry.bootstrap import Runtime, bootstrap
from registry.config import Settings
from registry.infrastructure.logs import configure_logging
from registry.infrastructure.secrets import server_key

TITLE, VERSION = "BRON-VO enrolment registry", "0.1.0"


def create_app(runtime: Runtime) -> FastAPI:
    """The API on a runtime the caller holds (tests, `serve` with one worker)."""
    app = RegistryAPI(title=TITLE, version=VERSION)
    attach(app, runtime)
    return _routed(app)


def production_app() -> FastAPI:
    """The app factory for `uvicorn --factory` and several workers: each
    worker opens its own runtime from the environment's settings for the
    app's lifetime. Migrations are applied once beforehand (`registry db
    migrate`, or `registry serve` in development), never by the workers."""
    configure_logging(Settings())  # each worker is a process of its own

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with bootstrap(Settings(), migrate=False) as runtime:
            attach(app, runtime)
            yield

    return _routed(RegistryAPI(title=TITLE, version=VERSION, lifespan=lifespan))


def attach(app: FastAPI, runtime: Runtime) -> None:
    app.state.runtime = runtime
    app.state.cursor_key = server_key(runtime.settings, "cursor")


def _routed(app: FastAPI) -> FastAPI:
    install_error_handlers(app)
    metrics.install(app)
    # In this order in the OpenAPI document.
    app.include_router(auth.router)
    app.include_router(school_years.router)
    app.include_router(batches.router)
    app.include_router(snapshots.router)
    app.include_router(enrolments.router)
    app.include_router(fotos.router)
    app.include_router(signals.router)
    app.include_router(funding.router)
    app.include_router(projections.router)
    app.include_router(audit.router)
    app.include_router(health.router)
    app.include_router(contract.router)
    return app
